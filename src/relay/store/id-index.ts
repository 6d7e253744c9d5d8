/**
 * The de-duplication window: per queue, the ids stored recently, each with
 * the seq it was stored as, when it leaves the window and, for a half
 * message, how it was decided. Entries sit in a ring of typed arrays in the
 * order they were made (expiry pops the oldest, O(1) each). A hash table
 * finds them: a typed array of buckets, each holding the serial (absolute
 * ring position) of its newest entry, and per entry the serial of the next
 * older one in its bucket. A chain is newest first, so the first match is the
 * id's current entry and a serial older than the ring's head ends the walk:
 * expiry never touches the table, and an insert writes one bucket. No object
 * per entry, so a window of millions of ids costs the garbage collector
 * little; a Map of fresh strings cost most of a microsecond per insert. The
 * window is never checkpointed: the log keeps the segments whose ids are in
 * it, and reopening rescans them.
 */

/** How a half message's id was decided; `none` for an ordinary message or one still undecided. */
export const Decision = { none: 0, committed: 1, rolledBack: 2 } as const
export type Decision = (typeof Decision)[keyof typeof Decision]

/** A removed entry's decision: the id counts as absent, whatever older entries it has. */
const REMOVED = 0xff

export class IdIndex {
  private readonly queueIndex = new Map<string, number>()
  private lastQueue: string | undefined
  private lastIndex = 0
  // The ring, by serial & mask.
  private ids: Array<string | undefined> = []
  private queues = new Uint32Array(0)
  private seqs = new Float64Array(0)
  private expiries = new Float64Array(0)
  private decisions = new Uint8Array(0)
  private hashes = new Int32Array(0)
  /** The serial of the next older entry in the same bucket, or -1. */
  private older = new Float64Array(0)
  private mask = 0
  /** Serial of the oldest entry, and of the next one. */
  private head = 0
  private tail = 0
  /** By hash & mask (as many buckets as ring slots): the serial of the bucket's newest entry, or -1. */
  private buckets = new Float64Array(0)
  private readonly hash: (q: number, id: string) => number

  /**
   * `capacity`: a power of two; the ring doubles when full. `hash`: the id's
   * hash, replaceable for tests that want every id to collide.
   */
  constructor(capacity = 1024, hash: (q: number, id: string) => number = hashOf) {
    this.hash = hash
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

  /** Makes (seq, expires, decision) the entry of `id` in `queue`, in place of any earlier one. */
  put(queue: string, id: string, seq: number, expires: number, decision: Decision = Decision.none): void {
    if (this.tail - this.head > this.mask) this.grow()
    const q = this.queueOf(queue)
    const serial = this.tail++
    const slot = serial & this.mask
    this.ids[slot] = id
    this.queues[slot] = q
    this.seqs[slot] = seq
    this.expiries[slot] = expires
    this.decisions[slot] = decision
    this.hashes[slot] = this.hash(q, id)
    this.link(serial)
  }

  /** Forgets the entry of `id` if it is the one for `seq` (a staged message whose commit failed). */
  remove(queue: string, id: string, seq: number): void {
    const serial = this.find(queue, id)
    if (serial >= 0 && this.seqs[serial & this.mask] === seq) this.decisions[serial & this.mask] = REMOVED
  }

  /** Drops entries that left the window by `now`, oldest first. */
  expire(now: number): void {
    while (this.head < this.tail) {
      const slot = this.head & this.mask
      if (this.expiries[slot]! > now) break
      this.ids[slot] = undefined
      this.head++
    }
  }

  private queueOf(queue: string): number {
    // Sends come in runs of one queue: the last queue's index is at hand.
    if (queue === this.lastQueue) return this.lastIndex
    let q = this.queueIndex.get(queue)
    if (q === undefined) {
      q = this.queueIndex.size
      this.queueIndex.set(queue, q)
    }
    this.lastQueue = queue
    this.lastIndex = q
    return q
  }

  /** The serial of `id`'s entry if it is in the window at `now`, else -1. */
  private live(queue: string, id: string, now: number): number {
    const serial = this.find(queue, id)
    if (serial < 0) return -1
    const slot = serial & this.mask
    return this.expiries[slot]! <= now || this.decisions[slot] === REMOVED ? -1 : serial
  }

  /** The serial of `id`'s newest entry still in the ring, or -1. */
  private find(queue: string, id: string): number {
    const q = this.queueIndex.get(queue)
    if (q === undefined) return -1
    const hash = this.hash(q, id)
    for (let serial = this.buckets[hash & this.mask]!; serial >= this.head; ) {
      const slot = serial & this.mask
      if (this.hashes[slot] === hash && this.queues[slot] === q && this.ids[slot] === id) return serial
      serial = this.older[slot]!
    }
    return -1
  }

  /** Makes entry `serial` the newest of its bucket. */
  private link(serial: number): void {
    const slot = serial & this.mask
    const bucket = this.hashes[slot]! & this.mask
    this.older[slot] = this.buckets[bucket]!
    this.buckets[bucket] = serial
  }

  /** Doubles the ring and the buckets; the entries are linked again oldest first, so chains stay newest first. */
  private grow(): void {
    const old = { ids: this.ids, queues: this.queues, seqs: this.seqs, expiries: this.expiries, decisions: this.decisions, hashes: this.hashes, mask: this.mask }
    this.allocate((this.mask + 1) * 2)
    for (let serial = this.head; serial < this.tail; serial++) {
      const from = serial & old.mask
      const to = serial & this.mask
      this.ids[to] = old.ids[from]
      this.queues[to] = old.queues[from]!
      this.seqs[to] = old.seqs[from]!
      this.expiries[to] = old.expiries[from]!
      this.decisions[to] = old.decisions[from]!
      this.hashes[to] = old.hashes[from]!
      this.link(serial)
    }
  }

  private allocate(capacity: number): void {
    this.ids = new Array(capacity)
    this.queues = new Uint32Array(capacity)
    this.seqs = new Float64Array(capacity)
    this.expiries = new Float64Array(capacity)
    this.decisions = new Uint8Array(capacity)
    this.hashes = new Int32Array(capacity)
    this.older = new Float64Array(capacity)
    this.buckets = new Float64Array(capacity).fill(-1)
    this.mask = capacity - 1
  }
}

/** FNV-1a over the id's UTF-16 code units, seeded by the queue's index; a non-negative 31-bit number. */
export function hashOf(q: number, id: string): number {
  let h = (0x811c9dc5 ^ q) | 0
  for (let i = 0; i < id.length; i++) h = Math.imul(h ^ id.charCodeAt(i), 0x01000193)
  return (h ^ (h >>> 15)) & 0x7fffffff
}
