/**
 * The decoder's input buffer: a list of received chunks read from the front.
 * `take(n)` returns a view when one chunk holds the bytes and copies once when
 * a read spans chunks. Views pin their parent chunk: copy before keeping one
 * for long.
 */
export class ByteQueue {
  private chunks: Buffer[] = []
  /** Read position inside chunks[0]. */
  private offset = 0
  /** Unread bytes over all chunks. */
  length = 0

  push(chunk: Buffer): void {
    if (chunk.length === 0) return
    this.chunks.push(chunk)
    this.length += chunk.length
  }

  /** The byte at `index` bytes past the read position; the caller checks `length`. */
  byteAt(index: number): number {
    let i = this.offset + index
    for (const chunk of this.chunks) {
      if (i < chunk.length) return chunk[i]!
      i -= chunk.length
    }
    throw new RangeError("ByteQueue.byteAt past the end")
  }

  /** Removes and returns the next `n` bytes; the caller checks `length`. */
  take(n: number): Buffer {
    const head = this.chunks[0]
    if (head === undefined) return EMPTY
    const end = this.offset + n
    if (end <= head.length) {
      const view = head.subarray(this.offset, end)
      this.advance(n, head, end)
      return view
    }
    const out = Buffer.allocUnsafe(n)
    let filled = 0
    while (filled < n) {
      const chunk = this.chunks[0]!
      const count = Math.min(n - filled, chunk.length - this.offset)
      chunk.copy(out, filled, this.offset, this.offset + count)
      filled += count
      this.advance(count, chunk, this.offset + count)
    }
    return out
  }

  /** Discards the next `n` bytes. */
  skip(n: number): void {
    while (n > 0) {
      const head = this.chunks[0]!
      const count = Math.min(n, head.length - this.offset)
      this.advance(count, head, this.offset + count)
      n -= count
    }
  }

  clear(): void {
    this.chunks = []
    this.offset = 0
    this.length = 0
  }

  private advance(n: number, head: Buffer, end: number): void {
    this.length -= n
    if (end === head.length) {
      this.chunks.shift()
      this.offset = 0
    } else {
      this.offset = end
    }
  }
}

const EMPTY = Buffer.alloc(0)
