import { describe, expect, it } from "vitest"
import { FrameDecoder } from "../../../src/zmtp/frame-decoder.js"
import { FrameEncoder } from "../../../src/zmtp/frame-encoder.js"
import { FLAG_COMMAND, FLAG_MORE } from "../../../src/zmtp/frame.js"
import { forEveryFeed, hex } from "../../helpers/feed.js"
import { PING_LOL, join, pattern } from "./fixtures.js"

/** The header libzmq writes: 1-byte size up to 255, else the 8-byte form with LONG set. */
function expectedHeader(flags: number, size: number): Buffer {
  if (size <= 255) return Buffer.from([flags, size])
  const header = Buffer.alloc(9)
  header[0] = flags | 0x02
  header.writeBigUInt64BE(BigInt(size), 1)
  return header
}

function decodeAll(chunks: Buffer[]): Array<{ flags: number; body: Buffer }> {
  const dec = new FrameDecoder()
  const out: Array<{ flags: number; body: Buffer }> = []
  for (const chunk of chunks) {
    dec.push(chunk)
    while (dec.next()) out.push({ flags: dec.flags, body: Buffer.from(dec.body) })
  }
  expect(dec.input.length).toBe(0)
  return out
}

/** Fixed-size chunks: for streams too long to split at every offset. */
function chunked(bytes: Buffer, size: number): Buffer[] {
  const chunks: Buffer[] = []
  for (let i = 0; i < bytes.length; i += size) chunks.push(bytes.subarray(i, i + size))
  return chunks
}

describe("FrameEncoder: header bytes", () => {
  it("writes an empty final frame as `00 00`", () => {
    const enc = new FrameEncoder()
    enc.frame(0, Buffer.alloc(0))
    expect(Buffer.concat(enc.flush()).toString("hex")).toBe("0000")
  })

  it("writes a multipart message with MORE (01) on every frame but the last", () => {
    const enc = new FrameEncoder()
    enc.message([hex("41 42 43"), Buffer.alloc(0), hex("44")])
    expect(Buffer.concat(enc.flush()).toString("hex")).toBe("0103414243" + "0100" + "000144")
  })

  it("uses the short form for a 255-byte body and the long form (02 + 8-byte size) from 256 bytes", () => {
    const enc = new FrameEncoder()
    enc.frame(0, pattern(255))
    enc.frame(FLAG_MORE, pattern(256))
    const out = Buffer.concat(enc.flush())
    expect(out.subarray(0, 2).toString("hex")).toBe("00ff")
    expect(out.subarray(257, 257 + 9).toString("hex")).toBe("030000000000000100")
    expect(out.length).toBe(2 + 255 + 9 + 256)
  })

  it("writes a command frame with flag 04, or 06 when long", () => {
    const enc = new FrameEncoder()
    enc.frame(FLAG_COMMAND, PING_LOL.subarray(2))
    expect(Buffer.concat(enc.flush()).toString("hex")).toBe(PING_LOL.toString("hex"))
    enc.frame(FLAG_COMMAND, pattern(300))
    expect(Buffer.concat(enc.flush()).subarray(0, 9).toString("hex")).toBe("06000000000000012c")
  })

  it("keeps raw bytes (greeting, commands) in order with the frames around them", () => {
    const enc = new FrameEncoder()
    enc.frame(0, hex("61"))
    enc.raw(PING_LOL)
    enc.frame(0, hex("62"))
    expect(Buffer.concat(enc.flush()).toString("hex")).toBe("0001" + "61" + PING_LOL.toString("hex") + "0001" + "62")
  })

  it("counts pending bytes and resets the count on flush; an empty flush returns no parts", () => {
    const enc = new FrameEncoder()
    expect(enc.flush()).toEqual([])
    enc.frame(0, pattern(10))
    enc.frame(0, pattern(5000))
    enc.raw(hex("01 02 03"))
    expect(enc.pending).toBe(12 + 9 + 5000 + 3)
    const parts = enc.flush()
    expect(parts.reduce((n, p) => n + p.length, 0)).toBe(12 + 9 + 5000 + 3)
    expect(enc.pending).toBe(0)
    expect(enc.flush()).toEqual([])
  })
})

