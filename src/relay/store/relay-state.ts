/**
 * The durable state of a relay as a state machine: queues with their stored
 * messages, consumer groups (ack floor, out-of-order acks, recorded failures),
 * the delay index (with half messages), and the de-duplication state (ids in
 * the window, idempotent producers' receipts). Operations are applied in commit order once durable,
 * both live and when a store replays its history; nothing here knows about
 * files. A store tells where each payload is (`loc`, `size`) and is told when
 * a payload becomes referenced or unreferenced (`pin`/`unpin`).
 */
import { DelayIndex } from "./delay-index.js"
import { EntryRing } from "./entry-ring.js"
import { Decision, IdIndex } from "./id-index.js"
import { type ProducerSnapshot, ProducerTable } from "./producer-table.js"
import { Decided, type GroupInfo, type GroupSettings, type MessageOp, type QueueInfo, type StoreCorruption, type StoreOp, type StoredMessage } from "./store.js"

/** A message a group has not acknowledged, located but not read. */
export interface PendingEntry {
  readonly pos: number
  readonly seq: number
  readonly loc: number
  readonly size: number
  readonly deliveries: number
  readonly notBefore: number
  /** The message: its copy kept in memory, else filled in by the store once read. */
  message: StoredMessage | undefined
  corrupt?: StoreCorruption
}

export interface StateHooks {
  /** A payload became referenced (a new message). */
  pin(seq: number, loc: number, size: number): void
  /** A payload is no longer referenced by anything (acked by every group, or cancelled); `kept` is its in-memory copy. */
  unpin(seq: number, kept: StoredMessage | undefined): void
}

interface Retry {
  deliveries: number
  notBefore: number
}

class GroupState {
  /** Absolute ring index of the first message not acknowledged; all before it are. */
  next: number
  /** Positions after `next` acknowledged out of order. */
  readonly acked = new Set<number>()
  readonly retries = new Map<number, Retry>()
  readonly name: string
  readonly settings: GroupSettings

  constructor(name: string, settings: GroupSettings, next: number) {
    this.name = name
    this.settings = settings
    this.next = next
  }
}

class QueueState {
  ring = new EntryRing()
  readonly groups = new Map<string, GroupState>()
  readonly name: string

  constructor(name: string) {
    this.name = name
  }
}

export class RelayState {
  private readonly queues = new Map<string, QueueState>()
  readonly delays = new DelayIndex()
  readonly ids = new IdIndex()
  readonly producers = new ProducerTable()
  private readonly hooks: StateHooks

  constructor(hooks: StateHooks) {
    this.hooks = hooks
  }

