/** One group commit being gathered: its framed records, its operations, and who waits for them. */
import type { StoreOp } from "../store.js"
import { RecordWriter } from "./record.js"

export interface Waiter {
  /** Index of the waiter's first operation in the batch, and how many it has. */
  readonly start: number
  readonly count: number
  readonly resolve: (results: readonly number[]) => void
  readonly reject: (err: Error) => void
}

export class Batch {
  readonly writer = new RecordWriter()
  ops: StoreOp[] = []
  seqs: number[] = []
  /** Each record's offset in the batch, and its size. */
  offsets: number[] = []
  sizes: number[] = []
  waiters: Waiter[] = []

  /** Adds an operation: its seq (negative: a duplicate, not written), record offset and size. */
  push(op: StoreOp, seq: number, offset: number, size: number): void {
    this.ops.push(op)
    this.seqs.push(seq)
    this.offsets.push(offset)
    this.sizes.push(size)
  }

  /** The first written record's seq, 0 when nothing is written. */
  firstSeq(): number {
    for (const seq of this.seqs) if (seq > 0) return seq
    return 0
  }

  lastSeq(): number {
    for (let i = this.seqs.length - 1; i >= 0; i--) if (this.seqs[i]! > 0) return this.seqs[i]!
    return 0
  }

  /** Drops the records and operations from index `start` on (an append that failed half way). */
  truncate(start: number, bytes: number): void {
    this.writer.truncate(bytes)
    for (const list of [this.offsets, this.ops, this.seqs, this.sizes] as unknown[][]) list.length = start
  }

  reset(): void {
    this.writer.reset()
    this.ops = []
    this.seqs = []
    this.offsets = []
    this.sizes = []
    this.waiters = []
  }
}
