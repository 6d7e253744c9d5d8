/** A delivery attempt: one message leased to one consumer until acked, nacked or expired. */
import type { PendingMessage, StoredMessage } from "../store/store.js"
import type { ConsumerState } from "./session.js"

export interface Lease {
  /** The ack token: unique to this attempt, so a late ack never settles a redelivery. */
  readonly id: number
  readonly consumer: ConsumerState
  readonly pos: number
  readonly message: StoredMessage
  /** Deliveries that ended without an ack before this one. */
  readonly failures: number
  deadline: number
  /** An ack is being made durable; expiry waits for its outcome. */
  settling: boolean
  /** Request ids of the acks to answer once durable. */
  ackRids: number[] | undefined
  prev: Lease | undefined
  next: Lease | undefined
  listed: boolean
}

/** A message waiting for a consumer, as fetched from the store or returned by a lease (`deliveries` = failed ones). */
export type Ready = PendingMessage & { readonly message: StoredMessage }
