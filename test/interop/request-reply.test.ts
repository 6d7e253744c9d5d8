/**
 * REQ, REP, DEALER and ROUTER against libzmq (the zeromq package): every pair
 * libzmq allows, zmesh on either end, binding or connecting, over tcp and ipc,
 * with the envelopes checked byte for byte; then REP's envelope rules, routing
 * ids, and the handshake refusing incompatible socket types.
 */
import * as zmq from "zeromq"
import { afterEach, describe, expect, it } from "vitest"
import * as zmesh from "../../src/index.js"
import { bindOn, cleanupIpc, transports, type TransportCase } from "../helpers/endpoints.js"
import { closeAll, nextEvent } from "../helpers/sockets.js"

type Library = "zmesh" | "libzmq"
type Kind = "REQ" | "REP" | "DEALER" | "ROUTER"
type Frame = Buffer | string

/** What the tests need of a socket from either library. */
interface Peer {
  bind(address: string): Promise<void>
  readonly lastEndpoint: string | null
  connect(address: string, options?: { routingId?: string }): void
  send(message: Frame[]): Promise<void>
  receive(): Promise<Buffer[]>
  close(): void
}

interface PeerOptions {
  routingId?: string
  probeRouter?: boolean
  mandatory?: boolean
}

const sockets: Array<{ close(): void }> = []

afterEach(() => {
  closeAll(...sockets.splice(0))
  cleanupIpc()
})

/** Opens a socket; afterEach closes it with linger 0. */
function open(library: Library, kind: Kind, options: PeerOptions = {}): Peer {
  const peer = library === "zmesh" ? openZmesh(kind, options) : openLibzmq(kind, options)
  sockets.push(peer)
  return peer
}

function openZmesh(kind: Kind, options: PeerOptions): Peer {
  const { routingId, probeRouter = false, mandatory = false } = options
  const named = routingId === undefined ? {} : { routingId }
  switch (kind) {
    case "REQ":
      return new zmesh.Request({ ...named, probeRouter })
    case "REP":
      return new zmesh.Reply()
    case "DEALER":
      return new zmesh.Dealer({ ...named, probeRouter })
    case "ROUTER":
      return new zmesh.Router({ ...named, probeRouter, mandatory })
  }
}

function openLibzmq(kind: Kind, options: PeerOptions): Peer {
  const { routingId, probeRouter = false, mandatory = false } = options
  // zeromq.js refuses routingId: null.
  const named = routingId === undefined ? {} : { routingId }
  switch (kind) {
    case "REQ":
      return new zmq.Request({ ...named, probeRouter })
    case "REP":
      return new zmq.Reply()
    case "DEALER":
      return new zmq.Dealer({ ...named, probeRouter })
    case "ROUTER":
      return new zmq.Router({ ...named, probeRouter, mandatory })
  }
}

/** Frames as hex strings, so a mismatch shows the exact bytes. */
function hex(message: readonly Frame[]): string[] {
  return message.map((frame) => Buffer.from(frame).toString("hex"))
}

/** Stands for a routing id the ROUTER generates: 0x00 and a 4-byte counter. */
const GENERATED = Symbol("generated routing id")
type Expected = Frame | typeof GENERATED

/**
 * Checks a received message against the expected frames byte-exactly; a
 * GENERATED slot must hold a 5-byte id starting with 0x00.
 */
function expectMessage(received: Buffer[], expected: readonly Expected[]): void {
  const resolved = expected.map((frame, i) => {
    if (frame !== GENERATED) return frame
    const id = received[i]
    expect(id, `frame ${i} should be a generated routing id`).toBeDefined()
    expect(id!.length).toBe(5)
    expect(id![0]).toBe(0)
    return id!
  })
  expect(hex(received)).toEqual(hex(resolved))
}

/** One request-reply pair: how each side frames the body. */
interface Pair {
  readonly client: Kind
  readonly server: Kind
  readonly clientOptions?: PeerOptions
  /** Frames the client puts before the body it sends. */
  readonly requestPrefix: readonly Frame[]
  /** Frames the server sees before the body; it replies through them. */
  readonly serverPrefix: readonly Expected[]
  /** Frames the client sees before the reply body. */
  readonly replyPrefix: readonly Frame[]
}

