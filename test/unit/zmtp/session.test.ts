import { describe, expect, it } from "vitest"
import { encodeCommand, encodeReady } from "../../../src/zmtp/command.js"
import type { Mechanism, MechanismHost } from "../../../src/zmtp/mechanisms/mechanism.js"
import { forEveryFeed, hex } from "../../helpers/feed.js"
import {
  DEALER_READY,
  LIBZMQ_GREETING,
  NULL_GREETING,
  PING_LOL,
  PONG_LOL,
  PULL_READY,
  PUSH_READY,
  ROUTER_READY,
  greeting,
  join,
  pattern,
} from "./fixtures.js"
import { End, connect, feedSession, pump, text } from "./session-harness.js"

/** A data frame with the short or long header libzmq would write. */
function frame(body: Buffer, more = false): Buffer {
  const flags = more ? 1 : 0
  if (body.length <= 255) return join(Buffer.from([flags, body.length]), body)
  const header = Buffer.alloc(9)
  header[0] = flags | 0x02
  header.writeBigUInt64BE(BigInt(body.length), 1)
  return join(header, body)
}

function message(...frames: Buffer[]): Buffer {
  return join(...frames.map((f, i) => frame(f, i < frames.length - 1)))
}

/**
 * A mechanism that declares the handshake done at once, with the given peer
 * type: it lets the size tests send data frames without a READY command.
 */
class ReadyAtOnce implements Mechanism {
  readonly name = "NULL" as const
  readonly asServer = false
  private readonly peerType: string

  constructor(peerType: string) {
    this.peerType = peerType
  }

  start(host: MechanismHost): void {
    host.ready(new Map([["Socket-Type", Buffer.from(this.peerType)]]))
  }

  onCommand(): void {}
}

describe("Session: NULL handshake between two sessions", () => {
  it("both sides reach ready with the peer's Socket-Type, Identity (as routingId) and minor version", () => {
    const [dealer, router] = connect({ socketType: "DEALER", routingId: Buffer.from("A") }, { socketType: "ROUTER" })
    expect(dealer.failures).toEqual([])
    expect(router.failures).toEqual([])
    expect(dealer.session.isReady).toBe(true)
    expect(router.session.isReady).toBe(true)
    expect(router.peer?.socketType).toBe("DEALER")
    expect(router.peer?.routingId.toString()).toBe("A")
    expect(router.peer?.minor).toBe(1)
    expect(router.peer?.metadata.get("Socket-Type")?.toString()).toBe("DEALER")
    expect(dealer.peer?.socketType).toBe("ROUTER")
    expect(dealer.peer?.routingId.length).toBe(0)
    expect(dealer.peer?.minor).toBe(1)
    expect(router.session.peerMinorVersion).toBe(1)
  })

  it("sends the whole 64-byte greeting at once, then READY: byte-exact to libzmq", () => {
    const [dealer, router] = connect({ socketType: "DEALER" }, { socketType: "ROUTER" })
    expect(dealer.allSent().toString("hex")).toBe(join(NULL_GREETING, DEALER_READY).toString("hex"))
    expect(router.allSent().toString("hex")).toBe(join(NULL_GREETING, ROUTER_READY).toString("hex"))
  })

  it("sends the greeting from start(), before any peer byte arrives", () => {
    const end = new End({ socketType: "PAIR" })
    end.session.start()
    expect(end.flushCalls).toBe(1)
    expect(end.output().toString("hex")).toBe(NULL_GREETING.toString("hex"))
  })

  it("sends a non-empty Identity in READY: `08 Identity 00000001 41`", () => {
    const [dealer] = connect({ socketType: "DEALER", routingId: Buffer.from("A") }, { socketType: "ROUTER" })
    const ready = dealer.allSent().subarray(64)
    expect(ready.subarray(0, 2).toString("hex")).toBe("042a")
    expect(ready.subarray(-14).toString("hex")).toBe("08" + text("Identity") + "00000001" + "41")
  })

  it("carries messages both ways, \"all the frames of a message, or none of them\", in order and of every header size", () => {
    const [a, b] = connect({ socketType: "DEALER" }, { socketType: "DEALER" })
    const sent = [[Buffer.alloc(0)], [Buffer.from("ABC"), Buffer.alloc(0), Buffer.from("DEF")], [pattern(255), pattern(256)], [pattern(5000)], [pattern(70000)]]
    for (const m of sent) a.session.send(m)
    for (const m of sent.slice().reverse()) b.session.send(m)
    pump(a, b)
    const asHex = (ms: Buffer[][]) => ms.map((m) => m.map((f) => f.toString("hex")))
    expect(b.messages).toEqual(asHex(sent))
    expect(a.messages).toEqual(asHex(sent.slice().reverse()))
    expect(a.failures).toEqual([])
    expect(b.failures).toEqual([])
  })

  it("on PING it \"SHALL respond with a PONG command that echoes the ping-context\", and reports the TTL (deciseconds on the wire) in ms", () => {
    const [a, b] = connect({ socketType: "PAIR" }, { socketType: "PAIR" })
    a.session.ping(3000, Buffer.from("LOL"))
    const ping = a.output()
    // TTL 3000 ms travels as 30 deciseconds.
    expect(ping.toString("hex")).toBe("040a0450494e47001e4c4f4c")
    b.session.push(ping)
    expect(b.pings).toEqual([3000])
    const pong = b.output()
    expect(pong.toString("hex")).toBe(PONG_LOL.toString("hex"))
    a.session.push(pong)
    expect(a.messages).toEqual([])
    expect(a.commands).toEqual([])
    expect(a.failures).toEqual([])
    expect(b.messages).toEqual([])
  })

  it("fails both sides on incompatible socket types (PUSH vs PUSH): handshake 'protocol', ERR_SOCKET_TYPE", () => {
    const [a, b] = connect({ socketType: "PUSH" }, { socketType: "PUSH" })
    for (const end of [a, b]) {
      expect(end.peer).toBeUndefined()
      expect(end.failure?.handshake).toBe("protocol")
      expect(end.failure?.error.code).toBe("ERR_SOCKET_TYPE")
      expect(end.failure?.error.detail).toMatch(/PUSH cannot talk to a PUSH peer/)
      expect(end.session.isClosed).toBe(true)
    }
  })

  it("reports nothing more once failed: later input is ignored", () => {
    const [a] = connect({ socketType: "PUSH" }, { socketType: "PUSH" })
    a.session.push(message(Buffer.from("late")))
    a.session.push(PING_LOL)
    expect(a.messages).toEqual([])
    expect(a.pings).toEqual([])
    expect(a.failures.length).toBe(1)
  })
})

