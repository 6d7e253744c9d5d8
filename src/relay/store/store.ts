/**
 * The storage interface of a relay node. It speaks of queues, messages,
 * consumer groups, acknowledgements, due times and durable commits, never of
 * files: the embedded log (store/log/) implements it, and a database-backed
 * store can implement it too.
 */

/** Message headers: string keys and values. */
export type Headers = Record<string, string>

/** A consumer group's settings, fixed when the group is created. */
export interface GroupSettings {
  /** ms a delivery is leased to a consumer before it is redelivered. */
  readonly ackTimeout: number
  /** Deliveries that may end without an ack before the message is dead-lettered. */
  readonly maxDeliveries: number
  /** Where dead-lettered messages go. */
  readonly deadLetterQueue: string
}

/**
 * A new message. With `due` in the future it is delayed: kept in the delay
 * index, invisible to consumers until a `release`, or gone after a `cancel`.
 */
export interface MessageOp {
  readonly type: "message"
  readonly queue: string
  readonly id: string
  readonly body: Uint8Array
  readonly headers: Headers | null
  /** Epoch ms when the relay accepted it. */
  readonly storedAt: number
  /** Epoch ms when it becomes deliverable; 0 = at once. */
  readonly due: number
  /**
   * ms: a message of the same queue with the same id stored less than this
   * long before makes this one a duplicate, not stored again (0 or absent: no
   * check). The window is per queue; a decided half message's id counts too.
   */
  readonly dedupWindow?: number
  /**
   * An idempotent producer's name, the epoch of its client instance and the
   * send's number within that epoch: a second op with the same three is a
   * duplicate, however long after, as long as the store keeps the producer
   * (see `PRODUCER_RECEIPTS`).
   */
  readonly producerId?: string | null
  readonly producerEpoch?: string | null
  readonly producerSeq?: number | null
  /**
   * A half (prepared) message: stored, invisible to consumers until a
   * `commit` op; `due` is then when the relay first asks its producer about it.
   */
  readonly half?: boolean
  /**
   * The producer made the id up for this message and sends it for the first
   * time: it cannot be a duplicate by id, so the store may skip that lookup
   * (it still records the id for resends, which come without the flag).
   */
  readonly fresh?: boolean
}

/** Creates a consumer group, starting at the oldest message the queue still stores. No-op if it exists. */
export interface GroupOp {
  readonly type: "group"
  readonly queue: string
  readonly group: string
  readonly settings: GroupSettings
}

/** The group is done with these positions (acked, or dead-lettered). */
export interface AckOp {
  readonly type: "ack"
  readonly queue: string
  readonly group: string
  readonly positions: readonly number[]
}

/**
 * A delivery of `pos` ended without an ack: the failure count, and the
 * earliest redelivery time. In a shared store (one with `claim`) it also ends
 * this node's hold on the message: any node may claim it again.
 */
export interface RetryOp {
  readonly type: "retry"
  readonly queue: string
  readonly group: string
  readonly pos: number
  readonly deliveries: number
  /** Epoch ms; 0 = at once. */
  readonly notBefore: number
}

/** A delayed message became due: it joins its queue (at a new position, after everything stored so far). */
export interface ReleaseOp {
  readonly type: "release"
  readonly queue: string
  readonly seq: number
}

/** Cancels a delayed message that was not released yet, by id. */
export interface CancelOp {
  readonly type: "cancel"
  readonly queue: string
  readonly id: string
}

/** A half message is committed: it joins its queue at a new position, as a released delayed message does. */
export interface CommitOp {
  readonly type: "commit"
  readonly queue: string
  readonly id: string
  /** Epoch ms of the decision (the id stays known as committed for the dedup window from then). */
  readonly at: number
  readonly dedupWindow?: number
}

/** A half message is rolled back: discarded, never delivered; `reason` says who decided. */
export interface RollbackOp {
  readonly type: "rollback"
  readonly queue: string
  readonly id: string
  readonly at: number
  readonly reason: string
  readonly dedupWindow?: number
}

/** A check-back of a half message went unanswered or was answered "unknown": count it, and ask again at `next`. */
export interface CheckOp {
  readonly type: "check"
  readonly queue: string
  readonly seq: number
  readonly checks: number
  /** Epoch ms of the next check. */
  readonly next: number
}

/** What a commit can hold. */
export type StoreOp = MessageOp | GroupOp | AckOp | RetryOp | ReleaseOp | CancelOp | CommitOp | RollbackOp | CheckOp

/**
 * Receipts kept per producer epoch: a resend is recognised by its sequence
 * if fewer than this many sends of the same epoch came after it (a client
 * with a producerId keeps fewer requests than this in flight).
 */
export const PRODUCER_RECEIPTS = 4096

/** The commit result of a `commit` or `rollback` op whose half message was decided before. */
export const Decided = { committed: -1, rolledBack: -2 } as const

/** A `message` op's commit result for a duplicate: minus the original's seq. */
export function isDuplicate(result: number): boolean {
  return result < 0
}

/** A stored message, as read back. */
export interface StoredMessage {
  readonly queue: string
  /** The message's sequence number, given when it was stored. */
  readonly seq: number
  readonly id: string
  readonly body: Buffer
  readonly headers: Headers | null
  readonly storedAt: number
  /** 0, or when a delayed message became due. */
  readonly due: number
  /** The idempotent producer that sent it, and the send's number, if any. */
  readonly producerId?: string | null
  readonly producerSeq?: number | null
}

