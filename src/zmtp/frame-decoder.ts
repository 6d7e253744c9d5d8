/** Incremental ZMTP frame decoder: bytes in, one frame at a time out. */
import { ZmeshError } from "../errors.js"
import { ByteQueue } from "./byte-queue.js"
import { FLAG_COMMAND, FLAG_LONG, FLAG_MORE, FLAG_RESERVED } from "./frame.js"

/** Flags no frame may carry: reserved bits, or MORE on a command (37/ZMTP). */
const COMMAND_MORE = FLAG_COMMAND | FLAG_MORE

/**
 * Decodes frames from a byte stream without allocating per frame beyond the
 * body view. `next()` fills `flags` and `body` and returns true per frame.
 *
 * A frame that lies in one received chunk (the common case) is read in place:
 * its header straight from the chunk, its body a view of it. A body that
 * spans chunks is assembled in a buffer of its own size: as soon as at least
 * half of it has arrived (so a peer cannot make us allocate more than twice
 * what it sent), or at its header when it is at most `eagerBodyMax` (and,
 * with `eagerEarned`, at most twice what the peer has sent so far); later
 * chunks are copied straight into it, or read into it (directRegion()).
 *
 * @example
 * ```ts
 * const dec = new FrameDecoder(1024)
 * dec.push(chunk)
 * while (dec.next()) handle(dec.flags, dec.body)
 * ```
 */
export class FrameDecoder {
  /** Flags of the frame `next()` returned. */
  flags = 0
  /** Body of the frame `next()` returned (a view of a received chunk, or a copy; see ByteQueue). */
  body: Buffer = EMPTY
  /** Received bytes not yet decoded (a body being assembled in place is not counted). */
  readonly input = new ByteQueue()
  /** Header of the frame being received, once parsed; -1 while waiting for it. */
  private pendingFlags = -1
  private pendingSize = 0
  /** The pending body, once it is assembled in place; `filled` bytes of it have arrived. */
  private filling: Buffer | undefined
  private filled = 0
  /**
   * Bodies up to this size get their buffer as soon as their header is read
   * (0: only once half of the body is here). Set for connections we dialed,
   * whose reads can then land in the body directly; a peer that only claims
   * a size costs at most this much per connection.
   */
  eagerBodyMax = 0
  /**
   * Bodies are allocated at their header only up to twice the bytes received
   * so far (and `eagerBodyMax`): for connections anyone may open, so that a
   * peer cannot make us allocate more than twice what it sent, as with the
   * half-body rule, yet a peer that streams large messages gets them read in place.
   */
  eagerEarned = false
  /** Bytes pushed or read in place so far (what `eagerEarned` counts). */
  private received = 0
  /** Body size of the last frame returned. */
  lastFrameSize = 0
  /**
   * Set when whoever reads `body` is done with it before the next call into
   * the decoder (CURVE copies each body into its box area at once): a body
   * that spans chunks is then assembled in one buffer that the next such
   * body reuses, instead of a new buffer each time. The buffer is dropped
   * whenever the input runs dry, so an idle connection keeps none.
   */
  reuseBodies = false
  private spare: Buffer | undefined

  /**
   * @param maxFrameSize Largest body accepted, checked as soon as the header
   * arrives so nothing is allocated for a claimed size (-1: no limit).
   */
  maxFrameSize: number
  /**
   * Largest command body (-1: no limit). Commands are not messages, so
   * `maxMessageSize` does not apply to them, but a peer may not claim
   * unbounded sizes for them either.
   */
  maxCommandSize: number

  constructor(maxFrameSize = -1, maxCommandSize = maxFrameSize) {
    this.maxFrameSize = maxFrameSize
    this.maxCommandSize = maxCommandSize
  }

  push(chunk: Buffer): void {
    this.received += chunk.length
    const filling = this.filling
    if (filling !== undefined) {
      // Nothing else is queued while a body fills: its bytes come first.
      const n = Math.min(filling.length - this.filled, chunk.length)
      chunk.copy(filling, this.filled, 0, n)
      this.filled += n
      if (n === chunk.length) return
      chunk = chunk.subarray(n)
    }
    this.input.push(chunk)
  }

  /** Forgets every byte received and any frame under way. */
  clear(): void {
    this.input.clear()
    this.filling = undefined
    this.spare = undefined
    this.pendingFlags = -1
  }

  /**
   * The missing rest of a body being assembled, for a read to land in
   * directly, when at least `min` bytes of it are missing; else undefined.
   */
  directRegion(min: number): Buffer | undefined {
    const filling = this.filling
    if (filling === undefined || filling.length - this.filled < min) return undefined
    return filling.subarray(this.filled)
  }

  /** `n` bytes were read into `region` (from directRegion()); false if that body is no longer wanted (cleared). */
  filledDirect(region: Buffer, n: number): boolean {
    const filling = this.filling
    if (filling === undefined || region.buffer !== filling.buffer || region.byteOffset !== filling.byteOffset + this.filled) {
      return false
    }
    this.filled += n
    this.received += n
    return true
  }

  /** Size of the frame whose header was read but whose body is incomplete, or -1. */
  get pendingBodySize(): number {
    return this.pendingFlags < 0 ? -1 : this.pendingSize
  }

