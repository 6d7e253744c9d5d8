import { describe, expect, it } from "vitest"
import type { ZmeshError } from "../../../src/errors.js"
import { decodeMetadata, encodeMetadata } from "../../../src/zmtp/metadata.js"
import { hex } from "../../helpers/feed.js"
import { DEALER_READY } from "./fixtures.js"

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn()
  } catch (err) {
    return (err as ZmeshError).code
  }
  return undefined
}

describe("metadata (23/ZMTP: `name-length(1) name value-length(4, big-endian) value`)", () => {
  it("encodes properties in order, names byte-exact", () => {
    const bytes = encodeMetadata([
      ["Socket-Type", "DEALER"],
      ["Identity", Buffer.alloc(0)],
    ])
    expect(bytes.toString("hex")).toBe(DEALER_READY.subarray(8).toString("hex"))
  })

  it("decodes libzmq's DEALER READY properties", () => {
    const props = decodeMetadata(DEALER_READY.subarray(8))
    expect([...props.keys()]).toEqual(["Socket-Type", "Identity"])
    expect(props.get("Socket-Type")?.toString()).toBe("DEALER")
    expect(props.get("Identity")?.length).toBe(0)
  })

  it("round-trips names of 1 and 255 bytes and values of 0, 1, 255, 256 and 70000 bytes", () => {
    const value = (n: number) => Buffer.alloc(n, n & 0xff)
    const props: Array<[string, Buffer]> = [
      ["X", value(0)],
      ["X-" + "n".repeat(253), value(1)],
      ["Socket-Type", Buffer.from("ROUTER")],
      ["Identity", Buffer.from([0, 1, 2, 0xff])],
      ["X-Big", value(70000)],
      ["X-255", value(255)],
      ["X-256", value(256)],
    ]
    const decoded = decodeMetadata(encodeMetadata(props))
    expect([...decoded.entries()].map(([k, v]) => [k, v.toString("hex")])).toEqual(props.map(([k, v]) => [k, v.toString("hex")]))
  })

  it("decodes an empty property list", () => {
    expect(decodeMetadata(Buffer.alloc(0)).size).toBe(0)
  })

  it("refuses to encode an empty or over-long (256-byte) name with EINVAL", () => {
    expect(codeOf(() => encodeMetadata([["", "x"]]))).toBe("EINVAL")
    expect(codeOf(() => encodeMetadata([["n".repeat(256), "x"]]))).toBe("EINVAL")
  })

  describe("rejects malformed metadata with ERR_ZMTP_PROTOCOL", () => {
    const cases: Array<[string, Buffer]> = [
      ["a name cut short", hex("0b 53 6f 63 6b")],
      ["a name with no value length", hex("02 41 42")],
      ["a value length cut short", hex("02 41 42 00 00 00")],
      ["a value length past the end", hex("02 41 42 00 00 00 05 61 62 63")],
      ["a 2^32-1 value length", hex("01 41 ff ff ff ff 00")],
      ["a zero name length (\"Zero-sized names are not valid\")", hex("00 00 00 00 00")],
      ["a good property followed by a truncated one", hex("01 41 00 00 00 01 61  05 42")],
    ]
    for (const [name, bytes] of cases) {
      it(name, () => {
        expect(codeOf(() => decodeMetadata(bytes))).toBe("ERR_ZMTP_PROTOCOL")
      })
    }
    it("every truncation of a valid list", () => {
      const bytes = DEALER_READY.subarray(8)
      // Cutting between two properties leaves a valid list; every other cut must be refused.
      const boundaries = new Set([0, 1 + 11 + 4 + 6])
      for (let n = 1; n < bytes.length; n++) {
        if (boundaries.has(n)) expect(codeOf(() => decodeMetadata(bytes.subarray(0, n)))).toBeUndefined()
        else expect(codeOf(() => decodeMetadata(bytes.subarray(0, n)))).toBe("ERR_ZMTP_PROTOCOL")
      }
    })
  })
})
