/**
 * A client session on the node, named by the client's routing id: its
 * consumers, its outgoing commands (one frame per flush), the answers to its
 * recent requests (a request resent after a reconnect is answered, not done
 * twice) and its recently settled ack tokens.
 */
import type { GroupDispatcher } from "./group-dispatcher.js"
import type { Lease } from "./lease.js"

export interface ConsumerState {
  readonly session: Session
  readonly tag: number
  readonly group: GroupDispatcher
  readonly prefetch: number
  inflight: number
  readonly leases: Set<Lease>
  closed: boolean
}

/** Answers kept per session for resent requests; the client keeps fewer than this in flight. */
const MAX_REPLIES = 65_536
const MAX_SETTLED = 65_536
const IN_PROGRESS = null

export class Session {
  readonly id: Buffer
  readonly key: string
  lastSeen: number
  /** When the node found its connection gone (0 = connected as far as it knows). */
  detachedAt = 0
  readonly consumers = new Map<number, ConsumerState>()
  outbox: unknown[] = []
  outboxBytes = 0
  private readonly replies = new Map<number, unknown[] | typeof IN_PROGRESS>()
  private readonly replyOrder = new Ring(MAX_REPLIES)
  private readonly settled = new Set<number>()
  private readonly settledOrder = new Ring(MAX_SETTLED)

  constructor(id: Buffer, key: string, now: number) {
    this.id = id
    this.key = key
    this.lastSeen = now
  }

  /**
   * Registers a request: true to process it; false when it was seen before
   * (its answer, if any, is queued again).
   */
  begin(rid: number): boolean {
    const seen = this.replies.get(rid)
    if (seen === undefined) {
      this.replies.set(rid, IN_PROGRESS)
      // The oldest goes, by a ring of ids: iterating a Map from its front is slow once it has churned.
      const evicted = this.replyOrder.add(rid)
      if (evicted !== undefined) this.replies.delete(evicted)
      return true
    }
    if (seen !== IN_PROGRESS) this.push(seen, 16)
    return false
  }

  /** Queues an answer and remembers it for a resend of the same request. */
  answer(rid: number, reply: unknown[]): void {
    if (this.replies.has(rid)) this.replies.set(rid, reply)
    this.push(reply, 16)
  }

  push(command: unknown, bytes: number): void {
    this.outbox.push(command)
    this.outboxBytes += bytes + 32
  }

  settle(token: number): void {
    this.settled.add(token)
    const evicted = this.settledOrder.add(token)
    if (evicted !== undefined) this.settled.delete(evicted)
  }

  /** True if this session acked `token` recently (a resent ack is answered OK again). */
  wasSettled(token: number): boolean {
    return this.settled.has(token)
  }
}

/** The last `size` numbers added; `add` returns the one pushed out. */
class Ring {
  private readonly items: Float64Array
  private head = 0
  private count = 0

  constructor(size: number) {
    this.items = new Float64Array(size)
  }

  add(n: number): number | undefined {
    const size = this.items.length
    if (this.count < size) {
      this.items[(this.head + this.count++) % size] = n
      return undefined
    }
    const out = this.items[this.head]!
    this.items[this.head] = n
    this.head = (this.head + 1) % size
    return out
  }
}