const pairs: readonly Pair[] = [
  { client: "REQ", server: "REP", requestPrefix: [], serverPrefix: [], replyPrefix: [] },
  // REQ adds the empty delimiter; the ROUTER prefixes the REQ's generated id.
  { client: "REQ", server: "ROUTER", requestPrefix: [], serverPrefix: [GENERATED, ""], replyPrefix: [] },
  // A DEALER talking to a REP must send the delimiter itself, and gets it back.
  { client: "DEALER", server: "REP", requestPrefix: [""], serverPrefix: [], replyPrefix: [""] },
  {
    client: "DEALER",
    server: "ROUTER",
    clientOptions: { routingId: "dealer-1" },
    requestPrefix: [],
    serverPrefix: ["dealer-1"],
    replyPrefix: [],
  },
  { client: "DEALER", server: "DEALER", requestPrefix: [], serverPrefix: [], replyPrefix: [] },
  // ROUTER to ROUTER: each side names the other (set up in connectPair).
  {
    client: "ROUTER",
    server: "ROUTER",
    clientOptions: { routingId: "client", mandatory: true },
    requestPrefix: ["server"],
    serverPrefix: ["client"],
    replyPrefix: ["server"],
  },
]

/** A frame larger than any single socket read, so it arrives in many chunks. */
const big = Buffer.alloc(200_000)
for (let i = 0; i < big.length; i++) big[i] = (i * 31) & 0xff

/** Request bodies: multipart, binary, an empty first frame, frames over 255 bytes (long size). */
const bodies: readonly Frame[][] = [
  ["hello"],
  ["multi", "part", "request"],
  ["", Buffer.from([0x00, 0xff, 0x7f, 0x80]), ""],
  [Buffer.alloc(300, 0xab), "long frame"],
  [big, "", big.subarray(0, 256)],
]

function replyTo(body: readonly Frame[]): Frame[] {
  return ["re", ...body, "end"]
}

interface Setup {
  readonly clientLibrary: Library
  readonly binds: "client" | "server"
}

const setups: readonly Setup[] = [
  { clientLibrary: "zmesh", binds: "server" },
  { clientLibrary: "zmesh", binds: "client" },
  { clientLibrary: "libzmq", binds: "server" },
  { clientLibrary: "libzmq", binds: "client" },
]

const other = (library: Library): Library => (library === "zmesh" ? "libzmq" : "zmesh")

function describeSetup(pair: Pair, setup: Setup): string {
  const serverLibrary = other(setup.clientLibrary)
  const client = `${setup.clientLibrary} ${pair.client} client`
  const server = `${serverLibrary} ${pair.server} server`
  return setup.binds === "server" ? `${server} binds, ${client} connects` : `${client} binds, ${server} connects`
}

/**
 * Opens and links the two sockets. ROUTER to ROUTER needs each side to know
 * the other's id before it can send: a connecting client names the server
 * with connect(address, { routingId }), which overrides the Identity the
 * server sends; a connecting server names the client the same way and
 * announces itself with probeRouter, whose empty message tells the binding
 * client the server's id.
 */
async function connectPair(transport: TransportCase, pair: Pair, setup: Setup): Promise<{ client: Peer; server: Peer }> {
  const routerToRouter = pair.server === "ROUTER" && pair.client === "ROUTER"
  const serverOptions: PeerOptions = !routerToRouter
    ? {}
    : setup.binds === "server"
      ? { routingId: "server-identity", mandatory: true }
      : { routingId: "server", mandatory: true, probeRouter: true }
  const client = open(setup.clientLibrary, pair.client, pair.clientOptions)
  const server = open(other(setup.clientLibrary), pair.server, serverOptions)
  if (setup.binds === "server") {
    const endpoint = await bindOn(transport, server)
    // zeromq.js counts arguments: pass connect options only where they apply.
    if (routerToRouter) client.connect(endpoint, { routingId: "server" })
    else client.connect(endpoint)
  } else {
    const endpoint = await bindOn(transport, client)
    if (routerToRouter) {
      server.connect(endpoint, { routingId: "client" })
      expectMessage(await client.receive(), ["server", ""])
    } else {
      server.connect(endpoint)
    }
  }
  return { client, server }
}