  /**
   * Applies one durable operation stored as record `seq` at `loc` (`size`
   * bytes), `payload` being an in-memory copy of a message to keep beside it;
   * returns its commit result.
   */
  apply(op: StoreOp, seq: number, loc: number, size: number, payload?: StoredMessage, staged = false): number {
    switch (op.type) {
      case "message": {
        this.hooks.pin(seq, loc, size)
        if (!staged) this.stage(op, seq)
        if (op.half === true) {
          this.delays.add({ queue: op.queue, id: op.id, seq, due: op.due, loc, size, half: true, checks: 0, producerId: op.producerId ?? null })
          this.queue(op.queue)
        } else if (op.due > 0) {
          this.delays.add({ queue: op.queue, id: op.id, seq, due: op.due, loc, size })
          this.queue(op.queue)
        } else {
          this.queue(op.queue).ring.push(seq, seq, loc, size, payload)
        }
        return seq
      }
      case "group": {
        const queue = this.queue(op.queue)
        if (!queue.groups.has(op.group)) queue.groups.set(op.group, new GroupState(op.group, op.settings, queue.ring.first))
        return 0
      }
      case "ack": {
        const queue = this.queues.get(op.queue)
        const group = queue?.groups.get(op.group)
        if (queue === undefined || group === undefined) return 0
        for (const pos of op.positions) this.ack(queue, group, pos)
        this.trim(queue)
        return 0
      }
      case "retry": {
        const queue = this.queues.get(op.queue)
        const group = queue?.groups.get(op.group)
        if (queue === undefined || group === undefined) return 0
        const index = queue.ring.indexOf(op.pos)
        if (index < group.next || group.acked.has(op.pos)) return 0
        group.retries.set(op.pos, { deliveries: op.deliveries, notBefore: op.notBefore })
        return 0
      }
      case "release": {
        if (this.delays.get(op.seq)?.half === true) return 0
        const entry = this.delays.remove(op.seq)
        if (entry === undefined) return 0
        this.queue(entry.queue).ring.push(seq, entry.seq, entry.loc, entry.size)
        return seq
      }
      case "cancel": {
        const target = this.delays.find(op.queue, op.id)
        if (target === undefined || this.delays.get(target)?.half === true) return 0
        this.delays.remove(target)
        this.hooks.unpin(target, undefined)
        return target
      }
      case "commit":
      case "rollback": {
        const target = this.delays.find(op.queue, op.id)
        const entry = target === undefined ? undefined : this.delays.get(target)
        if (entry === undefined || entry.half !== true) {
          const known = this.ids.decisionOf(op.queue, op.id, op.at)
          if (known === Decision.committed) return Decided.committed
          if (known === Decision.rolledBack) return Decided.rolledBack
          return 0
        }
        this.delays.remove(entry.seq)
        const expires = op.at + (op.dedupWindow ?? 0)
        if (op.type === "commit") {
          this.queue(entry.queue).ring.push(seq, entry.seq, entry.loc, entry.size)
          if (op.dedupWindow) this.ids.put(op.queue, op.id, entry.seq, expires, Decision.committed)
          return seq
        }
        this.hooks.unpin(entry.seq, undefined)
        if (op.dedupWindow) this.ids.put(op.queue, op.id, entry.seq, expires, Decision.rolledBack)
        return entry.seq
      }
      case "check": {
        const entry = this.delays.get(op.seq)
        if (entry === undefined || entry.half !== true) return 0
        this.delays.remove(op.seq)
        this.delays.add({ ...entry, due: op.next, checks: op.checks })
        return 0
      }
    }
  }

  /**
   * The seq a message op duplicates (same producer epoch and send number, or
   * the same id in its queue within the window), or 0. Staged messages count
   * (see `stage`).
   */
  duplicateOf(op: MessageOp, now: number): number {
    if (op.producerSeq != null && op.producerId && op.producerEpoch) {
      const seq = this.producers.find(op.producerId, op.producerEpoch, op.producerSeq)
      if (seq !== undefined) return seq
    }
    if (op.dedupWindow) {
      this.ids.expire(now)
      if (op.fresh !== true) return this.ids.seqOf(op.queue, op.id, now)
    }
    return 0
  }

  /** Takes back `stage` for a message whose commit failed. */
  unstage(op: MessageOp, seq: number): void {
    if (op.dedupWindow) this.ids.remove(op.queue, op.id, seq)
    if (op.producerSeq != null && op.producerId && op.producerEpoch) this.producers.remove(op.producerId, op.producerEpoch, op.producerSeq, seq)
  }

  /**
   * Puts back into the window what record `seq` (from before the checkpoint
   * in use) added to it, if still in it at `now`: a message's id, or a half
   * message's decision (with the half's seq when its own record came first).
   */
  recall(op: StoreOp, seq: number, now: number): void {
    if (op.type === "message") {
      if (op.dedupWindow && op.storedAt + op.dedupWindow > now) this.ids.put(op.queue, op.id, seq, op.storedAt + op.dedupWindow)
    } else if ((op.type === "commit" || op.type === "rollback") && op.dedupWindow && op.at + op.dedupWindow > now) {
      const half = this.ids.seqOf(op.queue, op.id, now) || seq
      this.ids.put(op.queue, op.id, half, op.at + op.dedupWindow, op.type === "commit" ? Decision.committed : Decision.rolledBack)
    }
  }

