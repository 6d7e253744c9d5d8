/**
 * The node's state and plumbing behind RelayNode: the ROUTER socket and its
 * receive loop, sessions and their expiry, the consumer groups, the
 * committer and the delay scheduler, and one frame per session per flush.
 */
import { randomBytes, randomInt } from "node:crypto"
import { Router } from "../../index.js"
import type { ZmeshError } from "../../errors.js"
import { Op, decodeFrame, encodeFrame } from "../protocol.js"
import { type GroupSettings, type RelayStore, isDuplicate } from "../store/store.js"
import { handleCommand } from "./commands.js"
import { Committer, type PendingSends } from "./committer.js"
import { CheckBack } from "./check-back.js"
import { DelayScheduler } from "./delay-scheduler.js"
import { GroupDispatcher, type NodeContext } from "./group-dispatcher.js"
import type { Lease } from "./lease.js"
import { Session } from "./session.js"

export type LogLevel = "info" | "warn" | "error"

export interface CoreOptions {
  readonly store: RelayStore
  readonly maxDelay: number
  readonly maxMessageSize: number
  readonly sessionTimeout: number
  /** ms a message id stays known for de-duplication (0 = off). */
  readonly dedupWindow: number
  /** ms a half message may stay undecided before (and between) check-backs. */
  readonly checkAfter: number
  /** Check-backs without a decision before a half message is rolled back. */
  readonly maxChecks: number
  readonly log: (level: LogLevel, message: string) => void
}

/** Bytes of message bodies staged or being committed before the node stops reading. */
const MAX_STAGED = 64 * 1024 * 1024
/** A frame to a client carries at most about this much. */
const MAX_FRAME = 1024 * 1024

export class NodeCore implements NodeContext {
  readonly store: RelayStore
  readonly committer: Committer
  readonly delays: DelayScheduler
  readonly checks: CheckBack
  readonly leases = new Map<number, Lease>()
  readonly sessions = new Map<string, Session>()
  readonly groups = new Map<string, Map<string, GroupDispatcher>>()
  readonly epoch = randomBytes(8).toString("hex")
  readonly options: CoreOptions
  readonly router: Router
  readonly counters = {
    received: 0,
    confirmed: 0,
    duplicates: 0,
    delivered: 0,
    acked: 0,
    redelivered: 0,
    deadLettered: 0,
    corrupt: 0,
    refused: 0,
    committed: 0,
    rolledBack: 0,
  }
  /**
   * Lease ids (ack tokens) start at a random point, so that a token from before a restart is
   * unlikely to name a new lease of the same session (and RelayClient refuses such acks itself,
   * by epoch); below 2^30 at the start, so that tokens stay small integers (fast map keys).
   */
  private leaseId = randomInt(2 ** 30) + 1
  private readonly dirty = new Set<Session>()
  private flushScheduled = false
  private sweeper: NodeJS.Timeout | undefined
  private unwatch: (() => void) | undefined
  closing = false
  private loop: Promise<void> | undefined

  constructor(options: CoreOptions) {
    this.options = options
    this.store = options.store
    this.router = new Router({
      // A reconnecting client takes its session back at once.
      handover: true,
      // Sending to a vanished client throws: that is how the node learns a session lost its connection.
      mandatory: true,
      // Output is bounded by the protocol (prefetch, and the client's requests in flight), not by dropping.
      sendHighWaterMark: 0,
      // A client frame may batch commands; a larger one than this is a broken client and is cut off.
      maxMessageSize: options.maxMessageSize + 2 * MAX_FRAME,
      linger: 2000,
    })
    // The socket reports a lost connection before it forgets its routing id: probe a moment later.
    this.router.events.on("disconnect", () => setImmediate(() => this.probeSessions()))
    this.committer = new Committer(this.store, {
      sent: (sends, err, results, offset) => this.sent(sends, err, results, offset),
      acked: (group, leases, err) => {
        if (err === undefined) this.counters.acked += leases.length
        for (const lease of leases) this.dirty.add(lease.consumer.session)
        group.acked(leases, err)
      },
      settled: () => this.flush(),
    })
    this.checks = new CheckBack(this)
    this.delays = new DelayScheduler(
      this.store,
      this.committer,
      (queues) => {
        for (const q of queues) this.queueChanged(q)
      },
      this.checks,
      (err) => this.log("error", `delay index: ${err.message}`),
    )
  }

