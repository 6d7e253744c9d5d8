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
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest"
import * as zmesh from "../../src/index.js"
import { cleanupIpc, transports, type TransportCase } from "../helpers/endpoints.js"
import { closeAll } from "../helpers/sockets.js"

type Library = "zmesh" | "libzmq"
type Part = Buffer | string

interface KeyPair {
  publicKey: string
  secretKey: string
}

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

const serverOptions = (server: KeyPair): SecurityOptions => ({ curveServer: true, curveSecretKey: server.secretKey })
const clientOptions = (client: KeyPair, serverKey: string): SecurityOptions => ({
  curveServerKey: serverKey,
  curvePublicKey: client.publicKey,
  curveSecretKey: client.secretKey,
})

async function bindOn(transport: TransportCase, socket: Base): Promise<string> {
  await socket.bind(transport.bindAddress())
  if (socket.lastEndpoint === null) throw new Error("bind left lastEndpoint null")
  return socket.lastEndpoint
}

// ---- events of either library ------------------------------------------------------

interface Recorded {
  readonly type: string
  readonly at: number
  readonly interval?: number
  readonly code?: string
  readonly message?: string
}

interface LooseEvent {
  type: string
  interval?: number
  error?: { code?: string; message?: string }
}
interface LooseObserver {
  on(type: string, listener: (event: LooseEvent) => void): unknown
}

const EVENT_TYPES = [
  "connect",
  "connect:retry",
  "accept",
  "handshake",
  "handshake:error:protocol",
  "handshake:error:auth",
  "handshake:error:other",
  "disconnect",
]

/** Records a socket's connection events (zmesh or libzmq) and waits for counts of them. */
class Recorder {
  readonly log: Recorded[] = []
  private readonly waiters: Array<{ done: () => boolean; resolve: () => void }> = []

  constructor(socket: Base) {
    const events = socket.events as LooseObserver
    for (const type of EVENT_TYPES) {
      events.on(type, (event) => {
        this.log.push({
          type,
          at: performance.now(),
          ...(event.interval === undefined ? {} : { interval: event.interval }),
          ...(event.error === undefined ? {} : { code: event.error.code, message: event.error.message }),
        })
        for (const waiter of this.waiters.splice(0)) {
          if (waiter.done()) waiter.resolve()
          else this.waiters.push(waiter)
        }
      })
    }
  }

  of(type: string): Recorded[] {
    return this.log.filter((e) => e.type === type)
  }

  /** Resolves once `count` events of `type` were seen. */
  until(type: string, count = 1): Promise<Recorded[]> {
    const done = () => this.of(type).length >= count
    if (done()) return Promise.resolve(this.of(type))
    return new Promise((resolve) => this.waiters.push({ done, resolve: () => resolve(this.of(type)) }))
  }
}

// ---- ZAP handlers --------------------------------------------------------------------

interface ZapRequest {
  readonly version: string
  readonly requestId: string
  readonly domain: string
  readonly address: string
  readonly mechanism: string
  readonly credentials: Buffer[]
}

type Verdict = (request: ZapRequest) => "200" | "300" | "400"

/** Answers ZAP requests on `rep` with ["1.0", requestId, status, text, userId, ""] until it closes. */
async function serveZap(rep: Peer, verdict: () => Verdict, requests: () => ZapRequest[]): Promise<void> {
  try {
    for (;;) {
      const [version, requestId, domain, address, _identity, mechanism, ...credentials] = await rep.receive()
      const request: ZapRequest = {
        version: String(version),
        requestId: String(requestId),
        domain: String(domain),
        address: String(address),
        mechanism: String(mechanism),
        credentials,
      }
      requests().push(request)
      const status = verdict()(request)
      await rep.send(["1.0", requestId!, status, status === "200" ? "OK" : "refused", status === "200" ? "user" : "", ""])
    }
  } catch {
    // The handler was closed.
  }
}

/** A zmesh ZAP handler (a zmesh Reply at inproc://zeromq.zap.01) for this test; afterEach closes it. */
async function zmeshZap(verdict: Verdict): Promise<ZapRequest[]> {
  const rep = open("zmesh", "REP")
  await rep.bind("inproc://zeromq.zap.01")
  const requests: ZapRequest[] = []
  void serveZap(rep, () => verdict, () => requests)
  return requests
}

