/** MessagePack written by hand (strings; the client's frames of commands) reads back as the generic encoder's. */
import { Packr } from "msgpackr"
import { describe, expect, it } from "vitest"
import { writeCommands } from "../../src/relay/command-writer.js"
import { writeStr } from "../../src/relay/msgpack-write.js"
import { Op } from "../../src/relay/protocol.js"

const generic = new Packr({ useRecords: false, moreTypes: false, mapsAsObjects: true })

/** Binaries as hex, so that Buffer and Uint8Array compare equal. */
function plain(v: unknown): unknown {
  if (v instanceof Uint8Array) return Buffer.from(v).toString("hex")
  if (Array.isArray(v)) return v.map(plain)
  return v
}

describe("writeStr", () => {
  const strings = [
    "",
    "q",
    "a".repeat(31),
    "a".repeat(32),
    "orders.eu-west/1:x",
    "a".repeat(255),
    "a".repeat(256),
    "a".repeat(70_000),
    "é",
    "é-id",
    `${"a".repeat(30)}é`, // 31 characters, 32 bytes
    `${"a".repeat(254)}é`, // 255 characters, 256 bytes
    `id-${"x".repeat(20)}-😀`,
    "日本語のキュー",
  ]

  it.each(strings.map((s) => [s.length > 40 ? `${s.slice(0, 12)}... (${s.length})` : s, s]))("writes %j as MessagePack any decoder reads", (_, s) => {
    const buf = Buffer.alloc(8 + 3 * s.length, 0xee)
    const end = writeStr(buf, 3, s)
    expect(generic.unpack(buf.subarray(3, end))).toBe(s)
    // The same length header as the generic encoder for ASCII, and nothing written past the end.
    if (/^[\x00-\x7f]*$/.test(s) && s.length < 0x10000) expect(buf.subarray(3, end).equals(generic.pack(s))).toBe(true)
    expect(buf[end]).toBe(0xee)
  })
})

describe("writeCommands", () => {
  it("encodes the client's commands so that they decode to the same values", () => {
    const body = Buffer.alloc(256, 7)
    const commands: unknown[][] = [
      [Op.HELLO, 1, 1],
      [Op.SEND, 2, "orders", "0b6f3c9e-5d0a-4c55-9f3e-2f1f5a0c9d11", body, null, null, null],
      [Op.SEND, 3, "orders", "é-id", new Uint8Array([1, 2, 3]), { a: "b", "x-trace": "é".repeat(40) }, 30_000, null],
      [Op.SEND, 2 ** 33, "q".repeat(200), "x".repeat(255), Buffer.alloc(70_000, 1), {}, null, 1_764_353_000_000],
      [Op.CONSUME, 5, 1, "orders", "billing", 100, 30_000, 5, "orders.dlq"],
      [Op.STOP, 6, 1, [2 ** 30, 2 ** 30 + 1, 7]],
      [Op.ACK, 7, 2 ** 30 + 5],
      [Op.NACK, 8, 12, 0],
      [Op.PING],
      [Op.BYE],
      [true, false],
    ]
    const decoded = generic.unpack(writeCommands(commands)) as unknown[]
    expect(decoded.map(plain)).toEqual((generic.unpack(generic.pack(commands)) as unknown[]).map(plain))
  })

  it("hands commands holding other values to the generic encoder whole", () => {
    const odd: unknown[][] = [
      [Op.SEND, 1, "q", "id", Buffer.from("x"), { n: 1 }, null, null], // a header that is not a string
      [Op.ACK, -1, 1.5], // negative and fractional numbers
      [Op.PING, undefined],
      [Op.SEND, 2, "q", "id", Buffer.from("y"), null, null, null],
    ]
    const decoded = generic.unpack(writeCommands(odd)) as unknown[]
    expect(decoded.map(plain)).toEqual((generic.unpack(generic.pack(odd)) as unknown[]).map(plain))
  })

  it("writes an empty frame and a frame of many commands", () => {
    expect(generic.unpack(writeCommands([]))).toEqual([])
    const many = Array.from({ length: 70_000 }, (_, i) => [Op.ACK, i + 1, i])
    expect(generic.unpack(writeCommands(many))).toEqual(many)
  })
})
