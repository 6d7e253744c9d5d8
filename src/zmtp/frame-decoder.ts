/** Incremental ZMTP frame decoder: bytes in, one frame at a time out. */
import { ZmeshError } from "../errors.js"
import { ByteQueue } from "./byte-queue.js"
import { FLAG_COMMAND, FLAG_LONG, FLAG_MORE, FLAG_RESERVED } from "./frame.js"

/**
 * Decodes frames from a byte stream without allocating per frame beyond the
 * body view. `next()` fills `flags` and `body` and returns true per frame.
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
  /** Body of the frame `next()` returned (a view; see ByteQueue). */
  body: Buffer = EMPTY
  readonly input = new ByteQueue()
  /** Header of the frame being received, once parsed; -1 while waiting for it. */
  private pendingFlags = -1
  private pendingSize = 0

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
    this.input.push(chunk)
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
    const input = this.input
    if (this.pendingFlags < 0) {
      if (input.length < 2) return false
      const flags = input.byteAt(0)
      if ((flags & FLAG_RESERVED) !== 0) {
        throw new ZmeshError("ERR_ZMTP_PROTOCOL", `bad frame flags 0x${flags.toString(16)}: reserved bits set`)
      }
      // 37/ZMTP: MORE "SHALL be zero on command frames".
      if ((flags & (FLAG_COMMAND | FLAG_MORE)) === (FLAG_COMMAND | FLAG_MORE)) {
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
    }
    if (input.length < this.pendingSize) return false
    this.flags = this.pendingFlags
    this.body = input.take(this.pendingSize)
    this.pendingFlags = -1
    return true
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
