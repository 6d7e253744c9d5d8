/**
 * A queue's stored messages in position order, as a growable ring of
 * numbers (position, seq, location, size per entry): a few bytes per message
 * instead of an object, O(1) append and trim, binary search by position.
 * Entries have absolute indices that stay valid while older ones are trimmed.
 * Beside the numbers, each entry may hold the message itself, kept in memory.
 */
const STRIDE = 4

export class EntryRing {
  private data: Float64Array
  /** The in-memory copy of each entry's message, if kept. */
  private payloads: unknown[]
  /** Slot of the first entry. */
  private head = 0
  private capacity: number
  length = 0
  /** Absolute index of the first entry; grows as entries are trimmed. */
  first = 0

  constructor(capacity = 64) {
    this.capacity = capacity
    this.data = new Float64Array(capacity * STRIDE)
    this.payloads = new Array(capacity)
  }

  /** Absolute index one past the last entry. */
  get end(): number {
    return this.first + this.length
  }

  push(pos: number, seq: number, loc: number, size: number, payload?: unknown): void {
    if (this.length === this.capacity) this.grow()
    const slot = (this.head + this.length) % this.capacity
    this.payloads[slot] = payload
    const at = slot * STRIDE
    const d = this.data
    d[at] = pos
    d[at + 1] = seq
    d[at + 2] = loc
    d[at + 3] = size
    this.length++
  }

  /** Drops the first entry. */
  shift(): void {
    if (this.length === 0) return
    this.payloads[this.head] = undefined
    this.head = (this.head + 1) % this.capacity
    this.length--
    this.first++
  }

  pos(index: number): number {
    return this.data[this.slot(index)]!
  }

  seq(index: number): number {
    return this.data[this.slot(index) + 1]!
  }

  loc(index: number): number {
    return this.data[this.slot(index) + 2]!
  }

  size(index: number): number {
    return this.data[this.slot(index) + 3]!
  }

  payload(index: number): unknown {
    return this.payloads[(this.head + index - this.first) % this.capacity]
  }

  /** Absolute index of the first entry with position > pos (`end` if none). */
  upperBound(pos: number): number {
    let lo = this.first
    let hi = this.end
    while (lo < hi) {
      const mid = (lo + hi) >>> 1
      if (this.pos(mid) <= pos) lo = mid + 1
      else hi = mid
    }
    return lo
  }

  /** Absolute index of the entry at exactly `pos`, or -1. */
  indexOf(pos: number): number {
    const i = this.upperBound(pos - 1)
    return i < this.end && this.pos(i) === pos ? i : -1
  }

  /** The entries as a flat array of numbers, for a checkpoint. */
  toArray(): Float64Array {
    const out = new Float64Array(this.length * STRIDE)
    this.copyTo(out)
    return out
  }

  /** Copies the entries in order to the start of `out`: at most two block copies (the ring may wrap). */
  private copyTo(out: Float64Array): void {
    const firstPart = Math.min(this.length, this.capacity - this.head)
    out.set(this.data.subarray(this.head * STRIDE, (this.head + firstPart) * STRIDE), 0)
    if (firstPart < this.length) out.set(this.data.subarray(0, (this.length - firstPart) * STRIDE), firstPart * STRIDE)
  }

  static from(first: number, flat: Float64Array): EntryRing {
    const count = flat.length / STRIDE
    const ring = new EntryRing(Math.max(64, 2 ** Math.ceil(Math.log2(count + 1))))
    ring.data.set(flat)
    ring.length = count
    ring.first = first
    return ring
  }

  private slot(index: number): number {
    return this.slotRel(index - this.first)
  }

  private slotRel(offset: number): number {
    return ((this.head + offset) % this.capacity) * STRIDE
  }

  private grow(): void {
    const next = new Float64Array(this.capacity * 2 * STRIDE)
    const payloads = new Array(this.capacity * 2)
    this.copyTo(next)
    for (let i = 0; i < this.length; i++) payloads[i] = this.payloads[(this.head + i) % this.capacity]
    this.data = next
    this.payloads = payloads
    this.head = 0
    this.capacity *= 2
  }
}
