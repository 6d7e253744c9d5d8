/**
 * The log's segment files, named by the seq of their first record
 * (`00000000000000000001.seg`), and the bookkeeping that decides when one may
 * go: how many stored messages still reference a payload in it.
 */
import { join } from "node:path"

export class Segment {
  /** Open descriptor (read-write for the active segment, read-only otherwise), once opened. */
  fd: number | undefined
  /** Bytes of valid data, header included. */
  size: number
  /** Payloads in it still referenced by a queue or the delay index. */
  live = 0
  /** Reads in flight: the segment is not deleted under them. */
  readers = 0
  /** The file's length: zeros past `size` were written ahead so that appends change no metadata. */
  allocated = 0
  /** A zero fill in flight, from `fillFrom` on: nothing is written there until it is done. */
  filling: Promise<void> | undefined
  fillFrom = 0
  /** Data in it failed a check: on deletion it is moved to quarantine/, not removed. */
  corrupt = false
  /** Epoch ms until which ids recorded in it are in the de-duplication window: it is kept (and rescanned on reopen) until then. */
  windowUntil = 0

  readonly base: number
  readonly path: string

  constructor(base: number, path: string, size: number) {
    this.base = base
    this.path = path
    this.size = size
  }

  get name(): string {
    return segmentName(this.base)
  }
}

const NAME = /^(\d{20})\.seg$/

export function segmentName(base: number): string {
  return `${String(base).padStart(20, "0")}.seg`
}

/** Base seqs of the segment files in a folder listing, ascending. */
export function segmentBases(names: readonly string[]): number[] {
  const out: number[] = []
  for (const name of names) {
    const m = NAME.exec(name)
    if (m !== null) out.push(Number(m[1]))
  }
  return out.sort((a, b) => a - b)
}

/** The segments in base order, with lookup of the segment holding a seq. */
export class SegmentList {
  readonly items: Segment[] = []
  readonly dir: string

  constructor(dir: string) {
    this.dir = dir
  }

  get last(): Segment | undefined {
    return this.items[this.items.length - 1]
  }

  add(base: number, size: number): Segment {
    const segment = new Segment(base, join(this.dir, segmentName(base)), size)
    this.items.push(segment)
    return segment
  }

  remove(segment: Segment): void {
    const i = this.items.indexOf(segment)
    if (i >= 0) this.items.splice(i, 1)
  }

  /** The segment whose seq range holds `seq` (the last one with base <= seq). */
  of(seq: number): Segment | undefined {
    const items = this.items
    let lo = 0
    let hi = items.length
    while (lo < hi) {
      const mid = (lo + hi) >>> 1
      if (items[mid]!.base <= seq) lo = mid + 1
      else hi = mid
    }
    return lo === 0 ? undefined : items[lo - 1]
  }

  /** The first seq after a segment's range (the next segment's base), or undefined for the last. */
  endOf(segment: Segment): number | undefined {
    const i = this.items.indexOf(segment)
    return i >= 0 && i + 1 < this.items.length ? this.items[i + 1]!.base : undefined
  }

  totalBytes(): number {
    let n = 0
    for (const s of this.items) n += s.size
    return n
  }
}
