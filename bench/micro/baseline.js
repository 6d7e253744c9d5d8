// @ts-check
/**
 * Builds zmesh's src/ as of an older git revision into a temporary directory
 * (TypeScript's transpileModule, no type check), so that a micro-benchmark
 * can load the old and the new code side by side in one process.
 */
import { execFileSync } from "node:child_process"
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs"
import os from "node:os"
import path from "node:path"
import { fileURLToPath, pathToFileURL } from "node:url"
import ts from "typescript"

const ROOT = fileURLToPath(new URL("../..", import.meta.url))

/**
 * Extracts `src/` at `revision` and transpiles it; returns the URL of that
 * src/ directory (import `${url}/zmtp/session.js`) and a cleanup function.
 * @param {string} revision
 */
export function buildRevision(revision) {
  const dir = mkdtempSync(path.join(os.tmpdir(), "zmesh-baseline-"))
  const tar = execFileSync("git", ["archive", "--format=tar", revision, "src"], { cwd: ROOT, maxBuffer: 64 << 20 })
  execFileSync("tar", ["-x", "-C", dir], { input: tar })
  transpileTree(path.join(dir, "src"))
  const cleanup = () => rmSync(dir, { recursive: true, force: true })
  process.on("exit", cleanup)
  return { url: pathToFileURL(path.join(dir, "src")).href, cleanup }
}

/** The short hash of a revision, for table headers. @param {string} revision */
export function shortRevision(revision) {
  return execFileSync("git", ["rev-parse", "--short", revision], { cwd: ROOT, encoding: "utf8" }).trim()
}

/** @param {string} dir */
function transpileTree(dir) {
  for (const name of readdirSync(dir)) {
    const file = path.join(dir, name)
    if (statSync(file).isDirectory()) transpileTree(file)
    else if (name.endsWith(".ts") && !name.endsWith(".d.ts")) {
      const out = ts.transpileModule(readFileSync(file, "utf8"), {
        compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022, verbatimModuleSyntax: true },
        fileName: file,
      })
      writeFileSync(file.slice(0, -3) + ".js", out.outputText)
    }
  }
}
