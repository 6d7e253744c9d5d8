/**
 * Reads stored messages back from segment files for delivery: entries close
 * together in one segment are read with one system call, and every record is
 * checked (length, checksum, seq) before it is believed.
 */
import type { StoreCorruption, StoredMessage } from "../store.js"
import type { LogFs } from "./log-fs.js"
import { decodeMessage } from "./op-codec.js"
import { parseRecord } from "./record.js"
import { readFully } from "./recovery.js"
import type { Segment } from "./segments.js"

/** Entries nearer than this are read together. */
const GAP = 64 * 1024
const MAX_SPAN = 4 * 1024 * 1024

export type ReadOutcome = StoredMessage | StoreCorruption

/** Where a record is: its seq, byte offset in its segment, and size. */
export interface Located {
  readonly seq: number
  readonly loc: number
  readonly size: number
}

export async function readPayloads(
  fsx: LogFs,
  entries: readonly Located[],
  segmentOf: (seq: number) => Segment | undefined,
  openFd: (segment: Segment) => Promise<number>,
): Promise<Map<number, ReadOutcome>> {
  const out = new Map<number, ReadOutcome>()
  const bySegment = new Map<Segment, Located[]>()
  for (const entry of entries) {
    const segment = segmentOf(entry.seq)
    if (segment === undefined || entry.loc + entry.size > segment.size) {
      out.set(entry.seq, { where: segment?.path ?? `seq ${entry.seq}`, seq: entry.seq, reason: "the segment holding it is gone or too short" })
      continue
    }
    let list = bySegment.get(segment)
    if (list === undefined) bySegment.set(segment, (list = []))
    list.push(entry)
  }
  for (const [segment, list] of bySegment) {
    list.sort((a, b) => a.loc - b.loc)
    const fd = await openFd(segment)
    for (let i = 0; i < list.length; ) {
      const start = list[i]!.loc
      let end = start + list[i]!.size
      let j = i + 1
      while (j < list.length && list[j]!.loc - end <= GAP && list[j]!.loc + list[j]!.size - start <= MAX_SPAN) {
        end = Math.max(end, list[j]!.loc + list[j]!.size)
        j++
      }
      const buf = Buffer.allocUnsafe(end - start)
      const got = await readFully(fsx, fd, buf, start)
      for (let k = i; k < j; k++) out.set(list[k]!.seq, check(buf.subarray(0, got), list[k]!, start, segment))
      i = j
    }
  }
  return out
}

function check(buf: Buffer, entry: Located, start: number, segment: Segment): ReadOutcome {
  const where = `${segment.path} offset ${entry.loc}`
  const r = parseRecord(buf, entry.loc - start)
  if (!r.ok) return { where, seq: entry.seq, reason: r.reason }
  if (r.size !== entry.size || r.seq !== entry.seq) {
    return { where, seq: entry.seq, reason: `found record seq ${r.seq} of ${r.size} bytes, expected seq ${entry.seq} of ${entry.size}` }
  }
  try {
    return decodeMessage(r.payload, r.seq)
  } catch (err) {
    return { where, seq: entry.seq, reason: (err as Error).message }
  }
}