  /**
   * Decodes the next complete frame into `flags` and `body`. Returns false
   * when more bytes are needed. Throws a ZmeshError on a malformed frame.
   */
  next(): boolean {
    // The last frame is the caller's now: not kept alive here (the application may drop it).
    this.body = EMPTY
    if (this.pendingFlags < 0) {
      if (this.nextInPlace()) return true
      if (!this.readHeader()) {
        if (this.input.length === 0) this.spare = undefined
        return false
      }
    }
    return this.readBody()
  }

  /** The next frame when the first chunk holds all of it and it is well-formed; else false, nothing consumed. */
  private nextInPlace(): boolean {
    const input = this.input
    const chunk = input.first
    const at = input.firstOffset
    const available = chunk.length - at
    if (available < 2) return false
    const flags = chunk[at]!
    if ((flags & FLAG_RESERVED) !== 0 || (flags & COMMAND_MORE) === COMMAND_MORE) return false
    let header: number
    let size: number
    if ((flags & FLAG_LONG) === 0) {
      header = 2
      size = chunk[at + 1]!
    } else {
      if (available < 9) return false
      const high = chunk.readUInt32BE(at + 1)
      // Past 2^53 cannot be represented: the slow path refuses it.
      if (high > 0x1fffff) return false
      header = 9
      size = high * 0x100000000 + chunk.readUInt32BE(at + 5)
    }
    if (size > available - header) return false
    const max = (flags & FLAG_COMMAND) === 0 ? this.maxFrameSize : this.maxCommandSize
    if (max >= 0 && size > max) return false
    this.flags = flags
    this.body = chunk.subarray(at + header, at + header + size)
    this.lastFrameSize = size
    input.skipInFirst(header + size)
    return true
  }

  /** Parses a header that may span chunks into `pendingFlags` and `pendingSize`; false until it is all there. */
  private readHeader(): boolean {
    const input = this.input
    if (input.length < 2) return false
    const flags = input.byteAt(0)
    if ((flags & FLAG_RESERVED) !== 0) {
      throw new ZmeshError("ERR_ZMTP_PROTOCOL", `bad frame flags 0x${flags.toString(16)}: reserved bits set`)
    }
    // 37/ZMTP: MORE "SHALL be zero on command frames".
    if ((flags & COMMAND_MORE) === COMMAND_MORE) {
      throw new ZmeshError("ERR_ZMTP_PROTOCOL", "command frame with the MORE flag set")
    }
    let size: number
    if ((flags & FLAG_LONG) !== 0) {
      if (input.length < 9) return false
      const high = input.byteAt(1) * 0x1000000 + input.byteAt(2) * 0x10000 + input.byteAt(3) * 0x100 + input.byteAt(4)
      const low = input.byteAt(5) * 0x1000000 + input.byteAt(6) * 0x10000 + input.byteAt(7) * 0x100 + input.byteAt(8)
      size = high * 0x100000000 + low
      this.checkSize(flags, size, high)
      input.skip(9)
    } else {
      size = input.byteAt(1)
      this.checkSize(flags, size, 0)
      input.skip(2)
    }
    this.pendingFlags = flags
    this.pendingSize = size
    return true
  }

  /** Completes the pending frame once its body is all there. */
  private readBody(): boolean {
    const size = this.pendingSize
    const filling = this.filling
    let body: Buffer
    if (filling !== undefined) {
      if (this.filled < size) return false
      this.filling = undefined
      body = filling
    } else {
      const input = this.input
      const have = input.length
      if (have < size) {
        // Half or more is here (or the body is small enough to take on trust): allocate it, fill it as bytes come.
        if (have * 2 >= size || (size <= this.eagerBodyMax && (!this.eagerEarned || size <= this.received * 2))) {
          const target = this.bodyBuffer(size)
          input.copyTo(target, 0, have)
          this.filling = target
          this.filled = have
        }
        return false
      }
      if (this.reuseBodies && input.first.length - input.firstOffset < size) {
        body = this.bodyBuffer(size)
        input.copyTo(body, 0, size)
      } else {
        body = input.take(size)
      }
    }
    this.flags = this.pendingFlags
    this.body = body
    this.lastFrameSize = size
    this.pendingFlags = -1
    return true
  }

  /** A buffer for a body of `size` bytes: new, or the spare one when bodies are reused. */
  private bodyBuffer(size: number): Buffer {
    if (!this.reuseBodies) return Buffer.allocUnsafe(size)
    let spare = this.spare
    if (spare === undefined || spare.length < size) this.spare = spare = Buffer.allocUnsafe(size)
    return spare.length === size ? spare : spare.subarray(0, size)
  }

  private checkSize(flags: number, size: number, high: number): void {
    const command = (flags & FLAG_COMMAND) !== 0
    const max = command ? this.maxCommandSize : this.maxFrameSize
    // Sizes past 2^53 cannot be represented, let alone received.
    if (high > 0x1fffff || (max >= 0 && size > max)) {
      const what = high > 0x1fffff ? "2^53+" : String(size)
      throw new ZmeshError(
        "ERR_MESSAGE_TOO_LARGE",
        `peer announced a ${what} byte ${command ? "command" : "frame"}, over the limit of ${max}`,
      )
    }
  }
}

const EMPTY = Buffer.alloc(0)
