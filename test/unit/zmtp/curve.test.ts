/**
 * CURVE (RFC 25/26) between two sans-IO Sessions in memory, with fixed
 * permanent keys (libzmq's test key pairs) and a deterministic random source,
 * so every command can be opened and checked byte by byte: HELLO, WELCOME
 * with its cookie, INITIATE with its vouch, READY, then MESSAGE boxes with
 * their short nonces; and the ways a connection must die: a wrong server
 * key, replayed, reordered or tampered boxes, unboxed frames, ZAP refusals.
 */
import { beforeAll, describe, expect, it } from "vitest"
import { encodeSubscribe } from "../../../src/zmtp/command.js"
import { CurveClient, CurveServer } from "../../../src/zmtp/mechanisms/curve.js"
import { loadSodium, nonce, open, precompute, publicKeyOf } from "../../../src/zmtp/mechanisms/curve-crypto.js"
import { decodeMetadata, encodeMetadata } from "../../../src/zmtp/metadata.js"
import type { SocketType } from "../../../src/zmtp/socket-type.js"
import { z85Decode } from "../../../src/zmtp/z85.js"
import { hex } from "../../helpers/feed.js"
import { End, settle, text, type Zap, zapReply } from "./session-harness.js"

// ---- fixtures -----------------------------------------------------------------

// The boxes are libsodium's WebAssembly build; `settle` waits one macrotask, not for it to compile.
// (curve-loading.test.ts covers handshakes that start before it is loaded.)
beforeAll(() => loadSodium())

/** libzmq's tests/testutil_security.hpp key pairs. */
const SERVER_PUBLIC = z85Decode("rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7")
const SERVER_SECRET = z85Decode("JTKVSB%%)wK0E.X)V>+}o?pNmC{O&4W4b!Ni{Lh6")
const CLIENT_PUBLIC = z85Decode("Yne@$w-vo<fVvi]a<NY6T1ed:M$fCG*[IaLV{hID")
const CLIENT_SECRET = z85Decode("D:)Q[IlAW!ahhC2ac:9*A}h:p?([4%wOTJ%JR%cs")
/** A server key pair the client was not told about. */
const OTHER_SECRET = Buffer.alloc(32, 0x77)
const OTHER_PUBLIC = publicKeyOf(OTHER_SECRET)

/**
 * A deterministic random source: call n returns `size` bytes of `seed + n`.
 * The client draws its transient secret, then the vouch nonce; the server its
 * cookie key, transient secret, cookie nonce, then WELCOME nonce.
 */
function fixedRandom(seed: number): (size: number) => Buffer {
  let call = 0
  return (size) => Buffer.alloc(size, seed + call++)
}
const CLIENT_SEED = 0x10
const SERVER_SEED = 0x20
const CLIENT_TRANSIENT_SECRET = Buffer.alloc(32, CLIENT_SEED)
const CLIENT_TRANSIENT_PUBLIC = publicKeyOf(CLIENT_TRANSIENT_SECRET)
const VOUCH_NONCE = Buffer.alloc(16, CLIENT_SEED + 1)
const COOKIE_KEY = Buffer.alloc(32, SERVER_SEED)
const SERVER_TRANSIENT_SECRET = Buffer.alloc(32, SERVER_SEED + 1)
const SERVER_TRANSIENT_PUBLIC = publicKeyOf(SERVER_TRANSIENT_SECRET)
const COOKIE_NONCE = Buffer.alloc(16, SERVER_SEED + 2)
const WELCOME_NONCE = Buffer.alloc(16, SERVER_SEED + 3)
/** The key of every MESSAGE box once the handshake is done. */
const SESSION_KEY = precompute(SERVER_TRANSIENT_PUBLIC, CLIENT_TRANSIENT_SECRET)

/** Socket-Type and (empty) Identity, as DEALER and ROUTER send them: 35 bytes. */
const metadataOf = (type: string) => encodeMetadata([["Socket-Type", type], ["Identity", ""]])

