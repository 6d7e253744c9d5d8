/**
 * A client session on the node, named by the client's routing id: its
 * consumers, its outgoing commands (one frame per flush), the answers to its
 * recent requests (a request resent after a reconnect is answered, not done
 * twice).
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
  /** Producers this session answers check-backs for. */
  readonly resolverOf = new Set<string>()
  outbox: unknown[] = []
  outboxBytes = 0
  /** Confirmed sends waiting to go out, as (rid, seq) pairs: one CONFIRMS command per flush. */
  confirms: number[] = []
  /** Requests answered with a plain OK (acks, extends...): one OKS command per flush. */
  oks: number[] = []
  /**
   * Recent requests by rid, direct-mapped (slot = rid % size): the answer, a
   * send's seq, `true` for a plain OK, or IN_PROGRESS. A request resent after a reconnect is answered
   * from here instead of being done twice.
   */
  private rids = new Float64Array(MIN_REQUESTS)
  private answers: Array<Answer> = new Array(MIN_REQUESTS).fill(IN_PROGRESS)

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
      else if (seen === true) this.oks.push(rid)
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

  /** A plain OK, sent with the others of this flush. */
  ok(rid: number): void {
    const i = rid % this.rids.length
    if (this.rids[i] === rid) this.answers[i] = true
    this.oks.push(rid)
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

type Answer = unknown[] | number | true | typeof IN_PROGRESS
