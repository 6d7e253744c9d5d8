/** The log's framing: len | crc32 | seq | payload. */
import { describe, expect, it } from "vitest"
import {
  MAX_RECORD,
  RECORD_HEADER,
  RecordWriter,
  crc32,
  parseRecord,
  parseSegmentHeader,
  segmentHeader,
  tableCrc32,
} from "../../../src/relay/store/log/record.js"

describe("log records", () => {
  it("computes CRC-32 (IEEE) as zlib does, with the table fallback agreeing", () => {
    expect(crc32(Buffer.from("123456789"))).toBe(0xcbf43926)
    expect(tableCrc32(Buffer.from("123456789"))).toBe(0xcbf43926)
    const data = Buffer.from(Array.from({ length: 1000 }, (_, i) => (i * 7) & 0xff))
    expect(tableCrc32(data)).toBe(crc32(data))
    expect(tableCrc32(data.subarray(500), tableCrc32(data.subarray(0, 500)))).toBe(crc32(data))
  })

  it("frames records back to back and parses each, with its seq and exact size", () => {
    const w = new RecordWriter(16)
    const payloads = [Buffer.from("a"), Buffer.alloc(0), Buffer.alloc(5000, 9)]
    const offsets = payloads.map((p, i) => w.append(2 ** 40 + i, p))
    const bytes = w.bytes()
    offsets.forEach((at, i) => {
      const r = parseRecord(bytes, at)
      expect(r).toMatchObject({ ok: true, seq: 2 ** 40 + i, size: RECORD_HEADER + payloads[i]!.length })
      if (r.ok) expect(r.payload.equals(payloads[i]!)).toBe(true)
    })
    expect(bytes.readUInt32BE(0)).toBe(1)
  })

  it("reports a flipped bit anywhere after the length as a crc mismatch, a cut record as incomplete", () => {
    const w = new RecordWriter()
    w.append(7, Buffer.from("hello relay"))
    const good = Buffer.from(w.bytes())
    for (let at = 4; at < good.length; at++) {
      const bad = Buffer.from(good)
      bad[at]! ^= 0x10
      expect(parseRecord(bad, 0), `flip at ${at}`).toMatchObject({ ok: false, reason: "crc mismatch", incomplete: false })
    }
    for (let cut = 0; cut < good.length; cut++) {
      expect(parseRecord(good.subarray(0, cut), 0)).toMatchObject({ ok: false, incomplete: true })
    }
  })

  it("never believes an absurd length: it is corruption, not something to wait for or allocate", () => {
    const bad = Buffer.alloc(RECORD_HEADER)
    bad.writeUInt32BE(MAX_RECORD + 1, 0)
    expect(parseRecord(bad, 0)).toMatchObject({ ok: false, incomplete: false })
  })

  it("writes and checks segment headers (magic, version, base seq)", () => {
    expect(parseSegmentHeader(segmentHeader(123456789012))).toBe(123456789012)
    expect(parseSegmentHeader(Buffer.alloc(16))).toBe("empty header")
    expect(parseSegmentHeader(Buffer.from("NOTALOGFILEHEADR"))).toBe("bad magic")
    const newer = segmentHeader(1)
    newer.writeUInt16BE(2, 6)
    expect(parseSegmentHeader(newer)).toMatch(/unsupported log format version 2/)
  })
})

describe("the MESSAGE record encoder", () => {
  it("writes what the generic decoder reads back, for every size class and field", async () => {
    const { writeMessage, messageBound } = await import("../../../src/relay/store/log/message-encoder.js")
    const { decodeOp } = await import("../../../src/relay/store/log/op-codec.js")
    const cases = [
      { queue: "q", id: "1", body: Buffer.alloc(0), headers: null, storedAt: 0, due: 0 },
      { queue: "q".repeat(40), id: "é".repeat(100), body: Buffer.alloc(300, 1), headers: { a: "b", ü: "x".repeat(300) }, storedAt: 1_764_000_000_000, due: 127 },
      { queue: "orders", id: "x".repeat(255), body: Buffer.alloc(70_000, 2), headers: Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`k${i}`, `v${i}`])), storedAt: 255, due: 65_536 },
      { queue: "q", id: "p", body: Buffer.from("b"), headers: {}, storedAt: 2 ** 32, due: 2 ** 32 - 1, producerId: "svc-1", producerSeq: 70_000 },
    ]
    for (const c of cases) {
      const op = { type: "message" as const, ...c }
      const buf = Buffer.alloc(messageBound(op))
      const end = writeMessage(buf, 0, op)
      expect(end).toBeLessThanOrEqual(buf.length)
      const back = decodeOp(buf.subarray(0, end))
      expect(back).toMatchObject({ ...op, body: expect.anything(), producerId: c.producerId ?? null, producerSeq: c.producerSeq ?? null })
      expect(Buffer.from((back as typeof op).body).equals(c.body)).toBe(true)
    }
  })
})