const shortNonce = (value: number) => {
  const bytes = Buffer.alloc(8)
  bytes.writeBigUInt64BE(BigInt(value))
  return bytes
}

// ---- a CURVE pair on the session harness ---------------------------------------

interface PairOptions {
  clientType?: SocketType
  serverType?: SocketType
  serverKey?: Buffer
  zap?: Zap
}

/** A fixed-key CURVE client that expects `serverKey`, not started. */
const clientEnd = (serverKey: Buffer = SERVER_PUBLIC, socketType: SocketType = "DEALER") =>
  new End({ socketType, mechanism: new CurveClient(serverKey, CLIENT_PUBLIC, CLIENT_SECRET, fixedRandom(CLIENT_SEED)) })

/** A fixed-key CURVE server, not started. */
const serverEnd = (socketType: SocketType = "ROUTER", zap?: Zap) =>
  new End({ socketType, mechanism: new CurveServer(SERVER_SECRET, fixedRandom(SERVER_SEED)), zap })

/** A fixed-key CURVE client (DEALER) and server (ROUTER), started and settled. */
async function curvePair(options: PairOptions = {}): Promise<{ client: End; server: End }> {
  const client = clientEnd(options.serverKey, options.clientType)
  const server = serverEnd(options.serverType, options.zap)
  client.session.start()
  server.session.start()
  await settle(client, server)
  return { client, server }
}

/** Opens a MESSAGE command body with the session key; returns the inner flags, body and short nonce. */
function openMessage(body: Buffer, prefix: "CurveZMQMESSAGEC" | "CurveZMQMESSAGES"): { flags: number; data: Buffer; nonce: number } {
  expect(body.subarray(0, 8).toString("latin1")).toBe("\x07MESSAGE")
  const short = body.subarray(8, 16)
  const plain = open(SESSION_KEY, nonce(prefix, short), body.subarray(16))
  expect(plain, "MESSAGE box should open with the session key").toBeDefined()
  return { flags: plain![0]!, data: plain!.subarray(1), nonce: Number(short.readBigUInt64BE(0)) }
}

// ---- handshake layouts ---------------------------------------------------------

