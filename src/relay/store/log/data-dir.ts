/**
 * The data folder: created if missing, checked writable, and locked with a
 * pid file so that two relays never write one log. A lock left by a process
 * that is gone (kill -9) is taken over.
 */
import { join } from "node:path"
import { ZmeshError } from "../../../errors.js"
import type { LogFs } from "./log-fs.js"

export const LOCK_FILE = "LOCK"

export async function lockDataDir(fsx: LogFs, dir: string): Promise<void> {
  try {
    await fsx.mkdir(dir)
    await fsx.mkdir(join(dir, "log"))
  } catch (err) {
    throw dataDirError(dir, "cannot create it", err)
  }
  const lock = join(dir, LOCK_FILE)
  let fd: number
  try {
    fd = await fsx.open(lock, "wx")
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw dataDirError(dir, "cannot write in it", err)
    const holder = Number((await fsx.readFile(lock)).toString("utf8").trim())
    if (Number.isInteger(holder) && holder > 0 && holder !== process.pid && alive(holder)) {
      throw new ZmeshError("ERR_RELAY_DATA_DIR", `data folder ${dir} is in use by a running relay (pid ${holder}, see ${lock})`)
    }
    try {
      fd = await fsx.open(lock, "w")
    } catch (err2) {
      throw dataDirError(dir, "cannot write in it", err2)
    }
  }
  try {
    await fsx.writev(fd, [Buffer.from(`${process.pid}\n`)], 0)
  } finally {
    await fsx.close(fd)
  }
}

export async function unlockDataDir(fsx: LogFs, dir: string): Promise<void> {
  await fsx.unlink(join(dir, LOCK_FILE)).catch(() => undefined)
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM"
  }
}

function dataDirError(dir: string, what: string, cause: unknown): ZmeshError {
  const code = (cause as NodeJS.ErrnoException).code
  if (code === "EEXIST" || code === "ENOTDIR") what = "it, or a folder above it, is not a folder"
  const detail = code ?? (cause as Error).message
  return new ZmeshError("ERR_RELAY_DATA_DIR", `data folder ${dir}: ${what} (${detail})`, { cause })
}
