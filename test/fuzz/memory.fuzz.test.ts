/**
 * "Never allocate what a peer merely claims": huge size claims are refused
 * right after their header, and with no limit they allocate nothing up front.
 */
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { ZmeshError } from "../../src/errors.js"
import { FrameDecoder } from "../../src/zmtp/frame-decoder.js"
import { NullMechanism } from "../../src/zmtp/mechanisms/null.js"
import { Session, type SessionFailure } from "../../src/zmtp/session.js"
import { frame, longHeader, pushHandshake, runs, sizeClaimArb } from "./streams.js"

const MiB = 1 << 20
const FOUR_GIB = 2n ** 32n
const TWO_POW_63 = 2n ** 63n

/** A PULL session past its handshake, recording what reaches the handler. */
function readySession(maxMessageSize: number) {
  const messages: Buffer[][] = []
  const failures: SessionFailure[] = []
  let ready = 0
  const session: Session = new Session(
    { socketType: "PULL", mechanism: new NullMechanism(), maxMessageSize },
    {
      flush: () => void session.encoder.flush(),
      ready: () => void ready++,
      message: (frames) => {
        messages.push(frames)
        return true
      },
      pinged: () => {},
      failed: (f) => void failures.push(f),
    },
  )
  session.start()
  session.push(pushHandshake())
  expect(ready).toBe(1)
  return { session, messages, failures }
}

/** Pushes bytes one at a time and returns how many went in before the session failed. */
function bytesUntilFailure(session: Session, failures: SessionFailure[], bytes: Buffer): number {
  for (let i = 0; i < bytes.length; i++) {
    session.push(bytes.subarray(i, i + 1))
    if (failures.length > 0) return i + 1
  }
  return -1
}

describe("size claims and memory", () => {
  for (const [label, claim] of [
    ["4 GiB (02 00 00 00 01 00 00 00 00)", FOUR_GIB],
    ["2^63 (02 80 00 00 00 00 00 00 00)", TWO_POW_63],
  ] as const) {
    it(`a ${label} data frame with maxMessageSize 1 MiB is refused at the 9th header byte`, () => {
      const dec = new FrameDecoder(MiB)
      const header = longHeader(0x00, claim)
      for (let i = 0; i < 8; i++) {
        dec.push(header.subarray(i, i + 1))
        expect(dec.next()).toBe(false)
      }
      dec.push(header.subarray(8))
      expect(() => dec.next()).toThrowError(expect.objectContaining({ code: "ERR_MESSAGE_TOO_LARGE" }))

      const { session, messages, failures } = readySession(MiB)
      // The header and then body bytes that must never be needed.
      const stream = Buffer.concat([header, Buffer.alloc(16, 0xaa)])
      expect(bytesUntilFailure(session, failures, stream)).toBe(9)
      expect(failures).toHaveLength(1)
      expect(failures[0]!.handshake).toBeUndefined()
      expect(failures[0]!.error).toBeInstanceOf(ZmeshError)
      expect(failures[0]!.error.code).toBe("ERR_MESSAGE_TOO_LARGE")
      expect(session.isClosed).toBe(true)
      expect(messages).toEqual([])
    })

    it(`a ${label} command frame during the handshake is refused at the header (maxMessageSize 1 MiB)`, () => {
      const failures: SessionFailure[] = []
      const session: Session = new Session(
        { socketType: "PULL", mechanism: new NullMechanism(), maxMessageSize: MiB },
        {
          flush: () => void session.encoder.flush(),
          ready: () => expect.unreachable("no READY was sent"),
          message: () => expect.unreachable("no data was sent"),
          pinged: () => {},
          failed: (f) => void failures.push(f),
        },
      )
      session.start()
      session.push(pushHandshake().subarray(0, 64))
      expect(bytesUntilFailure(session, failures, longHeader(0x04, claim))).toBe(9)
      expect(failures.map((f) => [f.handshake, f.error.code])).toEqual([["protocol", "ERR_MESSAGE_TOO_LARGE"]])
    })
  }

  it("any long size claim: refused after exactly its header iff it exceeds maxMessageSize minus the frames before it", () => {
    const earlierArb = fc.array(fc.nat(300), { maxLength: 3 })
    fc.assert(
      fc.property(earlierArb, sizeClaimArb, fc.oneof(fc.integer({ min: 32, max: 1000 }), fc.constant(MiB)), (earlier, claim, max) => {
        const { session, messages, failures } = readySession(max)
        // (max >= 32 leaves room for the 26-byte READY.) Earlier frames of the same message count too.
        const prefix = Buffer.concat(earlier.map((n) => frame(0x01, Buffer.alloc(n, 1))))
        const before = earlier.reduce((a, b) => a + b, 0)
        const prefixFails = earlier.some((_, i) => earlier.slice(0, i + 1).reduce((a, b) => a + b, 0) > max)
        fc.pre(!prefixFails)
        session.push(prefix)
        expect(failures).toEqual([])
        const fed = bytesUntilFailure(session, failures, longHeader(0x00, claim))
        if (claim > BigInt(max - before)) {
          expect(fed).toBe(9)
          expect(failures[0]!.error.code).toBe("ERR_MESSAGE_TOO_LARGE")
        } else {
          expect(fed).toBe(-1)
          expect(messages.length).toBe(claim === 0n ? 1 : 0)
        }
      }),
      runs(300),
    )
  })

  it("with maxMessageSize -1, a 4 GiB claim allocates nothing up front and delivers nothing", () => {
    const { session, messages, failures } = readySession(-1)
    const before = process.memoryUsage().arrayBuffers
    session.push(longHeader(0x00, FOUR_GIB))
    // A few body bytes, in several chunks.
    for (let i = 0; i < 4; i++) session.push(Buffer.alloc(16 * 1024, i))
    const grown = process.memoryUsage().arrayBuffers - before
    expect(grown).toBeLessThan(16 * MiB)
    expect(messages).toEqual([])
    expect(failures).toEqual([])
    expect(session.isClosed).toBe(false)

    const dec = new FrameDecoder(-1)
    const decBefore = process.memoryUsage().arrayBuffers
    dec.push(Buffer.concat([longHeader(0x00, FOUR_GIB), Buffer.alloc(100)]))
    expect(dec.next()).toBe(false)
    expect(dec.pendingBodySize).toBe(2 ** 32)
    expect(process.memoryUsage().arrayBuffers - decBefore).toBeLessThan(16 * MiB)
  })

  it("with maxMessageSize -1, a claim past 2^53 is still refused (it cannot be represented, let alone received)", () => {
    for (const claim of [2n ** 53n, TWO_POW_63, 2n ** 64n - 1n]) {
      const { session, failures } = readySession(-1)
      expect(bytesUntilFailure(session, failures, longHeader(0x00, claim))).toBe(9)
      expect(failures[0]!.error.code).toBe("ERR_MESSAGE_TOO_LARGE")
    }
    const { session, failures } = readySession(-1)
    expect(bytesUntilFailure(session, failures, longHeader(0x00, 2n ** 53n - 1n))).toBe(-1)
  })
})
