/**
 * Check-back of half messages: one undecided for `checkAfter` ms makes the
 * node ask a session registered as its producer's resolver (RESOLVER), which
 * answers with DECIDE. Each check is counted durably before it is asked
 * (a `check` op that also sets the next check time), so a restart neither
 * forgets nor repeats one; with `maxChecks` counted and still no decision,
 * the node rolls the message back and records why.
 */
import { Op } from "../protocol.js"
import type { DueMessage, StoreOp } from "../store/store.js"
import type { NodeCore } from "./core.js"
import type { Session } from "./session.js"

export class CheckBack {
  private readonly core: NodeCore
  /** Resolver sessions by producer id, most recent last. */
  private readonly resolvers = new Map<string, Session[]>()
  /** Checks asked and not answered yet, by queue and id: the count they made. */
  private readonly asked = new Map<string, number>()
  private turn = 0

  constructor(core: NodeCore) {
    this.core = core
  }

  register(session: Session, producerId: string): void {
    let list = this.resolvers.get(producerId)
    if (list === undefined) this.resolvers.set(producerId, (list = []))
    if (!list.includes(session)) list.push(session)
    session.resolverOf.add(producerId)
  }

  unregister(session: Session): void {
    for (const producerId of session.resolverOf) {
      const list = this.resolvers.get(producerId)
      if (list === undefined) continue
      const i = list.indexOf(session)
      if (i >= 0) list.splice(i, 1)
      if (list.length === 0) this.resolvers.delete(producerId)
    }
    session.resolverOf.clear()
  }

  /** The durable operations for half messages whose check is due: count the check, or roll back after maxChecks. */
  plan(halves: readonly DueMessage[], now: number): StoreOp[] {
    const { checkAfter, maxChecks, dedupWindow } = this.core.options
    return halves.map((h): StoreOp => {
      const checks = h.checks ?? 0
      if (checks >= maxChecks) {
        return { type: "rollback", queue: h.queue, id: h.id!, at: now, reason: `no decision after ${checks} check-backs`, dedupWindow }
      }
      return { type: "check", queue: h.queue, seq: h.seq, checks: checks + 1, next: now + checkAfter }
    })
  }

  /** The plan is durable: ask the producers, and report the rollbacks. */
  planned(halves: readonly DueMessage[], ops: readonly StoreOp[], results: readonly number[]): void {
    halves.forEach((h, i) => {
      const op = ops[i]!
      if (op.type === "rollback") {
        if (results[i]! > 0) {
          this.core.counters.rolledBack++
          this.core.log("warn", `half message ${h.queue}/${h.id} of producer ${h.producerId ?? "?"} rolled back: ${op.reason}`)
        }
        return
      }
      if (op.type === "check") void this.ask(h, op.checks)
    })
  }

  /** A resolver answered "unknown": that check was counted already; the last one allowed rolls back at once. */
  unknown(queue: string, id: string): StoreOp | undefined {
    const checks = this.asked.get(askedKey(queue, id))
    this.asked.delete(askedKey(queue, id))
    if (checks === undefined || checks < this.core.options.maxChecks) return undefined
    return { type: "rollback", queue, id, at: Date.now(), reason: `"unknown" after ${checks} check-backs`, dedupWindow: this.core.options.dedupWindow }
  }

  decided(queue: string, id: string): void {
    this.asked.delete(askedKey(queue, id))
  }

  private async ask(h: DueMessage, checks: number): Promise<void> {
    const list = h.producerId ? this.resolvers.get(h.producerId) : undefined
    if (list === undefined || list.length === 0) return // unreachable: counted, asked again at the next check
    const session = list[this.turn++ % list.length]!
    let message
    try {
      message = await this.core.store.read(h.queue, h.seq)
    } catch (err) {
      this.core.log("error", `check-back of ${h.queue}/${h.id}: cannot read the message: ${(err as Error).message}`)
      return
    }
    if (message === undefined) return // decided meanwhile
    this.asked.set(askedKey(h.queue, h.id!), checks)
    this.core.post(session, [Op.CHECK, h.queue, h.id!, h.seq, message.body, message.headers, checks], message.body.length)
  }
}

function askedKey(queue: string, id: string): string {
  return `${queue}\n${id}`
}
