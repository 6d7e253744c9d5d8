/**
 * Replays the log after the checkpoint position. In the last segment, the
 * first record that is not whole and valid starts a torn tail (a write that
 * crashed before its fdatasync): it is truncated and noted. In a sealed
 * segment, every byte was synced before the next segment got data, so an
 * invalid record there is corruption: it is reported with its place, the scan
 * resynchronises on the next valid record, and nothing is truncated.
 */
import { ZmeshError } from "../../../errors.js"
import type { StoreCorruption, StoreOp } from "../store.js"
import type { LogFs } from "./log-fs.js"
import { decodeOp } from "./op-codec.js"
import { MAX_RECORD, RECORD_HEADER, SEGMENT_HEADER, crc32, parseRecord, parseSegmentHeader, readSeq } from "./record.js"
import type { Segment } from "./segments.js"

const CHUNK = 4 * 1024 * 1024

export interface ReplayFrom {
  readonly segment: number
  readonly offset: number
  readonly lastSeq: number
}

export interface ReplayResult {
  lastSeq: number
  replayed: number
  readonly notes: string[]
  readonly corruption: StoreCorruption[]
  /** Segments found empty (no valid header) at the end, to delete. */
  readonly empty: Segment[]
}

export type Apply = (op: StoreOp, seq: number, loc: number, size: number) => void

export async function replay(fsx: LogFs, segments: readonly Segment[], from: ReplayFrom | undefined, apply: Apply): Promise<ReplayResult> {
  const result: ReplayResult = { lastSeq: from?.lastSeq ?? 0, replayed: 0, notes: [], corruption: [], empty: [] }
  let start = 0
  if (from !== undefined) {
    start = segments.findIndex((s) => s.base === from.segment)
    if (start < 0) {
      // Deleted once every record in it was acknowledged and covered: replay from the next one.
      start = segments.findIndex((s) => s.base > from.segment)
      if (start < 0) return result
    }
  }
  for (let i = start; i < segments.length; i++) {
    const segment = segments[i]!
    const last = i === segments.length - 1
    const header = Buffer.alloc(SEGMENT_HEADER)
    const n = await fsx.read(segment.fd!, header, 0, SEGMENT_HEADER, 0)
    const base = parseSegmentHeader(header.subarray(0, n))
    if (typeof base === "string") {
      // The header goes out with a segment's first batch: if it is not whole, that batch never
      // completed, so nothing in the file was ever confirmed. Unless valid records follow it.
      if (last && !(await holdsRecords(fsx, segment, result.lastSeq))) {
        if (segment.size > 0) result.notes.push(`truncated a torn tail of ${segment.size} bytes at ${segment.path} offset 0 (${base}: its first write never completed)`)
        result.empty.push(segment)
        continue
      }
      throw new ZmeshError("ERR_RELAY_CORRUPT", `log segment ${segment.path}: ${base}`)
    }
    if (base !== segment.base) {
      result.corruption.push({ where: segment.path, reason: `header says base seq ${base}, file name says ${segment.base}` })
      segment.corrupt = true
    }
    const offset = from !== undefined && i === start && segment.base === from.segment ? from.offset : SEGMENT_HEADER
    if (offset > segment.size) {
      result.corruption.push({ where: segment.path, reason: `file is ${segment.size} bytes, the checkpoint says ${offset} were synced` })
      segment.corrupt = true
      continue
    }
    await scanSegment(fsx, segment, offset, last, result, apply)
  }
  return result
}

