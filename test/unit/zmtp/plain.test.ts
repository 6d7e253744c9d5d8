/**
 * PLAIN (RFC 24) between two sans-IO Sessions in memory: the HELLO, WELCOME,
 * INITIATE and READY bytes, and the server's use of ZAP (RFC 27) through
 * SessionOptions.zap: 200 accepts, 300 closes without ERROR, 400/500 send
 * ERROR with the status, and no handler refuses everyone (as libzmq does).
 */
import { describe, expect, it } from "vitest"
import { encodeCommand } from "../../../src/zmtp/command.js"
import { PlainClient, PlainServer } from "../../../src/zmtp/mechanisms/plain.js"
import type { ZapReply } from "../../../src/zmtp/zap.js"
import { forEveryFeed, hex } from "../../helpers/feed.js"
import { NULL_GREETING } from "./fixtures.js"
import { End, macrotask, settle, type Zap, zapReply } from "./session-harness.js"

/** Everything `end` sent after the 64-byte greeting, as hex. */
const afterGreeting = (end: End): string => end.allSent().subarray(64).toString("hex")

interface ZapCall {
  mechanism: string
  credentials: string[]
}

/** A PLAIN client (DEALER, admin/secret) and server (ROUTER) with a fake ZAP handler, settled. */
async function plainPair(zap: Zap | undefined, user = "admin", password = "secret") {
  const client = new End({ socketType: "DEALER", mechanism: new PlainClient(user, password) })
  const server = new End({ socketType: "ROUTER", mechanism: new PlainServer(), zap })
  client.session.start()
  server.session.start()
  await settle(client, server)
  return { client, server }
}

/** A fake handler answering `status` and recording what it was asked. */
function fakeZap(status: string, text = ""): { zap: Zap; calls: ZapCall[] } {
  const calls: ZapCall[] = []
  return {
    calls,
    zap: async (mechanism, credentials) => {
      calls.push({ mechanism, credentials: credentials.map((c) => c.toString()) })
      return zapReply(status, text)
    },
  }
}

/** READY/INITIATE metadata of a DEALER or ROUTER with no routing id. */
const metadataHex = (type: string) =>
  `0b ${Buffer.from("Socket-Type").toString("hex")} 00000006 ${Buffer.from(type).toString("hex")} 08 ${Buffer.from("Identity").toString("hex")} 00000000`

const HELLO = hex(`04 13 05 48454c4c4f 05 61646d696e 06 736563726574`) // 05 HELLO 05 "admin" 06 "secret"
const WELCOME = hex(`04 08 07 57454c434f4d45`)
const INITIATE = hex(`04 2c 08 494e495449415445 ${metadataHex("DEALER")}`)
const READY = hex(`04 29 05 5245414459 ${metadataHex("ROUTER")}`)