describe("FrameEncoder -> FrameDecoder round trip", () => {
  const sizes = [0, 1, 2, 254, 255, 256, 257, 1000, 4095, 4096, 4097, 8192]

  for (const size of sizes) {
    it(`a ${size}-byte body: exact header, body intact, decoded in every chunking`, () => {
      const enc = new FrameEncoder()
      const body = pattern(size, size)
      enc.frame(FLAG_MORE, body)
      enc.frame(0, pattern(3))
      const bytes = Buffer.concat(enc.flush())
      const header = expectedHeader(FLAG_MORE, size)
      expect(bytes.subarray(0, header.length).toString("hex")).toBe(header.toString("hex"))
      expect(bytes.length).toBe(header.length + size + 2 + 3)
      forEveryFeed(bytes, decodeAll, (frames) => {
        expect(frames.length).toBe(2)
        expect(frames[0]!.flags).toBe(header[0])
        expect(frames[0]!.body.equals(body)).toBe(true)
        expect(frames[1]!).toEqual({ flags: 0, body: pattern(3) })
      })
    })
  }

  for (const size of [65535, 65536, 65537, 70000, 200000]) {
    it(`a ${size}-byte body (past the 64 KiB block): exact header, body intact`, () => {
      const enc = new FrameEncoder()
      const body = pattern(size, 1)
      enc.frame(0, pattern(100))
      enc.frame(FLAG_MORE, body)
      enc.frame(0, pattern(7))
      const bytes = Buffer.concat(enc.flush())
      const header = expectedHeader(FLAG_MORE, size)
      expect(bytes.subarray(102, 102 + 9).toString("hex")).toBe(header.toString("hex"))
      for (const chunkSize of [bytes.length, 65536, 4097, 1000]) {
        const frames = decodeAll(chunked(bytes, chunkSize))
        expect(frames.map((f) => f.body.length)).toEqual([100, size, 7])
        expect(frames[1]!.body.equals(body)).toBe(true)
        expect(frames[1]!.flags).toBe(0x03)
      }
    })
  }

  it("copies bodies up to 4096 bytes into its block and passes larger ones by reference", () => {
    const enc = new FrameEncoder()
    const small = pattern(4096)
    const large = pattern(4097)
    enc.frame(0, small)
    enc.frame(0, large)
    const parts = enc.flush()
    // 4096 is copied (so it is not one of the parts); 4097 is the caller's own buffer, never copied.
    expect(parts.some((p) => p === small)).toBe(false)
    expect(parts.some((p) => p === large)).toBe(true)
    expect(Buffer.concat(parts).equals(join(expectedHeader(0, 4096), small, expectedHeader(0, 4097), large))).toBe(true)
  })

  it("carries many small frames across 64 KiB block boundaries without losing or reordering bytes", () => {
    const enc = new FrameEncoder()
    const bodies: Buffer[] = []
    // 40 x (9 + 4096) bytes is about 160 KiB: at least two block changes.
    for (let i = 0; i < 40; i++) {
      const body = pattern(4096, i)
      bodies.push(body)
      enc.frame(i % 2, body)
    }
    const parts = enc.flush()
    expect(parts.length).toBeGreaterThan(1)
    const frames = decodeAll(chunked(Buffer.concat(parts), 3000))
    expect(frames.length).toBe(40)
    frames.forEach((f, i) => {
      expect(f.flags).toBe(0x02 | (i % 2))
      expect(f.body.equals(bodies[i]!)).toBe(true)
    })
  })

  it("never overwrites bytes it already handed out: flushed parts stay intact while encoding goes on", () => {
    const enc = new FrameEncoder()
    const snapshots: Array<{ parts: Buffer[]; copy: Buffer }> = []
    for (let round = 0; round < 50; round++) {
      for (let i = 0; i < 10; i++) enc.frame(0, pattern(100 + round * 13 + i, round))
      const parts = enc.flush()
      snapshots.push({ parts, copy: Buffer.from(Buffer.concat(parts)) })
    }
    for (const { parts, copy } of snapshots) expect(Buffer.concat(parts).equals(copy)).toBe(true)
  })

  it("round-trips a message of mixed sizes fed whole, byte by byte and split at every offset", () => {
    const enc = new FrameEncoder()
    const frames = [Buffer.alloc(0), hex("41"), pattern(255), pattern(256), pattern(600)]
    enc.message(frames)
    const bytes = Buffer.concat(enc.flush())
    forEveryFeed(bytes, decodeAll, (decoded) => {
      expect(decoded.map((f) => f.flags)).toEqual([0x01, 0x01, 0x01, 0x03, 0x02])
      decoded.forEach((f, i) => expect(f.body.equals(frames[i]!)).toBe(true))
    })
  })
})
