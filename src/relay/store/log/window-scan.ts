/**
 * Rebuilds the de-duplication window on reopen from the log itself: the
 * segments that hold ids still in the window are kept (see Segment's
 * `windowUntil`) and read again here, up to the checkpoint's last record
 * (the replay after it adds the rest). So the window costs nothing at run
 * time beyond memory: no checkpoint ever copies it.
 */
import type { StoreOp } from "../store.js"
import type { LogFs } from "./log-fs.js"
import { decodeOp } from "./op-codec.js"
import { RECORD_HEADER, SEGMENT_HEADER, parseRecord } from "./record.js"
import { readFully } from "./recovery.js"
import type { Segment } from "./segments.js"

const CHUNK = 4 * 1024 * 1024

/**
 * Visits the records of `segment` whose seq is at most `upTo`; returns how
 * many could not be read (damage there is reported by replay or delivery,
 * which own that; here it can only cost a missed duplicate).
 */
export async function scanWindow(fsx: LogFs, segment: Segment, upTo: number, visit: (op: StoreOp, seq: number) => void): Promise<number> {
  let skipped = 0
  let buf: Buffer = Buffer.alloc(0)
  let bufStart = SEGMENT_HEADER
  let pos = SEGMENT_HEADER
  while (pos < segment.size) {
    const r = parseRecord(buf, pos - bufStart)
    if (r.ok) {
      if (r.seq > upTo) break
      try {
        visit(decodeOp(r.payload), r.seq)
      } catch {
        skipped++
      }
      pos += r.size
      continue
    }
    if (r.incomplete && bufStart + buf.length < segment.size) {
      const need = r.reason === "short record" ? RECORD_HEADER + buf.readUInt32BE(pos - bufStart) : RECORD_HEADER
      const next = Buffer.allocUnsafe(Math.min(Math.max(CHUNK, need), segment.size - pos))
      const got = await readFully(fsx, segment.fd!, next, pos)
      if (got === 0) break
      buf = next.subarray(0, got)
      bufStart = pos
      continue
    }
    // A damaged record: the rest of this segment's ids are lost to the window.
    return skipped + 1
  }
  return skipped
}
