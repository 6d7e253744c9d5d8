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
