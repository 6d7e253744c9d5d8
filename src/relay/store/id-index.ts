/**
 * The de-duplication window: per queue, the ids stored recently, each with
 * the seq it was stored as and when it leaves the window; and, for a half
 * message, how it was decided. Entries leave in the order they were made
 * (a first-in first-out list), so expiry costs O(1) per entry.
 */

/** How a half message's id was decided; `none` for an ordinary message or one still undecided. */
export const Decision = { none: 0, committed: 1, rolledBack: 2 } as const
export type Decision = (typeof Decision)[keyof typeof Decision]

export interface IdEntry {
  readonly queue: string
  readonly id: string
  readonly seq: number
  /** Epoch ms when it leaves the window. */
  readonly expires: number
  readonly decision: Decision
}

export class IdIndex {
  private readonly byQueue = new Map<string, Map<string, IdEntry>>()
  private fifo: IdEntry[] = []
  private head = 0

  get size(): number {
    let n = 0
    for (const ids of this.byQueue.values()) n += ids.size
    return n
  }

  /** The live entry of `id` in `queue` at `now`, if any. */
  get(queue: string, id: string, now: number): IdEntry | undefined {
    const entry = this.byQueue.get(queue)?.get(id)
    return entry !== undefined && entry.expires > now ? entry : undefined
  }

  put(queue: string, id: string, seq: number, expires: number, decision: Decision = Decision.none): void {
    let ids = this.byQueue.get(queue)
    if (ids === undefined) this.byQueue.set(queue, (ids = new Map()))
    const entry: IdEntry = { queue, id, seq, expires, decision }
    ids.set(id, entry)
    this.fifo.push(entry)
  }

  /** Forgets the entry of `id` if it is the one for `seq` (a staged message whose commit failed). */
  remove(queue: string, id: string, seq: number): void {
    const ids = this.byQueue.get(queue)
    if (ids?.get(id)?.seq === seq) ids.delete(id)
  }

  /** Drops entries that left the window by `now`. */
  expire(now: number): void {
    const fifo = this.fifo
    while (this.head < fifo.length && fifo[this.head]!.expires <= now) {
      const entry = fifo[this.head++]!
      const ids = this.byQueue.get(entry.queue)
      if (ids?.get(entry.id) === entry) {
        ids.delete(entry.id)
        if (ids.size === 0) this.byQueue.delete(entry.queue)
      }
    }
    if (this.head > 1024 && this.head * 2 > fifo.length) {
      this.fifo = fifo.slice(this.head)
      this.head = 0
    }
  }

  /** Live entries whose seq is at most `upTo` (what is durable), for a checkpoint. */
  *entries(upTo: number, now: number): IterableIterator<IdEntry> {
    for (const ids of this.byQueue.values()) for (const e of ids.values()) if (e.seq <= upTo && e.expires > now) yield e
  }
}