describe("Session: against a fake libzmq peer, fed whole, byte by byte and split at every offset", () => {
  const fromPeer = join(
    LIBZMQ_GREETING,
    DEALER_READY,
    message(Buffer.alloc(0), Buffer.from("ABC")),
    hex("04 0a 04 50 49 4e 47 00 1e 4c 4f 4c"),
    message(pattern(300)),
    message(Buffer.from("X"), Buffer.from("Y"), Buffer.alloc(0), Buffer.from("A")),
  )

  it("a ROUTER reaches ready with the DEALER's properties, receives every message and answers the PING", () => {
    forEveryFeed(fromPeer, feedSession({ socketType: "ROUTER" }), (end) => {
      expect(end.failures).toEqual([])
      expect(end.peer?.socketType).toBe("DEALER")
      expect(end.peer?.routingId.length).toBe(0)
      expect(end.peer?.minor).toBe(1)
      expect(end.messages).toEqual([["", text("ABC")], [pattern(300).toString("hex")], [text("X"), text("Y"), "", text("A")]])
      expect(end.pings).toEqual([3000])
      expect(end.allSent().toString("hex")).toBe(join(NULL_GREETING, ROUTER_READY, hex("04 08 04 50 4f 4e 47 4c 4f 4c")).toString("hex"))
    })
  })

  it("sends the fake peer the same messages back, framed as libzmq frames them", () => {
    const end = feedSession({ socketType: "ROUTER" })([fromPeer])
    end.output()
    end.session.send([Buffer.alloc(0), Buffer.from("ABC")])
    end.session.send([pattern(300)])
    end.session.send([Buffer.from("X"), Buffer.from("Y"), Buffer.alloc(0), Buffer.from("A")])
    const bytes = end.output()
    expect(bytes.toString("hex")).toBe(
      join(
        hex("01 00  00 03 41 42 43"),
        hex("02 00 00 00 00 00 00 01 2c"),
        pattern(300),
        hex("01 01 58  01 01 59  01 00  00 01 41"),
      ).toString("hex"),
    )
    // And what we frame is what we decode: loop it into a fresh session.
    forEveryFeed(join(LIBZMQ_GREETING, DEALER_READY, bytes), feedSession({ socketType: "ROUTER" }), (other) => {
      expect(other.messages).toEqual([["", text("ABC")], [pattern(300).toString("hex")], [text("X"), text("Y"), "", text("A")]])
    })
  })

  it("reports minor 0 for a ZMTP 3.0 peer (libzmq 4.3.0-4.3.2)", () => {
    forEveryFeed(join(greeting({ minor: 0 }), PUSH_READY), feedSession({ socketType: "PULL" }), (end) => {
      expect(end.failures).toEqual([])
      expect(end.peer).toMatchObject({ socketType: "PUSH", minor: 0 })
      expect(end.session.peerMinorVersion).toBe(0)
    })
  })

  it("ignores non-zero greeting padding", () => {
    forEveryFeed(join(greeting({ padding: "ff ff ff ff ff ff ff ff" }), PULL_READY), feedSession({ socketType: "PUSH" }), (end) => {
      expect(end.failures).toEqual([])
      expect(end.peer?.socketType).toBe("PULL")
    })
  })

  it("echoes only 16 bytes of a 65-byte PING context: a 23-byte PONG", () => {
    const context = pattern(65, 9)
    const ping = join(hex("04 48 04 50 49 4e 47 00 00"), context)
    forEveryFeed(join(LIBZMQ_GREETING, PULL_READY, ping), feedSession({ socketType: "PUSH" }), (end) => {
      expect(end.failures).toEqual([])
      const pong = end.allSent().subarray(64 + PUSH_READY.length)
      expect(pong.length).toBe(23)
      expect(pong.toString("hex")).toBe("0415" + "04" + text("PONG") + context.subarray(0, 16).toString("hex"))
    })
  })

  it("hands commands other than PING/PONG/ERROR to the socket (SUBSCRIBE `04 0B 09 SUBSCRIBE A`)", () => {
    const subReady = encodeReady([["Socket-Type", "SUB"]])
    const subscribe = hex("04 0b 09 53 55 42 53 43 52 49 42 45 41")
    forEveryFeed(join(LIBZMQ_GREETING, subReady, subscribe), feedSession({ socketType: "XPUB" }), (end) => {
      expect(end.failures).toEqual([])
      expect(end.commands).toEqual([{ name: "SUBSCRIBE", data: "41" }])
      expect(end.messages).toEqual([])
    })
  })

  it("a PONG is absorbed: no message, no command", () => {
    forEveryFeed(join(LIBZMQ_GREETING, PULL_READY, PONG_LOL), feedSession({ socketType: "PUSH" }), (end) => {
      expect(end.failures).toEqual([])
      expect(end.commands).toEqual([])
      expect(end.messages).toEqual([])
    })
  })
})