/**
 * One libzmq ZAP handler (a zeromq Reply at inproc://zeromq.zap.01, in
 * libzmq's context) for the whole file: libzmq releases an inproc name
 * asynchronously once peers have connected to it, and rebinding it per test
 * raced (EADDRINUSE). Each test sets its verdict; the default accepts everyone.
 */
const libzmq = { verdict: (() => "200") as Verdict, requests: [] as ZapRequest[], socket: undefined as zmq.Reply | undefined }

beforeAll(async () => {
  const rep = new zmq.Reply()
  libzmq.socket = rep
  await rep.bind("inproc://zeromq.zap.01")
  void serveZap(rep, () => libzmq.verdict, () => libzmq.requests)
})

afterAll(() => closeAll(libzmq.socket))

beforeEach(() => {
  libzmq.verdict = () => "200"
  libzmq.requests = []
})

/** Sets the libzmq handler's verdict for this test; returns the requests it sees. */
function libzmqZap(verdict: Verdict): ZapRequest[] {
  libzmq.verdict = verdict
  return libzmq.requests
}

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
      const rep = open(serverLibrary, "REP", serverOptions(k.server))
      const req = open(clientLibrary, "REQ", clientOptions(k.client, k.server.publicKey))
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
      const router = open(serverLibrary, "ROUTER", serverOptions(k.server))
      const dealer = open(clientLibrary, "DEALER", { ...clientOptions(k.client, k.server.publicKey), routingId: "dealer-1" })
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
      const pub = openPub(serverLibrary, serverOptions(k.server))
      const sub = openSub(clientLibrary, clientOptions(k.client, k.server.publicKey))
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
      const rep = open("zmesh", "REP", serverOptions(k.server))
      const server = new Recorder(rep)
      const req = open("libzmq", "REQ", clientOptions(k.client, zmesh.curveKeyPair().publicKey))
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
      const rep = open("libzmq", "REP", serverOptions(k.server))
      const server = new Recorder(rep)
      const req = open("zmesh", "REQ", { ...clientOptions(k.client, zmq.curveKeyPair().publicKey), reconnectInterval: 50 })
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
      const rep = open("libzmq", "REP", serverOptions(k.server))
      const req = open("zmesh", "REQ", clientOptions(k.client, zmq.curveKeyPair().publicKey))
      const client = new Recorder(req)
      req.connect(await bindOn(transport, rep))
      await client.until("disconnect")
      expect(client.log.map((e) => e.type).slice(0, 3)).toEqual(["connect", "handshake:error:other", "disconnect"])
      expect(client.of("handshake:error:other")[0]!.code).toBe("ERR_CONNECTION_CLOSED")
    })

    it("the libzmq client, refused the same way by a libzmq server, reports handshake:error:other (what the zmesh client should mirror)", async () => {
      const k = keys()
      const rep = open("libzmq", "REP", serverOptions(k.server))
      const req = open("libzmq", "REQ", clientOptions(k.client, zmq.curveKeyPair().publicKey))
      const client = new Recorder(req)
      req.connect(await bindOn(transport, rep))
      await client.until("disconnect")
      expect(client.log.map((e) => e.type)).toContain("handshake:error:other")
    })

    it("zmesh server + zmesh ZAP handler: the allowed CURVE key passes; another key is refused (handshake:error:auth), nothing passes", async () => {
      const k = keys()
      const allowed = zmesh.curveKeyPair()
      const allowedKey = zmesh.z85Decode(allowed.publicKey)
      const requests = await zmeshZap((r) => (r.credentials[0]!.equals(allowedKey) ? "200" : "400"))
      const rep = open("zmesh", "REP", serverOptions(k.server))
      const server = new Recorder(rep)
      const endpoint = await bindOn(transport, rep)

      const good = open("libzmq", "REQ", clientOptions(allowed, k.server.publicKey))
      good.connect(endpoint)
      await good.send(["allowed"])
      expect((await rep.receive()).map(String)).toEqual(["allowed"])
      await rep.send(["welcome"])
      expect((await good.receive()).map(String)).toEqual(["welcome"])

      const bad = open("libzmq", "REQ", clientOptions(k.client, k.server.publicKey))
      const refused = new Recorder(bad)
      bad.connect(endpoint)
      await bad.send(["must not pass"])
      const [serverError] = await server.until("handshake:error:auth")
      expect(serverError!.code).toBe("ERR_AUTH")
      expect(serverError!.message).toMatch(/400/)
      await refused.until("disconnect")
      expect(refused.of("handshake")).toEqual([])
      expect(rep.readable).toBe(false)

      expect(requests.map((r) => [r.version, r.mechanism, r.credentials.length, r.credentials[0]!.length])).toEqual([
        ["1.0", "CURVE", 1, 32],
        ["1.0", "CURVE", 1, 32],
      ])
      expect(requests[1]!.credentials[0]!.equals(zmesh.z85Decode(k.client.publicKey))).toBe(true)
    })

    // The server mechanism queues ERROR "400" and then fails the session; StreamEngine.destroy() used to
    // destroy the socket before the flush scheduled for the next tick, so the ERROR never left and the
    // libzmq client saw EPIPE (handshake:error:other) and kept redialling (fixed in 37f8d41).
    it("zmesh server + zmesh ZAP handler: the refused libzmq client receives ERROR 400 (handshake:error:auth)", async () => {
      const k = keys()
      await zmeshZap(() => "400")
      const rep = open("zmesh", "REP", serverOptions(k.server))
      const bad = open("libzmq", "REQ", clientOptions(k.client, k.server.publicKey))
      const refused = new Recorder(bad)
      bad.connect(await bindOn(transport, rep))
      // libzmq reports the handshake failure before the disconnect.
      await refused.until("disconnect")
      expect(refused.log.map((e) => e.type)).toContain("handshake:error:auth")
    })

    it("libzmq server + libzmq ZAP handler: a zmesh client with a refused key gets handshake:error:auth (ERROR 400), nothing passes", async () => {
      const k = keys()
      const requests = libzmqZap(() => "400")
      const rep = open("libzmq", "REP", serverOptions(k.server))
      const server = new Recorder(rep)
      const req = open("zmesh", "REQ", clientOptions(k.client, k.server.publicKey))
      const client = new Recorder(req)
      req.connect(await bindOn(transport, rep))
      await req.send(["must not pass"])
      const [clientError] = await client.until("handshake:error:auth")
      expect(clientError!.code).toBe("ERR_PEER_ERROR")
      expect(clientError!.message).toMatch(/400/)
      await server.until("handshake:error:auth")
      expect(client.of("handshake")).toEqual([])
      expect(rep.readable).toBe(false)
      // libzmq's handler saw the zmesh client's permanent key.
      expect(requests[0]!.mechanism).toBe("CURVE")
      expect(requests[0]!.credentials[0]!.equals(zmesh.z85Decode(k.client.publicKey))).toBe(true)
    })

    it("libzmq server + libzmq ZAP handler: a zmesh client with the allowed key passes", async () => {
      const k = keys()
      const clientKey = zmesh.z85Decode(k.client.publicKey)
      libzmqZap((r) => (r.credentials[0]!.equals(clientKey) ? "200" : "400"))
      const rep = open("libzmq", "REP", serverOptions(k.server))
      const req = open("zmesh", "REQ", clientOptions(k.client, k.server.publicKey))
      req.connect(await bindOn(transport, rep))
      await req.send(["allowed"])
      expect((await rep.receive()).map(String)).toEqual(["allowed"])
      await rep.send(["welcome"])
      expect((await req.receive()).map(String)).toEqual(["welcome"])
    })

    it("a refused zmesh client does not spin: it redials no sooner than reconnectInterval (100 ms) after each refusal", async () => {
      const k = keys()
      libzmqZap(() => "400")
      const rep = open("libzmq", "REP", serverOptions(k.server))
      const req = open("zmesh", "REQ", { ...clientOptions(k.client, k.server.publicKey), reconnectInterval: 100 })
      const client = new Recorder(req)
      req.connect(await bindOn(transport, rep))
      const retries = await client.until("connect:retry", 4)
      await client.until("connect", 5)
      for (const retry of retries) expect(retry.interval).toBeGreaterThanOrEqual(100)
      // Each refusal is followed by one retry, and each redial waits out its interval (10 ms of
      // slack: libuv measures timers from the loop time cached at the start of the tick).
      const connects = client.of("connect")
      for (let i = 0; i < 4; i++) {
        expect(connects[i + 1]!.at - retries[i]!.at).toBeGreaterThanOrEqual(retries[i]!.interval! - 10)
      }
      expect(client.of("handshake:error:auth").length).toBeGreaterThanOrEqual(4)
      const perSecond = (connects.length - 1) / ((connects.at(-1)!.at - connects[0]!.at) / 1000)
      expect(perSecond).toBeLessThan(15)
    })
  })
})