describe("CURVE handshake: command layouts with fixed keys (RFC 26, byte-exact to libzmq)", () => {
  it("both sides complete the handshake and learn each other's socket type", async () => {
    const { client, server } = await curvePair()
    expect(client.failures).toEqual([])
    expect(server.failures).toEqual([])
    expect(client.peer?.socketType).toBe("ROUTER")
    expect(server.peer?.socketType).toBe("DEALER")
  })

  it("greets with mechanism CURVE, the client as-server 0 and the server as-server 1", async () => {
    const { client, server } = await curvePair()
    const mechanism = Buffer.from("CURVE").toString("hex").padEnd(40, "0")
    for (const [end, asServer] of [
      [client, 0],
      [server, 1],
    ] as const) {
      const greeting = end.allSent().subarray(0, 64)
      expect(greeting.subarray(10, 12).toString("hex")).toBe("0301")
      expect(greeting.subarray(12, 32).toString("hex")).toBe(mechanism)
      expect(greeting[32]).toBe(asServer)
    }
  })

  it("the client sends HELLO then INITIATE, the server WELCOME then READY, all as command frames", async () => {
    const { client, server } = await curvePair()
    const names = (end: End) => end.frames().map((f) => [f.flags & 0x04, f.body.toString("latin1", 1, 1 + f.body[0]!)])
    expect(names(client)).toEqual([
      [0x04, "HELLO"],
      [0x04, "INITIATE"],
    ])
    expect(names(server)).toEqual([
      [0x04, "WELCOME"],
      [0x04, "READY"],
    ])
  })

  it("HELLO is 200 bytes: 05 HELLO, version 01 00, 72 zero bytes, C', short nonce 1, Box[64 zeros](C'->S)", async () => {
    const { client } = await curvePair()
    const hello = client.frames()[0]!
    expect(hello.flags).toBe(0x04)
    expect(hello.body.length).toBe(200)
    expect(hello.body.subarray(0, 6).toString("latin1")).toBe("\x05HELLO")
    expect(hello.body.subarray(6, 8).toString("hex")).toBe("0100")
    expect(hello.body.subarray(8, 80).equals(Buffer.alloc(72))).toBe(true)
    expect(hello.body.subarray(80, 112).toString("hex")).toBe(CLIENT_TRANSIENT_PUBLIC.toString("hex"))
    expect(hello.body.subarray(112, 120).toString("hex")).toBe("0000000000000001")
    const box = hello.body.subarray(120)
    expect(box.length).toBe(80)
    const plain = open(precompute(CLIENT_TRANSIENT_PUBLIC, SERVER_SECRET), nonce("CurveZMQHELLO---", shortNonce(1)), box)
    expect(plain?.toString("hex")).toBe(Buffer.alloc(64).toString("hex"))
  })

  it("WELCOME is 168 bytes: 07 WELCOME, a 16-byte nonce, Box[S' + cookie](S->C'); the cookie holds C' and s'", async () => {
    const { server } = await curvePair()
    const welcome = server.frames()[0]!
    expect(welcome.body.length).toBe(168)
    expect(welcome.body.subarray(0, 8).toString("latin1")).toBe("\x07WELCOME")
    expect(welcome.body.subarray(8, 24).toString("hex")).toBe(WELCOME_NONCE.toString("hex"))
    const plain = open(precompute(SERVER_PUBLIC, CLIENT_TRANSIENT_SECRET), nonce("WELCOME-", WELCOME_NONCE), welcome.body.subarray(24))
    expect(plain?.length).toBe(128)
    expect(plain!.subarray(0, 32).toString("hex")).toBe(SERVER_TRANSIENT_PUBLIC.toString("hex"))
    const cookie = plain!.subarray(32)
    expect(cookie.subarray(0, 16).toString("hex")).toBe(COOKIE_NONCE.toString("hex"))
    const sealed = open(COOKIE_KEY, nonce("COOKIE--", COOKIE_NONCE), cookie.subarray(16))
    expect(sealed?.toString("hex")).toBe(Buffer.concat([CLIENT_TRANSIENT_PUBLIC, SERVER_TRANSIENT_SECRET]).toString("hex"))
  })

  it("INITIATE is 257 bytes + metadata: the cookie echoed, short nonce 2, Box[C + vouch + metadata](C'->S')", async () => {
    const { client, server } = await curvePair()
    const metadata = metadataOf("DEALER")
    expect(metadata.length).toBe(35)
    const initiate = client.frames()[1]!
    // 292 bytes do not fit a short frame: the LONG flag is set.
    expect(initiate.flags).toBe(0x06)
    expect(initiate.body.length).toBe(257 + metadata.length)
    expect(initiate.body.subarray(0, 9).toString("latin1")).toBe("\x08INITIATE")
    // The cookie travelled inside WELCOME's box, after S'.
    const welcome = server.frames()[0]!.body
    const cookie = open(precompute(SERVER_PUBLIC, CLIENT_TRANSIENT_SECRET), nonce("WELCOME-", WELCOME_NONCE), welcome.subarray(24))!.subarray(32)
    expect(initiate.body.subarray(9, 105).toString("hex")).toBe(cookie.toString("hex"))
    expect(initiate.body.subarray(105, 113).toString("hex")).toBe("0000000000000002")
    const plain = open(SESSION_KEY, nonce("CurveZMQINITIATE", shortNonce(2)), initiate.body.subarray(113))
    expect(plain?.length).toBe(128 + metadata.length)
    expect(plain!.subarray(0, 32).toString("hex")).toBe(CLIENT_PUBLIC.toString("hex"))
    expect(plain!.subarray(32, 48).toString("hex")).toBe(VOUCH_NONCE.toString("hex"))
    const vouch = open(precompute(SERVER_TRANSIENT_PUBLIC, CLIENT_SECRET), nonce("VOUCH---", VOUCH_NONCE), plain!.subarray(48, 128))
    expect(vouch?.toString("hex")).toBe(Buffer.concat([CLIENT_TRANSIENT_PUBLIC, SERVER_PUBLIC]).toString("hex"))
    expect(plain!.subarray(128).toString("hex")).toBe(metadata.toString("hex"))
  })

  it("READY is 30 bytes + metadata: 05 READY, short nonce 1, Box[metadata](S'->C')", async () => {
    const { server } = await curvePair()
    const metadata = metadataOf("ROUTER")
    const ready = server.frames()[1]!
    expect(ready.flags).toBe(0x04)
    expect(ready.body.length).toBe(30 + metadata.length)
    expect(ready.body.subarray(0, 6).toString("latin1")).toBe("\x05READY")
    expect(ready.body.subarray(6, 14).toString("hex")).toBe("0000000000000001")
    const plain = open(SESSION_KEY, nonce("CurveZMQREADY---", shortNonce(1)), ready.body.subarray(14))
    expect(plain?.toString("hex")).toBe(metadata.toString("hex"))
    expect(decodeMetadata(plain!).get("Socket-Type")?.toString()).toBe("ROUTER")
  })

  it("the same keys and random source give the same transcript, byte for byte", async () => {
    const first = await curvePair()
    const second = await curvePair()
    expect(second.client.allSent().toString("hex")).toBe(first.client.allSent().toString("hex"))
    expect(second.server.allSent().toString("hex")).toBe(first.server.allSent().toString("hex"))
  })
})

