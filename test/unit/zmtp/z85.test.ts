/**
 * Z85 (RFC 32): the spec's test vector, libzmq's CURVE test keys, round
 * trips over random bytes, and the inputs it must refuse with EINVAL.
 */
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { ZmeshError } from "../../../src/errors.js"
import { publicKeyOf } from "../../../src/zmtp/mechanisms/curve-crypto.js"
import { z85Decode, z85Encode } from "../../../src/zmtp/z85.js"
import { hex } from "../../helpers/feed.js"

const ALPHABET = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/*?&<>()[]{}@%$#"

/** Runs `fn` and returns the ZmeshError code it threw. */
function codeOf(fn: () => unknown): string {
  try {
    fn()
  } catch (err) {
    expect(err).toBeInstanceOf(ZmeshError)
    return (err as ZmeshError).code
  }
  throw new Error("expected a throw")
}

describe("Z85: RFC 32 vectors", () => {
  it("encodes 86 4F D2 6F B5 59 F7 5B as HelloWorld (RFC 32 test vector)", () => {
    expect(z85Encode(hex("86 4F D2 6F B5 59 F7 5B"))).toBe("HelloWorld")
  })

  it("decodes HelloWorld to 86 4F D2 6F B5 59 F7 5B", () => {
    expect(z85Decode("HelloWorld").toString("hex")).toBe("864fd26fb559f75b")
  })

  it("maps the group extremes: 00000000 <-> 00000 and FFFFFFFF <-> %nSc0", () => {
    expect(z85Encode(Buffer.alloc(4))).toBe("00000")
    expect(z85Encode(hex("ff ff ff ff"))).toBe("%nSc0")
    expect(z85Decode("%nSc0").toString("hex")).toBe("ffffffff")
  })

  it("turns a 40-character key into 32 bytes and back (pinned)", () => {
    const key = z85Decode("Yne@$w-vo<fVvi]a<NY6T1ed:M$fCG*[IaLV{hID")
    expect(key.toString("hex")).toBe("bb88471d65e2659b30c55a5321cebb5aab2b70a398645c26dca2b2fcb43fc518")
    expect(z85Encode(key)).toBe("Yne@$w-vo<fVvi]a<NY6T1ed:M$fCG*[IaLV{hID")
  })

  // libzmq's tests/testutil_security.hpp key pairs: each decoded secret must give the decoded public key.
  it.each([
    ["server", "JTKVSB%%)wK0E.X)V>+}o?pNmC{O&4W4b!Ni{Lh6", "rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7"],
    ["client", "D:)Q[IlAW!ahhC2ac:9*A}h:p?([4%wOTJ%JR%cs", "Yne@$w-vo<fVvi]a<NY6T1ed:M$fCG*[IaLV{hID"],
  ])("decodes libzmq's test %s key pair into a matching X25519 pair", (_role, secretText, publicText) => {
    const secret = z85Decode(secretText)
    expect(secret.length).toBe(32)
    expect(publicKeyOf(secret).toString("hex")).toBe(z85Decode(publicText).toString("hex"))
  })

  it("encodes and decodes empty input as empty", () => {
    expect(z85Encode(Buffer.alloc(0))).toBe("")
    expect(z85Decode("").length).toBe(0)
  })
})

describe("Z85: round trips", () => {
  /** Byte strings whose length is a multiple of 4, as Z85 requires. */
  const groups = fc.integer({ min: 0, max: 16 }).chain((n) => fc.uint8Array({ minLength: n * 4, maxLength: n * 4 }))

  it("decode(encode(bytes)) gives the bytes back, 5 characters per 4 bytes, all from the alphabet", () => {
    fc.assert(
      fc.property(groups, (bytes) => {
        const text = z85Encode(bytes)
        expect(text.length).toBe((bytes.length / 4) * 5)
        for (const c of text) expect(ALPHABET.includes(c)).toBe(true)
        expect(z85Decode(text).toString("hex")).toBe(Buffer.from(bytes).toString("hex"))
      }),
    )
  })

  it("every 5-character group from the alphabet either re-encodes to itself or is refused as too large", () => {
    const group = fc.array(fc.constantFrom(...ALPHABET), { minLength: 5, maxLength: 5 }).map((c) => c.join(""))
    fc.assert(
      fc.property(group, (text) => {
        const value = [...text].reduce((sum, c) => sum * 85 + ALPHABET.indexOf(c), 0)
        if (value > 0xffffffff) expect(codeOf(() => z85Decode(text))).toBe("EINVAL")
        else expect(z85Encode(z85Decode(text))).toBe(text)
      }),
    )
  })

  it("is big-endian per group: the first byte is the most significant", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 0xffffffff }), (value) => {
        const bytes = Buffer.alloc(4)
        bytes.writeUInt32BE(value)
        const text = z85Encode(bytes)
        const digits = [...text].map((c) => ALPHABET.indexOf(c))
        expect(digits.reduce((sum, d) => sum * 85 + d, 0)).toBe(value)
      }),
    )
  })
})

describe("Z85: refused input (EINVAL)", () => {
  it.each([1, 2, 3, 5, 31, 33])("refuses to encode %i bytes (not a multiple of 4)", (size) => {
    expect(codeOf(() => z85Encode(Buffer.alloc(size)))).toBe("EINVAL")
  })

  it.each([1, 4, 6, 39, 41])("refuses to decode %i characters (not a multiple of 5)", (size) => {
    expect(codeOf(() => z85Decode("0".repeat(size)))).toBe("EINVAL")
  })

  it.each([
    ["a space", "Hello World"],
    ["a tilde", "Hell~World"],
    ["a double quote", 'Hell"World'],
    ["a backslash", "Hell\\World"],
    ["a comma", "Hell,World"],
    ["a non-ASCII letter", "HelloWörld"],
    ["a NUL", "Hello\u0000orld"],
  ])("refuses %s", (_what, text) => {
    expect(codeOf(() => z85Decode(text))).toBe("EINVAL")
  })

  it("refuses a group above 2^32 - 1 (%nSc1, #####)", () => {
    expect(codeOf(() => z85Decode("%nSc1"))).toBe("EINVAL")
    expect(codeOf(() => z85Decode("#####"))).toBe("EINVAL")
    expect(codeOf(() => z85Decode(`HelloWorld${"#".repeat(5)}`))).toBe("EINVAL")
  })
})
