/**
 * The byte budget for message bodies kept in memory for delivery: a message
 * is kept (a copy: the original is a view into a received frame) when its
 * commit is applied, beside its entry in the queue, and let go when no group
 * needs it any more. What does not fit is read back from its segment.
 */
import type { MessageOp, StoredMessage } from "../store.js"

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
    return {
      queue: op.queue,
      seq,
      id: op.id,
      body: Buffer.from(op.body),
      headers: op.headers,
      storedAt: op.storedAt,
      due: 0,
      producerId: op.producerId ?? null,
      producerSeq: op.producerSeq ?? null,
    }
  }

  release(kept: StoredMessage): void {
    this.used -= kept.body.length
  }
}