// ---- traffic ------------------------------------------------------------------

describe("CURVE traffic: every frame boxed in a MESSAGE", () => {
  it("the first client MESSAGE carries short nonce 3 and the first server MESSAGE nonce 2, counting up", async () => {
    const { client, server } = await curvePair()
    client.session.send([Buffer.from("c1")])
    client.session.send([Buffer.from("c2")])
    server.session.send([Buffer.from("id"), Buffer.from("s1")])
    await settle(client, server)
    const fromClient = client.frames().slice(2).map((f) => openMessage(f.body, "CurveZMQMESSAGEC").nonce)
    const fromServer = server.frames().slice(2).map((f) => openMessage(f.body, "CurveZMQMESSAGES").nonce)
    expect(fromClient).toEqual([3, 4])
    expect(fromServer).toEqual([2, 3])
    expect(server.messages).toEqual([[text("c1")], [text("c2")]])
    expect(client.messages).toEqual([[text("id"), text("s1")]])
  })

  it("sends each frame of a multipart message as its own box: outer flags 00 (as libzmq 4.3.5), MORE inside", async () => {
    const { client, server } = await curvePair()
    client.session.send([Buffer.from("a"), Buffer.alloc(0), Buffer.from("c")])
    await settle(client, server)
    const frames = client.frames().slice(2)
    expect(frames.map((f) => f.flags)).toEqual([0, 0, 0])
    const inner = frames.map((f) => openMessage(f.body, "CurveZMQMESSAGEC"))
    expect(inner.map((m) => [m.flags, m.data.toString()])).toEqual([
      [1, "a"],
      [1, ""],
      [0, "c"],
    ])
    // "\x07MESSAGE" + nonce + MAC + flags: 33 bytes of overhead per frame.
    expect(frames.map((f) => f.body.length)).toEqual([34, 33, 34])
    expect(server.messages).toEqual([[text("a"), "", text("c")]])
  })

  it("boxes a frame of 64 KiB + 1 in a long frame and delivers it whole", async () => {
    const { client, server } = await curvePair()
    const big = Buffer.alloc(65537, "z")
    client.session.send([big])
    await settle(client, server)
    const frame = client.frames()[2]!
    expect(frame.flags).toBe(0x02)
    expect(frame.body.length).toBe(65537 + 33)
    expect(Buffer.from(server.messages[0]![0]!, "hex").length).toBe(65537)
  })

  it("PING and PONG travel boxed as commands (inner flag 0x02); the TTL and context arrive", async () => {
    const { client, server } = await curvePair()
    client.session.ping(2000, Buffer.from("ctx"))
    await settle(client, server)
    const ping = openMessage(client.frames()[2]!.body, "CurveZMQMESSAGEC")
    expect(client.frames()[2]!.flags).toBe(0)
    expect(ping.flags).toBe(0x02)
    expect(ping.data.toString("hex")).toBe(hex("04 50494e47 0014 637478").toString("hex"))
    expect(server.pings).toEqual([2000])
    const pong = openMessage(server.frames()[2]!.body, "CurveZMQMESSAGES")
    expect(pong.flags).toBe(0x02)
    expect(pong.data.toString("hex")).toBe(hex("04 504f4e47 637478").toString("hex"))
    expect(client.failures).toEqual([])
    expect(server.failures).toEqual([])
    // The PONG reached the client without being delivered as a message.
    expect(client.messages).toEqual([])
  })

  it("SUBSCRIBE travels boxed as a command and reaches the publisher's session", async () => {
    const { client, server } = await curvePair({ clientType: "SUB", serverType: "PUB" })
    client.session.sendCommand(encodeSubscribe(Buffer.from("topic")))
    await settle(client, server)
    const inner = openMessage(client.frames()[2]!.body, "CurveZMQMESSAGEC")
    expect(inner.flags).toBe(0x02)
    expect(inner.data.toString("latin1")).toBe("\x09SUBSCRIBEtopic")
    expect(server.commands).toEqual([{ name: "SUBSCRIBE", data: text("topic") }])
  })
})