describe("Session: handshake failures", () => {
  it("mechanism mismatch (greeting says PLAIN): \"does not exactly match the mechanism it sent, it MUST close the connection\"; no READY is sent", () => {
    forEveryFeed(greeting({ mechanism: "PLAIN" }), feedSession({ socketType: "DEALER" }), (end) => {
      expect(end.peer).toBeUndefined()
      expect(end.failure?.handshake).toBe("protocol")
      expect(end.failure?.error.code).toBe("ERR_ZMTP_MECHANISM_MISMATCH")
      expect(end.failure?.error.detail).toMatch(/"PLAIN"/)
      expect(end.allSent().toString("hex")).toBe(NULL_GREETING.toString("hex"))
    })
  })

  it("compares the mechanism on all 20 bytes, as libzmq does: NUL-separated 'NULL\\0XYZ' is not NULL", () => {
    const bytes = Buffer.from(NULL_GREETING)
    bytes.write("XYZ", 17, "latin1")
    forEveryFeed(bytes, feedSession({ socketType: "DEALER" }), (end) => {
      expect(end.failure?.error.code).toBe("ERR_ZMTP_MECHANISM_MISMATCH")
    })
  })

  it("fails on a data frame before the handshake (messages only \"after completing its handshake, that is, having both sent and received a READY command\")", () => {
    forEveryFeed(join(LIBZMQ_GREETING, hex("00 03 61 62 63"), PULL_READY), feedSession({ socketType: "PUSH" }), (end) => {
      expect(end.peer).toBeUndefined()
      expect(end.messages).toEqual([])
      expect(end.failure?.handshake).toBe("protocol")
      expect(end.failure?.error.code).toBe("ERR_ZMTP_PROTOCOL")
      expect(end.failure?.error.detail).toMatch(/before the handshake/)
    })
  })

  it("fails on a PING during the NULL handshake (PING is sent \"at any point after the security handshake is complete\")", () => {
    forEveryFeed(join(LIBZMQ_GREETING, PING_LOL, PULL_READY), feedSession({ socketType: "PUSH" }), (end) => {
      expect(end.peer).toBeUndefined()
      expect(end.pings).toEqual([])
      expect(end.failure?.handshake).toBe("protocol")
      expect(end.failure?.error.detail).toMatch(/unexpected PING/)
    })
  })

  it("an ERROR during the handshake is fatal (\"SHALL treat an incoming ERROR command as fatal\") and its reason is reported", () => {
    const error = hex("04 0e 05 45 52 52 4f 52  07 44 65 6e 69 65 64 21")
    forEveryFeed(join(LIBZMQ_GREETING, error), feedSession({ socketType: "PUSH" }), (end) => {
      expect(end.failure?.handshake).toBe("protocol")
      expect(end.failure?.error.code).toBe("ERR_PEER_ERROR")
      expect(end.failure?.error.detail).toMatch(/Denied!/)
      expect(end.failure?.error.status).toBeUndefined()
    })
  })

  it("fails on a READY without Socket-Type", () => {
    const ready = encodeReady([["Identity", "x"]])
    forEveryFeed(join(LIBZMQ_GREETING, ready), feedSession({ socketType: "PUSH" }), (end) => {
      expect(end.failure?.handshake).toBe("protocol")
      expect(end.failure?.error.detail).toMatch(/no Socket-Type/)
    })
  })

  it("compares Socket-Type byte-exactly: 'pull' is refused with ERR_SOCKET_TYPE", () => {
    const ready = encodeReady([["Socket-Type", "pull"]])
    forEveryFeed(join(LIBZMQ_GREETING, ready), feedSession({ socketType: "PUSH" }), (end) => {
      expect(end.failure?.handshake).toBe("protocol")
      expect(end.failure?.error.code).toBe("ERR_SOCKET_TYPE")
    })
  })

  it("fails on malformed READY metadata (value length past the end) with ERR_ZMTP_PROTOCOL", () => {
    // Socket-Type claims 9 value bytes; only "PU" follows.
    const body = hex("05 52 45 41 44 59  0b 53 6f 63 6b 65 74 2d 54 79 70 65 00 00 00 09 50 55")
    const fixed = join(Buffer.from([0x04, body.length]), body)
    forEveryFeed(join(LIBZMQ_GREETING, fixed), feedSession({ socketType: "PUSH" }), (end) => {
      expect(end.peer).toBeUndefined()
      expect(end.failure?.handshake).toBe("protocol")
      expect(end.failure?.error.code).toBe("ERR_ZMTP_PROTOCOL")
      expect(end.failure?.error.detail).toMatch(/malformed metadata/)
    })
  })

  it("fails on a malformed frame during the handshake (reserved flag bits) as a 'protocol' handshake failure", () => {
    forEveryFeed(join(LIBZMQ_GREETING, hex("84 01 41")), feedSession({ socketType: "PUSH" }), (end) => {
      expect(end.failure?.handshake).toBe("protocol")
      expect(end.failure?.error.code).toBe("ERR_ZMTP_PROTOCOL")
    })
  })

  describe("drops a peer that is not ZMTP 3.x right after the first bad byte", () => {
    const cases: Array<[string, Buffer, number]> = [
      ["bad signature byte 0", greeting({ byte0: 0x01 }), 1],
      ["ZMTP 1.0 (byte 9 low bit clear)", greeting({ byte9: 0x00 }), 10],
      ["major version 2", greeting({ major: 2 }), 11],
    ]
    for (const [name, bytes, badAt] of cases) {
      it(`${name}: fails after byte ${badAt}, having sent only its greeting`, () => {
        const end = new End({ socketType: "DEALER" })
        end.session.start()
        let failedAt = -1
        for (let i = 0; i < bytes.length && failedAt < 0; i++) {
          end.session.push(bytes.subarray(i, i + 1))
          if (end.failures.length > 0) failedAt = i + 1
        }
        expect(failedAt).toBe(badAt)
        expect(end.failure?.handshake).toBe("protocol")
        expect(end.failure?.error.code).toBe("ERR_ZMTP_PROTOCOL")
        expect(end.failure?.error.detail).toMatch(/could not read greeting/)
        expect(end.allSent().toString("hex")).toBe(NULL_GREETING.toString("hex"))
        // And in every other chunking the outcome is the same.
        forEveryFeed(bytes, feedSession({ socketType: "DEALER" }), (other) => {
          expect(other.failure?.error.code).toBe("ERR_ZMTP_PROTOCOL")
          expect(other.allSent().length).toBe(64)
        })
      })
    }
  })
})

