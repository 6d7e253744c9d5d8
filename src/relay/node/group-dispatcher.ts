/**
 * One consumer group of one queue on the node: hands its messages to its
 * consumers (competing, at most `prefetch` unacked each, FIFO by position),
 * leases each delivery, and takes it back on expiry, nack, or a consumer's
 * end: redelivered, or dead-lettered after `maxDeliveries`. The durable part
 * (acks, failure counts) goes through the committer; leases are volatile and
 * a restart simply redelivers whatever was not acked.
 *
 * On a store shared by several nodes (one with `claim`), the group takes its
 * messages with `claim` instead of `fetch` (the store holds them for this
 * node), and gives back each one whose delivery ends without an ack with a
 * `retry` (which ends the hold) rather than keeping it: any node may take it.
 */
import { Queue } from "../../routing/queue.js"
import { Op } from "../protocol.js"
import type { GroupSettings, PendingMessage, RelayStore } from "../store/store.js"
import type { Committer, Then } from "./committer.js"
import { Heap } from "./heap.js"
import type { Lease, Ready } from "./lease.js"
import { LeaseList } from "./lease-list.js"
import type { ConsumerState, Session } from "./session.js"

/** What a group needs of its node. */
export interface NodeContext {
  readonly store: RelayStore
  readonly committer: Committer
  readonly leases: Map<number, Lease>
  nextLeaseId(): number
  /** Queues a command for a session and schedules the flush. */
  post(session: Session, command: unknown[], bytes: number): void
  /** New messages were committed to a queue (a dead letter). */
  queueChanged(queue: string): void
  log(level: "info" | "warn" | "error", message: string): void
  readonly counters: { delivered: number; redelivered: number; deadLettered: number; corrupt: number }
}

const FETCH_BATCH = 512

export class GroupDispatcher {
  readonly queue: string
  readonly name: string
  readonly settings: GroupSettings
  /** The group exists in the store (its creation is durable). */
  created: boolean
  private readonly ctx: NodeContext
  private readonly consumers: ConsumerState[] = []
  private next = 0
  /** The last position fetched from the store: everything up to it is here, leased or done. */
  private cursor = 0
  private more = true
  private fetching = false
  private generation = 0
  private readonly ready = new Queue<Ready>()
  private readonly returned = new Heap<Ready>((a, b) => a.pos < b.pos)
  private readonly waiting = new Heap<Ready>((a, b) => a.notBefore < b.notBefore)
  private waitTimer: NodeJS.Timeout | undefined
  private readonly leases = new LeaseList()
  private leaseTimer: NodeJS.Timeout | undefined
  private leaseTimerAt = Infinity
  private closed = false
  /** The store is shared by several nodes: claim, and give back what is not acked. */
  private readonly shared: boolean
  private wakeTimer: NodeJS.Timeout | undefined
  private wakeAt = Infinity

  constructor(ctx: NodeContext, queue: string, name: string, settings: GroupSettings, created: boolean) {
    this.ctx = ctx
    this.queue = queue
    this.name = name
    this.settings = settings
    this.created = created
    this.shared = typeof ctx.store.claim === "function"
  }

  get consumerCount(): number {
    return this.consumers.length
  }

  addConsumer(consumer: ConsumerState): void {
    this.consumers.push(consumer)
    this.dispatch()
  }

  /** Ends a consumer; its leases return to the group. Tokens in `unseen` never reached the application. */
  removeConsumer(consumer: ConsumerState, unseen?: ReadonlySet<number>): void {
    consumer.closed = true
    const i = this.consumers.indexOf(consumer)
    if (i >= 0) this.consumers.splice(i, 1)
    for (const lease of [...consumer.leases]) {
      if (lease.settling) continue // its ack decides
      this.endLease(lease, unseen?.has(lease.id) !== true, 0)
    }
    // Shared store: nobody here to deliver to, so what this node holds goes back for the others.
    if (this.shared && this.consumers.length === 0) this.giveBackAll()
    this.dispatch()
  }

  /** New messages were committed to the queue. */
  notify(): void {
    this.more = true
    this.generation++
    this.dispatch()
  }

  ack(lease: Lease, rid: number): void {
    if (lease.settling) {
      lease.ackRids!.push(rid)
      return
    }
    lease.settling = true
    lease.ackRids = [rid]
    this.leases.remove(lease)
    this.ctx.committer.ack(this, lease)
  }

  /** The committer's verdict on acks; answers each ack request. */
  acked(leases: readonly Lease[], err: Error | undefined): void {
    const now = Date.now()
    for (const lease of leases) {
      const session = lease.consumer.session
      lease.settling = false
      if (err === undefined) {
        this.forget(lease)
        for (const rid of lease.ackRids!) session.ok(rid)
      } else {
        for (const rid of lease.ackRids!) session.answer(rid, [Op.ERROR, rid, (err as { code?: string }).code ?? "ERR_RELAY_STORE_FAILED", err.message])
        if (lease.consumer.closed) this.endLease(lease, false, 0)
        else {
          lease.deadline = now + this.settings.ackTimeout
          this.leases.append(lease)
          this.armLeaseTimer()
        }
      }
      lease.ackRids = undefined
    }
    this.dispatch()
  }

