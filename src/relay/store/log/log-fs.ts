/**
 * The file operations the log store uses, as one small promise interface over
 * numeric descriptors, so that tests can inject failures (a full disk, an I/O
 * error) without touching the real file system.
 */
import fs from "node:fs"

export interface LogFs {
  open(path: string, flags: string): Promise<number>
  close(fd: number): Promise<void>
  /** Writes all buffers at `position`, as one system call where the OS allows. */
  writev(fd: number, buffers: readonly Uint8Array[], position: number): Promise<number>
  read(fd: number, buffer: Uint8Array, offset: number, length: number, position: number): Promise<number>
  /**
   * `inline`: on the calling thread, blocking it for the sync (no thread-pool
   * hand-off; see sync-policy.ts); otherwise off the event loop.
   */
  fdatasync(fd: number, inline?: boolean): Promise<void>
  fsync(fd: number): Promise<void>
  ftruncate(fd: number, length: number): Promise<void>
  size(fd: number): Promise<number>
  readdir(path: string): Promise<string[]>
  mkdir(path: string): Promise<void>
  rename(from: string, to: string): Promise<void>
  unlink(path: string): Promise<void>
  readFile(path: string): Promise<Buffer>
  /** Writes `length` zero bytes at `from` and fdatasyncs them, off the event loop (space allocated ahead of the log). */
  fill(fd: number, from: number, length: number): Promise<void>
}

const ZEROS = Buffer.alloc(1024 * 1024)

function call<T>(run: (done: (err: NodeJS.ErrnoException | null, value?: T) => void) => void): Promise<T> {
  return new Promise((resolve, reject) => run((err, value) => (err === null ? resolve(value as T) : reject(err))))
}

/**
 * node:fs through libuv's thread pool, so that the event loop does not wait
 * on the disk; except the appends (a copy into the page cache) and a sync
 * asked for `inline`.
 */
export const nodeFs: LogFs = {
  open: (path, flags) => call<number>((done) => fs.open(path, flags, 0o644, done)),
  close: (fd) => call<void>((done) => fs.close(fd, done)),
  // Synchronous: copying a batch into the page cache takes microseconds, less than a
  // round trip through the thread pool; the fdatasync that waits on the disk stays async.
  writev: async (fd, buffers, position) => {
    let written = 0
    let pending = buffers as readonly Uint8Array[]
    // writev may write less than asked (a full disk, a signal): continue with what is left.
    for (;;) {
      const total = pending.reduce((n, b) => n + b.byteLength, 0)
      const n = fs.writevSync(fd, pending as NodeJS.ArrayBufferView[], position + written)
      written += n
      if (n >= total) return written
      if (n === 0) throw Object.assign(new Error("write made no progress"), { code: "EIO" })
      pending = rest(pending, n)
    }
  },
  read: (fd, buffer, offset, length, position) => call<number>((done) => fs.read(fd, buffer, offset, length, position, done)),
  fdatasync: (fd, inline) => {
    if (inline !== true) return call<void>((done) => fs.fdatasync(fd, done))
    try {
      fs.fdatasyncSync(fd)
      return Promise.resolve()
    } catch (err) {
      return Promise.reject(err as Error)
    }
  },
  fsync: (fd) => call<void>((done) => fs.fsync(fd, done)),
  ftruncate: (fd, length) => call<void>((done) => fs.ftruncate(fd, length, done)),
  size: (fd) => call<fs.Stats>((done) => fs.fstat(fd, done)).then((s) => s.size),
  readdir: (path) => call<string[]>((done) => fs.readdir(path, done)),
  mkdir: (path) => call<string | undefined>((done) => fs.mkdir(path, { recursive: true }, done)).then(() => undefined),
  rename: (from, to) => call<void>((done) => fs.rename(from, to, done)),
  unlink: (path) => call<void>((done) => fs.unlink(path, done)),
  readFile: (path) => call<Buffer>((done) => fs.readFile(path, done)),
  fill: async (fd, from, length) => {
    for (let at = 0; at < length; ) {
      const n = Math.min(ZEROS.length, length - at)
      at += await call<number>((done) => fs.write(fd, ZEROS, 0, n, from + at, done))
    }
    await call<void>((done) => fs.fdatasync(fd, done))
  },
}

function rest(buffers: readonly Uint8Array[], skip: number): Uint8Array[] {
  const out: Uint8Array[] = []
  for (const b of buffers) {
    if (skip >= b.byteLength) {
      skip -= b.byteLength
      continue
    }
    out.push(skip > 0 ? b.subarray(skip) : b)
    skip = 0
  }
  return out
}

/** fsync of a directory, so that a created, renamed or deleted entry in it is durable. */
export async function syncDir(fsx: LogFs, path: string): Promise<void> {
  const fd = await fsx.open(path, "r")
  try {
    await fsx.fsync(fd)
  } finally {
    await fsx.close(fd)
  }
}
