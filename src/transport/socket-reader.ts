/**
 * Reads a connection we dialed through node:net's `onread` option: into
 * blocks of our own, carved one read after another, instead of a fresh
 * 64 KiB buffer per read; and, while a large frame body is being received,
 * straight into that body's buffer, so that its bytes are never copied.
 *
 * node:net offers `onread` to sockets it connects, not to the ones a server
 * accepts: bound sockets keep reading through 'data' events. A frame kept
 * by the application pins its block, as it would pin node:net's read buffer
 * (docs/options.md says to copy what is kept for long).
 */

/** What a reader feeds: the stream engine of the connection. */
export interface ReadSink {
  /** Where the next read may land directly (the missing rest of a large body), or undefined. */
  directRegion(): Buffer | undefined
  /**
   * True after a large frame: read little past its end, so that most of a
   * next large body can be read in place rather than copied out of a block.
   */
  readonly smallReads: boolean
  /** Bytes read into one of our blocks; false pauses reading (resume() the socket to go on). */
  data(chunk: Buffer): boolean
  /** `n` bytes read into `region`, which directRegion() returned; false pauses reading. */
  direct(region: Buffer, n: number): boolean
}

/** Reads take at most this much, as node:net's own do. */
const READ = 64 * 1024
/** Blocks hold two full reads, or many small ones (a latency-bound peer sends a few bytes a read). */
const BLOCK = 2 * READ
/** After a large frame, reads take this much (libzmq reads large messages the same way, past an 8 KiB batch). */
const SMALL_READ = 8 * 1024
/**
 * A block with less room left than this is retired: a new one takes the
 * next read. Smaller reads would mean more of them (a syscall and a callback
 * each) for a fast sender.
 */
const MIN_READ = 16 * 1024

export class SocketReader {
  private sink: ReadSink | undefined
  private block: Buffer = EMPTY
  private pos = 0
  /** The region handed out for the next read when it is a direct one. */
  private directPending: Buffer | undefined
  /** Chunks read before the engine attached. */
  private early: Buffer[] | undefined

  /** The `onread` option for `net.connect()`. */
  readonly onread = {
    buffer: (): Buffer => this.next(),
    callback: (n: number, buf: Uint8Array): boolean => this.read(n, buf as Buffer),
  }

  /** The engine takes over; anything read before goes to it first. */
  attach(sink: ReadSink): void {
    this.sink = sink
    const early = this.early
    this.early = undefined
    if (early !== undefined) for (const chunk of early) sink.data(chunk)
  }

  /** Where the next read goes: a large body's missing rest, or the next free part of a block. */
  private next(): Buffer {
    const sink = this.sink
    const direct = sink?.directRegion()
    this.directPending = direct
    if (direct !== undefined) return direct
    const size = sink?.smallReads === true ? SMALL_READ : READ
    if (this.block.length - this.pos < Math.min(size, MIN_READ)) {
      this.block = Buffer.allocUnsafeSlow(BLOCK)
      this.pos = 0
    }
    return this.block.subarray(this.pos, Math.min(this.block.length, this.pos + size))
  }

  private read(n: number, buf: Buffer): boolean {
    const sink = this.sink
    if (buf === this.directPending) {
      this.directPending = undefined
      return sink!.direct(buf, n)
    }
    // A region of the current block: the chunk is a view, and the next read starts after it.
    const chunk = buf.subarray(0, n)
    this.pos += n
    if (sink === undefined) {
      ;(this.early ??= []).push(chunk)
      return true
    }
    return sink.data(chunk)
  }
}

const EMPTY = Buffer.alloc(0)