  /** Ends a delivery without an ack: redelivered now or after `delay` ms (counted as a failed delivery). */
  nack(lease: Lease, delay: number, then: Then): void {
    this.endLease(lease, true, delay > 0 ? Date.now() + delay : 0, then)
    this.dispatch()
  }

  extend(lease: Lease): void {
    lease.deadline = Date.now() + this.settings.ackTimeout
    this.leases.remove(lease)
    this.leases.append(lease)
    this.armLeaseTimer()
  }

  close(): void {
    this.closed = true
    clearTimeout(this.leaseTimer)
    clearTimeout(this.waitTimer)
    clearTimeout(this.wakeTimer)
  }

  dispatch(): void {
    if (!this.created || this.closed) return
    for (;;) {
      const fromReturned = this.returned.length > 0
      const item = fromReturned ? this.returned.peek() : this.ready.peek()
      if (item === undefined) break
      const consumer = this.pick()
      if (consumer === undefined) break
      if (fromReturned) this.returned.pop()
      else this.ready.shift()
      this.deliver(consumer, item)
    }
    if (!this.more || this.fetching || this.consumers.length === 0) return
    if (!this.shared) {
      if (this.ready.length < Math.max(64, this.freeCapacity())) this.fetch(FETCH_BATCH)
    } else {
      // Claim no more than the consumers here can take: what this node holds, other nodes' consumers cannot have.
      const want = this.freeCapacity() - this.ready.length - this.returned.length
      if (want > 0) this.fetch(Math.min(FETCH_BATCH, want))
    }
  }

  private pick(): ConsumerState | undefined {
    const n = this.consumers.length
    for (let k = 0; k < n; k++) {
      const c = this.consumers[(this.next + k) % n]!
      if (c.inflight < c.prefetch && c.session.detachedAt === 0) {
        this.next = (this.next + k + 1) % n
        return c
      }
    }
    return undefined
  }

  private freeCapacity(): number {
    let free = 0
    for (const c of this.consumers) free += Math.max(0, c.prefetch - c.inflight)
    return free
  }

  private deliver(consumer: ConsumerState, item: Ready): void {
    const ctx = this.ctx
    const m = item.message
    const lease: Lease = {
      id: ctx.nextLeaseId(),
      consumer,
      pos: item.pos,
      message: m,
      failures: item.deliveries,
      deadline: Date.now() + this.settings.ackTimeout,
      settling: false,
      ackRids: undefined,
      prev: undefined,
      next: undefined,
      listed: false,
    }
    ctx.leases.set(lease.id, lease)
    consumer.inflight++
    consumer.leases.add(lease)
    this.leases.append(lease)
    if (this.leaseTimer === undefined) this.armLeaseTimer()
    const command = [Op.DELIVER, consumer.tag, lease.id, this.queue, m.id, m.seq, m.body, m.headers, item.deliveries + 1, m.storedAt, m.producerId ?? null, m.producerSeq ?? null]
    ctx.post(consumer.session, command, m.body.length)
    ctx.counters.delivered++
    if (item.deliveries > 0) ctx.counters.redelivered++
  }

  private forget(lease: Lease): void {
    this.ctx.leases.delete(lease.id)
    lease.consumer.inflight--
    lease.consumer.leases.delete(lease)
    this.leases.remove(lease)
  }

  /** Takes a delivery back; `counted` makes it a failed delivery (recorded, and dead-lettered at the limit). */
  private endLease(lease: Lease, counted: boolean, notBefore: number, then?: Then): void {
    this.forget(lease)
    const failures = counted ? lease.failures + 1 : lease.failures
    const item: Ready = { pos: lease.pos, message: lease.message, deliveries: failures, notBefore }
    if (counted && failures >= this.settings.maxDeliveries) {
      this.deadLetter(item, then)
      return
    }
    if (this.shared) return this.giveBack(item, then)
    if (counted) {
      const op = { type: "retry", queue: this.queue, group: this.name, pos: lease.pos, deliveries: failures, notBefore } as const
      this.ctx.committer.run([op], then)
    } else {
      then?.(undefined, undefined)
    }
    this.putBack(item)
  }

  /**
   * Shared store: a message this node holds goes back to the store (a retry
   * with its count, which ends the hold), to be claimed again by whichever
   * node comes first. If that fails it stays held here and is redelivered here.
   */
  private giveBack(item: Ready, then?: Then): void {
    const op = { type: "retry", queue: this.queue, group: this.name, pos: item.pos, deliveries: item.deliveries, notBefore: item.notBefore } as const
    this.ctx.committer.run([op], (err, results) => {
      if (err !== undefined) this.putBack(item)
      else if (item.notBefore > Date.now()) this.wakeUpAt(item.notBefore)
      else this.notify()
      then?.(err, results)
    })
  }