async function roundTrips(pair: Pair, client: Peer, server: Peer): Promise<void> {
  for (const body of bodies) {
    await client.send([...pair.requestPrefix, ...body])
    const request = await server.receive()
    expectMessage(request, [...pair.serverPrefix, ...body])
    const envelope = request.slice(0, pair.serverPrefix.length)
    const reply = replyTo(body)
    await server.send([...envelope, ...reply])
    expectMessage(await client.receive(), [...pair.replyPrefix, ...reply])
  }
}

describe.each(transports)("request-reply interop over $name", (transport) => {
  for (const pair of pairs) {
    describe(`${pair.client} to ${pair.server}`, () => {
      for (const setup of setups) {
        it(describeSetup(pair, setup), async () => {
          const { client, server } = await connectPair(transport, pair, setup)
          await roundTrips(pair, client, server)
        })
      }
    })
  }

  describe("ROUTER to ROUTER with the binder's routingId learnt at the handshake", () => {
    it("a zmesh ROUTER connecting without a connect routingId names a libzmq binder by its Identity", async () => {
      const server = open("libzmq", "ROUTER", { routingId: "server", mandatory: true })
      const client = new zmesh.Router({ routingId: "client", mandatory: true })
      sockets.push(client)
      const endpoint = await bindOn(transport, server)
      const handshake = nextEvent(client.events, "handshake")
      client.connect(endpoint)
      await handshake
      await roundTrips(pairs.find((p) => p.client === "ROUTER")!, client, server)
    })
  })
})

describe.each(transports)("REP keeps the request envelope over $name", (transport) => {
  describe.each(["zmesh", "libzmq"] as const)("%s REP binds", (repLibrary) => {
    it(`a ${other(repLibrary)} DEALER's envelope comes back intact; REP sees only the body`, async () => {
      const rep = open(repLibrary, "REP")
      const dealer = open(other(repLibrary), "DEALER")
      dealer.connect(await bindOn(transport, rep))

      // libzmq's test_spec_rep: ["", "A"] comes back as ["", reply].
      await dealer.send(["", "A"])
      expectMessage(await rep.receive(), ["A"])
      await rep.send(["A"])
      expectMessage(await dealer.receive(), ["", "A"])

      // Everything up to and including the first empty frame is the envelope.
      await dealer.send(["X", "Y", "", "A"])
      expectMessage(await rep.receive(), ["A"])
      await rep.send(["B", "C"])
      expectMessage(await dealer.receive(), ["X", "Y", "", "B", "C"])

      // A binary routed envelope (as a ROUTER upstream would add), an empty frame in the body.
      const hop = Buffer.from([0x00, 0x12, 0x34, 0x56, 0x78])
      await dealer.send([hop, "client-3", "", "", "after empty"])
      expectMessage(await rep.receive(), ["", "after empty"])
      await rep.send(["done"])
      expectMessage(await dealer.receive(), [hop, "client-3", "", "done"])
    })

    it(`a ${other(repLibrary)} DEALER's message with no delimiter is discarded by the REP`, async () => {
      const rep = open(repLibrary, "REP")
      const dealer = open(other(repLibrary), "DEALER")
      dealer.connect(await bindOn(transport, rep))
      await dealer.send(["no", "delimiter"])
      await dealer.send(["", "kept"])
      expectMessage(await rep.receive(), ["kept"])
      await rep.send(["ok"])
      expectMessage(await dealer.receive(), ["", "ok"])
    })
  })
})