/** A message a group has not acknowledged yet, as `fetch()` returns it. */
export interface PendingMessage {
  /** Its position in the queue (its seq, or the seq of its release for a delayed one). */
  readonly pos: number
  /** Undefined when the stored copy is corrupt (then `corrupt` says how). */
  readonly message: StoredMessage | undefined
  readonly corrupt?: StoreCorruption
  /** Deliveries that ended without an ack, as recorded by `retry`. */
  readonly deliveries: number
  /** Epoch ms before which it must not be redelivered; 0 = any time. */
  readonly notBefore: number
}

/** A delayed message whose due time has come, or a half message whose next check-back is due. */
export interface DueMessage {
  readonly queue: string
  readonly seq: number
  readonly due: number
  /** Set for a half message: then `id`, `producerId` and `checks` (check-backs counted so far) are too. */
  readonly half?: boolean
  readonly id?: string
  readonly producerId?: string | null
  readonly checks?: number
}

/** Data that failed its checksum or could not be parsed: reported, kept, never silently dropped. */
export interface StoreCorruption {
  /** Where: for the log, the segment file and byte offset. */
  readonly where: string
  /** The record's seq when known. */
  readonly seq?: number
  readonly reason: string
}

export interface GroupInfo {
  readonly name: string
  readonly settings: GroupSettings
  /** Messages this group has not acknowledged. */
  readonly pending: number
}

export interface QueueInfo {
  readonly name: string
  /** Messages stored and deliverable to at least one group (or waiting for a first group). */
  readonly depth: number
  /** Delayed messages not yet due. */
  readonly delayed: number
  /** Half messages not decided yet. */
  readonly prepared?: number
  readonly groups: readonly GroupInfo[]
}

/** What `open()` found. */
export interface Recovery {
  readonly queues: readonly QueueInfo[]
  readonly corruption: readonly StoreCorruption[]
  /** A human-readable line per notable recovery step (torn tail truncated, checkpoint used). */
  readonly notes: readonly string[]
  readonly durationMs: number
}

export interface StoreStats {
  /** Bytes the store uses. */
  readonly bytes: number
  /** Durable commits so far, and operations in them. */
  readonly commits: number
  readonly ops: number
}

/**
 * Durable storage for a relay node. Every state change is an operation in a
 * `commit()`; a commit resolves only once it is durable, and operations take
 * effect (become visible to `fetch`, `due`, ...) at that moment, in order.
 *
 * @example
 * ```ts
 * const store: RelayStore = new LogStore({ dir: "./data" })
 * await store.open()
 * const [seq] = await store.commit([{ type: "message", queue: "q", id: "1", body, headers: null, storedAt: Date.now(), due: 0 }])
 * ```
 */
export interface RelayStore {
  /** Opens (creating if needed) and recovers. */
  open(): Promise<Recovery>
  /** False when `bytes` more of messages would exceed the store's capacity (the relay then refuses sends). */
  admit(bytes: number): boolean
  /**
   * Makes the operations durable, in order, and resolves with one number per
   * operation: the new seq for `message` (minus the original's seq for a
   * duplicate, which is not stored: see `isDuplicate`), the new position for
   * `release` and `commit` (0 if the message was no longer delayed or
   * undecided), the discarded message's seq for `cancel` and `rollback` (0 if
   * there was none), 0 for the others. A `commit` or `rollback` of a half
   * message decided earlier yields `Decided.committed` or `Decided.rolledBack`
   * while the decision is within the dedup window (0 after that, as for an
   * unknown id). Calls made while a commit
   * is in flight are combined into the next one (group commit). Rejects with a
   * ZmeshError (ERR_RELAY_STORE_FAILED, ERR_RELAY_STORE_FULL) when nothing of
   * it was committed.
   */
  commit(ops: readonly StoreOp[]): Promise<readonly number[]>
  /** Up to `max` messages of `queue` the group has not acknowledged, at positions after `after`, in order. */
  fetch(queue: string, group: string, after: number, max: number): Promise<PendingMessage[]>
  /** Delayed messages due at `now` or before, by (due, seq), up to `max`. */
  due(now: number, max: number): Promise<DueMessage[]>
  /** The earliest due time of a delayed message, if any. */
  nextDue(): Promise<number | undefined>
  /** A stored message by seq (a delayed or half message too), if the store still has it. */
  read(queue: string, seq: number): Promise<StoredMessage | undefined>
  /** Queues, their depths and groups. */
  queues(): QueueInfo[]
  stats(): StoreStats
  /** Finishes the commit in flight, then releases files or connections. */
  close(): Promise<void>
  /**
   * Optional, for a store shared by several relay nodes (PostgresStore): up
   * to `max` messages of `queue` the group has not acknowledged, that no live
   * node holds and that are due for (re)delivery, in position order; they are
   * held for this node from then on. A hold ends with the message's `ack` or
   * `retry`, when this node closes, or when the node stops renewing it (it
   * died): then another node's claim takes the message. A node with `claim`
   * uses it instead of `fetch` (which knows nothing of other nodes).
   */
  claim?(queue: string, group: string, max: number): Promise<PendingMessage[]>
  /**
   * Optional, with `claim`: calls `onChange` when other nodes committed
   * something that may concern this one (the queues given), and with
   * `undefined` when anything may have changed (a lost notification, a node
   * gone whose holds expire, the slow fallback poll). Returns a function that
   * stops watching.
   */
  watch?(onChange: (queues: readonly string[] | undefined) => void): () => void
}
