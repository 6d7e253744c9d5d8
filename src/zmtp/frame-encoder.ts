/**
 * Frame encoder that batches: headers and small bodies are copied into one
 * growing block, large bodies are passed by reference, and `flush()` hands
 * the batch to the transport as one writev.
 */
import { FLAG_LONG, FLAG_MORE, SHORT_FRAME_MAX } from "./frame.js"

/** Bodies up to this size are copied into the batch block; larger ones are not copied. */
const COPY_MAX = 4096
const BLOCK_SIZE = 64 * 1024

export class FrameEncoder {
  /** Pending output: completed slices of blocks and large bodies, in order. */
  private parts: Buffer[] = []
  /**
   * Made on the first frame: the greeting and handshake commands go out by
   * `raw()`, so a connection that never completes a handshake (a connect
   * flood) costs no block.
   */
  private block = EMPTY
  /** Start of the not yet flushed region of `block`. */
  private start = 0
  private pos = 0
  /** Bytes waiting to be flushed. */
  pending = 0

  /** Encodes a data message: every frame but the last carries MORE. */
  message(frames: readonly Buffer[]): void {
    const last = frames.length - 1
    for (let i = 0; i <= last; i++) this.frame(i < last ? FLAG_MORE : 0, frames[i]!)
  }

  /** Encodes one frame with the given flags (MORE / COMMAND; LONG is added as needed). */
  frame(flags: number, body: Buffer): void {
    const size = body.length
    const long = size > SHORT_FRAME_MAX
    const header = long ? 9 : 2
    const copy = size <= COPY_MAX
    this.reserve(copy ? header + size : header)
    const block = this.block
    let pos = this.pos
    if (long) {
      block[pos] = flags | FLAG_LONG
      // Sizes stay below 2^53; split into two 32-bit halves.
      block.writeUInt32BE(Math.floor(size / 0x100000000), pos + 1)
      block.writeUInt32BE(size >>> 0, pos + 5)
      pos += 9
    } else {
      block[pos] = flags
      block[pos + 1] = size
      pos += 2
    }
    if (copy) {
      if (size > 0) pos += body.copy(block, pos)
      this.pos = pos
    } else {
      this.pos = pos
      this.cut()
      this.parts.push(body)
    }
    this.pending += header + size
  }

  /** Appends bytes already encoded (a greeting, a command frame). */
  raw(bytes: Buffer): void {
    this.cut()
    this.parts.push(bytes)
    this.pending += bytes.length
  }

  /** Takes everything encoded since the last flush, or an empty list. */
  flush(): Buffer[] {
    this.cut()
    const parts = this.parts
    this.parts = []
    this.pending = 0
    return parts
  }

  /** Moves the unflushed region of the block into `parts`. */
  private cut(): void {
    if (this.pos > this.start) {
      this.parts.push(this.block.subarray(this.start, this.pos))
      this.start = this.pos
    }
  }

  private reserve(n: number): void {
    if (this.pos + n <= this.block.length) return
    this.cut()
    // The old block stays referenced by parts until written; start a new one.
    this.block = Buffer.allocUnsafe(Math.max(BLOCK_SIZE, n))
    this.start = 0
    this.pos = 0
  }
}

const EMPTY = Buffer.alloc(0)
