/** The relay protocol's frame encoding: DELIVER commands written by hand decode as the generic encoder's would. */
import { Packr } from "msgpackr"
import { describe, expect, it } from "vitest"
import { Op, decodeFrame, encodeFrame } from "../../src/relay/protocol.js"

const generic = new Packr({ useRecords: false, moreTypes: false })

describe("relay frames", () => {
  it("encodes DELIVER commands, mixed with others, into MessagePack any decoder reads back", () => {
    const deliveries = Array.from({ length: 40 }, (_, i) => [
      Op.DELIVER,
      i + 1,
      2 ** 30 + i,
      i % 2 === 0 ? "orders" : "q".repeat(200),
      i % 3 === 0 ? "é-id" : `id-${i}`,
      2 ** 33 + i,
      Buffer.alloc(i * 1000, i),
      i % 4 === 0 ? null : { a: "b", "x-dead-letter-reason": "max-deliveries" },
      i + 1,
      1_764_353_000_000 + i,
      i % 5 === 0 ? null : `producer-${i}`,
      i % 5 === 0 ? null : 2 ** 40 + i,
    ])
    const frame = [[Op.CONFIRMS, [1, 2, 3, 4]], ...deliveries, [Op.OKS, [5, 6]], [Op.ERROR, 7, "ERR_RELAY_PROTOCOL", "no"]]
    const decoded = decodeFrame(encodeFrame(frame))
    const expected = generic.unpack(generic.pack(frame)) as unknown[][]
    expect(decoded).toHaveLength(frame.length)
    decoded.forEach((c, i) => {
      expect(c.map((v) => (v instanceof Uint8Array ? Buffer.from(v).toString("hex") : v))).toEqual(
        expected[i]!.map((v) => (v instanceof Uint8Array ? Buffer.from(v).toString("hex") : v)),
      )
    })
  })

  it("uses the generic encoder when no DELIVER is in the frame", () => {
    const frame = [[Op.OK, 1, { version: 1 }], [Op.PONG]]
    expect(encodeFrame(frame).equals(generic.pack(frame))).toBe(true)
  })
})