  /**
   * Counts a message as stored for de-duplication: when applied, or already
   * when staged (a resend before its commit is durable is a duplicate too).
   */
  stage(op: MessageOp, seq: number): void {
    if (op.dedupWindow) {
      // A made-up id's first send cannot be a repeat: its entry can wait until the confirms are out.
      if (op.fresh === true) this.ids.putLater(op.queue, op.id, seq, op.storedAt + op.dedupWindow)
      else this.ids.put(op.queue, op.id, seq, op.storedAt + op.dedupWindow)
    }
    if (op.producerSeq != null && op.producerId && op.producerEpoch) {
      this.producers.put(op.producerId, op.producerEpoch, op.producerSeq, seq, op.storedAt)
    }
  }

  /** Where the message stored as `seq` in `queue` is, with its kept copy, if the queue still holds it. */
  locate(queueName: string, seq: number): { loc: number; size: number; message: StoredMessage | undefined } | undefined {
    const ring = this.queues.get(queueName)?.ring
    if (ring === undefined) return undefined
    let i = ring.indexOf(seq)
    // A released delayed or committed half message sits at a later position than its seq.
    if (i < ring.first || i >= ring.end || ring.seq(i) !== seq) {
      i = -1
      for (let j = ring.first; j < ring.end; j++) if (ring.seq(j) === seq) i = j
      if (i < 0) return undefined
    }
    return { loc: ring.loc(i), size: ring.size(i), message: ring.payload(i) as StoredMessage | undefined }
  }

  hasGroup(queue: string, group: string): boolean {
    return this.queues.get(queue)?.groups.has(group) === true
  }

  /** Up to `max` entries the group has not acknowledged, at positions after `after`. */
  pending(queueName: string, groupName: string, after: number, max: number): PendingEntry[] {
    const queue = this.queues.get(queueName)
    const group = queue?.groups.get(groupName)
    if (queue === undefined || group === undefined) return []
    const ring = queue.ring
    const out: PendingEntry[] = []
    for (let i = Math.max(ring.upperBound(after), group.next); i < ring.end && out.length < max; i++) {
      const pos = ring.pos(i)
      if (group.acked.has(pos)) continue
      const retry = group.retries.get(pos)
      out.push({
        pos,
        seq: ring.seq(i),
        loc: ring.loc(i),
        size: ring.size(i),
        deliveries: retry?.deliveries ?? 0,
        notBefore: retry?.notBefore ?? 0,
        message: ring.payload(i) as StoredMessage | undefined,
        corrupt: undefined,
      })
    }
    return out
  }

  queueInfos(): QueueInfo[] {
    const out: QueueInfo[] = []
    for (const queue of this.queues.values()) {
      const groups: GroupInfo[] = []
      for (const g of queue.groups.values()) {
        groups.push({ name: g.name, settings: g.settings, pending: queue.ring.end - g.next - g.acked.size })
      }
      const prepared = this.delays.countOf(queue.name, true)
      out.push({ name: queue.name, depth: queue.ring.length, delayed: this.delays.countOf(queue.name), prepared, groups })
    }
    return out
  }

  /** The state as plain data, for a checkpoint; producer receipts of seqs up to `upTo` (those durable). */
  snapshot(upTo = Infinity, now = Date.now()): StateSnapshot {
    const queues: QueueSnapshot[] = []
    for (const q of this.queues.values()) {
      const groups: GroupSnapshot[] = []
      for (const g of q.groups.values()) {
        const retries: number[] = []
        for (const [pos, r] of g.retries) retries.push(pos, r.deliveries, r.notBefore)
        const s = g.settings
        groups.push([g.name, s.ackTimeout, s.maxDeliveries, s.deadLetterQueue, g.next, [...g.acked], retries])
      }
      const flat = q.ring.toArray()
      queues.push([q.name, q.ring.first, Buffer.from(flat.buffer, flat.byteOffset, flat.byteLength), groups])
    }
    const delayed: DelayedSnapshot[] = []
    for (const d of this.delays.entries()) {
      if (d.half === true) delayed.push([d.queue, d.id, d.seq, d.due, d.loc, d.size, 1, d.checks ?? 0, d.producerId ?? null])
      else delayed.push([d.queue, d.id, d.seq, d.due, d.loc, d.size])
    }
    return { queues, delayed, producers: this.producers.snapshot(upTo, now) }
  }