  start(): void {
    this.loop = this.receiveLoop()
    const every = Math.min(500, Math.max(20, Math.floor(this.options.sessionTimeout / 8)))
    this.sweeper = setInterval(() => this.sweep(), every)
    // A store shared with other nodes: their commits wake this node's groups and delay timer.
    this.unwatch = this.store.watch?.((queues) => this.othersChanged(queues))
  }

  private othersChanged(queues: readonly string[] | undefined): void {
    if (this.closing) return
    if (queues !== undefined) {
      for (const q of queues) this.queueChanged(q)
      return
    }
    for (const byName of this.groups.values()) for (const g of byName.values()) g.notify()
    this.delays.rearm().catch((err: Error) => this.log("error", `delay index: ${err.message}`))
  }

  log(level: LogLevel, message: string): void {
    try {
      this.options.log(level, message)
    } catch {
      // A logger that throws must not take the node down.
    }
  }

  nextLeaseId(): number {
    return this.leaseId++
  }

  /** The dispatcher of a group; created (not yet durable) when `settings` is given. */
  group(queue: string, name: string, settings?: GroupSettings, created = false): GroupDispatcher | undefined {
    let byName = this.groups.get(queue)
    let group = byName?.get(name)
    if (group !== undefined || settings === undefined) return group
    if (byName === undefined) this.groups.set(queue, (byName = new Map()))
    group = new GroupDispatcher(this, queue, name, settings, created)
    byName.set(name, group)
    return group
  }

  queueChanged(queue: string): void {
    const byName = this.groups.get(queue)
    if (byName !== undefined) for (const g of byName.values()) g.notify()
  }

  post(session: Session, command: unknown[], bytes: number): void {
    session.push(command, bytes)
    this.markDirty(session)
  }

  markDirty(session: Session): void {
    this.dirty.add(session)
    if (!this.flushScheduled) {
      this.flushScheduled = true
      setImmediate(() => this.flush())
    }
  }

  /** Sends every session's queued commands, one frame each (split past MAX_FRAME). */
  flush(): void {
    this.flushScheduled = false
    for (const session of this.dirty) {
      if (session.confirms.length > 0) {
        // All the confirms of this flush as one command, ahead of the rest; plain OKs likewise.
        session.outbox.unshift([Op.CONFIRMS, session.confirms])
        session.outboxBytes += session.confirms.length * 5
        session.confirms = []
      }
      if (session.oks.length > 0) {
        session.outbox.unshift([Op.OKS, session.oks])
        session.outboxBytes += session.oks.length * 5
        session.oks = []
      }
      const commands = session.outbox
      if (commands.length === 0) continue
      const bytes = session.outboxBytes
      session.outbox = []
      session.outboxBytes = 0
      if (bytes <= MAX_FRAME) this.sendFrame(session, commands)
      else for (const part of split(commands)) this.sendFrame(session, part)
    }
    this.dirty.clear()
  }

  private sendFrame(session: Session, commands: unknown[]): void {
    try {
      this.router.trySend([session.id, encodeFrame(commands)])
    } catch (err) {
      // EHOSTUNREACH: the client's connection is gone. It resends its requests when back;
      // deliveries stay leased until the session ends.
      if ((err as ZmeshError).code === "EHOSTUNREACH") this.detach(session)
      else this.log("error", `could not send to a client: ${(err as Error).message}`)
    }
  }

  private sent(sends: PendingSends, err: Error | undefined, results: readonly number[] | undefined, offset: number): void {
    let lastQueue = ""
    const queues = new Set<string>()
    const { sessions, rids, ops } = sends
    for (let i = 0; i < ops.length; i++) {
      const session = sessions[i]!
      const rid = rids[i]!
      const op = ops[i]!
      this.dirty.add(session)
      if (err !== undefined) {
        session.answer(rid, [Op.ERROR, rid, (err as ZmeshError).code ?? "ERR_RELAY_STORE_FAILED", err.message])
        this.counters.refused++
        continue
      }
      const seq = results![offset + i]!
      if (isDuplicate(seq)) {
        session.answer(rid, [Op.OK, rid, -seq, true])
        this.counters.duplicates++
        continue
      }
      session.confirm(rid, seq)
      this.counters.confirmed++
      if (op.due > 0) this.delays.arm(op.due)
      else if (op.queue !== lastQueue) queues.add((lastQueue = op.queue))
    }
    if (err !== undefined) this.log("error", `store commit failed, ${ops.length} sends refused: ${err.message}`)
    for (const q of queues) this.queueChanged(q)
  }