describe("PLAIN handshake bytes (RFC 24)", () => {
  it("greets with mechanism PLAIN: the client as-server 0, the server as-server 1", async () => {
    const { client, server } = await plainPair(fakeZap("200").zap)
    const mechanism = Buffer.from("PLAIN").toString("hex").padEnd(40, "0")
    expect(client.allSent().subarray(12, 32).toString("hex")).toBe(mechanism)
    expect(client.allSent()[32]).toBe(0)
    expect(server.allSent().subarray(12, 32).toString("hex")).toBe(mechanism)
    expect(server.allSent()[32]).toBe(1)
  })

  it("client: HELLO (user, password) then INITIATE (metadata); server: WELCOME (empty) then READY (metadata)", async () => {
    const { client, server } = await plainPair(fakeZap("200").zap)
    expect(afterGreeting(client)).toBe(Buffer.concat([HELLO, INITIATE]).toString("hex"))
    expect(afterGreeting(server)).toBe(Buffer.concat([WELCOME, READY]).toString("hex"))
    expect(client.peer?.socketType).toBe("ROUTER")
    expect(server.peer?.socketType).toBe("DEALER")
    expect(client.failures).toEqual([])
    expect(server.failures).toEqual([])
  })

  it("HELLO with an empty user name and password is 05 HELLO 00 00", async () => {
    const { client, server } = await plainPair(fakeZap("200").zap, "", "")
    expect(afterGreeting(client).startsWith(hex("04 08 05 48454c4c4f 00 00").toString("hex"))).toBe(true)
    expect(server.peer?.socketType).toBe("DEALER")
  })

  it("the server reads the client's greeting + HELLO however the stream cuts it", async () => {
    const { client } = await plainPair(fakeZap("200").zap)
    const bytes = client.allSent().subarray(0, 64 + HELLO.length)
    forEveryFeed(
      bytes,
      (chunks) => {
        const { zap, calls } = fakeZap("200")
        const server = new End({ socketType: "ROUTER", mechanism: new PlainServer(), zap })
        server.session.start()
        for (const chunk of chunks) server.session.push(chunk)
        return { server, calls }
      },
      ({ server, calls }) => {
        expect(server.failures).toEqual([])
        expect(calls).toEqual([{ mechanism: "PLAIN", credentials: ["admin", "secret"] }])
      },
    )
  })

  it("user names and passwords longer than 255 bytes are refused with EINVAL", () => {
    expect(() => new PlainClient("u".repeat(256), "p")).toThrow(expect.objectContaining({ code: "EINVAL" }))
    expect(() => new PlainClient("u", "p".repeat(256))).toThrow(expect.objectContaining({ code: "EINVAL" }))
  })
})

describe("PLAIN server and ZAP (RFC 27)", () => {
  it("200: asks the handler with mechanism PLAIN and [user, password], then WELCOME, and the handshake completes", async () => {
    const { zap, calls } = fakeZap("200", "OK")
    const { client, server } = await plainPair(zap)
    expect(calls).toEqual([{ mechanism: "PLAIN", credentials: ["admin", "secret"] }])
    expect(client.peer).toBeDefined()
    expect(server.peer).toBeDefined()
  })

  it("300: the server closes without ERROR, kind auth; the client is not told", async () => {
    const { client, server } = await plainPair(fakeZap("300", "later").zap)
    expect(server.failure?.handshake).toBe("auth")
    expect(server.failure?.error.code).toBe("ERR_AUTH")
    expect(server.failure?.error.status).toBe(300)
    // Nothing after the greeting: no WELCOME, no ERROR.
    expect(afterGreeting(server)).toBe("")
    expect(server.session.isClosed).toBe(true)
    expect(client.failures).toEqual([])
    expect(client.peer).toBeUndefined()
  })

  it.each(["400", "500"])("%s: the server sends libzmq's PLAIN ERROR with the status as reason, kind auth and the status on both sides", async (status) => {
    const { client, server } = await plainPair(fakeZap(status, "no").zap)
    expect(server.failure?.handshake).toBe("auth")
    expect(server.failure?.error.code).toBe("ERR_AUTH")
    // libzmq's PLAIN form of ERROR (docs/options.md), which zmesh's client reads too.
    expect(afterGreeting(server)).toBe(hex(`04 09 5e 52524f52 03 ${Buffer.from(status).toString("hex")}`).toString("hex"))
    expect(client.failure?.handshake).toBe("auth")
    expect(client.failure?.error.code).toBe("ERR_AUTH")
    expect(client.failure?.error.status).toBe(Number(status))
    expect(client.peer).toBeUndefined()
  })

  it.each([
    ["no zap option at all", undefined],
    ["a zap option that finds no handler", async () => undefined],
  ] as Array<[string, Zap | undefined]>)("no handler (%s): kind other, ERR_AUTH, and no ERROR sent", async (_how, zap) => {
    const { client, server } = await plainPair(zap)
    expect(server.failure?.handshake).toBe("other")
    expect(server.failure?.error.code).toBe("ERR_AUTH")
    expect(afterGreeting(server)).toBe("")
    expect(client.failures).toEqual([])
  })

  it("a handler that rejects counts as no handler", async () => {
    const { server } = await plainPair(async () => {
      throw new Error("handler crashed")
    })
    expect(server.failure?.handshake).toBe("other")
    expect(server.failure?.error.code).toBe("ERR_AUTH")
  })

  it("the verdict arriving after the connection closed does nothing", async () => {
    let answer: (reply: ZapReply) => void = () => undefined
    const client = new End({ socketType: "DEALER", mechanism: new PlainClient("admin", "secret") })
    const server = new End({ socketType: "ROUTER", mechanism: new PlainServer(), zap: () => new Promise((resolve) => (answer = resolve)) })
    client.session.start()
    server.session.start()
    await settle(client, server)
    server.session.close()
    answer(zapReply("200"))
    await macrotask()
    expect(afterGreeting(server)).toBe("")
    expect(server.failures).toEqual([])
    expect(server.peer).toBeUndefined()
  })
})

