import { describe, expect, it } from "vitest"
import {
  encodeCommand,
  encodeError,
  encodePing,
  encodePong,
  encodeReady,
  parseCommand,
  parseErrorReason,
  parsePing,
} from "../../../src/zmtp/command.js"
import { FrameDecoder } from "../../../src/zmtp/frame-decoder.js"
import { forEveryFeed, hex } from "../../helpers/feed.js"
import { DEALER_READY, PING_LOL, PONG_LOL, PUSH_READY, join } from "./fixtures.js"

/** Decodes one command frame from chunks and parses it. */
function readCommand(chunks: Buffer[]): { flags: number; name: string; data: string } {
  const dec = new FrameDecoder()
  for (const chunk of chunks) dec.push(chunk)
  if (!dec.next()) throw new Error("no complete frame")
  const { name, data } = parseCommand(dec.body)
  return { flags: dec.flags, name, data: data.toString("hex") }
}

describe("commands (23/ZMTP, 37/ZMTP)", () => {
  it("encodes a DEALER's READY exactly as libzmq: `04 29 05 READY 0B Socket-Type 00000006 DEALER 08 Identity 00000000` (43 bytes)", () => {
    const ready = encodeReady([
      ["Socket-Type", "DEALER"],
      ["Identity", Buffer.alloc(0)],
    ])
    expect(ready.length).toBe(43)
    expect(ready.toString("hex")).toBe(DEALER_READY.toString("hex"))
  })

  it("encodes a PUSH's READY with Socket-Type only", () => {
    expect(encodeReady([["Socket-Type", "PUSH"]]).toString("hex")).toBe(PUSH_READY.toString("hex"))
  })

  it("parses libzmq's DEALER READY fed whole, byte by byte and split at every offset", () => {
    forEveryFeed(DEALER_READY, readCommand, (cmd) => {
      expect(cmd.flags).toBe(0x04)
      expect(cmd.name).toBe("READY")
      expect(cmd.data).toBe(DEALER_READY.subarray(8).toString("hex"))
    })
  })

  it("encodes PING `04 0A 04 PING ttl(2) LOL` with the TTL in deciseconds, big-endian", () => {
    expect(encodePing(0, Buffer.from("LOL")).toString("hex")).toBe(PING_LOL.toString("hex"))
    expect(encodePing(300, Buffer.from("LOL")).toString("hex")).toBe("040a0450494e47012c4c4f4c")
    expect(encodePing(0).toString("hex")).toBe("04070450494e470000")
  })

  it("clamps the PING TTL to its 16-bit field", () => {
    expect(encodePing(70000).subarray(7).toString("hex")).toBe("ffff")
    expect(encodePing(-5).subarray(7).toString("hex")).toBe("0000")
  })

  it("sends at most 16 bytes of PING context", () => {
    const ping = encodePing(1, Buffer.alloc(40, 0x78))
    expect(ping.toString("hex")).toBe("04170450494e470001" + "78".repeat(16))
  })

  it("parses the test_heartbeats.cpp PING in every feed: TTL in ms, context LOL", () => {
    forEveryFeed(PING_LOL, readCommand, (cmd) => {
      expect(cmd).toEqual({ flags: 0x04, name: "PING", data: "00004c4f4c" })
      const ping = parsePing(Buffer.from(cmd.data, "hex"))
      expect(ping.ttl).toBe(0)
      expect(ping.context.toString()).toBe("LOL")
    })
    expect(parsePing(hex("01 2c")).ttl).toBe(30_000)
  })

  it("answers a PING's context with `04 08 04 PONG LOL` (test_heartbeats.cpp)", () => {
    expect(encodePong(Buffer.from("LOL")).toString("hex")).toBe(PONG_LOL.toString("hex"))
  })

  it("the echoed context \"MUST not exceed 16 octets\": a 65-byte PING context gives a 23-byte PONG", () => {
    const context = Buffer.alloc(65)
    for (let i = 0; i < 65; i++) context[i] = i
    const ping = parsePing(join(hex("00 0a"), context))
    expect(ping.context.length).toBe(16)
    const pong = encodePong(ping.context)
    expect(pong.length).toBe(23)
    expect(pong.toString("hex")).toBe("04150450" + "4f4e47" + context.subarray(0, 16).toString("hex"))
  })

  it("encodePong itself echoes at most 16 context bytes, whatever it is given", () => {
    const pong = encodePong(Buffer.alloc(65, 0x7a))
    expect(pong.toString("hex")).toBe("04150450" + "4f4e47" + "7a".repeat(16))
  })

  it("rejects a PING shorter than its 2-byte TTL with ERR_ZMTP_PROTOCOL", () => {
    expect(() => parsePing(hex("01"))).toThrow(expect.objectContaining({ code: "ERR_ZMTP_PROTOCOL" }))
  })

  it("uses the LONG form for SUBSCRIBE once name + topic exceed 255 bytes (libzmq#4564)", () => {
    const short = encodeCommand("SUBSCRIBE", Buffer.alloc(245, 0x41))
    expect(short.subarray(0, 3).toString("hex")).toBe("04ff09")
    expect(short.length).toBe(2 + 255)
    const long = encodeCommand("SUBSCRIBE", Buffer.alloc(246, 0x41))
    expect(long.subarray(0, 10).toString("hex")).toBe("06000000000000010009")
    expect(long.length).toBe(9 + 256)
    forEveryFeed(long, readCommand, (cmd) => {
      expect(cmd.flags).toBe(0x06)
      expect(cmd.name).toBe("SUBSCRIBE")
      expect(cmd.data).toBe("41".repeat(246))
    })
  })

  it("encodes `04 0B 09 SUBSCRIBE A`", () => {
    expect(encodeCommand("SUBSCRIBE", Buffer.from("A")).toString("hex")).toBe("040b09" + Buffer.from("SUBSCRIBEA").toString("hex"))
  })

  it("encodes ERROR as `05 ERROR len reason` and cuts reasons at 255 bytes", () => {
    expect(encodeError("Bad").toString("hex")).toBe("040a054552524f5203426164")
    const long = encodeError("x".repeat(300))
    const { name, data } = parseCommand(long.subarray(9))
    expect(name).toBe("ERROR")
    expect(data[0]).toBe(255)
    expect(parseErrorReason(data)).toBe("x".repeat(255))
  })

  it("parseErrorReason tolerates a reason length past the end", () => {
    expect(parseErrorReason(hex("09 41 42"))).toBe("AB")
    expect(parseErrorReason(Buffer.alloc(0))).toBe("")
  })

  it("rejects a command body with no name, a zero name length or a name past the end", () => {
    for (const body of [hex(""), hex("00 41"), hex("05 52 45 41 44")]) {
      expect(() => parseCommand(body)).toThrow(expect.objectContaining({ code: "ERR_ZMTP_PROTOCOL" }))
    }
  })

  it("accepts a command with a name and no data", () => {
    expect(parseCommand(hex("04 50 4f 4e 47"))).toEqual({ name: "PONG", data: Buffer.alloc(0) })
  })
})
