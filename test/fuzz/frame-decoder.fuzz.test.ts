/** FrameDecoder and FrameEncoder under random bytes, random frames and random chunking. */
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { FrameDecoder } from "../../src/zmtp/frame-decoder.js"
import { FrameEncoder } from "../../src/zmtp/frame-encoder.js"
import { decode, decoderBytesArb as bytesArb } from "./decoder-run.js"
import { chunk, cutsArb, hexOf, runs, sizeClaimArb } from "./streams.js"

/** Bodies across COPY_MAX (4096) and the encoder's 64 KiB block, built once. */
const LARGE_BODIES = [4095, 4096, 4097, 65_535, 65_536, 70_000].map((n) => {
  const body = Buffer.allocUnsafe(n)
  for (let i = 0; i < n; i++) body[i] = (i * 31 + n) & 0xff
  return body
})

const maxFrameSizeArb = fc.oneof(fc.constant(-1), fc.nat(300), fc.constantFrom(0, 255, 256, 4096))

describe("FrameDecoder fuzz", () => {
  it("random bytes: frames or ERR_ZMTP_PROTOCOL / ERR_MESSAGE_TOO_LARGE, bodies within maxFrameSize, any chunking", () => {
    fc.assert(
      fc.property(bytesArb, cutsArb, maxFrameSizeArb, (bytes, cuts, max) => {
        const chunked = decode(chunk(bytes, cuts), max)
        expect(chunked.problems, hexOf(bytes)).toEqual([])
        // The outcome is a function of the bytes, not of how they were cut.
        const whole = decode([bytes], max)
        expect(chunked.frames).toEqual(whole.frames)
        expect(chunked.error).toEqual(whole.error)
      }),
      runs(1000),
    )
  })

  it("a size claim over maxFrameSize is refused at the header, one byte at a time", () => {
    fc.assert(
      fc.property(fc.nat(7), sizeClaimArb, fc.oneof(fc.nat(300), fc.constant(1 << 20)), (flags, claim, max) => {
        fc.pre((flags & 0x05) !== 0x05) // COMMAND|MORE is refused first, for another reason
        const head = Buffer.allocUnsafe(9)
        head[0] = flags | 0x02
        head.writeBigUInt64BE(claim, 1)
        const dec = new FrameDecoder(max)
        for (let i = 0; i < 8; i++) {
          dec.push(head.subarray(i, i + 1))
          expect(dec.next()).toBe(false)
        }
        dec.push(head.subarray(8))
        if (claim > BigInt(max)) {
          expect(() => dec.next()).toThrowError(expect.objectContaining({ code: "ERR_MESSAGE_TOO_LARGE" }))
        } else {
          expect(dec.next()).toBe(claim === 0n)
          if (claim !== 0n) expect(dec.pendingBodySize).toBe(Number(claim))
        }
      }),
      runs(300),
    )
  })

  it("FrameEncoder output decodes to the same frames under any chunking and flush pattern", () => {
    const bodyArb = fc.oneof(
      { weight: 6, arbitrary: fc.uint8Array({ maxLength: 300 }).map((b) => Buffer.from(b)) },
      {
        weight: 1,
        arbitrary: fc.constantFrom(...LARGE_BODIES),
      },
    )
    const framesArb = fc.array(
      fc.record({ flags: fc.constantFrom(0x00, 0x01, 0x04), body: bodyArb, flushAfter: fc.boolean() }),
      { minLength: 1, maxLength: 12 },
    )
    fc.assert(
      fc.property(framesArb, cutsArb, fc.boolean(), (frames, cuts, tight) => {
        const enc = new FrameEncoder()
        const out: Buffer[] = []
        for (const f of frames) {
          enc.frame(f.flags, f.body)
          // Flushed parts must stay intact while the encoder goes on writing.
          if (f.flushAfter) out.push(...enc.flush())
        }
        out.push(...enc.flush())
        const bytes = Buffer.concat(out)
        const largest = Math.max(...frames.map((f) => f.body.length))
        const result = decode(chunk(bytes, cuts), tight ? largest : -1)
        expect(result.problems).toEqual([])
        expect(result.error).toBeUndefined()
        expect(result.frames).toEqual(
          frames.map((f) => ({ flags: f.flags | (f.body.length > 255 ? 0x02 : 0), body: f.body.toString("hex") })),
        )
      }),
      runs(200),
    )
  })

  it("one byte under the largest body: the frames before it decode, then ERR_MESSAGE_TOO_LARGE", () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 400 }), { minLength: 1, maxLength: 6 }), cutsArb, (bodies, cuts) => {
        const enc = new FrameEncoder()
        for (const b of bodies) enc.frame(0, Buffer.from(b))
        const bytes = Buffer.concat(enc.flush())
        const largest = Math.max(...bodies.map((b) => b.length))
        fc.pre(largest > 0)
        const result = decode(chunk(bytes, cuts), largest - 1)
        const firstTooBig = bodies.findIndex((b) => b.length === largest)
        expect(result.frames.length).toBe(firstTooBig)
        expect(result.error).toBe("ERR_MESSAGE_TOO_LARGE")
      }),
      runs(200),
    )
  })
})
