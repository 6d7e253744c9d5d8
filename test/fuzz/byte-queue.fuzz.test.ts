/** ByteQueue against a plain-array model under random pushes, reads and skips. */
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { ByteQueue } from "../../src/zmtp/byte-queue.js"
import { FrameDecoder } from "../../src/zmtp/frame-decoder.js"
import { runs } from "./streams.js"

type Op =
  | { readonly op: "push"; readonly bytes: Uint8Array }
  | { readonly op: "take" | "skip" | "byteAt"; readonly n: number }
  | { readonly op: "clear" }

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ op: fc.constant("push" as const), bytes: fc.uint8Array({ maxLength: 20 }) }) },
  { weight: 3, arbitrary: fc.record({ op: fc.constantFrom("take" as const, "skip" as const, "byteAt" as const), n: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant("clear" as const) }) },
)

describe("ByteQueue fuzz", () => {
  it("matches a byte-array model; views stay intact after later pushes and reads", () => {
    fc.assert(
      fc.property(fc.array(opArb, { maxLength: 60 }), (ops) => {
        const queue = new ByteQueue()
        let model: number[] = []
        const taken: Array<{ view: Buffer; expected: string }> = []
        for (const op of ops) {
          switch (op.op) {
            case "push":
              queue.push(Buffer.from(op.bytes))
              model.push(...op.bytes)
              break
            case "take": {
              const n = model.length === 0 ? 0 : op.n % (model.length + 1)
              const view = queue.take(n)
              const expected = Buffer.from(model.splice(0, n)).toString("hex")
              expect(view.toString("hex")).toBe(expected)
              taken.push({ view, expected })
              break
            }
            case "skip": {
              const n = model.length === 0 ? 0 : op.n % (model.length + 1)
              queue.skip(n)
              model.splice(0, n)
              break
            }
            case "byteAt":
              if (model.length > 0) {
                const i = op.n % model.length
                expect(queue.byteAt(i)).toBe(model[i])
              }
              break
            case "clear":
              queue.clear()
              model = []
              break
          }
          expect(queue.length).toBe(model.length)
        }
        for (const { view, expected } of taken) expect(view.toString("hex")).toBe(expected)
      }),
      runs(500),
    )
  })

  // Regression (found by this fuzz folder): ByteQueue once dropped consumed chunks with
  // Array#shift, so a frame dripped in n one-byte TCP segments cost O(n^2) in one synchronous
  // `next()` (100 000 chunks took up to 45 s here). Wall time varies too much to assert on, so
  // this counts the work instead: the elements every Array#shift call moves during that
  // `next()` (deterministic).
  it("a frame fed in one-byte chunks is assembled in linear time", () => {
    const n = 20_000
    const bytes = Buffer.alloc(9 + n, 0x5a)
    bytes[0] = 0x02
    bytes.writeBigUInt64BE(BigInt(n), 1)
    const dec = new FrameDecoder(-1)
    let early = 0
    for (let i = 0; i < bytes.length - 1; i++) {
      dec.push(bytes.subarray(i, i + 1))
      if (dec.next()) early++
    }
    expect(early).toBe(0)
    dec.push(bytes.subarray(bytes.length - 1))
    let moved = 0
    const shift = Array.prototype.shift
    // Synchronous section: nothing else runs while the prototype is patched.
    Array.prototype.shift = function (this: unknown[]) {
      moved += Math.max(0, this.length - 1)
      return shift.call(this)
    }
    let done: boolean
    try {
      done = dec.next()
    } finally {
      Array.prototype.shift = shift
    }
    expect(done).toBe(true)
    expect(dec.body.length).toBe(n)
    expect(moved, `Array#shift moved ${moved} elements to assemble ${n} chunks`).toBeLessThan(20 * n)
  })
})
