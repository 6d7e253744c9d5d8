/**
 * Reads a connection through node:net's `onread` option: into blocks of our
 * own, carved one read after another, instead of a fresh 64 KiB buffer per
 * read; and, while a large frame body is being received, straight into that
 * body's buffer, so that its bytes are never copied.
 *
 * node:net offers `onread` to sockets it connects; a connection a server
 * accepted gets one through adoptSocket() (adopt-socket.ts). A frame kept
 * by the application pins its block, as it would pin node:net's read buffer
 * (docs/options.md says to copy what is kept for long).
 *
 * node:net passes the buffer `onread.buffer()` returns to its C++ side as
 * the return value of the read callback (CustomBufferJSListener in
 * src/stream_base.cc): when anything in that callback's scope throws past
 * it, such as a process.nextTick callback run as the scope ends, the value
 * is lost and the next read lands in the previous buffer, on top of bytes
 * already handed on, while JavaScript is told it is in the new one. A
 * process that survives the throw (an 'uncaughtException' handler) would
 * then read garbage. So an 'uncaughtExceptionMonitor' listener hands the
 * last buffer to the handle again (`useUserBuffer`), see resync(). Should
 * a Node version drop `useUserBuffer` from the handle, resync() does
 * nothing, and such a process is where it was before this guard.
 */
import type net from "node:net"

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

export interface SocketReaderOptions {
  /**
   * True for a connection a server accepted, whose peer may be anyone: small
   * blocks until it sends fast, and bodies allocated at their header only up
   * to twice what it sent (`eagerEarned`). Default false: a connection we dialed.
   */
  readonly accepted?: boolean
}

/**
 * Bodies up to this size get their buffer at their header so that reads can
 * land in them: what a peer that only claims sizes can make a dialed
 * connection allocate (an accepted one: at most twice what the peer sent).
 */
const EAGER_BODY_MAX = 256 * 1024

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
/**
 * An accepted connection reads into small blocks (Buffer.allocUnsafe's pool)
 * until a read fills its buffer: a server with thousands of idle or slow
 * peers (a connect flood, subscribers that only subscribe) then holds a
 * small block per peer, not 128 KiB.
 */
const SMALL_BLOCK = 2 * 1024
/** A small block with less room than this is retired. */
const MIN_SMALL_READ = 512

export class SocketReader {
  /** Bodies up to this size get their buffer at their header, so that their reads land in place (Session.readInPlace). */
  readonly eagerBodyMax = EAGER_BODY_MAX
  /**
   * Only up to twice what the peer has sent so far (accepted connections):
   * anyone may dial a server, and a bound socket must not allocate more
   * than twice what a peer sent for a size it merely claims (docs/options.md).
   */
  readonly eagerEarned: boolean
  /** Reads go into small blocks until one fills its buffer (accepted connections). */
  private small: boolean
  /** Node asked for a buffer at least once (adoptSocket() checks that `onread` took effect). */
  offered = false
  private sink: ReadSink | undefined
  private block: Buffer = EMPTY
  private pos = 0
  /** The region handed out for the next read when it is a direct one. */
  private directPending: Buffer | undefined
  /** Chunks read before the engine attached. */
  private early: Buffer[] | undefined
  /** The buffer the last next() returned: where node:net reads next. */
  private handed: Buffer | undefined
  /** The socket read, once watch() was called. */
  private socket: net.Socket | undefined

  constructor(options: SocketReaderOptions = {}) {
    const accepted = options.accepted === true
    this.eagerEarned = accepted
    this.small = accepted
  }

  /** The `onread` option for `net.connect()` (or `new net.Socket()`). */
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

  /** The socket this reader reads (`onread` was given to it): see resync(). */
  watch(socket: net.Socket): void {
    this.socket = socket
    watchUncaught()
    socket.once("close", () => {
      if (handedLast === this) handedLast = undefined
    })
  }

  /**
   * After an uncaught exception: gives the handle the buffer the last next()
   * returned, in case node:net lost it (see the top of this file). When it
   * did not, this changes nothing: the handle keeps reading into the same
   * buffer (one more listener object on the handle, freed with it).
   */
  resync(): void {
    const socket = this.socket
    const handed = this.handed
    if (socket === undefined || handed === undefined || socket.destroyed) return
    const handle = (socket as unknown as { _handle?: { useUserBuffer?(buffer: Uint8Array): void } | null })._handle
    if (typeof handle?.useUserBuffer !== "function") return
    try {
      handle.useUserBuffer(handed)
    } catch {
      // A handle that refuses: nothing better to do than what node:net would.
    }
  }

  /** Node's `onread.buffer()`: where the next read goes. */
  private next(): Buffer {
    const region = this.region()
    this.handed = region
    handedLast = this
    return region
  }

  /** A large body's missing rest, or the next free part of a block. */
  private region(): Buffer {
    this.offered = true
    const sink = this.sink
    const direct = sink?.directRegion()
    this.directPending = direct
    if (direct !== undefined) return direct
    if (this.small) {
      if (this.block.length - this.pos < MIN_SMALL_READ) {
        this.block = Buffer.allocUnsafe(SMALL_BLOCK)
        this.pos = 0
      }
      return this.block.subarray(this.pos)
    }
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
    if (this.small && n === buf.length) {
      // The peer sends faster than small reads take: full-size blocks from the next read on.
      this.small = false
      this.block = EMPTY
    }
    if (sink === undefined) {
      ;(this.early ??= []).push(chunk)
      return true
    }
    return sink.data(chunk)
  }
}

const EMPTY = Buffer.alloc(0)

/**
 * The reader whose next() ran last. A throw that makes node:net lose a
 * returned buffer happens as the read's callback scope ends, after that
 * next() and before any other read: so it is this reader's buffer.
 */
let handedLast: SocketReader | undefined
let watching = false

/** One listener for the process; a monitor does not change what an uncaught exception does. */
function watchUncaught(): void {
  if (watching) return
  watching = true
  process.on("uncaughtExceptionMonitor", () => handedLast?.resync())
}
