/**
 * Collects the store operations of one event-loop turn (sends, acks grouped
 * per consumer group, and the node's own operations) into one store commit,
 * and hands each outcome back. The store combines commits that arrive while
 * a sync is in flight, so each sync covers everything that was ready.
 */
import type { MessageOp, RelayStore, StoreOp } from "../store/store.js"
import type { GroupDispatcher } from "./group-dispatcher.js"
import type { Lease } from "./lease.js"
import type { Session } from "./session.js"

/** The sends of one commit, as parallel arrays (no object per message). */
export interface PendingSends {
  readonly sessions: Session[]
  readonly rids: number[]
  readonly ops: MessageOp[]
}

function noSends(): PendingSends {
  return { sessions: [], rids: [], ops: [] }
}

export type Then = (err: Error | undefined, results: readonly number[] | undefined) => void

export interface CommitHandlers {
  /** Sends committed (results[offset + i] is sends[i]'s seq) or failed. */
  sent(sends: PendingSends, err: Error | undefined, results: readonly number[] | undefined, offset: number): void
  /** A group's acks committed or failed. */
  acked(group: GroupDispatcher, leases: readonly Lease[], err: Error | undefined): void
  /** After every outcome of a commit was handed out: the time to flush answers. */
  settled(): void
}

interface Own {
  readonly ops: readonly StoreOp[]
  readonly then: Then | undefined
}

export class Committer {
  private readonly store: RelayStore
  private readonly handlers: CommitHandlers
  private own: Own[] = []
  private sends = noSends()
  private acks = new Map<GroupDispatcher, Lease[]>()
  private scheduled = false
  /** Commits handed to the store and not settled yet. */
  private inflight = 0
  /** Bytes of message bodies staged or in flight: the node stops reading past a bound. */
  bytes = 0
  private idleWaiters: Array<() => void> = []

  constructor(store: RelayStore, handlers: CommitHandlers) {
    this.store = store
    this.handlers = handlers
  }

  send(session: Session, rid: number, op: MessageOp): void {
    const s = this.sends
    s.sessions.push(session)
    s.rids.push(rid)
    s.ops.push(op)
    this.bytes += op.body.length
    this.schedule()
  }

  ack(group: GroupDispatcher, lease: Lease): void {
    const list = this.acks.get(group)
    if (list === undefined) this.acks.set(group, [lease])
    else list.push(lease)
    this.schedule()
  }

  /** The node's own operations (group creation, redelivery counts, releases, dead letters), in order. */
  run(ops: readonly StoreOp[], then?: Then): void {
    this.own.push({ ops, then })
    this.schedule()
  }

  get idle(): boolean {
    return this.inflight === 0 && !this.scheduled
  }

  /** Resolves once nothing is staged or in flight. */
  drained(): Promise<void> {
    if (this.idle) return Promise.resolve()
    return new Promise((resolve) => this.idleWaiters.push(resolve))
  }

  private schedule(): void {
    if (this.scheduled) return
    this.scheduled = true
    // A microtask, not a turn: the store itself gathers everything committed in this turn into one write.
    queueMicrotask(() => this.flush())
  }

  private flush(): void {
    this.scheduled = false
    const own = this.own
    const sends = this.sends
    const acks = this.acks
    this.own = []
    this.sends = noSends()
    this.acks = new Map()
    const ops: StoreOp[] = []
    // The node's own first: a dead letter's message must precede its ack, and both precede later acks.
    for (const o of own) for (const op of o.ops) ops.push(op)
    const sendOffset = ops.length
    let bytes = 0
    for (const op of sends.ops) {
      ops.push(op)
      bytes += op.body.length
    }
    for (const [group, leases] of acks) {
      ops.push({ type: "ack", queue: group.queue, group: group.name, positions: leases.map((l) => l.pos) })
    }
    if (ops.length === 0) return this.checkIdle()
    this.inflight++
    const done = (err: Error | undefined, results: readonly number[] | undefined) => {
      this.inflight--
      this.bytes -= bytes
      let at = 0
      for (const o of own) {
        o.then?.(err, results?.slice(at, at + o.ops.length))
        at += o.ops.length
      }
      if (sends.ops.length > 0) this.handlers.sent(sends, err, results, sendOffset)
      for (const [group, leases] of acks) this.handlers.acked(group, leases, err)
      this.handlers.settled()
      this.checkIdle()
    }
    this.store.commit(ops).then(
      (results) => done(undefined, results),
      (err: Error) => done(err, undefined),
    )
  }

  private checkIdle(): void {
    if (this.idle) for (const resolve of this.idleWaiters.splice(0)) resolve()
  }
}
