/**
 * PUB/SUB and XPUB/XSUB against libzmq (the zeromq package), zmesh on either
 * side, over tcp and ipc: filtering by prefix, subscriptions and cancels as
 * XPUB reports them, connect before bind, and peers that restart on the same
 * endpoint. Subscriptions travel asynchronously, so every delivery test
 * publishes probes until the first one arrives instead of sleeping.
 */
import { existsSync } from "node:fs"
import net from "node:net"
import { setImmediate as nextMacrotask } from "node:timers/promises"
import * as zmq from "zeromq"
import { afterEach, describe, expect, it } from "vitest"
import * as zmesh from "../../src/index.js"
import { cleanupIpc, ipcEndpoint, transports, type TransportCase } from "../helpers/endpoints.js"
import { closeAll, nextEvent } from "../helpers/sockets.js"
import type { Library } from "./link.js"

type Frames = Array<string | Buffer>

interface PubLike {
  send(message: Frames): Promise<void>
  bind(address: string): Promise<void>
  connect(address: string): void
  readonly lastEndpoint: string | null
  close(): void
}

interface SubLike {
  receive(): Promise<Buffer[]>
  bind(address: string): Promise<void>
  connect(address: string): void
  readonly lastEndpoint: string | null
  close(): void
}

const sockets: Array<{ close(): void }> = []

afterEach(() => {
  closeAll(...(sockets.splice(0) as Array<zmesh.Socket | zmq.Socket>))
  cleanupIpc()
})

function track<S extends { close(): void }>(socket: S): S {
  sockets.push(socket)
  return socket
}

function publisher(library: Library): PubLike {
  return track(library === "zmesh" ? new zmesh.Publisher() : new zmq.Publisher())
}

/** A SUB (subscribe()) or an XSUB (which sends `\x01topic`) of either library, subscribed to `topic`. */
async function subscriber(library: Library, kind: "SUB" | "XSUB", topic: string): Promise<SubLike> {
  const options = { reconnectInterval: 10 }
  if (kind === "SUB") {
    const sub = track(library === "zmesh" ? new zmesh.Subscriber(options) : new zmq.Subscriber(options))
    sub.subscribe(topic)
    return sub
  }
  const xsub = track(library === "zmesh" ? new zmesh.XSubscriber(options) : new zmq.XSubscriber(options))
  await xsub.send(Buffer.from(`\x01${topic}`))
  return xsub
}

const PROBE = "A.probe"

/**
 * Publishes probes `[PROBE, tag]`, one per macrotask, until `arrived`
 * settles: a subscription reaches the publisher some time after connect,
 * and a publisher drops what nobody has subscribed to yet. The tag tells a
 * restarted publisher's probes from the old one's still queued.
 */
async function publishUntil<T>(pub: PubLike, tag: string, arrived: Promise<T>): Promise<T> {
  let done = false
  arrived.then(
    () => (done = true),
    () => (done = true),
  )
  while (!done) {
    await pub.send([PROBE, tag])
    await nextMacrotask()
  }
  return arrived
}

/** Resolves with the first probe tagged `tag`; older probes are skipped, anything else fails. */
async function probeArrives(sub: SubLike, tag: string): Promise<void> {
  for (;;) {
    const frames = (await sub.receive()).map(String)
    expect(frames[0]).toBe(PROBE)
    if (frames[1] === tag) return
  }
}

/** Everything after the probes, up to and including the end marker, as strings. */
async function receiveUntilEnd(sub: SubLike): Promise<string[][]> {
  const got: string[][] = []
  for (;;) {
    const frames = (await sub.receive()).map(String)
    if (frames[0] === PROBE) continue
    got.push(frames)
    if (frames[0] === "A.end") return got
  }
}

/** Subscribed to "A": only the messages whose first frame starts with "A" may arrive, each whole. */
const TRAFFIC: string[][] = [
  ["B", "not subscribed"],
  ["A1", "x"],
  ["", "the empty topic is not subscribed"],
  ["a", "prefixes are case-sensitive"],
  ["AB", "y", "z"],
  ["BA", "A is not a prefix"],
  ["A", ""],
  ["A.end"],
]
const EXPECTED = TRAFFIC.filter((message) => message[0]!.startsWith("A"))

async function sendTraffic(pub: PubLike): Promise<void> {
  for (const message of TRAFFIC) await pub.send(message)
}

/** Binds on the transport and returns the real endpoint. */
async function bound(socket: { bind(address: string): Promise<void>; readonly lastEndpoint: string | null }, transport: TransportCase): Promise<string> {
  await socket.bind(transport.bindAddress())
  return socket.lastEndpoint!
}