describe("Session: failures after the handshake", () => {
  it("an ERROR after the handshake is fatal too: ERR_PEER_ERROR, no handshake kind", () => {
    const error = hex("04 0b 05 45 52 52 4f 52  04 42 79 65 21")
    forEveryFeed(join(LIBZMQ_GREETING, PULL_READY, message(Buffer.from("m")), error), feedSession({ socketType: "PUSH" }), (end) => {
      expect(end.peer?.socketType).toBe("PULL")
      expect(end.messages).toEqual([[text("m")]])
      expect(end.failure?.handshake).toBeUndefined()
      expect(end.failure?.error.code).toBe("ERR_PEER_ERROR")
      expect(end.failure?.error.detail).toMatch(/Bye!/)
    })
  })

  it("a command frame with MORE set (\"SHALL be zero on command frames\") is a protocol error", () => {
    forEveryFeed(join(LIBZMQ_GREETING, PUSH_READY, hex("05 05 04 50 49 4e 47")), feedSession({ socketType: "PULL" }), (end) => {
      expect(end.failure?.handshake).toBeUndefined()
      expect(end.failure?.error.code).toBe("ERR_ZMTP_PROTOCOL")
    })
  })

  it("a PING shorter than its TTL is a protocol error", () => {
    forEveryFeed(join(LIBZMQ_GREETING, PUSH_READY, hex("04 06 04 50 49 4e 47 00")), feedSession({ socketType: "PULL" }), (end) => {
      expect(end.failure?.error.code).toBe("ERR_ZMTP_PROTOCOL")
      expect(end.allSent().length).toBe(64 + PULL_READY.length)
    })
  })
})

