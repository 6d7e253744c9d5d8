/**
 * The delay index: delayed messages ordered by (due, seq), a binary heap with
 * lazy removal, plus a lookup by seq and by (queue, id) for cancel. Half
 * (prepared) messages live here too, due at their next check-back.
 */
export interface DelayEntry {
  readonly queue: string
  readonly id: string
  readonly seq: number
  readonly due: number
  /** Where the payload is, in the store's terms. */
  readonly loc: number
  readonly size: number
  /** A half message: `due` is its next check-back, `checks` those made so far. */
  readonly half?: boolean
  readonly checks?: number
  readonly producerId?: string | null
}

export class DelayIndex {
  private readonly heap: DelayEntry[] = []
  private readonly bySeq = new Map<number, DelayEntry>()
  private readonly byId = new Map<string, Map<string, number>>()
  private readonly counts = new Map<string, number>()
  private readonly halves = new Map<string, number>()

  get size(): number {
    return this.bySeq.size
  }

  add(entry: DelayEntry): void {
    this.bySeq.set(entry.seq, entry)
    let ids = this.byId.get(entry.queue)
    if (ids === undefined) this.byId.set(entry.queue, (ids = new Map()))
    ids.set(entry.id, entry.seq)
    const counts = entry.half === true ? this.halves : this.counts
    counts.set(entry.queue, (counts.get(entry.queue) ?? 0) + 1)
    this.heap.push(entry)
    this.up(this.heap.length - 1)
  }

  get(seq: number): DelayEntry | undefined {
    return this.bySeq.get(seq)
  }

  /** The seq of a delayed message of `queue` with this id, if one waits. */
  find(queue: string, id: string): number | undefined {
    return this.byId.get(queue)?.get(id)
  }

  /** Removes an entry (released or cancelled); the heap drops it when it surfaces. */
  remove(seq: number): DelayEntry | undefined {
    const entry = this.bySeq.get(seq)
    if (entry === undefined) return undefined
    this.bySeq.delete(seq)
    const counts = entry.half === true ? this.halves : this.counts
    const count = counts.get(entry.queue)! - 1
    if (count === 0) counts.delete(entry.queue)
    else counts.set(entry.queue, count)
    const ids = this.byId.get(entry.queue)
    if (ids !== undefined && ids.get(entry.id) === seq) {
      ids.delete(entry.id)
      if (ids.size === 0) this.byId.delete(entry.queue)
    }
    return entry
  }

  /** Counts the delayed messages of one queue (half messages apart). */
  countOf(queue: string, half = false): number {
    return (half ? this.halves : this.counts).get(queue) ?? 0
  }

  /** The earliest live entry. */
  peek(): DelayEntry | undefined {
    this.prune()
    return this.heap[0]
  }

  /** Live entries due at `now` or before, in (due, seq) order, without removing them. */
  dueAt(now: number, max: number): DelayEntry[] {
    this.prune()
    const out: DelayEntry[] = []
    // Walk the heap as a tree, collecting due entries, then sort them: due entries form a subtree at the root.
    const stack = this.heap.length > 0 ? [0] : []
    while (stack.length > 0) {
      const i = stack.pop()!
      const entry = this.heap[i]!
      if (entry.due > now) continue
      if (this.bySeq.get(entry.seq) === entry) out.push(entry)
      const left = 2 * i + 1
      if (left < this.heap.length) stack.push(left)
      if (left + 1 < this.heap.length) stack.push(left + 1)
    }
    out.sort(compare)
    return out.length > max ? out.slice(0, max) : out
  }

  /** Every live entry, for a checkpoint. */
  entries(): IterableIterator<DelayEntry> {
    return this.bySeq.values()
  }

  /** Drops removed entries from the top of the heap, and rebuilds it when mostly dead. */
  private prune(): void {
    const heap = this.heap
    while (heap.length > 0 && this.bySeq.get(heap[0]!.seq) !== heap[0]) this.pop()
    if (heap.length > 64 && heap.length > 2 * this.bySeq.size) {
      heap.length = 0
      for (const entry of this.bySeq.values()) heap.push(entry)
      for (let i = (heap.length >> 1) - 1; i >= 0; i--) this.down(i)
    }
  }

  private pop(): void {
    const heap = this.heap
    const last = heap.pop()!
    if (heap.length > 0) {
      heap[0] = last
      this.down(0)
    }
  }

  private up(i: number): void {
    const heap = this.heap
    const item = heap[i]!
    while (i > 0) {
      const parent = (i - 1) >> 1
      if (compare(heap[parent]!, item) <= 0) break
      heap[i] = heap[parent]!
      i = parent
    }
    heap[i] = item
  }

  private down(i: number): void {
    const heap = this.heap
    const item = heap[i]!
    for (;;) {
      let child = 2 * i + 1
      if (child >= heap.length) break
      if (child + 1 < heap.length && compare(heap[child + 1]!, heap[child]!) < 0) child++
      if (compare(heap[child]!, item) >= 0) break
      heap[i] = heap[child]!
      i = child
    }
    heap[i] = item
  }
}

function compare(a: DelayEntry, b: DelayEntry): number {
  return a.due - b.due || a.seq - b.seq
}