  /** Shared store: gives back every message held here and not leased (no consumer left for them). */
  private giveBackAll(): void {
    const items: Ready[] = []
    for (let item = this.ready.shift(); item !== undefined; item = this.ready.shift()) items.push(item)
    while (this.returned.length > 0) items.push(this.returned.pop()!)
    while (this.waiting.length > 0) items.push(this.waiting.pop()!)
    clearTimeout(this.waitTimer)
    this.more = true
    for (const item of items) this.giveBack(item)
  }

  /** Claims again once a message given back with a not-before time is due. */
  private wakeUpAt(at: number): void {
    if (at >= this.wakeAt || this.closed) return
    clearTimeout(this.wakeTimer)
    this.wakeAt = at
    this.wakeTimer = setTimeout(() => {
      this.wakeTimer = undefined
      this.wakeAt = Infinity
      this.notify()
    }, Math.max(0, at - Date.now() + 1))
  }

  private putBack(item: Ready): void {
    if (item.notBefore > Date.now()) {
      this.waiting.push(item)
      this.armWaitTimer()
    } else {
      this.returned.push(item)
    }
  }

  private deadLetter(item: Ready, then?: Then): void {
    const m = item.message
    const headers = {
      ...m.headers,
      "x-dead-letter-queue": this.queue,
      "x-dead-letter-group": this.name,
      "x-dead-letter-reason": "max-deliveries",
    }
    const dlq = this.settings.deadLetterQueue
    this.ctx.committer.run(
      [
        { type: "message", queue: dlq, id: m.id, body: m.body, headers, storedAt: Date.now(), due: 0 },
        { type: "ack", queue: this.queue, group: this.name, positions: [item.pos] },
      ],
      (err, results) => {
        if (err !== undefined) {
          // Not moved: it stays in this group and is tried again.
          this.ctx.log("error", `could not dead-letter ${this.queue} seq ${m.seq} to ${dlq}: ${err.message}`)
          this.returned.push({ ...item, deliveries: item.deliveries - 1 })
          this.dispatch()
        } else {
          this.ctx.counters.deadLettered++
          this.ctx.queueChanged(dlq)
        }
        then?.(err, results)
      },
    )
  }

  private fetch(max: number): void {
    this.fetching = true
    const generation = this.generation
    const store = this.ctx.store
    const read = this.shared ? store.claim!(this.queue, this.name, max) : store.fetch(this.queue, this.name, this.cursor, max)
    read.then(
      (list) => {
        this.fetching = false
        if (this.shared && (this.closed || this.consumers.length === 0)) {
          // Claimed for nobody: back to the store at once (a closing node's store ends its holds itself).
          if (!this.closed) for (const p of list) this.giveBack(p as Ready)
          return
        }
        if (this.closed) return
        const now = Date.now()
        for (const p of list) {
          if (p.pos > this.cursor) this.cursor = p.pos
          if (p.message === undefined) this.corrupt(p)
          else if (p.notBefore > now) this.putBack(p as Ready)
          // Redeliveries first, lowest position first (a claim mixes them in by position).
          else if (this.shared && p.deliveries > 0) this.returned.push(p as Ready)
          else this.ready.push(p as Ready)
        }
        if (list.length < max && generation === this.generation) this.more = false
        this.dispatch()
      },
      (err: Error) => {
        this.fetching = false
        this.ctx.log("error", `could not read ${this.queue} for group ${this.name}: ${err.message}; retrying in 1 s`)
        setTimeout(() => this.dispatch(), 1000).unref()
      },
    )
  }

  /** A stored copy failed its checks: reported loudly and passed over (the store keeps the bytes). */
  private corrupt(p: PendingMessage): void {
    this.ctx.counters.corrupt++
    const c = p.corrupt
    this.ctx.log("error", `corrupt message in ${this.queue} at position ${p.pos}${c === undefined ? "" : ` (${c.where}: ${c.reason})`}: not delivered to group ${this.name}; the data is kept for inspection`)
    this.ctx.committer.run([{ type: "ack", queue: this.queue, group: this.name, positions: [p.pos] }])
  }

  private armLeaseTimer(): void {
    const head = this.leases.first
    if (head === undefined || this.closed) return
    if (this.leaseTimer !== undefined && this.leaseTimerAt <= head.deadline) return
    clearTimeout(this.leaseTimer)
    this.leaseTimerAt = head.deadline
    this.leaseTimer = setTimeout(() => this.expire(), Math.max(0, head.deadline - Date.now()))
  }

  private expire(): void {
    this.leaseTimer = undefined
    this.leaseTimerAt = Infinity
    const now = Date.now()
    for (let head = this.leases.first; head !== undefined && head.deadline <= now; head = this.leases.first) {
      this.endLease(head, true, 0)
    }
    this.armLeaseTimer()
    this.dispatch()
  }

  private armWaitTimer(): void {
    const head = this.waiting.peek()
    if (head === undefined || this.closed) return
    clearTimeout(this.waitTimer)
    this.waitTimer = setTimeout(() => {
      this.waitTimer = undefined
      const now = Date.now()
      while (this.waiting.length > 0 && this.waiting.peek()!.notBefore <= now) this.returned.push(this.waiting.pop()!)
      this.armWaitTimer()
      this.dispatch()
    }, Math.max(0, head.notBefore - Date.now()))
  }
}
