/**
 * Running the built CLI (`node dist/src/cli.js relay ...`) in child processes.
 * Node 20 cannot run the TypeScript sources, so these tests use dist/; if a
 * source file is newer than the build, the build runs first (once, under a
 * lock, so that parallel test files do not build over each other).
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process"
import { mkdirSync, readdirSync, rmSync, statSync } from "node:fs"
import { join } from "node:path"
import { fileURLToPath } from "node:url"

export const ROOT = fileURLToPath(new URL("../..", import.meta.url))
export const CLI = join(ROOT, "dist/src/cli.js")

function newest(dir: string): number {
  let t = 0
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name)
    t = Math.max(t, entry.isDirectory() ? newest(path) : entry.name.endsWith(".ts") ? statSync(path).mtimeMs : 0)
  }
  return t
}

function built(): number {
  try {
    return statSync(CLI).mtimeMs
  } catch {
    return 0
  }
}

/** Builds dist/ if src/ changed since the last build. */
export async function ensureBuilt(): Promise<void> {
  const lock = join(ROOT, "dist", ".relay-test-build.lock")
  for (;;) {
    if (built() >= newest(join(ROOT, "src"))) return
    try {
      mkdirSync(join(ROOT, "dist"), { recursive: true })
      mkdirSync(lock)
    } catch {
      // Another test file is building: wait for it, then look again.
      await new Promise((resolve) => setTimeout(resolve, 200))
      continue
    }
    try {
      execFileSync(process.execPath, [join(ROOT, "node_modules/typescript/bin/tsc"), "-p", "tsconfig.build.json"], { cwd: ROOT, stdio: "pipe" })
    } finally {
      rmSync(lock, { recursive: true, force: true })
    }
  }
}

export interface CliRelay {
  readonly proc: ChildProcess
  /** The endpoint from the start line. */
  readonly endpoint: string
  stdout(): string
  stderr(): string
  /** Resolves with the exit code (or signal name). */
  readonly exited: Promise<number | string>
  /** Resolves once a stdout line matches. */
  line(pattern: RegExp, ms?: number): Promise<string>
}

/** Starts `zmesh relay` and waits for its start line. */
export async function startCli(args: string[]): Promise<CliRelay> {
  const proc = spawn(process.execPath, [CLI, "relay", ...args], { stdio: ["ignore", "pipe", "pipe"] })
  let out = ""
  let err = ""
  const listeners: Array<() => void> = []
  proc.stdout!.on("data", (d: Buffer) => {
    out += d.toString()
    for (const l of listeners) l()
  })
  proc.stderr!.on("data", (d: Buffer) => {
    err += d.toString()
    for (const l of listeners) l()
  })
  const exited = new Promise<number | string>((resolve) => proc.on("exit", (code, signal) => resolve(code ?? signal ?? -1)))
  const line = (pattern: RegExp, ms = 10_000) =>
    new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no line matching ${pattern} within ${ms} ms; stdout:\n${out}\nstderr:\n${err}`)), ms)
      const check = () => {
        const found = out.split("\n").find((l) => pattern.test(l))
        if (found !== undefined) {
          clearTimeout(timer)
          listeners.splice(listeners.indexOf(check), 1)
          resolve(found)
        }
      }
      listeners.push(check)
      check()
      void exited.then(() => setTimeout(check, 0))
    })
  const relay = { proc, exited, line, stdout: () => out, stderr: () => err, endpoint: "" }
  const started = await Promise.race([line(/listening on /), exited.then((code) => `exit ${code}`)])
  const m = /listening on (\S+)/.exec(started)
  return { ...relay, endpoint: m === null ? "" : m[1]! }
}

/** Runs the CLI to completion (for failures at start). */
export function runCli(args: string[], ms = 15_000): Promise<{ code: number | string; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const proc = spawn(process.execPath, [CLI, ...args], { stdio: ["ignore", "pipe", "pipe"] })
    let stdout = ""
    let stderr = ""
    proc.stdout.on("data", (d: Buffer) => (stdout += d.toString()))
    proc.stderr.on("data", (d: Buffer) => (stderr += d.toString()))
    const timer = setTimeout(() => proc.kill("SIGKILL"), ms)
    proc.on("exit", (code, signal) => {
      clearTimeout(timer)
      resolve({ code: code ?? signal ?? -1, stdout, stderr })
    })
  })
}

/** Kills a CLI relay still running at the end of a test. */
export function killIfAlive(relay: CliRelay | undefined): void {
  if (relay !== undefined && relay.proc.exitCode === null && relay.proc.signalCode === null) relay.proc.kill("SIGKILL")
}

/** The build, for a one-off check. */
export function buildNow(): void {
  execFileSync(process.execPath, [join(ROOT, "node_modules/typescript/bin/tsc"), "-p", "tsconfig.build.json"], { cwd: ROOT, stdio: "pipe" })
}