  private async receiveLoop(): Promise<void> {
    for (;;) {
      let message: Buffer[]
      try {
        message = await this.router.receive()
      } catch {
        return // closed
      }
      if (this.closing) continue
      this.counters.received++
      try {
        this.handleMessage(message)
      } catch (err) {
        this.log("error", `unexpected error handling a client frame: ${(err as Error).stack ?? String(err)}`)
      }
      if (this.committer.bytes > MAX_STAGED) await this.committer.drained()
    }
  }

  private handleMessage(message: Buffer[]): void {
    const id = message[0]!
    const key = id.toString("latin1")
    const now = Date.now()
    let session = this.sessions.get(key)
    let fresh = false
    if (session === undefined) {
      session = new Session(Buffer.from(id), key, now)
      this.sessions.set(key, session)
      fresh = true
    }
    session.lastSeen = now
    session.detachedAt = 0
    if (message.length !== 2) {
      this.post(session, [Op.ERROR, 0, "ERR_RELAY_PROTOCOL", `expected one frame per message, got ${message.length - 1}`], 0)
      return
    }
    let commands: unknown[][]
    try {
      commands = decodeFrame(message[1]!)
    } catch (err) {
      this.post(session, [Op.ERROR, 0, (err as ZmeshError).code, (err as Error).message], 0)
      return
    }
    // A session the node does not know must register its consumers again (the node restarted, or it expired).
    if (fresh && !(Array.isArray(commands[0]) && commands[0][0] === Op.HELLO)) this.post(session, [Op.RESET], 0)
    for (const command of commands) handleCommand(this, session, command)
    if (session.outbox.length > 0 || session.confirms.length > 0 || session.oks.length > 0) this.markDirty(session)
  }

  /** After some connection dropped: find which sessions lost theirs (a send to them fails). */
  private probeSessions(): void {
    for (const session of this.sessions.values()) {
      if (session.detachedAt !== 0) continue
      try {
        this.router.trySend([session.id, encodeFrame([])])
      } catch {
        this.detach(session)
      }
    }
  }

  private detach(session: Session): void {
    if (session.detachedAt === 0) session.detachedAt = Date.now()
  }

  /** Ends sessions silent for sessionTimeout, or without a connection for a grace period (a reconnect keeps them). */
  private sweep(): void {
    const now = Date.now()
    const timeout = this.options.sessionTimeout
    const grace = Math.min(1000, timeout / 4)
    for (const session of [...this.sessions.values()]) {
      const silent = now - session.lastSeen > timeout
      const gone = session.detachedAt !== 0 && now - session.detachedAt > grace
      if (silent || gone) this.endSession(session, silent ? "silent" : "disconnected")
    }
  }

  endSession(session: Session, why: string): void {
    this.sessions.delete(session.key)
    let returned = 0
    for (const consumer of session.consumers.values()) {
      returned += consumer.leases.size
      consumer.group.removeConsumer(consumer)
    }
    session.consumers.clear()
    this.checks.unregister(session)
    if (why !== "bye" && returned > 0) this.log("info", `client session ended (${why}): ${returned} unacked messages go back to their groups`)
  }

  async close(): Promise<void> {
    this.closing = true
    clearInterval(this.sweeper)
    this.unwatch?.()
    this.delays.close()
    // Answer what was received: the commits in flight finish, then their confirms go out.
    await this.committer.drained()
    this.flush()
    for (const byName of this.groups.values()) for (const g of byName.values()) g.close()
    this.router.close()
    await this.loop
    await this.store.close()
  }
}

/** Splits a long command list into parts of about MAX_FRAME bytes (deliveries dominate the size). */
function split(commands: unknown[]): unknown[][] {
  const parts: unknown[][] = []
  let part: unknown[] = []
  let bytes = 0
  for (const c of commands) {
    const size = Array.isArray(c) && c[0] === Op.DELIVER ? (c[6] as Buffer).length + 64 : 64
    if (bytes + size > MAX_FRAME && part.length > 0) {
      parts.push(part)
      part = []
      bytes = 0
    }
    part.push(c)
    bytes += size
  }
  if (part.length > 0) parts.push(part)
  return parts
}