describe("PLAIN protocol errors", () => {
  /** A started server fed the client greeting plus `frame`. */
  async function serverFed(frame: Buffer): Promise<End> {
    const { client } = await plainPair(fakeZap("200").zap)
    const server = new End({ socketType: "ROUTER", mechanism: new PlainServer(), zap: fakeZap("200").zap })
    server.session.start()
    server.session.push(Buffer.concat([client.allSent().subarray(0, 64), frame]))
    await macrotask()
    return server
  }

  it.each([
    ["a HELLO whose user length runs past the end", hex("04 09 05 48454c4c4f 05 61 62")],
    ["a HELLO with trailing bytes after the password", hex("04 0b 05 48454c4c4f 01 61 01 62 63")],
    ["an empty HELLO", hex("04 06 05 48454c4c4f")],
    ["INITIATE before HELLO", INITIATE],
    ["READY from a client", READY],
  ])("the server fails with a protocol error on %s", async (_what, frame) => {
    const server = await serverFed(frame)
    expect(server.failure?.handshake).toBe("protocol")
    expect(server.failure?.error.code).toBe("ERR_ZMTP_PROTOCOL")
  })

  it("a data frame before the handshake completes fails it with a protocol error", async () => {
    const server = await serverFed(hex("00 01 61"))
    expect(server.failure?.handshake).toBe("protocol")
  })

  it("the client fails with a protocol error on an unexpected command", async () => {
    const { server } = await plainPair(fakeZap("200").zap)
    const client = new End({ socketType: "DEALER", mechanism: new PlainClient("admin", "secret") })
    client.session.start()
    client.session.push(Buffer.concat([server.allSent().subarray(0, 64), encodeCommand("HELLO", hex("00 00"))]))
    expect(client.failure?.handshake).toBe("protocol")
    expect(client.failure?.error.code).toBe("ERR_ZMTP_PROTOCOL")
  })

  it("a server READY naming an incompatible socket type fails the client with kind protocol", async () => {
    const { server } = await plainPair(fakeZap("200").zap)
    const client = new End({ socketType: "PUSH", mechanism: new PlainClient("admin", "secret") })
    client.session.start()
    // Greeting, WELCOME, then a READY naming ROUTER, which a PUSH cannot talk to.
    client.session.push(Buffer.concat([server.allSent().subarray(0, 64), WELCOME, READY]))
    expect(client.failure?.handshake).toBe("protocol")
    expect(client.failure?.error.code).toBe("ERR_SOCKET_TYPE")
  })

  it("a peer greeting with NULL is refused as a mechanism mismatch", async () => {
    const server = new End({ socketType: "ROUTER", mechanism: new PlainServer(), zap: fakeZap("200").zap })
    server.session.start()
    server.session.push(NULL_GREETING)
    expect(server.failure?.handshake).toBe("protocol")
    expect(server.failure?.error.code).toBe("ERR_ZMTP_MECHANISM_MISMATCH")
  })
})
