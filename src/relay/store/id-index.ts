/**
 * The de-duplication window: per queue, the ids stored recently, each with
 * the seq it was stored as, when it leaves the window and, for a half
 * message, how it was decided. Entries sit in a ring of typed arrays in the
 * order they were made (expiry pops the oldest, O(1) each) and a Map per
 * queue finds an id's entry: no object per entry, so a window of millions of
 * ids costs the garbage collector little. It is never checkpointed: the log
 * keeps the segments whose ids are in the window, and reopening rescans them.
 */

/** How a half message's id was decided; `none` for an ordinary message or one still undecided. */
export const Decision = { none: 0, committed: 1, rolledBack: 2 } as const
export type Decision = (typeof Decision)[keyof typeof Decision]

export class IdIndex {
  /** id -> serial (the entry's absolute number in the ring), per queue. */
  private readonly byQueue = new Map<string, Map<string, number>>()
  private readonly queueNames: string[] = []
  private readonly queueIndex = new Map<string, number>()
  private lastQueue: string | undefined
  private lastIndex = 0
  private lastIds: Map<string, number> | undefined
  private ids: Array<string | undefined> = []
  private queues = new Uint32Array(0)
  private seqs = new Float64Array(0)
  private expiries = new Float64Array(0)
  private decisions = new Uint8Array(0)
  private mask = 0
  /** Serial of the oldest entry, and of the next one. */
  private head = 0
  private tail = 0

  /** `capacity`: a power of two; the ring doubles when full. */
  constructor(capacity = 1024) {
    this.allocate(capacity)
  }

  /** The seq `id` was stored as in `queue`, if it is in the window at `now`; 0 otherwise. */
  seqOf(queue: string, id: string, now: number): number {
    const serial = this.live(queue, id, now)
    return serial < 0 ? 0 : this.seqs[serial & this.mask]!
  }

  /** How the half message `id` was decided, if its entry is in the window at `now`. */
  decisionOf(queue: string, id: string, now: number): Decision {
    const serial = this.live(queue, id, now)
    return serial < 0 ? Decision.none : (this.decisions[serial & this.mask] as Decision)
  }

  put(queue: string, id: string, seq: number, expires: number, decision: Decision = Decision.none): void {
    if (this.tail - this.head > this.mask) this.grow()
    const serial = this.tail++
    const slot = serial & this.mask
    // Sends come in runs of one queue: the last queue's map and index are at hand.
    if (queue !== this.lastQueue) {
      let q = this.queueIndex.get(queue)
      if (q === undefined) {
        q = this.queueNames.push(queue) - 1
        this.queueIndex.set(queue, q)
        this.byQueue.set(queue, new Map())
      }
      this.lastQueue = queue
      this.lastIndex = q
      this.lastIds = this.byQueue.get(queue)!
    }
    this.ids[slot] = id
    this.queues[slot] = this.lastIndex
    this.seqs[slot] = seq
    this.expiries[slot] = expires
    this.decisions[slot] = decision
    this.lastIds!.set(id, serial)
  }

  /** Forgets the entry of `id` if it is the one for `seq` (a staged message whose commit failed). */
  remove(queue: string, id: string, seq: number): void {
    const ids = this.byQueue.get(queue)
    const serial = ids?.get(id)
    if (serial !== undefined && this.seqs[serial & this.mask] === seq) ids!.delete(id)
  }

  /** Drops entries that left the window by `now`, oldest first. */
  expire(now: number): void {
    while (this.head < this.tail) {
      const slot = this.head & this.mask
      if (this.expiries[slot]! > now) break
      const ids = this.byQueue.get(this.queueNames[this.queues[slot]!]!)!
      const id = this.ids[slot]!
      if (ids.get(id) === this.head) ids.delete(id)
      this.ids[slot] = undefined
      this.head++
    }
  }

  /** The serial of `id`'s entry if it is in the window at `now`, else -1. */
  private live(queue: string, id: string, now: number): number {
    const serial = this.byQueue.get(queue)?.get(id)
    if (serial === undefined || this.expiries[serial & this.mask]! <= now) return -1
    return serial
  }

  private grow(): void {
    const n = this.tail - this.head
    const capacity = (this.mask + 1) * 2
    const old = { ids: this.ids, queues: this.queues, seqs: this.seqs, expiries: this.expiries, decisions: this.decisions, mask: this.mask }
    this.allocate(capacity)
    for (let serial = this.head; serial < this.head + n; serial++) {
      const from = serial & old.mask
      const to = serial & this.mask
      this.ids[to] = old.ids[from]
      this.queues[to] = old.queues[from]!
      this.seqs[to] = old.seqs[from]!
      this.expiries[to] = old.expiries[from]!
      this.decisions[to] = old.decisions[from]!
    }
  }

  private allocate(capacity: number): void {
    this.ids = new Array(capacity)
    this.queues = new Uint32Array(capacity)
    this.seqs = new Float64Array(capacity)
    this.expiries = new Float64Array(capacity)
    this.decisions = new Uint8Array(capacity)
    this.mask = capacity - 1
  }
}
