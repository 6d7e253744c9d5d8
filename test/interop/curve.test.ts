/**
 * CURVE against libzmq (the zeromq package), both ways: a zmesh server with
 * a libzmq client and a libzmq server with a zmesh client, for REQ/REP,
 * DEALER/ROUTER and PUB/SUB (subscriptions travel inside the box), with
 * multipart and 1 MiB messages, over tcp and ipc. Then the refusals: a wrong
 * server key, a client key a ZAP handler refuses (a zmesh handler for a zmesh
 * server, a libzmq one for a libzmq server: each library has its own
 * inproc://zeromq.zap.01), and a refused zmesh client that must not spin.
 */
import { randomBytes } from "node:crypto"
import { setImmediate as nextMacrotask } from "node:timers/promises"
import * as zmq from "zeromq"
import { afterEach, describe, expect, it } from "vitest"
import * as zmesh from "../../src/index.js"
import * as extras from "../../src/extras.js"
import { bindOn, cleanupIpc, transports } from "../helpers/endpoints.js"
import {
  bindZapHandler,
  curveClientOptions,
  curveServerOptions,
  expectPacedRedials,
  fileZapHandler,
  type KeyPair,
  Recorder,
  type Verdict,
} from "../helpers/security.js"
import { closeAll } from "../helpers/sockets.js"

type Library = "zmesh" | "libzmq"
type Part = Buffer | string

/** What every test needs of a socket from either library. */
interface Base {
  bind(address: string): Promise<void>
  readonly lastEndpoint: string | null
  connect(address: string): void
  readonly readable: boolean
  readonly securityMechanism: string | null
  readonly events: unknown
  close(): void
}

interface Peer extends Base {
  send(message: Part[]): Promise<void>
  receive(): Promise<Buffer[]>
}

interface Pub extends Base {
  send(message: Part[]): Promise<void>
}

interface Sub extends Base {
  receive(): Promise<Buffer[]>
  subscribe(topic: string): void
}

interface SecurityOptions {
  curveServer?: boolean
  curveSecretKey?: string
  curvePublicKey?: string
  curveServerKey?: string
  routingId?: string
  reconnectInterval?: number
}

const sockets: Array<{ close(): void }> = []

afterEach(() => {
  closeAll(...sockets.splice(0))
  cleanupIpc()
})

function track<T extends { close(): void }>(socket: T): T {
  sockets.push(socket)
  return socket
}

type Kind = "REQ" | "REP" | "DEALER" | "ROUTER"

function open(library: Library, kind: Kind, options: SecurityOptions = {}): Peer {
  if (library === "zmesh") {
    switch (kind) {
      case "REQ":
        return track(new zmesh.Request(options))
      case "REP":
        return track(new zmesh.Reply(options))
      case "DEALER":
        return track(new zmesh.Dealer(options))
      case "ROUTER":
        return track(new zmesh.Router(options))
    }
  }
  switch (kind) {
    case "REQ":
      return track(new zmq.Request(options))
    case "REP":
      return track(new zmq.Reply(options))
    case "DEALER":
      return track(new zmq.Dealer(options))
    case "ROUTER":
      return track(new zmq.Router(options))
  }
}

function openPub(library: Library, options: SecurityOptions): Pub {
  return track(library === "zmesh" ? new zmesh.Publisher(options) : new zmq.Publisher(options))
}

function openSub(library: Library, options: SecurityOptions): Sub {
  return track(library === "zmesh" ? new zmesh.Subscriber(options) : new zmq.Subscriber(options))
}

/** A server key pair from one library and a client key pair from the other, so each library reads the other's keys. */
function keys(): { server: KeyPair; client: KeyPair } {
  return { server: zmesh.curveKeyPair(), client: zmq.curveKeyPair() }
}

// ---- ZAP handlers --------------------------------------------------------------------

/** A zmesh ZAP handler (a zmesh Reply at inproc://zeromq.zap.01) for this test; afterEach closes it. */
const zmeshZap = (verdict: Verdict) => bindZapHandler(open("zmesh", "REP"), verdict)

