/**
 * Transactional (half) messages on the client: a Transaction is the handle
 * `prepare()` returns; a CheckResolver answers the relay's check-back for
 * half messages left undecided.
 */
import type { Headers } from "./store/store.js"

/** A half message the relay asks about: decide it from your own records (e.g. did the order commit?). */
export interface HalfMessage {
  readonly queue: string
  readonly id: string
  readonly seq: number
  readonly body: Buffer
  readonly headers: Headers
  /** The check-backs made so far for this message, this one included. */
  readonly checks: number
}

export type Decision = "commit" | "rollback" | "unknown"

/** Answers a check-back; a throw or a rejection counts as "unknown". */
export type CheckResolver = (half: HalfMessage) => Decision | Promise<Decision>

/** What a Transaction needs of its client. */
export interface TransactionLink {
  decide(queue: string, id: string, decision: Decision): Promise<void>
}

export interface PrepareOptions {
  /** Message id; default a fresh unique id. Also the transaction's id. */
  id?: string
  headers?: Headers
}

/**
 * A prepared (half) message: stored durably on the relay, invisible to
 * consumers until `commit()`; `rollback()` discards it. Either is durable
 * when it resolves, and repeating the same decision is harmless.
 *
 * @example
 * ```ts
 * const tx = await producer.prepare("orders", JSON.stringify(order), { id: order.id })
 * await db.insertOrder(order)   // the local transaction
 * await tx.commit()             // now consumers get it
 * ```
 */
export class Transaction {
  readonly queue: string
  readonly id: string
  /** The seq the relay stored the half message as. */
  readonly seq: number
  /** True when this prepare was a resend of one the relay had stored already. */
  readonly duplicate: boolean
  private readonly link: TransactionLink

  /** @internal */
  constructor(link: TransactionLink, queue: string, id: string, seq: number, duplicate: boolean) {
    this.link = link
    this.queue = queue
    this.id = id
    this.seq = seq
    this.duplicate = duplicate
  }

  /** Makes the message deliverable. Rejects ERR_RELAY_TX_ROLLED_BACK if the relay rolled it back already. */
  commit(): Promise<void> {
    return this.link.decide(this.queue, this.id, "commit")
  }

  /** Discards the message. Rejects ERR_RELAY_TX_COMMITTED if it was committed already. */
  rollback(): Promise<void> {
    return this.link.decide(this.queue, this.id, "rollback")
  }
}