  /** Rebuilds the state from a snapshot, pinning every payload it references (the id window is rebuilt by `recall`). */
  restore(snapshot: StateSnapshot): void {
    for (const [name, first, raw, groups] of snapshot.queues) {
      const queue = this.queue(name)
      const flat = new Float64Array(raw.byteLength / 8)
      Buffer.from(flat.buffer).set(raw)
      queue.ring = EntryRing.from(first, flat)
      for (let i = queue.ring.first; i < queue.ring.end; i++) {
        // A released delayed message shares its payload with nothing else: pin once per entry.
        this.hooks.pin(queue.ring.seq(i), queue.ring.loc(i), queue.ring.size(i))
      }
      for (const [gname, ackTimeout, maxDeliveries, deadLetterQueue, next, acked, retries] of groups) {
        const group = new GroupState(gname, { ackTimeout, maxDeliveries, deadLetterQueue }, next)
        for (const pos of acked) group.acked.add(pos)
        for (let i = 0; i + 2 < retries.length; i += 3) {
          group.retries.set(retries[i]!, { deliveries: retries[i + 1]!, notBefore: retries[i + 2]! })
        }
        queue.groups.set(gname, group)
      }
    }
    for (const [queue, id, seq, due, loc, size, half, checks, producerId] of snapshot.delayed) {
      this.queue(queue)
      if (half === 1) this.delays.add({ queue, id, seq, due, loc, size, half: true, checks: checks ?? 0, producerId: producerId ?? null })
      else this.delays.add({ queue, id, seq, due, loc, size })
      this.hooks.pin(seq, loc, size)
    }
    this.producers.restore(snapshot.producers ?? [])
  }

  private queue(name: string): QueueState {
    let queue = this.queues.get(name)
    if (queue === undefined) this.queues.set(name, (queue = new QueueState(name)))
    return queue
  }

  private ack(queue: QueueState, group: GroupState, pos: number): void {
    const ring = queue.ring
    const index = ring.indexOf(pos)
    if (index < group.next) return
    group.retries.delete(pos)
    if (index !== group.next) {
      group.acked.add(pos)
      return
    }
    group.next++
    while (group.next < ring.end && group.acked.delete(ring.pos(group.next))) group.next++
  }

  /** Drops the entries every group has acknowledged. */
  private trim(queue: QueueState): void {
    // A queue nobody consumes yet keeps everything for the first group.
    if (queue.groups.size === 0) return
    let floor = Infinity
    for (const g of queue.groups.values()) floor = Math.min(floor, g.next)
    const ring = queue.ring
    while (ring.first < floor && ring.length > 0) {
      this.hooks.unpin(ring.seq(ring.first), ring.payload(ring.first) as StoredMessage | undefined)
      ring.shift()
    }
  }
}

/** [name, settings..., next, acked, retries as (pos, deliveries, notBefore) triples] */
type GroupSnapshot = [string, number, number, string, number, number[], number[]]
/** [name, first index, entries as raw float64 (pos, seq, loc, size), groups] */
type QueueSnapshot = [string, number, Uint8Array, GroupSnapshot[]]
/** [queue, id, seq, due, loc, size] and, for a half message, [..., 1, checks, producerId] */
type DelayedSnapshot = [string, string, number, number, number, number, (0 | 1)?, number?, (string | null)?]

export interface StateSnapshot {
  queues: QueueSnapshot[]
  delayed: DelayedSnapshot[]
  /** Idempotent producers' receipts; absent in older checkpoints. */
  producers?: ProducerSnapshot[]
}
