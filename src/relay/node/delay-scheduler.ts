/**
 * Releases delayed messages when due. The store's delay index is the truth:
 * one timer is armed for its earliest due time, and when it fires the due
 * messages are released by a durable `release` operation (they join their
 * queue then). A restart re-reads the index, so overdue messages go at once.
 */
import type { RelayStore } from "../store/store.js"
import type { Committer } from "./committer.js"

/** setTimeout's limit; longer waits re-arm. */
const MAX_TIMER = 2 ** 31 - 1
const BATCH = 1000

export class DelayScheduler {
  private readonly store: RelayStore
  private readonly committer: Committer
  private readonly released: (queues: ReadonlySet<string>) => void
  private readonly onError: (err: Error) => void
  private timer: NodeJS.Timeout | undefined
  private armedAt = Infinity
  /** A release is being committed: the index still lists those messages until it is durable. */
  private releasing = false
  private closed = false

  constructor(store: RelayStore, committer: Committer, released: (queues: ReadonlySet<string>) => void, onError: (err: Error) => void) {
    this.store = store
    this.committer = committer
    this.released = released
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
    const ops = due.map((d) => ({ type: "release", queue: d.queue, seq: d.seq }) as const)
    this.committer.run(ops, (err, results) => {
      this.releasing = false
      if (err !== undefined) return this.failed(err)
      const queues = new Set<string>()
      due.forEach((d, i) => {
        if (results![i]! > 0) queues.add(d.queue)
      })
      this.released(queues)
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
