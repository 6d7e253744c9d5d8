/**
 * The `zmesh` command (package.json "bin"). src/cli.ts runs `main()` on import
 * and does not export it, and Node 20 cannot run TypeScript directly, so this
 * runs the built dist/src/cli.js in a child process (`npm ci` runs the `prepare`
 * build before `npm test`); without a build the suite is skipped.
 */
import { execFile } from "node:child_process"
import { existsSync, readFileSync } from "node:fs"
import { fileURLToPath } from "node:url"
import { describe, expect, it } from "vitest"
import { publicKeyOf } from "../../src/zmtp/mechanisms/curve-crypto.js"
import { z85Decode } from "../../src/zmtp/z85.js"

const CLI = fileURLToPath(new URL("../../dist/src/cli.js", import.meta.url))
const PACKAGE = fileURLToPath(new URL("../../package.json", import.meta.url))

interface Run {
  code: number
  stdout: string
  stderr: string
}

/** Runs `node dist/src/cli.js ...args` and resolves with its exit code and output. */
function run(...args: string[]): Promise<Run> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [CLI, ...args], { timeout: 10_000 }, (error, stdout, stderr) => {
      if (error !== null && typeof error.code !== "number") return reject(error)
      resolve({ code: error === null ? 0 : (error.code as number), stdout, stderr })
    })
  })
}

const Z85_KEY = /^[0-9a-zA-Z.\-:+=^!/*?&<>()[\]{}@%$#]{40}$/

describe.skipIf(!existsSync(CLI))("zmesh CLI (dist/src/cli.js)", () => {
  it("is what package.json's bin points at, with a node shebang", () => {
    const pkg = JSON.parse(readFileSync(PACKAGE, "utf8")) as { bin: Record<string, string> }
    expect(pkg.bin.zmesh).toBe("./dist/src/cli.js")
    expect(readFileSync(CLI, "utf8").split("\n")[0]).toBe("#!/usr/bin/env node")
  })

  it("keygen prints a public and a secret key, 40 Z85 characters each, that belong together; exit 0", async () => {
    const { code, stdout, stderr } = await run("keygen")
    expect({ code, stderr }).toEqual({ code: 0, stderr: "" })
    const match = /^public: (\S+)\nsecret: (\S+)\n$/.exec(stdout)
    expect(match, `unexpected output ${JSON.stringify(stdout)}`).not.toBeNull()
    const [, publicKey, secretKey] = match!
    expect(publicKey).toMatch(Z85_KEY)
    expect(secretKey).toMatch(Z85_KEY)
    expect(publicKeyOf(z85Decode(secretKey!)).toString("hex")).toBe(z85Decode(publicKey!).toString("hex"))
  })

  it("keygen gives a new pair on every run", async () => {
    const [first, second] = await Promise.all([run("keygen"), run("keygen")])
    expect(first.stdout).not.toBe(second.stdout)
  })

  it.each(["help", "--help", "-h"])("%s prints the usage, naming keygen; exit 0", async (arg) => {
    const { code, stdout, stderr } = await run(arg)
    expect(code).toBe(0)
    expect(stderr).toBe("")
    expect(stdout).toMatch(/^usage: zmesh <command>/)
    expect(stdout).toMatch(/keygen/)
  })

  it("no command prints the usage and exits 1", async () => {
    const { code, stdout } = await run()
    expect(code).toBe(1)
    expect(stdout).toMatch(/^usage: zmesh <command>/)
  })

  it("an unknown command names it on stderr with the usage, prints nothing on stdout, and exits 1", async () => {
    const { code, stdout, stderr } = await run("bogus")
    expect(code).toBe(1)
    expect(stdout).toBe("")
    expect(stderr).toMatch(/^zmesh: unknown command "bogus"\n/)
    expect(stderr).toMatch(/usage: zmesh <command>/)
  })
})
