/**
 * The byte budget for message bodies kept in memory for delivery: a message
 * is kept (a copy: the original is a view into a received frame) when its
 * commit is applied, beside its entry in the queue, and let go when no group
 * needs it any more. What does not fit is read back from its segment.
 */
import type { MessageOp, StoredMessage } from "../store.js"
import { storedMessage } from "./op-codec.js"

export class MessageCache {
  private used = 0
  private readonly budget: number

  constructor(budget: number) {
    this.budget = budget
  }

  /** A copy of the message to keep, or undefined when the budget is spent. */
  keep(op: MessageOp, seq: number): StoredMessage | undefined {
    if (this.used + op.body.length > this.budget) return undefined
    this.used += op.body.length
    return storedMessage(op, seq, 0)
  }

  release(kept: StoredMessage): void {
    this.used -= kept.body.length
  }
}