describe.each(transports)("REQ's envelope rules over $name", (transport) => {
  describe.each(["zmesh", "libzmq"] as const)("%s REQ", (reqLibrary) => {
    const routerLibrary = other(reqLibrary)

    it(`${reqLibrary === "zmesh" ? "drops" : "disconnects on"} a reply without the empty delimiter from a ${routerLibrary} ROUTER`, async () => {
      const router = open(routerLibrary, "ROUTER")
      const req = open(reqLibrary, "REQ")
      req.connect(await bindOn(transport, router))
      await req.send(["question"])
      const [id, ...rest] = await router.receive()
      expectMessage(rest, ["", "question"])
      if (router instanceof zmesh.Router) {
        // libzmq's REQ session refuses a reply that does not start with an empty frame (or a
        // 4-byte request id) as a protocol error and closes the connection (req_session_t::push_msg).
        const disconnected = nextEvent(router.events, "disconnect")
        await router.send([id!, "no delimiter"])
        await disconnected
      } else {
        // zmesh's REQ discards the malformed reply and keeps waiting on the same connection.
        await router.send([id!, "no delimiter"])
        await router.send([id!, "", "answer"])
        expectMessage(await req.receive(), ["answer"])
      }
    })

    it(`with correlate, prefixes a 4-byte request id a ${routerLibrary} ROUTER must echo; a late reply is dropped`, async () => {
      const router = open(routerLibrary, "ROUTER")
      const req =
        reqLibrary === "zmesh"
          ? new zmesh.Request({ correlate: true, relaxed: true })
          : new zmq.Request({ correlate: true, relaxed: true })
      sockets.push(req)
      req.connect(await bindOn(transport, router))

      await req.send(["first"])
      const [id, first, ...rest1] = await router.receive()
      expect(first!.length).toBe(4)
      expectMessage(rest1, ["", "first"])
      // relaxed: a new request without waiting for the first reply.
      await req.send(["second"])
      const [id2, second, ...rest2] = await router.receive()
      expectMessage([id2!], [id!])
      expectMessage(rest2, ["", "second"])
      // libzmq counts request ids up by one, in host byte order.
      expect(second!.readUInt32LE(0)).toBe((first!.readUInt32LE(0) + 1) >>> 0)

      await router.send([id!, first!, "", "late reply"])
      await router.send([id!, second!, "", "current reply"])
      expectMessage(await req.receive(), ["current reply"])
    })

    it(`with correlate, round trips through a ${routerLibrary} REP`, async () => {
      const rep = open(routerLibrary, "REP")
      const req =
        reqLibrary === "zmesh" ? new zmesh.Request({ correlate: true }) : new zmq.Request({ correlate: true })
      sockets.push(req)
      req.connect(await bindOn(transport, rep))
      for (const n of [1, 2, 3]) {
        await req.send(["ping", `${n}`])
        expectMessage(await rep.receive(), ["ping", `${n}`])
        await rep.send(["pong", `${n}`])
        expectMessage(await req.receive(), ["pong", `${n}`])
      }
    })
  })
})

describe.each(transports)("routing ids over $name", (transport) => {
  describe.each(["zmesh", "libzmq"] as const)("%s ROUTER binds", (routerLibrary) => {
    const peerLibrary = other(routerLibrary)

    it(`sees a ${peerLibrary} DEALER with routingId "worker-7" under that id and routes back to it`, async () => {
      const router = open(routerLibrary, "ROUTER", { mandatory: true })
      const dealer = open(peerLibrary, "DEALER", { routingId: "worker-7" })
      dealer.connect(await bindOn(transport, router))
      await dealer.send(["ready"])
      expectMessage(await router.receive(), ["worker-7", "ready"])
      await router.send(["worker-7", "job", "1"])
      expectMessage(await dealer.receive(), ["job", "1"])
    })

    it(`gives anonymous ${peerLibrary} peers distinct 5-byte ids starting with 0x00`, async () => {
      const router = open(routerLibrary, "ROUTER", { mandatory: true })
      const endpoint = await bindOn(transport, router)
      const dealers = [open(peerLibrary, "DEALER"), open(peerLibrary, "DEALER")]
      const req = open(peerLibrary, "REQ")
      const ids = new Map<string, string>()
      for (const [i, dealer] of dealers.entries()) {
        dealer.connect(endpoint)
        await dealer.send([`dealer-${i}`])
        const [id, ...rest] = await router.receive()
        expectMessage([id!], [GENERATED])
        expectMessage(rest, [`dealer-${i}`])
        ids.set(`dealer-${i}`, id!.toString("hex"))
      }
      req.connect(endpoint)
      await req.send(["req"])
      const [id, ...rest] = await router.receive()
      expectMessage([id!], [GENERATED])
      expectMessage(rest, ["", "req"])
      ids.set("req", id!.toString("hex"))
      expect(new Set(ids.values()).size).toBe(3)

      // Replies go to the peer each id names.
      for (const [i, dealer] of dealers.entries()) {
        await router.send([Buffer.from(ids.get(`dealer-${i}`)!, "hex"), `for dealer-${i}`])
        expectMessage(await dealer.receive(), [`for dealer-${i}`])
      }
      await router.send([Buffer.from(ids.get("req")!, "hex"), "", "for req"])
      expectMessage(await req.receive(), ["for req"])
    })
  })
})