/** A tcp or ipc endpoint nobody listens on yet: a port that was free a moment ago, or a fresh path. */
async function unusedEndpoint(transport: TransportCase): Promise<string> {
  if (transport.name === "ipc") return ipcEndpoint()
  const server = net.createServer()
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
  const { port } = server.address() as net.AddressInfo
  await new Promise<void>((resolve) => server.close(() => resolve()))
  return `tcp://127.0.0.1:${port}`
}

/**
 * Binds a new libzmq socket where a closed one listened. libzmq closes its
 * listener in its I/O thread after `close()` returns, so the address may
 * still be taken for a moment: retry on EADDRINUSE only, a bounded number of times.
 */
async function rebind(socket: { bind(address: string): Promise<void> }, endpoint: string): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await socket.bind(endpoint)
    } catch (err) {
      if ((err as { code?: string }).code !== "EADDRINUSE" || attempt >= 1000) throw err
      await nextMacrotask()
    }
  }
}

const SUBSCRIBE_A = Buffer.from("\x01A")
const CANCEL_A = Buffer.from("\x00A")
const LONG_TOPIC = "L".repeat(300)

describe.each(transports)("PUB/SUB interop over $name", (transport) => {
  const filterCases = [
    { pub: "zmesh", sub: "libzmq", kind: "SUB", binds: "PUB" },
    { pub: "zmesh", sub: "libzmq", kind: "SUB", binds: "SUB" },
    { pub: "zmesh", sub: "libzmq", kind: "XSUB", binds: "PUB" },
    { pub: "zmesh", sub: "libzmq", kind: "XSUB", binds: "SUB" },
    { pub: "libzmq", sub: "zmesh", kind: "SUB", binds: "PUB" },
    { pub: "libzmq", sub: "zmesh", kind: "SUB", binds: "SUB" },
    { pub: "libzmq", sub: "zmesh", kind: "XSUB", binds: "PUB" },
    { pub: "libzmq", sub: "zmesh", kind: "XSUB", binds: "SUB" },
  ] as const

  describe.each(filterCases)("$pub PUB -> $sub $kind ($binds binds)", (c) => {
    // An XSUB does not filter locally, so its cases show that the publisher filtered.
    it('only messages starting with "A" arrive, multipart messages whole and in order', async () => {
      const pub = publisher(c.pub)
      const sub = await subscriber(c.sub, c.kind, "A")
      if (c.binds === "PUB") sub.connect(await bound(pub, transport))
      else pub.connect(await bound(sub, transport))
      await publishUntil(pub, "1", probeArrives(sub, "1"))
      await sendTraffic(pub)
      expect(await receiveUntilEnd(sub)).toEqual(EXPECTED)
    })
  })

  describe("XPUB sees the subscriptions of the other library", () => {
    it("zmesh XPUB reads a libzmq SUB's subscribe and cancel as \\x01A / \\x00A, long topics included", async () => {
      const xpub = track(new zmesh.XPublisher())
      const sub = track(new zmq.Subscriber())
      sub.connect(await bound(xpub, transport))
      sub.subscribe("A")
      expect(await xpub.receive()).toEqual([SUBSCRIBE_A])
      // The subscription is in force once it is reported: no probes needed.
      await xpub.send(["A", "hello"])
      expect((await sub.receive()).map(String)).toEqual(["A", "hello"])
      sub.subscribe(LONG_TOPIC)
      expect(await xpub.receive()).toEqual([Buffer.from(`\x01${LONG_TOPIC}`)])
      sub.unsubscribe("A")
      expect(await xpub.receive()).toEqual([CANCEL_A])
      // A departing subscriber's remaining topics are cancelled for it.
      closeAll(sub)
      expect(await xpub.receive()).toEqual([Buffer.from(`\x00${LONG_TOPIC}`)])
    })

    it("libzmq XPUB reads a zmesh SUB's subscribe and cancel as \\x01A / \\x00A, long topics included", async () => {
      const xpub = track(new zmq.XPublisher())
      const sub = track(new zmesh.Subscriber())
      sub.connect(await bound(xpub, transport))
      sub.subscribe("A")
      expect(await xpub.receive()).toEqual([SUBSCRIBE_A])
      await xpub.send(["A", "hello"])
      expect((await sub.receive()).map(String)).toEqual(["A", "hello"])
      sub.subscribe(LONG_TOPIC)
      expect(await xpub.receive()).toEqual([Buffer.from(`\x01${LONG_TOPIC}`)])
      sub.unsubscribe("A")
      expect(await xpub.receive()).toEqual([CANCEL_A])
      sub.unsubscribe(LONG_TOPIC)
      expect(await xpub.receive()).toEqual([Buffer.from(`\x00${LONG_TOPIC}`)])
    })

    it("libzmq XPUB reads what a zmesh XSUB sends as \\x01A / \\x00A", async () => {
      const xpub = track(new zmq.XPublisher())
      const xsub = track(new zmesh.XSubscriber())
      xsub.connect(await bound(xpub, transport))
      await xsub.send(SUBSCRIBE_A)
      expect(await xpub.receive()).toEqual([SUBSCRIBE_A])
      await xpub.send(["A", "hello"])
      expect((await xsub.receive()).map(String)).toEqual(["A", "hello"])
      await xsub.send(CANCEL_A)
      expect(await xpub.receive()).toEqual([CANCEL_A])
    })

    it("zmesh XPUB reads what a libzmq XSUB sends as \\x01A / \\x00A", async () => {
      const xpub = track(new zmesh.XPublisher())
      const xsub = track(new zmq.XSubscriber())
      xsub.connect(await bound(xpub, transport))
      await xsub.send(SUBSCRIBE_A)
      expect(await xpub.receive()).toEqual([SUBSCRIBE_A])
      await xsub.send(CANCEL_A)
      expect(await xpub.receive()).toEqual([CANCEL_A])
    })
  })

  describe("connection order and restarts", () => {
    it("a zmesh SUB that connects before the libzmq PUB binds receives once it does", async () => {
      const endpoint = await unusedEndpoint(transport)
      const sub = track(new zmesh.Subscriber({ reconnectInterval: 10 }))
      sub.subscribe("A")
      const retried = nextEvent(sub.events, "connect:retry")
      sub.connect(endpoint)
      await retried
      const pub = publisher("libzmq")
      await pub.bind(endpoint)
      await publishUntil(pub, "1", probeArrives(sub, "1"))
      await sendTraffic(pub)
      expect(await receiveUntilEnd(sub)).toEqual(EXPECTED)
    })

    it("a zmesh SUB whose libzmq PUB restarts on the same endpoint resends its subscription and keeps receiving", async () => {
      const sub = track(new zmesh.Subscriber({ reconnectInterval: 10 }))
      sub.subscribe("A")
      const first = publisher("libzmq")
      const endpoint = await bound(first, transport)
      sub.connect(endpoint)
      await publishUntil(first, "first", probeArrives(sub, "first"))

      const lost = nextEvent(sub.events, "disconnect")
      closeAll(first)
      await lost
      const second = publisher("libzmq")
      await rebind(second, endpoint)
      // libzmq's PUB has no subscriptions of its own: only a resent one lets anything through.
      await publishUntil(second, "second", probeArrives(sub, "second"))
      await sendTraffic(second)
      expect(await receiveUntilEnd(sub)).toEqual(EXPECTED)
    })

    /** The zmesh PUB side of a restart: `stop` ends the first publisher, then a second binds the same endpoint. */
    async function zmeshPublisherRestart(stop: (pub: zmesh.Publisher, endpoint: string) => Promise<void>): Promise<void> {
      const sub = track(new zmq.Subscriber({ reconnectInterval: 10 }))
      sub.subscribe("A")
      const first = track(new zmesh.Publisher())
      const endpoint = await bound(first, transport)
      sub.connect(endpoint)
      await publishUntil(first, "first", probeArrives(sub, "first"))

      await stop(first, endpoint)
      const second = publisher("zmesh")
      await second.bind(endpoint)
      if (transport.name === "ipc") {
        // The socket file must still be there for libzmq to reconnect (see the it.fails case below).
        expect(existsSync(endpoint.slice("ipc://".length)), "ipc socket file after the new bind").toBe(true)
      }
      await publishUntil(second, "second", probeArrives(sub, "second"))
      await sendTraffic(second)
      expect(await receiveUntilEnd(sub)).toEqual(EXPECTED)
    }

    // Regression (ipc): the listener once removed its socket file in the server's close callback,
    // a few ticks after close(), deleting the file of a socket that had bound the path since.
    it("a libzmq SUB whose zmesh PUB restarts (close, bind again) resends its subscription and keeps receiving", async () => {
      await zmeshPublisherRestart(async (pub) => closeAll(pub))
    })

    it("a libzmq SUB whose zmesh PUB restarts (unbind, close, bind again) resends its subscription and keeps receiving", async () => {
      await zmeshPublisherRestart(async (pub, endpoint) => {
        await pub.unbind(endpoint)
        closeAll(pub)
      })
    })

    it("a zmesh PUB connected to a libzmq SUB that restarts on the same endpoint delivers to the new one", async () => {
      const pub = track(new zmesh.Publisher({ reconnectInterval: 10 }))
      const first = await subscriber("libzmq", "SUB", "A")
      const endpoint = await bound(first, transport)
      pub.connect(endpoint)
      await publishUntil(pub, "first", probeArrives(first, "first"))

      const lost = nextEvent(pub.events, "disconnect")
      closeAll(first)
      await lost
      const second = await subscriber("libzmq", "SUB", "A")
      await rebind(second, endpoint)
      await publishUntil(pub, "second", probeArrives(second, "second"))
      await sendTraffic(pub)
      expect(await receiveUntilEnd(second)).toEqual(EXPECTED)
    })
  })
})