describe("Session: maxMessageSize counts the whole multipart message", () => {
  const greetingNull = NULL_GREETING
  const twoSix = message(pattern(6, 1), pattern(6, 2))

  it("two 6-byte frames with maxMessageSize 10 fail with ERR_MESSAGE_TOO_LARGE after the handshake", () => {
    forEveryFeed(join(greetingNull, twoSix), feedSession({ socketType: "PULL", maxMessageSize: 10, mechanism: new ReadyAtOnce("PUSH") }), (end) => {
      expect(end.peer?.socketType).toBe("PUSH")
      expect(end.messages).toEqual([])
      expect(end.failure?.handshake).toBeUndefined()
      expect(end.failure?.error.code).toBe("ERR_MESSAGE_TOO_LARGE")
    })
  })

  it("two 6-byte frames with maxMessageSize 12 pass, and the limit starts afresh for each message", () => {
    forEveryFeed(join(greetingNull, twoSix, twoSix, message(pattern(12))), feedSession({ socketType: "PULL", maxMessageSize: 12, mechanism: new ReadyAtOnce("PUSH") }), (end) => {
      expect(end.failures).toEqual([])
      const m = [pattern(6, 1).toString("hex"), pattern(6, 2).toString("hex")]
      expect(end.messages).toEqual([m, m, [pattern(12).toString("hex")]])
    })
  })

  it("a single frame one byte over maxMessageSize fails", () => {
    forEveryFeed(join(greetingNull, message(pattern(13))), feedSession({ socketType: "PULL", maxMessageSize: 12, mechanism: new ReadyAtOnce("PUSH") }), (end) => {
      expect(end.failure?.error.code).toBe("ERR_MESSAGE_TOO_LARGE")
    })
  })

  it("fails on the second frame's header, before its body arrives", () => {
    const end = feedSession({ socketType: "PULL", maxMessageSize: 10, mechanism: new ReadyAtOnce("PUSH") })([
      greetingNull,
      frame(pattern(6), true),
      hex("00 06"),
    ])
    expect(end.failure?.error.code).toBe("ERR_MESSAGE_TOO_LARGE")
  })

  it("with the NULL handshake: two 30-byte frames fail under a 50-byte limit and pass under 60", () => {
    const twoThirty = message(pattern(30, 1), pattern(30, 2))
    forEveryFeed(join(LIBZMQ_GREETING, PUSH_READY, twoThirty), feedSession({ socketType: "PULL", maxMessageSize: 50 }), (end) => {
      expect(end.peer?.socketType).toBe("PUSH")
      expect(end.messages).toEqual([])
      expect(end.failure?.handshake).toBeUndefined()
      expect(end.failure?.error.code).toBe("ERR_MESSAGE_TOO_LARGE")
    })
    forEveryFeed(join(LIBZMQ_GREETING, PUSH_READY, twoThirty), feedSession({ socketType: "PULL", maxMessageSize: 60 }), (end) => {
      expect(end.failures).toEqual([])
      expect(end.messages).toEqual([[pattern(30, 1).toString("hex"), pattern(30, 2).toString("hex")]])
    })
  })

  // Regression (libzmq#4436, fixed in f41861f): the limit used to apply to handshake
  // commands too, so a PUSH's READY (`04 1a 05 READY 0b Socket-Type 00000004 PUSH`,
  // a 26-byte body) was refused under maxMessageSize 12 and no peer could connect.
  it("maxMessageSize limits messages, not the handshake: PUSH/PULL sessions with a 12-byte limit connect and pass two 6-byte frames", () => {
    const [push, pull] = connect({ socketType: "PUSH", maxMessageSize: 12 }, { socketType: "PULL", maxMessageSize: 12 })
    expect(pull.failures).toEqual([])
    expect(push.failures).toEqual([])
    push.session.send([pattern(6, 1), pattern(6, 2)])
    pump(push, pull)
    expect(pull.messages).toEqual([[pattern(6, 1).toString("hex"), pattern(6, 2).toString("hex")]])
    push.session.send([pattern(6, 1), pattern(7, 2)])
    pump(push, pull)
    expect(pull.failure?.error.code).toBe("ERR_MESSAGE_TOO_LARGE")
  })

  it("with a limit set, commands are still bounded: a 64 KiB SUBSCRIBE passes, a larger one fails", () => {
    const subReady = encodeReady([["Socket-Type", "SUB"]])
    const subscribe = (topicSize: number) => encodeCommand("SUBSCRIBE", Buffer.alloc(topicSize, 0x41))
    // Body = 1 + 9 + topic: 65536 bytes exactly, then one more.
    const ok = feedSession({ socketType: "XPUB", maxMessageSize: 12 })([join(LIBZMQ_GREETING, subReady, subscribe(65526))])
    expect(ok.failures).toEqual([])
    expect(ok.commands.length).toBe(1)
    const tooBig = feedSession({ socketType: "XPUB", maxMessageSize: 12 })([join(LIBZMQ_GREETING, subReady, subscribe(65527).subarray(0, 9))])
    expect(tooBig.failure?.error.code).toBe("ERR_MESSAGE_TOO_LARGE")
  })

  it("without a limit (-1) commands are bounded too: a READY past 64 KiB is refused from its header", () => {
    const bigReady = encodeReady([["Socket-Type", "PUSH"], ["X-Padding", Buffer.alloc(70_000)]])
    const end = feedSession({ socketType: "PULL", maxMessageSize: -1 })([join(LIBZMQ_GREETING, bigReady.subarray(0, 9))])
    expect(end.failure?.handshake).toBe("protocol")
    expect(end.failure?.error.code).toBe("ERR_MESSAGE_TOO_LARGE")
    expect(end.failure?.error.message).toBe(`peer announced a ${bigReady.length - 9} byte command, over the limit of 65536`)
    // Messages stay unlimited.
    const big = message(pattern(200_000))
    const pull = feedSession({ socketType: "PULL", maxMessageSize: -1 })([join(LIBZMQ_GREETING, PUSH_READY, big)])
    expect(pull.failures).toEqual([])
    expect(pull.messages.length).toBe(1)
  })

  it("maxSubscriptionSize raises the command limit to a SUBSCRIBE of that topic (1 + 9 + topic), no further", () => {
    const subReady = encodeReady([["Socket-Type", "SUB"]])
    const subscribe = (topicSize: number) => encodeCommand("SUBSCRIBE", Buffer.alloc(topicSize, 0x41))
    const options = { socketType: "XPUB" as const, maxMessageSize: -1, maxSubscriptionSize: 100_000 }
    const ok = feedSession(options)([join(LIBZMQ_GREETING, subReady, subscribe(100_000))])
    expect(ok.failures).toEqual([])
    expect(ok.commands.map((c) => [c.name, c.data.length / 2])).toEqual([["SUBSCRIBE", 100_000]])
    const tooBig = feedSession(options)([join(LIBZMQ_GREETING, subReady, subscribe(100_001).subarray(0, 9))])
    expect(tooBig.failure?.error.message).toBe("peer announced a 100011 byte command, over the limit of 100010")
  })
})