async function scanSegment(fsx: LogFs, segment: Segment, offset: number, last: boolean, result: ReplayResult, apply: Apply): Promise<void> {
  const fileSize = segment.size
  let buf: Buffer = Buffer.alloc(0)
  let bufStart = offset
  let pos = offset
  while (pos < fileSize) {
    const r = parseRecord(buf, pos - bufStart)
    if (r.ok && r.seq > result.lastSeq) {
      let op: StoreOp
      try {
        op = decodeOp(r.payload)
      } catch (err) {
        // The checksum held, so we wrote this: a newer version's record, or a bug. Do not guess.
        throw new ZmeshError("ERR_RELAY_CORRUPT", `log segment ${segment.path} offset ${pos}: ${(err as Error).message}`, { cause: err })
      }
      apply(op, r.seq, pos, r.size)
      result.lastSeq = r.seq
      result.replayed++
      pos += r.size
      continue
    }
    if (!r.ok && r.incomplete && bufStart + buf.length < fileSize) {
      const need = r.reason === "short record" ? RECORD_HEADER + buf.readUInt32BE(pos - bufStart) : RECORD_HEADER
      const want = Math.min(Math.max(CHUNK, need), fileSize - pos)
      const next = Buffer.allocUnsafe(want)
      const got = await readFully(fsx, segment.fd!, next, pos)
      buf = next.subarray(0, got)
      bufStart = pos
      if (got === 0) break
      continue
    }
    const reason = r.ok ? `seq ${r.seq} does not follow ${result.lastSeq}` : r.reason
    if (last) {
      // Zeros there were written ahead of the log (preallocation), not a torn write.
      if (!(await allZero(fsx, segment, pos))) {
        result.notes.push(`truncated a torn tail of ${fileSize - pos} bytes at ${segment.path} offset ${pos} (${reason})`)
      }
      await fsx.ftruncate(segment.fd!, pos)
      await fsx.fdatasync(segment.fd!)
      segment.size = pos
      segment.allocated = pos
      return
    }
    segment.corrupt = true
    const resume = await resync(fsx, segment, pos, result.lastSeq)
    const seqField = buf.length - (pos - bufStart) >= RECORD_HEADER ? readSeq(buf, pos - bufStart + 8) : undefined
    result.corruption.push({
      where: `${segment.path} offset ${pos}`,
      ...(seqField !== undefined && seqField > result.lastSeq && seqField < result.lastSeq + 2 ** 20 ? { seq: seqField } : {}),
      reason: `${reason}; ${resume === undefined ? `the remaining ${fileSize - pos} bytes of the segment are unreadable` : `skipped ${resume - pos} bytes to the next valid record`}`,
    })
    if (resume === undefined) return
    pos = resume
    buf = Buffer.alloc(0)
    bufStart = pos
  }
}

/** True if the segment holds only zero bytes from `from` to its end. */
async function allZero(fsx: LogFs, segment: Segment, from: number): Promise<boolean> {
  const chunk = Buffer.allocUnsafe(Math.min(CHUNK, Math.max(1, segment.size - from)))
  for (let at = from; at < segment.size; ) {
    const n = await fsx.read(segment.fd!, chunk, 0, Math.min(chunk.length, segment.size - at), at)
    if (n === 0) break
    for (let i = 0; i < n; i++) if (chunk[i] !== 0) return false
    at += n
  }
  return true
}

/** True if a valid record follows the segment header's place (then a bad header is damage, not a torn write). */
async function holdsRecords(fsx: LogFs, segment: Segment, lastSeq: number): Promise<boolean> {
  if (segment.size <= SEGMENT_HEADER) return false
  const head = Buffer.allocUnsafe(Math.min(segment.size, SEGMENT_HEADER + RECORD_HEADER + 64 * 1024))
  const got = await readFully(fsx, segment.fd!, head, 0)
  const r = parseRecord(head.subarray(0, got), SEGMENT_HEADER)
  return r.ok && r.seq > lastSeq
}

/** The offset of the next valid record after a bad one at `from`, found by its checksum. */
async function resync(fsx: LogFs, segment: Segment, from: number, lastSeq: number): Promise<number | undefined> {
  const rest = Buffer.allocUnsafe(segment.size - from)
  const got = await readFully(fsx, segment.fd!, rest, from)
  const data = rest.subarray(0, got)
  for (let at = 1; at + RECORD_HEADER <= data.length; at++) {
    const len = data.readUInt32BE(at)
    if (len > MAX_RECORD || at + RECORD_HEADER + len > data.length) continue
    const seq = readSeq(data, at + 8)
    // The seq must plausibly follow the last good one: a cheap filter before the checksum.
    if (seq <= lastSeq || seq > lastSeq + 2 ** 20) continue
    if (crc32(data.subarray(at + 8, at + RECORD_HEADER + len)) === data.readUInt32BE(at + 4)) return from + at
  }
  return undefined
}

export async function readFully(fsx: LogFs, fd: number, buf: Buffer, position: number): Promise<number> {
  let got = 0
  while (got < buf.length) {
    const n = await fsx.read(fd, buf, got, buf.length - got, position + got)
    if (n === 0) break
    got += n
  }
  return got
}