interface Refusal {
  readonly name: string
  readonly zmesh: () => zmesh.Socket
  readonly libzmq: () => zmq.Socket
  /** Which side binds; the other connects. */
  readonly binds: Library
  /** A message the libzmq side queues before connecting, which must never arrive. */
  readonly attempt?: Frame[]
}

const refusals: readonly Refusal[] = [
  {
    name: "a libzmq PUSH connecting to a zmesh REP",
    zmesh: () => new zmesh.Reply(),
    libzmq: () => new zmq.Push(),
    binds: "zmesh",
    attempt: ["", "through?"],
  },
  {
    name: "a libzmq ROUTER connecting to a zmesh REP",
    zmesh: () => new zmesh.Reply(),
    libzmq: () => new zmq.Router(),
    binds: "zmesh",
  },
  {
    name: "a zmesh REQ connecting to a libzmq REQ",
    zmesh: () => new zmesh.Request(),
    libzmq: () => new zmq.Request(),
    binds: "libzmq",
  },
  {
    name: "a zmesh DEALER connecting to a libzmq PUSH",
    zmesh: () => new zmesh.Dealer(),
    libzmq: () => new zmq.Push(),
    binds: "libzmq",
  },
]

describe.each(transports)("incompatible socket types are refused at the handshake over $name", (transport) => {
  for (const refusal of refusals) {
    it(refusal.name, async () => {
      const ours = refusal.zmesh()
      const theirs = refusal.libzmq()
      sockets.push(ours, theirs)
      const handshakes: string[] = []
      ours.events.on("handshake", (event) => handshakes.push(event.address))
      const binder = refusal.binds === "zmesh" ? ours : theirs
      const connecter = refusal.binds === "zmesh" ? theirs : ours
      await binder.bind(transport.bindAddress())
      const endpoint = binder.lastEndpoint!

      const refused = nextEvent(ours.events, "handshake:error:protocol")
      const disconnected = nextEvent(ours.events, "disconnect")
      connecter.connect(endpoint)
      // libzmq queues to a connect()ed peer before the handshake, so this send resolves at once.
      if (refusal.attempt !== undefined) await (theirs as zmq.Push).send(refusal.attempt)
      const event = await refused
      expect(event.address).toBe(endpoint)
      expect(event.error.code).toBe("ERR_SOCKET_TYPE")
      expect((await disconnected).error?.code).toBe("ERR_SOCKET_TYPE")

      if (refusal.binds === "libzmq") {
        // zmesh dials again after a refused handshake; each attempt is refused the same way.
        const again = await nextEvent(ours.events, "handshake:error:protocol")
        expect(again.error.code).toBe("ERR_SOCKET_TYPE")
      }
      expect(handshakes).toEqual([])
      expect(ours.readable).toBe(false)

      if (ours instanceof zmesh.Reply) {
        // A libzmq connecter that detects the mismatch first gives up (a protocol error ends its
        // session), so instead of waiting for a retry, prove nothing got through: a compatible
        // REQ's request must be the first thing the REP receives.
        const req = open("libzmq", "REQ")
        req.connect(endpoint)
        await req.send(["hello"])
        expectMessage(await ours.receive(), ["hello"])
        await ours.send(["world"])
        expectMessage(await req.receive(), ["world"])
      }
    })
  }
})
