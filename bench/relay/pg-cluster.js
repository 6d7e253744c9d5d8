// @ts-check
/**
 * A throwaway PostgreSQL cluster for the relay benchmark (`--pg`): initdb into
 * a temp folder, a server on a free 127.0.0.1 port with fsync and
 * synchronous_commit on (the defaults), run as the `postgres` user when we
 * are root; stopped and removed by `stop()`. The tests have their own (in
 * TypeScript, test/relay/pg/cluster.ts).
 */
import { execFileSync } from "node:child_process"
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs"
import { createServer } from "node:net"
import os from "node:os"
import path from "node:path"

/** @param {string} bin @param {string} tool @param {string[]} args */
function run(bin, tool, args) {
  const exe = path.join(bin, tool)
  const root = process.getuid?.() === 0
  execFileSync(root ? "runuser" : exe, root ? ["-u", "postgres", "--", exe, ...args] : args, { stdio: "pipe", timeout: 60_000 })
}

/** @returns {Promise<{ url: string, version: string, stop(): void }>} */
export async function startPg() {
  const root = "/usr/lib/postgresql"
  const version = existsSync(root) ? readdirSync(root).filter((v) => existsSync(path.join(root, v, "bin", "initdb"))).sort((a, b) => Number(b) - Number(a))[0] : undefined
  if (version === undefined) throw new Error("--pg needs PostgreSQL's binaries under /usr/lib/postgresql/*/bin (apt-get install postgresql)")
  const bin = path.join(root, version, "bin")
  const dir = mkdtempSync(path.join(os.tmpdir(), "zmesh-bench-pg-"))
  if (process.getuid?.() === 0) {
    const id = (/** @type {string} */ flag) => Number(execFileSync("id", [flag, "postgres"]).toString())
    chownSync(dir, id("-u"), id("-g"))
  }
  const data = path.join(dir, "data")
  run(bin, "initdb", ["-D", data, "-U", "postgres", "-A", "trust", "--no-sync", "-E", "UTF8"])
  const port = await new Promise((resolve) => {
    const s = createServer().listen(0, "127.0.0.1", () => {
      const p = /** @type {{ port: number }} */ (s.address()).port
      s.close(() => resolve(p))
    })
  })
  const options = `-k ${dir} -p ${port} -c listen_addresses=127.0.0.1 -c fsync=on -c synchronous_commit=on`
  run(bin, "pg_ctl", ["-D", data, "-l", path.join(dir, "server.log"), "-o", options, "-w", "start"])
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    version,
    stop() {
      try {
        run(bin, "pg_ctl", ["-D", data, "-m", "fast", "-w", "stop"])
      } finally {
        rmSync(dir, { recursive: true, force: true })
      }
    },
  }
}
