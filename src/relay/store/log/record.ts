/**
 * The log's framing. A segment file starts with a 16-byte header
 * (`ZMRLOG`, format version u16, base seq u64) followed by records:
 *
 *     len u32 | crc32 u32 | seq u64 | payload (len bytes)
 *
 * all big-endian, the CRC-32 (IEEE) covering seq and payload. A record is
 * valid only whole: a short read or a CRC mismatch marks a torn write or
 * corruption, never a record.
 */
import zlib from "node:zlib"

export const SEGMENT_MAGIC = Buffer.from("ZMRLOG", "latin1")
export const FORMAT_VERSION = 1
export const SEGMENT_HEADER = 16
export const RECORD_HEADER = 16
/** No record is larger: a larger length is corruption, not something to allocate. */
export const MAX_RECORD = 256 * 1024 * 1024

/** CRC-32 (IEEE 802.3), zlib's: node:zlib's native one (Node >= 20.15) or a table. */
export const crc32: (data: Uint8Array, initial?: number) => number =
  typeof (zlib as { crc32?: unknown }).crc32 === "function"
    ? (zlib as unknown as { crc32: (data: Uint8Array, initial?: number) => number }).crc32
    : tableCrc32

let table: Uint32Array | undefined

/** The table-driven CRC-32, for Node versions without zlib.crc32; also the reference in tests. */
export function tableCrc32(data: Uint8Array, initial = 0): number {
  if (table === undefined) {
    table = new Uint32Array(256)
    for (let n = 0; n < 256; n++) {
      let c = n
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1
      table[n] = c >>> 0
    }
  }
  let crc = ~initial >>> 0
  for (let i = 0; i < data.length; i++) crc = table[(crc ^ data[i]!) & 0xff]! ^ (crc >>> 8)
  return ~crc >>> 0
}

export function segmentHeader(baseSeq: number): Buffer {
  const header = Buffer.alloc(SEGMENT_HEADER)
  SEGMENT_MAGIC.copy(header, 0)
  header.writeUInt16BE(FORMAT_VERSION, 6)
  writeSeq(header, 8, baseSeq)
  return header
}

/** The base seq of a segment header, or a reason it is not one. */
export function parseSegmentHeader(header: Buffer): number | string {
  if (header.length < SEGMENT_HEADER) return "file shorter than its header"
  if (!header.subarray(0, 6).equals(SEGMENT_MAGIC)) {
    return header.subarray(0, SEGMENT_HEADER).every((b) => b === 0) ? "empty header" : "bad magic"
  }
  const version = header.readUInt16BE(6)
  if (version !== FORMAT_VERSION) return `unsupported log format version ${version}`
  return readSeq(header, 8)
}

export function writeSeq(buf: Buffer, at: number, seq: number): void {
  buf.writeUInt32BE(Math.floor(seq / 0x100000000), at)
  buf.writeUInt32BE(seq >>> 0, at + 4)
}

export function readSeq(buf: Buffer, at: number): number {
  return buf.readUInt32BE(at) * 0x100000000 + buf.readUInt32BE(at + 4)
}

/** Frames records into one growable buffer: a whole group commit becomes a single write. */
export class RecordWriter {
  private buf: Buffer
  length = 0

  constructor(capacity = 64 * 1024) {
    this.buf = Buffer.allocUnsafe(capacity)
  }

  /** Appends a record and returns its offset in the batch. */
  append(seq: number, payload: Uint8Array): number {
    const at = this.length
    const total = RECORD_HEADER + payload.length
    this.reserve(total)
    const buf = this.buf
    buf.writeUInt32BE(payload.length, at)
    writeSeq(buf, at + 8, seq)
    buf.set(payload, at + RECORD_HEADER)
    buf.writeUInt32BE(crc32(buf.subarray(at + 8, at + total)), at + 4)
    this.length += total
    return at
  }

  /**
   * Appends a record whose payload `write` puts straight into the buffer at
   * `at` (at most `bound` bytes), returning where it ended; returns the offset.
   */
  appendWith<T>(seq: number, bound: number, write: (buf: Buffer, at: number, arg: T) => number, arg: T): number {
    const at = this.length
    this.reserve(RECORD_HEADER + bound)
    const buf = this.buf
    const end = write(buf, at + RECORD_HEADER, arg)
    buf.writeUInt32BE(end - at - RECORD_HEADER, at)
    writeSeq(buf, at + 8, seq)
    buf.writeUInt32BE(crc32(buf.subarray(at + 8, end)), at + 4)
    this.length = end
    return at
  }

  /** The framed bytes; valid until the next append or reset. */
  bytes(): Buffer {
    return this.buf.subarray(0, this.length)
  }

  /** Drops everything after `length` (an append that failed half way). */
  truncate(length: number): void {
    this.length = length
  }

  reset(): void {
    this.length = 0
    // Give memory back after an unusually large batch.
    if (this.buf.length > 16 * 1024 * 1024) this.buf = Buffer.allocUnsafe(64 * 1024)
  }

  private reserve(n: number): void {
    if (this.length + n <= this.buf.length) return
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.length + n))
    this.buf.copy(next, 0, 0, this.length)
    this.buf = next
  }
}

export type ParsedRecord =
  | { readonly ok: true; readonly seq: number; readonly payload: Buffer; readonly size: number }
  | { readonly ok: false; readonly reason: string; readonly incomplete: boolean }

/** Parses the record at `at` in `buf`; `incomplete` means more bytes could make it whole. */
export function parseRecord(buf: Buffer, at: number): ParsedRecord {
  if (buf.length - at < RECORD_HEADER) return { ok: false, reason: "short record header", incomplete: true }
  const len = buf.readUInt32BE(at)
  if (len > MAX_RECORD) return { ok: false, reason: `record length ${len} out of range`, incomplete: false }
  const total = RECORD_HEADER + len
  if (buf.length - at < total) return { ok: false, reason: "short record", incomplete: true }
  const crc = buf.readUInt32BE(at + 4)
  if (crc32(buf.subarray(at + 8, at + total)) !== crc) return { ok: false, reason: "crc mismatch", incomplete: false }
  return { ok: true, seq: readSeq(buf, at + 8), payload: buf.subarray(at + RECORD_HEADER, at + total), size: total }
}
