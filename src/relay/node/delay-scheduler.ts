/**
 * Releases delayed messages when due. The store's delay index is the truth:
 * one timer is armed for its earliest due time, and when it fires the due
 * messages are released by a durable `release` operation (they join their
 * queue then). A restart re-reads the index, so overdue messages go at once.
 * Half messages due for a check-back go to the check-back's plan instead.
 */
import type { DueMessage, RelayStore, StoreOp } from "../store/store.js"
import type { Committer } from "./committer.js"

/** What the scheduler does with half messages whose check is due. */
export interface HalfHandler {
  plan(halves: readonly DueMessage[], now: number): StoreOp[]
  planned(halves: readonly DueMessage[], ops: readonly StoreOp[], results: readonly number[]): void
}

/** setTimeout's limit; longer waits re-arm. */
const MAX_TIMER = 2 ** 31 - 1
const BATCH = 1000

export class DelayScheduler {
  private readonly store: RelayStore
  private readonly committer: Committer
  private readonly released: (queues: ReadonlySet<string>) => void
  private readonly onError: (err: Error) => void
  private readonly halves: HalfHandler
  private timer: NodeJS.Timeout | undefined
  private armedAt = Infinity
  /** A release is being committed: the index still lists those messages until it is durable. */
  private releasing = false
  private closed = false

  constructor(
    store: RelayStore,
    committer: Committer,
    released: (queues: ReadonlySet<string>) => void,
    halves: HalfHandler,
    onError: (err: Error) => void,
  ) {
    this.store = store
    this.committer = committer
    this.released = released
    this.halves = halves
    this.onError = onError
  }

  /** A delayed message due at `due` was stored (or the node started): make sure the timer fires by then. */
  arm(due: number): void {
    if (this.closed || this.releasing || due >= this.armedAt) return
    clearTimeout(this.timer)
    this.armedAt = due
    this.timer = setTimeout(() => void this.fire(), Math.min(MAX_TIMER, Math.max(0, due - Date.now())))
  }

  async rearm(): Promise<void> {
    const next = await this.store.nextDue()
    if (next !== undefined) this.arm(next)
  }

  close(): void {
    this.closed = true
    clearTimeout(this.timer)
  }

  private async fire(): Promise<void> {
    this.timer = undefined
    this.armedAt = Infinity
    if (this.closed) return
    this.releasing = true
    let due
    try {
      due = await this.store.due(Date.now(), BATCH)
    } catch (err) {
      return this.failed(err as Error)
    }
    if (due.length === 0) {
      this.releasing = false
      return this.rearm().catch((err: Error) => this.failed(err))
    }
    const delayed = due.filter((d) => d.half !== true)
    const halves = due.filter((d) => d.half === true)
    const checks = this.halves.plan(halves, Date.now())
    const ops: StoreOp[] = delayed.map((d) => ({ type: "release", queue: d.queue, seq: d.seq }) as const)
    for (const op of checks) ops.push(op)
    this.committer.run(ops, (err, results) => {
      this.releasing = false
      if (err !== undefined) return this.failed(err)
      const queues = new Set<string>()
      delayed.forEach((d, i) => {
        if (results![i]! > 0) queues.add(d.queue)
      })
      this.released(queues)
      this.halves.planned(halves, checks, results!.slice(delayed.length))
      this.rearm().catch((e: Error) => this.failed(e))
    })
  }

  private failed(err: Error): void {
    this.releasing = false
    this.onError(err)
    // Try again shortly: the messages stay in the index until a release is durable.
    this.arm(Date.now() + 1000)
  }
}