/** libzmq's ZAP handler (a zeromq Reply in libzmq's context), one for the whole file. */
const libzmq = fileZapHandler(() => new zmq.Reply())

// ---- exchanges through the box -------------------------------------------------------

const directions = [
  { name: "zmesh server, libzmq client", server: "zmesh", client: "libzmq" },
  { name: "libzmq server, zmesh client", server: "libzmq", client: "zmesh" },
] as const

const MiB = 1024 * 1024

/** Publishes `["A.probe"]` once per macrotask until `arrived` settles: subscriptions take a moment to reach the publisher. */
async function publishUntil(pub: Pub, arrived: Promise<unknown>): Promise<void> {
  let done = false
  arrived.then(
    () => (done = true),
    () => (done = true),
  )
  while (!done) {
    await pub.send(["A.probe"])
    await nextMacrotask()
  }
  await arrived
}

describe.each(transports)("CURVE with libzmq over $name", (transport) => {
  describe.each(directions)("$name", ({ server: serverLibrary, client: clientLibrary }) => {
    it("REQ/REP: a multipart request and a 1 MiB reply pass through the box", async () => {
      const k = keys()
      const rep = open(serverLibrary, "REP", curveServerOptions(k.server))
      const req = open(clientLibrary, "REQ", curveClientOptions(k.client, k.server.publicKey))
      expect(rep.securityMechanism).toBe("curve")
      expect(req.securityMechanism).toBe("curve")
      req.connect(await bindOn(transport, rep))

      await req.send(["hello", "", "multi", "part"])
      expect((await rep.receive()).map(String)).toEqual(["hello", "", "multi", "part"])
      const big = randomBytes(MiB)
      await rep.send(["reply", big])
      const [head, body, ...rest] = await req.receive()
      expect(String(head)).toBe("reply")
      expect(rest).toEqual([])
      expect(body!.equals(big)).toBe(true)
    })

    it("DEALER/ROUTER: routing id, multipart and a 1 MiB frame both ways", async () => {
      const k = keys()
      const router = open(serverLibrary, "ROUTER", curveServerOptions(k.server))
      const dealer = open(clientLibrary, "DEALER", { ...curveClientOptions(k.client, k.server.publicKey), routingId: "dealer-1" })
      dealer.connect(await bindOn(transport, router))

      const big = randomBytes(MiB)
      await dealer.send(["a", big, "z"])
      const [id, a, body, z] = await router.receive()
      expect(String(id)).toBe("dealer-1")
      expect([String(a), String(z)]).toEqual(["a", "z"])
      expect(body!.equals(big)).toBe(true)
      await router.send(["dealer-1", "back", big])
      const [back, echoed] = await dealer.receive()
      expect(String(back)).toBe("back")
      expect(echoed!.equals(big)).toBe(true)
    })

    it("PUB/SUB: the subscription travels inside the box; only subscribed topics arrive, 1 MiB included", async () => {
      const k = keys()
      const pub = openPub(serverLibrary, curveServerOptions(k.server))
      const sub = openSub(clientLibrary, curveClientOptions(k.client, k.server.publicKey))
      sub.subscribe("A")
      sub.connect(await bindOn(transport, pub))
      // A publisher sends nothing before the subscription reached it: the first probe proves it did.
      await publishUntil(pub, sub.receive())

      const big = randomBytes(MiB)
      await pub.send(["B", "not subscribed"])
      await pub.send(["A1", "x", "y"])
      await pub.send(["", "the empty topic is not subscribed"])
      await pub.send(["A.big", big])
      await pub.send(["BA", "A is not a prefix"])
      await pub.send(["A.end"])
      const got: Buffer[][] = []
      for (;;) {
        const message = await sub.receive()
        if (String(message[0]) === "A.probe") continue
        got.push(message)
        if (String(message[0]) === "A.end") break
      }
      expect(got.map((m) => String(m[0]))).toEqual(["A1", "A.big", "A.end"])
      expect(got[0]!.map(String)).toEqual(["A1", "x", "y"])
      expect(got[1]![1]!.equals(big)).toBe(true)
    })
  })

  describe("refusals", () => {
    it("a libzmq client with the wrong server key: the zmesh server reports handshake:error:protocol, nothing passes", async () => {
      const k = keys()
      const rep = open("zmesh", "REP", curveServerOptions(k.server))
      const server = new Recorder(rep)
      const req = open("libzmq", "REQ", curveClientOptions(k.client, zmesh.curveKeyPair().publicKey))
      const client = new Recorder(req)
      req.connect(await bindOn(transport, rep))
      await req.send(["must not pass"])
      // Two refused attempts: the libzmq client retried, and nothing got through in between.
      const errors = await server.until("handshake:error:protocol", 2)
      expect(errors[0]!.code).toBe("ERR_ZMTP_PROTOCOL")
      expect(server.of("handshake")).toEqual([])
      expect(client.of("handshake")).toEqual([])
      expect(rep.readable).toBe(false)
    })

    it("a zmesh client with the wrong server key: the libzmq server reports handshake:error:protocol, nothing passes", async () => {
      const k = keys()
      const rep = open("libzmq", "REP", curveServerOptions(k.server))
      const server = new Recorder(rep)
      const req = open("zmesh", "REQ", { ...curveClientOptions(k.client, zmq.curveKeyPair().publicKey), reconnectInterval: 50 })
      const client = new Recorder(req)
      req.connect(await bindOn(transport, rep))
      await req.send(["must not pass"])
      await server.until("handshake:error:protocol", 2)
      await client.until("disconnect", 2)
      expect(server.of("handshake")).toEqual([])
      expect(client.of("handshake")).toEqual([])
      expect(rep.readable).toBe(false)
    })

    // libzmq reports ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL when a connection drops mid-handshake
    // (stream_engine_base_t::error). zmesh used to report only "disconnect" (fixed in 37f8d41).
    it("a zmesh client whose CURVE handshake the server cuts reports handshake:error:other before disconnect, as libzmq's does", async () => {
      const k = keys()
      const rep = open("libzmq", "REP", curveServerOptions(k.server))
      const req = open("zmesh", "REQ", curveClientOptions(k.client, zmq.curveKeyPair().publicKey))
      const client = new Recorder(req)
      req.connect(await bindOn(transport, rep))
      await client.until("disconnect")
      expect(client.log.map((e) => e.type).slice(0, 3)).toEqual(["connect", "handshake:error:other", "disconnect"])
      expect(client.of("handshake:error:other")[0]!.code).toBe("ERR_CONNECTION_CLOSED")
    })

    it("the libzmq client, refused the same way by a libzmq server, reports handshake:error:other (what the zmesh client should mirror)", async () => {
      const k = keys()
      const rep = open("libzmq", "REP", curveServerOptions(k.server))
      const req = open("libzmq", "REQ", curveClientOptions(k.client, zmq.curveKeyPair().publicKey))
      const client = new Recorder(req)
      req.connect(await bindOn(transport, rep))
      await client.until("disconnect")
      expect(client.log.map((e) => e.type)).toContain("handshake:error:other")
    })

    it("zmesh server + zmesh ZAP handler: the allowed CURVE key passes; another key is refused (handshake:error:auth), nothing passes", async () => {
      const k = keys()
      const allowed = zmesh.curveKeyPair()
      const allowedKey = extras.z85Decode(allowed.publicKey)
      const requests = await zmeshZap((r) => (r.credentials[0]!.equals(allowedKey) ? "200" : "400"))
      const rep = open("zmesh", "REP", curveServerOptions(k.server))
      const server = new Recorder(rep)
      const endpoint = await bindOn(transport, rep)

      const good = open("libzmq", "REQ", curveClientOptions(allowed, k.server.publicKey))
      good.connect(endpoint)
      await good.send(["allowed"])
      expect((await rep.receive()).map(String)).toEqual(["allowed"])
      await rep.send(["welcome"])
      expect((await good.receive()).map(String)).toEqual(["welcome"])

      const bad = open("libzmq", "REQ", curveClientOptions(k.client, k.server.publicKey))
      const refused = new Recorder(bad)
      bad.connect(endpoint)
      await bad.send(["must not pass"])
      const [serverError] = await server.until("handshake:error:auth")
      expect(serverError!.code).toBe("ERR_AUTH")
      expect(serverError!.status).toBe(400)
      await refused.until("disconnect")
      expect(refused.of("handshake")).toEqual([])
      expect(rep.readable).toBe(false)

      expect(requests.map((r) => [r.version, r.mechanism, r.credentials.length, r.credentials[0]!.length])).toEqual([
        ["1.0", "CURVE", 1, 32],
        ["1.0", "CURVE", 1, 32],
      ])
      expect(requests[1]!.credentials[0]!.equals(extras.z85Decode(k.client.publicKey))).toBe(true)
    })

    // The server mechanism queues ERROR "400" and then fails the session; StreamEngine.destroy() used to
    // destroy the socket before the flush scheduled for the next tick, so the ERROR never left and the
    // libzmq client saw EPIPE (handshake:error:other) and kept redialling (fixed in 37f8d41).
    it("zmesh server + zmesh ZAP handler: the refused libzmq client receives ERROR 400 (handshake:error:auth)", async () => {
      const k = keys()
      await zmeshZap(() => "400")
      const rep = open("zmesh", "REP", curveServerOptions(k.server))
      const bad = open("libzmq", "REQ", curveClientOptions(k.client, k.server.publicKey))
      const refused = new Recorder(bad)
      bad.connect(await bindOn(transport, rep))
      // libzmq reports the handshake failure before the disconnect.
      await refused.until("disconnect")
      expect(refused.log.map((e) => e.type)).toContain("handshake:error:auth")
    })

    it("libzmq server + libzmq ZAP handler: a zmesh client with a refused key gets handshake:error:auth (ERROR 400), nothing passes", async () => {
      const k = keys()
      const requests = libzmq.answer(() => "400")
      const rep = open("libzmq", "REP", curveServerOptions(k.server))
      const server = new Recorder(rep)
      const req = open("zmesh", "REQ", curveClientOptions(k.client, k.server.publicKey))
      const client = new Recorder(req)
      req.connect(await bindOn(transport, rep))
      await req.send(["must not pass"])
      const [clientError] = await client.until("handshake:error:auth")
      expect(clientError!.code).toBe("ERR_AUTH")
      expect(clientError!.status).toBe(400)
      await server.until("handshake:error:auth")
      expect(client.of("handshake")).toEqual([])
      expect(rep.readable).toBe(false)
      // libzmq's handler saw the zmesh client's permanent key.
      expect(requests[0]!.mechanism).toBe("CURVE")
      expect(requests[0]!.credentials[0]!.equals(extras.z85Decode(k.client.publicKey))).toBe(true)
    })

    it("libzmq server + libzmq ZAP handler: a zmesh client with the allowed key passes", async () => {
      const k = keys()
      const clientKey = extras.z85Decode(k.client.publicKey)
      libzmq.answer((r) => (r.credentials[0]!.equals(clientKey) ? "200" : "400"))
      const rep = open("libzmq", "REP", curveServerOptions(k.server))
      const req = open("zmesh", "REQ", curveClientOptions(k.client, k.server.publicKey))
      req.connect(await bindOn(transport, rep))
      await req.send(["allowed"])
      expect((await rep.receive()).map(String)).toEqual(["allowed"])
      await rep.send(["welcome"])
      expect((await req.receive()).map(String)).toEqual(["welcome"])
    })

    it("a refused zmesh client does not spin: it redials no sooner than reconnectInterval (100 ms) after each refusal", async () => {
      const k = keys()
      libzmq.answer(() => "400")
      const rep = open("libzmq", "REP", curveServerOptions(k.server))
      const req = open("zmesh", "REQ", { ...curveClientOptions(k.client, k.server.publicKey), reconnectInterval: 100 })
      const client = new Recorder(req)
      req.connect(await bindOn(transport, rep))
      // Each refusal is followed by one retry, and each redial waits out its interval.
      await expectPacedRedials(client, 100)
      expect(client.of("handshake:error:auth").length).toBeGreaterThanOrEqual(4)
    })
  })
})
