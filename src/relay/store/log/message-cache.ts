/**
 * Recent message bodies kept in memory for delivery, up to a byte budget:
 * a message is cached when its commit is applied (a copy: the original is a
 * view into a received frame) and dropped when no group needs it any more.
 * What does not fit is read back from its segment.
 */
import type { MessageOp, StoredMessage } from "../store.js"

export class MessageCache {
  private readonly entries = new Map<number, StoredMessage>()
  private used = 0
  private readonly budget: number

  constructor(budget: number) {
    this.budget = budget
  }

  get(seq: number): StoredMessage | undefined {
    return this.entries.get(seq)
  }

  has(seq: number): boolean {
    return this.entries.has(seq)
  }

  add(op: MessageOp, seq: number): void {
    if (this.used + op.body.length > this.budget) return
    this.entries.set(seq, { queue: op.queue, seq, id: op.id, body: Buffer.from(op.body), headers: op.headers, storedAt: op.storedAt, due: 0 })
    this.used += op.body.length
  }

  delete(seq: number): void {
    const cached = this.entries.get(seq)
    if (cached === undefined) return
    this.entries.delete(seq)
    this.used -= cached.body.length
  }
}
