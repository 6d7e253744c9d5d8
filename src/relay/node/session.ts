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

/** Recently settled ack tokens kept per session (a second ack of one is answered OK). */
const MAX_SETTLED = 65_536
/** The request table starts at this size and doubles when it would drop a request still in progress. */
const MIN_REQUESTS = 1024
const MAX_REQUESTS = 1 << 20
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
  /** Confirmed sends waiting to go out, as (rid, seq) pairs: one CONFIRMS command per flush. */
  confirms: number[] = []
  /**
   * Recent requests by rid, direct-mapped (slot = rid % size): the answer, a
   * send's seq, or IN_PROGRESS. A request resent after a reconnect is answered
   * from here instead of being done twice.
   */
  private rids = new Float64Array(MIN_REQUESTS)
  private answers: Array<unknown[] | number | typeof IN_PROGRESS> = new Array(MIN_REQUESTS).fill(IN_PROGRESS)
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
    const i = rid % this.rids.length
    const held = this.rids[i]!
    if (held === rid) {
      const seen = this.answers[i]!
      if (typeof seen === "number") this.confirms.push(rid, seen)
      else if (seen !== IN_PROGRESS) this.push(seen, 16)
      return false
    }
    if (held !== 0 && this.answers[i] === IN_PROGRESS && this.rids.length < MAX_REQUESTS) {
      // Would forget a request still being done: make room instead.
      this.grow()
      return this.begin(rid)
    }
    this.rids[i] = rid
    this.answers[i] = IN_PROGRESS
    return true
  }

  /** Queues an answer and remembers it for a resend of the same request. */
  answer(rid: number, reply: unknown[]): void {
    const i = rid % this.rids.length
    if (this.rids[i] === rid) this.answers[i] = reply
    this.push(reply, 16)
  }

  /** A send is durable: its confirm goes out with the others of this flush. */
  confirm(rid: number, seq: number): void {
    const i = rid % this.rids.length
    if (this.rids[i] === rid) this.answers[i] = seq
    this.confirms.push(rid, seq)
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

  private grow(): void {
    const rids = this.rids
    const answers = this.answers
    const size = rids.length * 2
    this.rids = new Float64Array(size)
    this.answers = new Array(size).fill(IN_PROGRESS)
    for (let i = 0; i < rids.length; i++) {
      const rid = rids[i]!
      if (rid === 0) continue
      this.rids[rid % size] = rid
      this.answers[rid % size] = answers[i]!
    }
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
