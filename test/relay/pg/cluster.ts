/**
 * A throwaway PostgreSQL cluster for the tests: initdb into a fresh temp
 * folder, a server on a free 127.0.0.1 port and a unix socket in that folder,
 * fsync and synchronous_commit on (the defaults, said explicitly). PostgreSQL
 * refuses to run as root, so as root the folder is handed to the `postgres`
 * user and the binaries run through `runuser`.
 */
import { execFile, execFileSync } from "node:child_process"
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs"
import { createServer } from "node:net"
import { tmpdir } from "node:os"
import { join } from "node:path"

export interface Cluster {
  /** postgres://postgres@127.0.0.1:PORT/postgres */
  readonly url: string
  readonly port: number
  /** The temp folder: data/ and the unix socket are inside. */
  readonly dir: string
  readonly bin: string
}

/** The folder holding initdb and pg_ctl: $ZMESH_PG_BIN, the newest /usr/lib/postgresql/N/bin, or undefined. */
export function findPgBin(): string | undefined {
  const fromEnv = process.env.ZMESH_PG_BIN
  if (fromEnv !== undefined && existsSync(join(fromEnv, "pg_ctl"))) return fromEnv
  const root = "/usr/lib/postgresql"
  if (!existsSync(root)) return undefined
  const versions = readdirSync(root)
    .filter((v) => existsSync(join(root, v, "bin", "pg_ctl")) && existsSync(join(root, v, "bin", "initdb")))
    .sort((a, b) => Number(b) - Number(a))
  return versions.length > 0 ? join(root, versions[0]!, "bin") : undefined
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once("error", reject)
    server.listen(0, "127.0.0.1", () => {
      const port = (server.address() as { port: number }).port
      server.close(() => resolve(port))
    })
  })
}

/** The command line of a PostgreSQL binary, through `runuser` to the `postgres` user when we are root. */
function command(bin: string, tool: string, args: string[]): [string, string[]] {
  const path = join(bin, tool)
  return process.getuid?.() === 0 ? ["runuser", ["-u", "postgres", "--", path, ...args]] : [path, args]
}

function runPg(bin: string, tool: string, args: string[]): string {
  const [cmd, argv] = command(bin, tool, args)
  return execFileSync(cmd, argv, { stdio: "pipe", timeout: 60_000 }).toString()
}

function owner(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined
  const uid = Number(execFileSync("id", ["-u", "postgres"]).toString().trim())
  const gid = Number(execFileSync("id", ["-g", "postgres"]).toString().trim())
  return { uid, gid }
}

/** Starts a new cluster; throws with the reason when it cannot. */
export async function startCluster(): Promise<Cluster> {
  const bin = findPgBin()
  if (bin === undefined) throw new Error("no PostgreSQL binaries (initdb, pg_ctl) under /usr/lib/postgresql/*/bin or $ZMESH_PG_BIN")
  const dir = mkdtempSync(join(tmpdir(), "zmesh-pg-"))
  try {
    const who = owner()
    if (who !== undefined) chownSync(dir, who.uid, who.gid)
    const data = join(dir, "data")
    runPg(bin, "initdb", ["-D", data, "-U", "postgres", "-A", "trust", "--no-sync", "-E", "UTF8"])
    let lastError: unknown
    // A port found free can be taken before the server binds it: try a few.
    for (let attempt = 0; attempt < 3; attempt++) {
      const port = await freePort()
      const options = `-k ${dir} -p ${port} -c listen_addresses=127.0.0.1 -c fsync=on -c synchronous_commit=on -c max_connections=200`
      try {
        runPg(bin, "pg_ctl", ["-D", data, "-l", join(dir, "server.log"), "-o", options, "-w", "-t", "30", "start"])
        return { url: `postgres://postgres@127.0.0.1:${port}/postgres`, port, dir, bin }
      } catch (err) {
        lastError = err
      }
    }
    throw lastError
  } catch (err) {
    rmSync(dir, { recursive: true, force: true })
    const stderr = (err as { stderr?: Buffer }).stderr?.toString().trim()
    throw new Error(`could not start a PostgreSQL cluster: ${stderr || (err as Error).message}`)
  }
}

/** Restarts the server (clients are cut off); resolves once it accepts connections again. The event loop runs meanwhile. */
export function restartCluster(cluster: Cluster): Promise<void> {
  const [cmd, argv] = command(cluster.bin, "pg_ctl", ["-D", join(cluster.dir, "data"), "-l", join(cluster.dir, "server.log"), "-m", "fast", "-w", "-t", "30", "restart"])
  return new Promise((resolve, reject) => execFile(cmd, argv, { timeout: 60_000 }, (err) => (err === null ? resolve() : reject(err))))
}

/** Stops the server at once and removes its folder. */
export function stopCluster(cluster: Cluster): void {
  try {
    runPg(cluster.bin, "pg_ctl", ["-D", join(cluster.dir, "data"), "-m", "immediate", "-w", "stop"])
  } catch {
    // Already stopped.
  }
  rmSync(cluster.dir, { recursive: true, force: true })
}
