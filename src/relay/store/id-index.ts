/**
 * The de-duplication window: per queue, the ids stored recently, each with
 * the seq it was stored as, when it leaves the window and, for a half
 * message, how it was decided. Entries sit in a ring of typed arrays in the
 * order they were made (expiry pops the oldest, O(1) each), their ids'
 * bytes one after another in a second ring (a byte per code unit below
 * 0xff, three for any other: 0xff and the unit's two bytes). A hash table finds
 * them: a typed array of buckets, each holding the serial (absolute ring
 * position) of its newest entry, and per entry the serial of the next older
 * one in its bucket. A chain is newest first, so the first match is the id's
 * current entry and a serial older than the ring's head ends the walk:
 * expiry never touches the table, and an insert writes one bucket. No object
 * per entry, not even the id's string: a window of millions of ids is
 * nothing to the garbage collector (a Map of the fresh strings cost most of
 * a microsecond per insert, and their promotion more). The window is never
 * checkpointed: the log keeps the segments whose ids are in it, and
 * reopening rescans them.
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
  private queues = new Uint32Array(0)
  private seqs = new Float64Array(0)
  private expiries = new Float64Array(0)
  private decisions = new Uint8Array(0)
  private hashes = new Int32Array(0)
  /** The serial of the next older entry in the same bucket, or -1. */
  private older = new Float64Array(0)
  /** Where the entry's id starts in `bytes`, an absolute position; it ends where the next one starts (the newest at `end`). */
  private starts = new Float64Array(0)
  private mask = 0
  /** Serial of the oldest entry, and of the next one. */
  private head = 0
  private tail = 0
  /** By hash & mask (as many buckets as ring slots): the serial of the bucket's newest entry, or -1. */
  private buckets = new Float64Array(0)
  /** The ids, by absolute position & byteMask. */
  private bytes = new Uint8Array(0)
  private byteMask = 0
  private end = 0
  private readonly hashMask: number
  /** (queue, id, seq, expires) of each `putLater` not done yet. */
  private later: Array<string | number> = []

  /**
   * `capacity`: a power of two; the ring doubles when full. `hashBits`: 31,
   * or fewer for tests that want ids to collide (0: all in one chain).
   */
  constructor(capacity = 1024, hashBits = 31) {
    this.hashMask = 2 ** hashBits - 1
    this.allocate(capacity)
    this.allocateBytes(capacity * 64)
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
    if (this.later.length > 0) this.settle()
    this.insert(queue, id, seq, expires, decision)
  }

  /**
   * `put` for an id that cannot be in the window yet (one a client made up,
   * on its first send), done later: at the next lookup, put or `settle()`.
   * The store defers this work until its confirms are out.
   */
  putLater(queue: string, id: string, seq: number, expires: number): void {
    this.later.push(queue, id, seq, expires)
  }

  /** Whether `putLater` left work for `settle()`. */
  get unsettled(): boolean {
    return this.later.length > 0
  }

  /** Does the `putLater` inserts still pending, in order. */
  settle(): void {
    const later = this.later
    this.later = []
    for (let i = 0; i < later.length; i += 4) this.insert(later[i] as string, later[i + 1] as string, later[i + 2] as number, later[i + 3] as number, Decision.none)
  }

  private insert(queue: string, id: string, seq: number, expires: number, decision: Decision): void {
    if (this.tail - this.head > this.mask) this.grow()
    if (this.end + id.length * 3 - this.bytesHead() > this.byteMask + 1) this.growBytes(id.length * 3)
    const q = this.queueOf(queue)
    const serial = this.tail++
    const slot = serial & this.mask
    this.queues[slot] = q
    this.seqs[slot] = seq
    this.expiries[slot] = expires
    this.decisions[slot] = decision
    this.starts[slot] = this.end
    // Copies the id and hashes it (FNV-1a over the code units, seeded by the queue) in one pass.
    const bytes = this.bytes
    const mask = this.byteMask
    let at = this.end
    let h = (0x811c9dc5 ^ q) | 0
    for (let i = 0; i < id.length; i++) {
      const c = id.charCodeAt(i)
      if (c < 0xff) bytes[at++ & mask] = c
      else {
        bytes[at++ & mask] = 0xff
        bytes[at++ & mask] = c >> 8
        bytes[at++ & mask] = c
      }
      h = Math.imul(h ^ c, 0x01000193)
    }
    this.end = at
    this.hashes[slot] = (h ^ (h >>> 15)) & this.hashMask
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
    if (this.later.length > 0) this.settle()
    const q = this.queueIndex.get(queue)
    if (q === undefined) return -1
    const hash = hashOf(q, id) & this.hashMask
    for (let serial = this.buckets[hash & this.mask]!; serial >= this.head; ) {
      const slot = serial & this.mask
      if (this.hashes[slot] === hash && this.queues[slot] === q && this.idIs(serial, id)) return serial
      serial = this.older[slot]!
    }
    return -1
  }

  /** Whether entry `serial`'s id is `id`. */
  private idIs(serial: number, id: string): boolean {
    const bytes = this.bytes
    const mask = this.byteMask
    let at = this.starts[serial & this.mask]!
    const end = serial + 1 === this.tail ? this.end : this.starts[(serial + 1) & this.mask]!
    if (end - at < id.length) return false
    for (let i = 0; i < id.length; i++) {
      const c = id.charCodeAt(i)
      if (c < 0xff) {
        if (bytes[at++ & mask] !== c) return false
      } else if (bytes[at++ & mask] !== 0xff || bytes[at++ & mask] !== c >> 8 || bytes[at++ & mask] !== (c & 0xff)) return false
    }
    return at === end
  }

  /** Where the oldest entry's id starts. */
  private bytesHead(): number {
    return this.head === this.tail ? this.end : this.starts[this.head & this.mask]!
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
    const old = { queues: this.queues, seqs: this.seqs, expiries: this.expiries, decisions: this.decisions, hashes: this.hashes, starts: this.starts, mask: this.mask }
    this.allocate((this.mask + 1) * 2)
    for (let serial = this.head; serial < this.tail; serial++) {
      const from = serial & old.mask
      const to = serial & this.mask
      this.queues[to] = old.queues[from]!
      this.seqs[to] = old.seqs[from]!
      this.expiries[to] = old.expiries[from]!
      this.decisions[to] = old.decisions[from]!
      this.hashes[to] = old.hashes[from]!
      this.starts[to] = old.starts[from]!
      this.link(serial)
    }
  }

  /** Makes room in `bytes` for `more` beyond the live ones. */
  private growBytes(more: number): void {
    const from = this.bytesHead()
    let size = (this.byteMask + 1) * 2
    while (size < this.end - from + more) size *= 2
    const old = this.bytes
    const oldMask = this.byteMask
    this.allocateBytes(size)
    // At most two runs in the old ring, and each lands in at most two in the new one.
    for (let at = from; at < this.end; ) {
      const run = Math.min(this.end - at, oldMask + 1 - (at & oldMask), this.byteMask + 1 - (at & this.byteMask))
      this.bytes.set(old.subarray(at & oldMask, (at & oldMask) + run), at & this.byteMask)
      at += run
    }
  }

  private allocate(capacity: number): void {
    this.queues = new Uint32Array(capacity)
    this.seqs = new Float64Array(capacity)
    this.expiries = new Float64Array(capacity)
    this.decisions = new Uint8Array(capacity)
    this.hashes = new Int32Array(capacity)
    this.older = new Float64Array(capacity)
    this.starts = new Float64Array(capacity)
    this.buckets = new Float64Array(capacity).fill(-1)
    this.mask = capacity - 1
  }

  private allocateBytes(size: number): void {
    this.bytes = new Uint8Array(size)
    this.byteMask = size - 1
  }
}

/** FNV-1a over the id's UTF-16 code units, seeded by the queue's index; a non-negative 31-bit number (`put` computes it inline). */
function hashOf(q: number, id: string): number {
  let h = (0x811c9dc5 ^ q) | 0
  for (let i = 0; i < id.length; i++) h = Math.imul(h ^ id.charCodeAt(i), 0x01000193)
  return (h ^ (h >>> 15)) & 0x7fffffff
}
