/**
 * The decoder's input buffer: a list of received chunks read from the front.
 * `take(n)` returns a view when one chunk holds the bytes and copies once when
 * a read spans chunks. Views pin their parent chunk: copy before keeping one
 * for long. Consumed chunks are dropped by moving a head index, so a frame
 * that arrives in many small pieces is assembled in linear time.
 */
export class ByteQueue {
  private chunks: Buffer[] = []
  /** Index of the first unread chunk. */
  private head = 0
  /** Read position inside chunks[head]. */
  private offset = 0
  /** Unread bytes over all chunks. */
  length = 0

  push(chunk: Buffer): void {
    if (chunk.length === 0) return
    this.chunks.push(chunk)
    this.length += chunk.length
  }

  /** The chunk holding the read position (empty when nothing is queued); its bytes from `offset` on are unread. */
  get first(): Buffer {
    return this.chunks[this.head] ?? EMPTY
  }

  /** Read position inside `first`. */
  get firstOffset(): number {
    return this.offset
  }

  /** Consumes `n` bytes that all lie in `first` (the caller checked). */
  skipInFirst(n: number): void {
    const chunk = this.chunks[this.head]!
    this.advance(n, chunk, this.offset + n)
  }

  /** Moves the next `n` bytes into `target` at `at`; the caller checks `length`. */
  copyTo(target: Buffer, at: number, n: number): void {
    while (n > 0) {
      const chunk = this.chunks[this.head]!
      const count = Math.min(n, chunk.length - this.offset)
      chunk.copy(target, at, this.offset, this.offset + count)
      at += count
      n -= count
      this.advance(count, chunk, this.offset + count)
    }
  }

  /** The byte at `index` bytes past the read position; the caller checks `length`. */
  byteAt(index: number): number {
    let i = this.offset + index
    for (let c = this.head; c < this.chunks.length; c++) {
      const chunk = this.chunks[c]!
      if (i < chunk.length) return chunk[i]!
      i -= chunk.length
    }
    throw new RangeError("ByteQueue.byteAt past the end")
  }

  /** Removes and returns the next `n` bytes; the caller checks `length`. */
  take(n: number): Buffer {
    const head = this.chunks[this.head]
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
      const chunk = this.chunks[this.head]!
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
      const chunk = this.chunks[this.head]!
      const count = Math.min(n, chunk.length - this.offset)
      this.advance(count, chunk, this.offset + count)
      n -= count
    }
  }

  clear(): void {
    this.chunks = []
    this.head = 0
    this.offset = 0
    this.length = 0
  }

  private advance(n: number, chunk: Buffer, end: number): void {
    this.length -= n
    if (end < chunk.length) {
      this.offset = end
      return
    }
    this.offset = 0
    this.head++
    if (this.head === this.chunks.length) {
      // Everything read: start over without copying.
      this.chunks.length = 0
      this.head = 0
    } else if (this.head >= 1024 && this.head * 2 >= this.chunks.length) {
      // Drop the consumed prefix once it dominates, keeping the amortised cost linear.
      this.chunks = this.chunks.slice(this.head)
      this.head = 0
    }
  }
}

const EMPTY = Buffer.alloc(0)
