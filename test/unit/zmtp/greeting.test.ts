import { describe, expect, it } from "vitest"
import { GREETING_SIZE, checkGreetingPrefix, encodeGreeting, parseGreeting } from "../../../src/zmtp/greeting.js"
import type { Greeting } from "../../../src/zmtp/greeting.js"
import { forEveryFeed, hex } from "../../helpers/feed.js"
import { LIBZMQ_GREETING, NULL_GREETING, greeting } from "./fixtures.js"

/**
 * Reads a greeting as a stream parser must: checks the prefix after every
 * chunk and parses once 64 bytes are in. Reports how many bytes had arrived
 * when it decided.
 */
function readGreeting(chunks: Buffer[]): { result: Greeting | string | undefined; decidedAt: number } {
  const seen: Buffer[] = []
  let length = 0
  for (const chunk of chunks) {
    for (let i = 0; i < chunk.length; i++) {
      // Decide byte by byte inside a chunk too: the prefix check is what lets us stop early.
      seen.push(chunk.subarray(i, i + 1))
      length++
      const prefix = Buffer.concat(seen)
      const bad = checkGreetingPrefix(prefix, length)
      if (bad !== undefined) return { result: bad, decidedAt: length }
      if (length === GREETING_SIZE) return { result: parseGreeting(prefix), decidedAt: length }
    }
  }
  return { result: undefined, decidedAt: length }
}

describe("greeting (23/ZMTP, 37/ZMTP)", () => {
  it("encodes the NULL greeting byte-exactly: ff, 8 zero padding bytes, 7f, version 3.1, NUL-padded NULL, as-server 0 (NULL: \"the as-server field MUST be zero\"), 31 zeros", () => {
    const ours = encodeGreeting("NULL", false)
    expect(ours.length).toBe(64)
    expect(ours.toString("hex")).toBe(NULL_GREETING.toString("hex"))
  })

  it("sets the as-server byte (offset 32) for a PLAIN/CURVE server and pads the mechanism name with NULs", () => {
    const ours = encodeGreeting("PLAIN", true)
    expect(ours.toString("hex")).toBe(greeting({ mechanism: "PLAIN", asServer: 1 }).toString("hex"))
    expect(ours[32]).toBe(1)
  })

  it("parses our own NULL greeting fed whole, byte by byte and split at every offset", () => {
    forEveryFeed(NULL_GREETING, readGreeting, ({ result, decidedAt }) => {
      expect(decidedAt).toBe(64)
      expect(result).toEqual({ major: 3, minor: 1, mechanism: "NULL", asServer: false })
    })
  })

  it("padding: a peer \"MUST NOT validate this nor interpret it\": accepts libzmq's u64be(routing_id_len+1)", () => {
    expect(LIBZMQ_GREETING.subarray(1, 9).toString("hex")).toBe("0000000000000001")
    forEveryFeed(LIBZMQ_GREETING, readGreeting, ({ result }) => {
      expect(result).toEqual({ major: 3, minor: 1, mechanism: "NULL", asServer: false })
    })
  })

  it("ignores any non-zero padding bytes", () => {
    const bytes = greeting({ padding: "de ad be ef 01 02 03 ff" })
    forEveryFeed(bytes, readGreeting, ({ result }) => {
      expect(result).toEqual({ major: 3, minor: 1, mechanism: "NULL", asServer: false })
    })
  })

  it("accepts a 3.0 peer (libzmq 4.3.0-4.3.2 advertise minor 0) and reports minor 0", () => {
    forEveryFeed(greeting({ minor: 0 }), readGreeting, ({ result }) => {
      expect(result).toEqual({ major: 3, minor: 0, mechanism: "NULL", asServer: false })
    })
  })

  it("\"A peer MUST accept higher protocol versions as valid\" (major 4)", () => {
    expect(parseGreeting(greeting({ major: 4, minor: 0 }))).toEqual({ major: 4, minor: 0, mechanism: "NULL", asServer: false })
  })

  it("accepts byte 9 with only its low bit set, as libzmq tests only `& 1`", () => {
    expect(parseGreeting(greeting({ byte9: 0x01 }))).toMatchObject({ major: 3, mechanism: "NULL" })
  })

  it("keeps bytes after an embedded NUL in the mechanism name (libzmq compares all 20 bytes)", () => {
    const bytes = greeting()
    bytes.write("XYZ", 17, "latin1")
    const parsed = parseGreeting(bytes)
    expect(typeof parsed === "string" ? parsed : parsed.mechanism).not.toBe("NULL")
  })

  it("reads the mechanism name without its trailing NULs, and the as-server bit", () => {
    expect(parseGreeting(greeting({ mechanism: "CURVE", asServer: 1 }))).toEqual({
      major: 3,
      minor: 1,
      mechanism: "CURVE",
      asServer: true,
    })
  })

  describe("\"If a peer cannot downgrade its protocol to match its peer, it MUST close the connection\": decided after the first bad byte", () => {
    const cases: Array<{ name: string; bytes: Buffer; badAt: number; reason: RegExp }> = [
      { name: "bad signature byte 0 (0x00)", bytes: greeting({ byte0: 0x00 }), badAt: 1, reason: /bad signature byte 0x00/ },
      { name: "HTTP request instead of a greeting", bytes: Buffer.from("GET / HTTP/1.1\r\nHost: x\r\n\r\n".padEnd(64, " ")), badAt: 1, reason: /0x47/ },
      { name: "ZMTP 1.0 peer: byte 9 has its low bit clear", bytes: greeting({ byte9: 0x00 }), badAt: 10, reason: /offset 9.*ZMTP 1\.0/ },
      { name: "ZMTP 1.0 long identity frame: ff, u64be(256), flags 00", bytes: greeting({ padding: "00 00 00 00 00 00 01 00", byte9: 0x00 }), badAt: 10, reason: /ZMTP 1\.0/ },
      { name: "byte 9 = 0x7e (low bit clear)", bytes: greeting({ byte9: 0x7e }), badAt: 10, reason: /0x7e at offset 9/ },
      { name: "ZMTP 2.0 peer (revision 01)", bytes: greeting({ major: 1 }), badAt: 11, reason: /ZMTP 1\.x/ },
      { name: "major version 2", bytes: greeting({ major: 2 }), badAt: 11, reason: /ZMTP 2\.x; 3\.0 or later is required/ },
    ]
    for (const c of cases) {
      it(`${c.name}: reported once ${c.badAt} byte(s) are in`, () => {
        forEveryFeed(c.bytes, readGreeting, ({ result, decidedAt }) => {
          expect(typeof result).toBe("string")
          expect(result).toMatch(c.reason)
          expect(decidedAt).toBe(c.badAt)
        })
      })
    }
  })

  it("checkGreetingPrefix says nothing about bytes it has not seen", () => {
    const bad = greeting({ major: 2 })
    for (let n = 0; n <= 10; n++) expect(checkGreetingPrefix(bad, n)).toBeUndefined()
    expect(checkGreetingPrefix(bad, 11)).toBeDefined()
    expect(checkGreetingPrefix(hex("00"), 0)).toBeUndefined()
    expect(checkGreetingPrefix(hex("00"), 1)).toMatch(/bad signature byte 0x00/)
  })

  it("parseGreeting returns the reason for a complete but bad greeting", () => {
    expect(parseGreeting(greeting({ byte0: 0x7f }))).toMatch(/bad signature byte 0x7f/)
    expect(parseGreeting(greeting({ major: 2 }))).toMatch(/3\.0 or later/)
  })
})