// ---- refusals -----------------------------------------------------------------

describe("CURVE refusals: the connection is dropped", () => {
  it("a client with the wrong server key: the server cannot open HELLO and fails with a protocol error", async () => {
    const { client, server } = await curvePair({ serverKey: OTHER_PUBLIC })
    expect(server.failure?.handshake).toBe("protocol")
    expect(server.failure?.error.code).toBe("ERR_ZMTP_PROTOCOL")
    expect(server.failure?.error.detail).toMatch(/HELLO/)
    // Nothing after the greeting: no WELCOME for a client that cannot prove it knows S.
    expect(server.frames()).toEqual([])
    expect(client.peer).toBeUndefined()
    expect(server.peer).toBeUndefined()
  })

  it("a client that decrypts WELCOME with the wrong server key fails the handshake with a protocol error", async () => {
    // A genuine WELCOME, made for the transient key the fixed random source gives every client.
    const { server } = await curvePair()
    const welcome = server.allSent().subarray(0, 64 + 2 + 168)
    const client = clientEnd(OTHER_PUBLIC)
    client.session.start()
    client.session.push(welcome)
    expect(client.failure?.handshake).toBe("protocol")
    expect(client.failure?.error.code).toBe("ERR_ZMTP_PROTOCOL")
    expect(client.failure?.error.detail).toMatch(/WELCOME/)
    // HELLO went out, INITIATE did not.
    expect(client.frames().map((f) => f.body.toString("latin1", 1, 1 + f.body[0]!))).toEqual(["HELLO"])
  })

  it("a replayed MESSAGE (same short nonce again) drops the connection with ERR_ZMTP_PROTOCOL", async () => {
    const { client, server } = await curvePair()
    client.session.send([Buffer.from("once")])
    const captured = client.output()
    server.session.push(captured)
    expect(server.messages).toEqual([[text("once")]])
    server.session.push(captured)
    expect(server.failure).toBeDefined()
    expect(server.failure!.handshake).toBeUndefined()
    expect(server.failure!.error.code).toBe("ERR_ZMTP_PROTOCOL")
    expect(server.failure!.error.detail).toMatch(/nonce/)
    expect(server.messages).toEqual([[text("once")]])
    expect(server.session.isClosed).toBe(true)
  })

  it("a replayed server MESSAGE drops the client's connection too", async () => {
    const { client, server } = await curvePair()
    server.session.send([Buffer.from("id"), Buffer.from("once")])
    const captured = server.output()
    client.session.push(captured)
    client.session.push(captured)
    expect(client.messages).toEqual([[text("id"), text("once")]])
    expect(client.failure?.error.code).toBe("ERR_ZMTP_PROTOCOL")
  })

  it("two MESSAGEs swapped: the later nonce is taken, the earlier one then drops the connection", async () => {
    const { client, server } = await curvePair()
    client.session.send([Buffer.from("first")])
    const first = client.output()
    client.session.send([Buffer.from("second")])
    const second = client.output()
    server.session.push(second)
    server.session.push(first)
    expect(server.messages).toEqual([[text("second")]])
    expect(server.failure?.handshake).toBeUndefined()
    expect(server.failure?.error.code).toBe("ERR_ZMTP_PROTOCOL")
  })

  // Offsets in the frame: 2 header bytes, "\x07MESSAGE", the short nonce (3, at 10-17), the MAC (18-33), the ciphertext.
  it.each([
    ["the MAC", 18, 0x01],
    ["the ciphertext", -1, 0x01],
    // 3 -> 7: still above the last nonce, so it is the MAC check that must catch it.
    ["the short nonce", 17, 0x04],
  ])("one bit flipped in %s of a MESSAGE: the box does not open, nothing is delivered, the connection drops", async (_where, offset, mask) => {
    const { client, server } = await curvePair()
    client.session.send([Buffer.from("payload")])
    const tampered = Buffer.from(client.output())
    const at = offset < 0 ? tampered.length + offset : offset
    tampered[at]! ^= mask
    server.session.push(tampered)
    expect(server.messages).toEqual([])
    expect(server.failure?.handshake).toBeUndefined()
    expect(server.failure?.error.code).toBe("ERR_ZMTP_PROTOCOL")
    expect(server.failure?.error.detail).toMatch(/MAC/)
  })

  it("an unboxed data frame after the handshake drops the connection", async () => {
    const { client, server } = await curvePair()
    server.session.push(hex("00 05 68656c6c6f"))
    expect(server.messages).toEqual([])
    expect(server.failure?.error.code).toBe("ERR_ZMTP_PROTOCOL")
    expect(client.failures).toEqual([])
  })

  it("an unboxed PING command after the handshake drops the connection", async () => {
    const { server } = await curvePair()
    server.session.push(hex("04 07 04 50494e47 0000"))
    expect(server.pings).toEqual([])
    expect(server.failure?.error.code).toBe("ERR_ZMTP_PROTOCOL")
  })

  it("a MESSAGE shorter than 33 bytes drops the connection", async () => {
    const { server } = await curvePair()
    server.session.push(Buffer.concat([hex("00 20"), Buffer.from("\x07MESSAGE", "latin1"), Buffer.alloc(24)]))
    expect(server.failure?.error.code).toBe("ERR_ZMTP_PROTOCOL")
  })

  it("a HELLO of the wrong size or version fails the server's handshake with a protocol error", async () => {
    const { client } = await curvePair()
    const hello = Buffer.from(client.allSent().subarray(0, 64 + 2 + 200))
    const variants = [
      // Version 2.0 instead of 1.0.
      (() => {
        const b = Buffer.from(hello)
        b[64 + 2 + 6] = 2
        return b
      })(),
      // One byte short, with the frame size to match.
      (() => {
        const b = Buffer.from(hello.subarray(0, hello.length - 1))
        b[64 + 1] = 199
        return b
      })(),
    ]
    for (const bytes of variants) {
      const server = serverEnd()
      server.session.start()
      server.session.push(bytes)
      expect(server.failure?.handshake).toBe("protocol")
      expect(server.frames()).toEqual([])
    }
  })

  it("a HELLO whose transient key has low order (all-zero X25519 result) fails with a protocol error, no throw", async () => {
    const { client } = await curvePair()
    const hello = Buffer.from(client.allSent().subarray(0, 64 + 2 + 200))
    // C' sits after the command name (6), the version (2) and the padding (72).
    for (const low of [Buffer.alloc(32), Buffer.concat([Buffer.of(1), Buffer.alloc(31)])]) {
      low.copy(hello, 64 + 2 + 6 + 2 + 72)
      const server = serverEnd()
      server.session.start()
      expect(() => server.session.push(hello)).not.toThrow()
      expect(server.failure?.handshake).toBe("protocol")
      expect(server.failure?.error.code).toBe("ERR_ZMTP_PROTOCOL")
      expect(server.frames()).toEqual([])
    }
  })
})