describe("Session: backpressure", () => {
  const stream = join(
    LIBZMQ_GREETING,
    PUSH_READY,
    message(Buffer.from("1")),
    message(Buffer.from("2"), Buffer.from("2b")),
    message(Buffer.from("3")),
    message(Buffer.from("4")),
    message(Buffer.from("5")),
  )
  const all = [[text("1")], [text("2"), text("2b")], [text("3")], [text("4")], [text("5")]]

  it("command() returning false pauses decoding too, until resume(), and nothing is lost", () => {
    const subReady = encodeReady([["Socket-Type", "SUB"]])
    const subscribes = ["A", "B", "C"].map((t) => encodeCommand("SUBSCRIBE", Buffer.from(t)))
    forEveryFeed(join(LIBZMQ_GREETING, subReady, ...subscribes, message(Buffer.from("m"))), (chunks) => {
      const end = feedSession({ socketType: "XPUB" }, (e) => {
        e.acceptCommand = () => false
      })(chunks)
      const seenAtPause: number[] = []
      while (end.session.isPaused) {
        seenAtPause.push(end.commands.length)
        end.session.resume()
      }
      return { end, seenAtPause }
    }, ({ end, seenAtPause }) => {
      expect(end.failures).toEqual([])
      expect(end.commands.map((c) => c.data)).toEqual([text("A"), text("B"), text("C")])
      expect(end.messages).toEqual([[text("m")]])
      // A pause after each command: decoding stopped right there every time.
      expect(seenAtPause).toEqual([1, 2, 3])
    })
  })

  it("message() returning false pauses decoding until resume(), in every chunking", () => {
    forEveryFeed(
      stream,
      (chunks) => {
        const end = feedSession({ socketType: "PULL" }, (e) => {
          // Full after every odd-numbered message.
          e.accept = (count) => count % 2 === 0
        })(chunks)
        const seenAtPause: number[] = []
        while (end.session.isPaused) {
          seenAtPause.push(end.messages.length)
          end.session.resume()
        }
        return { end, seenAtPause }
      },
      ({ end, seenAtPause }) => {
        expect(seenAtPause).toEqual([1, 3, 5])
        expect(end.messages).toEqual(all)
        expect(end.failures).toEqual([])
      },
    )
  })

  it("buffers input while paused and decodes none of it", () => {
    const end = new End({ socketType: "PULL" })
    end.accept = () => false
    end.session.start()
    end.session.push(join(LIBZMQ_GREETING, PUSH_READY, message(Buffer.from("1"))))
    expect(end.messages.length).toBe(1)
    expect(end.session.isPaused).toBe(true)
    end.session.push(join(message(Buffer.from("2")), PING_LOL))
    expect(end.messages.length).toBe(1)
    expect(end.pings).toEqual([])
    end.accept = () => true
    end.session.resume()
    expect(end.session.isPaused).toBe(false)
    expect(end.messages).toEqual([[text("1")], [text("2")]])
    expect(end.pings).toEqual([0])
  })

  it("resume() when not paused does nothing", () => {
    const end = feedSession({ socketType: "PULL" })([join(LIBZMQ_GREETING, PUSH_READY)])
    end.session.resume()
    expect(end.session.isPaused).toBe(false)
    expect(end.messages).toEqual([])
    expect(end.failures).toEqual([])
  })
})
