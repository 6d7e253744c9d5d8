/** The sans-IO Session of a PULL socket fed valid, mutated and random PUSH-side streams. */
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { outcome, runSession } from "./session-run.js"
import { chunk, cutsArb, greeting, hexOf, mutate, mutationArb, pushHandshake, runs, validStreamArb, type ValidStream } from "./streams.js"

const acceptArb = fc.oneof(fc.constant([true]), fc.array(fc.boolean(), { minLength: 1, maxLength: 5 }))
const maxMessageSizeArb = fc.oneof(fc.constant(-1), fc.nat(700), fc.constantFrom(0, 255, 256, 1 << 20))

/** Messages the stream carries, hex-encoded as `outcome()` lists them. */
function expectedMessages(stream: ValidStream): string[] {
  return stream.items.filter((i) => i.kind === "message").map((i) => i.frames.map((f) => f.toString("hex")).join("|"))
}

describe("Session fuzz (PULL side)", () => {
  it("a valid libzmq-like PUSH stream: ready once, every message in order, under any chunking and backpressure", () => {
    fc.assert(
      fc.property(validStreamArb(), cutsArb, acceptArb, (stream, cuts, accept) => {
        const run = runSession(chunk(stream.bytes, cuts), { maxMessageSize: -1, accept })
        expect(run.violations).toEqual([])
        expect(outcome(run)).toEqual({ ready: 1, messages: expectedMessages(stream), failure: undefined })
      }),
      runs(200),
    )
  })

  it("maxMessageSize: the messages up to the first one over the limit, then ERR_MESSAGE_TOO_LARGE", () => {
    fc.assert(
      fc.property(validStreamArb(), maxMessageSizeArb, cutsArb, (stream, max, cuts) => {
        const run = runSession(chunk(stream.bytes, cuts), { maxMessageSize: max })
        expect(run.violations).toEqual([])
        // The limit covers every frame of a message together. Commands are not messages: each
        // may be as large as the limit or 64 KiB, whichever is more.
        const over = (n: number) => max >= 0 && n > max
        const commandOver = (n: number) => n > Math.max(max, 64 * 1024)
        let expected: ReturnType<typeof outcome>
        if (commandOver(stream.readySize)) {
          expected = { ready: 0, messages: [], failure: "protocol/ERR_MESSAGE_TOO_LARGE" }
        } else {
          expected = { ready: 1, messages: [], failure: undefined }
          for (const item of stream.items) {
            const size =
              item.kind === "ping"
                ? 1 + 4 + 2 + item.frames[0]!.length
                : item.frames.reduce((sum, f) => sum + f.length, 0)
            if (item.kind === "ping" ? commandOver(size) : over(size)) {
              expected.failure = "undefined/ERR_MESSAGE_TOO_LARGE"
              break
            }
            if (item.kind === "message") expected.messages.push(item.frames.map((f) => f.toString("hex")).join("|"))
          }
        }
        expect(outcome(run)).toEqual(expected)
      }),
      runs(200),
    )
  })

  it("mutated streams: failed() at most once, nothing thrown, no message over maxMessageSize, same result for any chunking", () => {
    fc.assert(
      fc.property(
        validStreamArb(),
        fc.array(mutationArb, { minLength: 1, maxLength: 4 }),
        maxMessageSizeArb,
        cutsArb,
        acceptArb,
        (stream, mutations, max, cuts, accept) => {
          const bytes = mutate(stream, mutations)
          const chunked = runSession(chunk(bytes, cuts), { maxMessageSize: max, accept })
          expect(chunked.violations, hexOf(bytes)).toEqual([])
          const whole = runSession([bytes], { maxMessageSize: max })
          expect(whole.violations, hexOf(bytes)).toEqual([])
          expect(outcome(chunked)).toEqual(outcome(whole))
        },
      ),
      runs(1000),
    )
  })

  it("fully random bytes, alone or after a valid greeting or handshake", () => {
    const prefixArb = fc.constantFrom(Buffer.alloc(0), greeting(), greeting({ minor: 0 }), pushHandshake())
    fc.assert(
      fc.property(prefixArb, fc.uint8Array({ maxLength: 400 }), maxMessageSizeArb, cutsArb, (prefix, tail, max, cuts) => {
        const bytes = Buffer.concat([prefix, tail])
        const chunked = runSession(chunk(bytes, cuts), { maxMessageSize: max })
        expect(chunked.violations, hexOf(bytes)).toEqual([])
        expect(outcome(chunked)).toEqual(outcome(runSession([bytes], { maxMessageSize: max })))
      }),
      runs(500),
    )
  })
})