// ---- ZAP ----------------------------------------------------------------------

describe("CURVE server with a ZAP handler (RFC 27)", () => {
  it("asks about the client's 32-byte permanent public key; 200 completes the handshake", async () => {
    const asked: Array<{ mechanism: string; credentials: string[] }> = []
    const { client, server } = await curvePair({
      zap: async (mechanism, credentials) => {
        asked.push({ mechanism, credentials: credentials.map((c) => c.toString("hex")) })
        return zapReply("200", "OK")
      },
    })
    expect(asked).toEqual([{ mechanism: "CURVE", credentials: [CLIENT_PUBLIC.toString("hex")] }])
    expect(client.peer?.socketType).toBe("ROUTER")
    expect(server.peer?.socketType).toBe("DEALER")
  })

  it("400: the server sends ERROR 400 and both sides fail with kind auth", async () => {
    const { client, server } = await curvePair({ zap: async () => zapReply("400", "unknown key") })
    expect(server.failure?.handshake).toBe("auth")
    expect(server.failure?.error.code).toBe("ERR_AUTH")
    const error = server.frames()[1]!
    expect(error.body.toString("hex")).toBe(hex("05 4552524f52 03 343030").toString("hex"))
    expect(client.failure?.handshake).toBe("auth")
    expect(client.failure?.error.code).toBe("ERR_AUTH")
    expect(client.failure?.error.status).toBe(400)
  })

  it("300: the server closes without ERROR (kind auth); the client hears nothing", async () => {
    const { client, server } = await curvePair({ zap: async () => zapReply("300", "try later") })
    expect(server.failure?.handshake).toBe("auth")
    expect(server.frames().map((f) => f.body.toString("latin1", 1, 1 + f.body[0]!))).toEqual(["WELCOME"])
    expect(client.failures).toEqual([])
    expect(client.peer).toBeUndefined()
  })

  it("no handler: a CURVE server accepts any client key, as libzmq does", async () => {
    const { client, server } = await curvePair({ zap: async () => undefined })
    expect(server.failures).toEqual([])
    expect(client.peer?.socketType).toBe("ROUTER")
  })

  it("reads libzmq 4.3.5's one-byte-short ERROR (04 09 5e 'RROR' 03 '400') as ERROR 400", async () => {
    const { server } = await curvePair({ zap: async () => undefined })
    const client = clientEnd()
    client.session.start()
    // Greeting + WELCOME from the real server, then the ERROR as libzmq writes it.
    client.session.push(server.allSent().subarray(0, 64 + 2 + 168))
    client.session.push(hex("04 09 5e 52524f52 03 343030"))
    expect(client.failure?.handshake).toBe("auth")
    expect(client.failure?.error.code).toBe("ERR_AUTH")
    expect(client.failure?.error.status).toBe(400)
  })
})
