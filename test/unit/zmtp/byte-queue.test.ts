import { describe, expect, it } from "vitest"
import { ByteQueue } from "../../../src/zmtp/byte-queue.js"
import { feedCases, hex } from "../../helpers/feed.js"

const BYTES = hex("00 01 02 03 04 05 06 07 08 09 0a 0b 0c 0d 0e 0f 10 11")

describe("ByteQueue", () => {
  it("reads any byte by index across chunk boundaries, in every chunking", () => {
    for (const { how, chunks } of feedCases(BYTES)) {
      const q = new ByteQueue()
      for (const c of chunks) q.push(c)
      expect(q.length, how).toBe(BYTES.length)
      for (let i = 0; i < BYTES.length; i++) expect(q.byteAt(i), `${how} byte ${i}`).toBe(BYTES[i])
      expect(() => q.byteAt(BYTES.length)).toThrow(RangeError)
    }
  })

  it("takes every split of the stream in every chunking and returns the right bytes", () => {
    for (const { how, chunks } of feedCases(BYTES)) {
      for (let first = 0; first <= BYTES.length; first++) {
        const q = new ByteQueue()
        for (const c of chunks) q.push(c)
        const a = q.take(first)
        expect(a.length).toBe(first)
        expect(q.length).toBe(BYTES.length - first)
        const b = q.take(q.length)
        expect(Buffer.concat([a, b]).equals(BYTES), `${how}, first ${first}`).toBe(true)
        expect(q.length).toBe(0)
      }
    }
  })

  it("returns a view (no copy) when one chunk holds the bytes, and a copy when a read spans chunks", () => {
    // Buffer.from(array) may share Node's pool: tell a view from a copy by writing through the chunk.
    const chunk = hex("01 02 03 04")
    const tail = hex("05 06")
    const q = new ByteQueue()
    q.push(chunk)
    q.push(tail)
    const view = q.take(2)
    const spanning = q.take(3)
    expect(view.toString("hex")).toBe("0102")
    expect(spanning.toString("hex")).toBe("030405")
    chunk.fill(0xee)
    tail.fill(0xdd)
    expect(view.toString("hex")).toBe("eeee")
    expect(spanning.toString("hex")).toBe("030405")
    expect(q.length).toBe(1)
    expect(q.byteAt(0)).toBe(0xdd)
  })

  it("skips across chunks and keeps reading from the right place", () => {
    for (const { how, chunks } of feedCases(BYTES)) {
      for (let n = 0; n <= BYTES.length; n++) {
        const q = new ByteQueue()
        for (const c of chunks) q.push(c)
        q.skip(n)
        expect(q.length, how).toBe(BYTES.length - n)
        expect(q.take(q.length).equals(BYTES.subarray(n)), `${how}, skip ${n}`).toBe(true)
      }
    }
  })

  it("stays correct over thousands of one-byte chunks read in uneven pieces (consumed chunks are compacted)", () => {
    const total = 10_000
    const source = Buffer.alloc(total)
    for (let i = 0; i < total; i++) source[i] = (i * 31 + 7) & 0xff
    const q = new ByteQueue()
    let pushed = 0
    let read = 0
    const sizes = [1, 3, 700, 2, 1500, 1, 64]
    for (let round = 0; read < total; round++) {
      // Push ahead in single bytes, then read a piece of varying size.
      const target = Math.min(total, pushed + 997)
      for (; pushed < target; pushed++) q.push(source.subarray(pushed, pushed + 1))
      const n = Math.min(sizes[round % sizes.length]!, q.length)
      if (n > 0) {
        expect(q.byteAt(0)).toBe(source[read])
        expect(q.byteAt(q.length - 1)).toBe(source[pushed - 1])
        const piece = q.take(n)
        expect(piece.equals(source.subarray(read, read + n)), `round ${round} at ${read}`).toBe(true)
        read += n
      }
      expect(q.length).toBe(pushed - read)
    }
    expect(q.length).toBe(0)
  })

  it("ignores empty chunks and can be cleared", () => {
    const q = new ByteQueue()
    q.push(Buffer.alloc(0))
    expect(q.length).toBe(0)
    expect(q.take(0).length).toBe(0)
    q.push(hex("aa bb"))
    q.push(Buffer.alloc(0))
    q.push(hex("cc"))
    expect(q.take(3).toString("hex")).toBe("aabbcc")
    q.push(hex("dd"))
    q.clear()
    expect(q.length).toBe(0)
    q.push(hex("ee"))
    expect(q.byteAt(0)).toBe(0xee)
  })
})
