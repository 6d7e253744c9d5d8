/**
 * Options set on a socket that is already bound and connected: none throws,
 * here or later inside node:net; each applies from the next connection
 * (zeromq.js warns "Socket option will not take effect until next
 * connect/bind." for those), and the connections already up keep theirs.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest"
import {
  Dealer,
  Publisher,
  Pull,
  Push,
  Request,
  Router,
  Stream,
  Subscriber,
  XPublisher,
  curveKeyPair,
} from "../../src/index.js"
import { socketDefaults } from "../../src/options.js"
import { closeAll, nextEvent } from "../helpers/sockets.js"
import { RawServer, closeRawPeers, dataFrame, dial } from "../wire/raw-peer.js"
import { IMMEDIATE, LIVE_VALUES, SECURITY, pings } from "./fixtures/options.js"

const WARNING = "Socket option will not take effect until next connect/bind."

const warnings: string[] = []
const onWarning = (warning: Error) => warnings.push(warning.message)
beforeEach(() => {
  warnings.length = 0
  process.on("warning", onWarning)
})
afterEach(async () => {
  process.off("warning", onWarning)
  await closeRawPeers()
})

/** process.emitWarning delivers on the next tick. */
async function warningsAfter(set: () => void): Promise<number> {
  const before = warnings.filter((w) => w === WARNING).length
  set()
  await new Promise(process.nextTick)
  return warnings.filter((w) => w === WARNING).length - before
}

function set(socket: object, name: string, value: unknown): void {
  ;(socket as Record<string, unknown>)[name] = value
}

/** `count` messages from `from` reach `to`, in order. */
async function flows(from: Push, to: Pull, tag: string, count = 3): Promise<void> {
  const sent = Array.from({ length: count }, (_, i) => `${tag}-${i}`)
  for (const body of sent) await from.send(body)
  const got: string[] = []
  for (let i = 0; i < count; i++) got.push(String((await to.receive())[0]))
  expect(got).toEqual(sent)
}

describe("every option set after bind and connect", () => {
  it("covers every socket option", () => {
    expect(Object.keys(LIVE_VALUES).sort()).toEqual(Object.keys(socketDefaults).sort())
  })

  it("never throws, warns exactly for those that wait for the next connection, and new connections use them", async () => {
    const pull = new Pull()
    const push = new Push()
    const bystander = new Dealer()
    let fresh: Push | undefined
    let third: Push | undefined
    try {
      await pull.bind("tcp://127.0.0.1:*")
      const endpoint = pull.lastEndpoint!
      push.connect(endpoint)
      await flows(push, pull, "before")
      bystander.connect(endpoint)
      for (const [name, value] of Object.entries(LIVE_VALUES)) {
        // The security options would make the next connection's handshake fail on purpose; the bystander takes them.
        const targets = SECURITY.includes(name) ? [bystander] : [pull, push]
        for (const socket of targets) {
          expect(await warningsAfter(() => set(socket, name, value)), name).toBe(IMMEDIATE.has(name) ? 0 : 1)
        }
      }
      // The connection already up carries on; a redial of the client and a new client get the new options.
      await flows(push, pull, "live")
      push.disconnect(endpoint)
      push.connect(endpoint)
      await flows(push, pull, "redialed")
      fresh = new Push()
      fresh.connect(endpoint)
      await flows(fresh, pull, "fresh")
      // A new bind uses ipv6 and backlog as set.
      await pull.bind("tcp://127.0.0.1:*")
      third = new Push()
      third.connect(pull.lastEndpoint!)
      await flows(third, pull, "second bind")
    } finally {
      closeAll(push, pull, bystander, fresh, third)
    }
  })

  it("warn for a fresh socket's options only once it is bound or connected", async () => {
    const dealer = new Dealer()
    try {
      for (const [name, value] of Object.entries(LIVE_VALUES)) expect(await warningsAfter(() => set(dealer, name, value)), name).toBe(0)
      dealer.connect("tcp://127.0.0.1:1")
      expect(await warningsAfter(() => (dealer.routingId = "after"))).toBe(1)
    } finally {
      closeAll(dealer)
    }
  })

  const typed: Array<[string, () => { bind(address: string): Promise<void>; close(): void }, Record<string, unknown>]> = [
    ["Router", () => new Router(), { mandatory: true, handover: true, probeRouter: true }],
    ["Request", () => new Request(), { correlate: true, relaxed: true, probeRouter: true }],
    ["Dealer", () => new Dealer(), { probeRouter: true, conflate: true }],
    ["XPublisher", () => new XPublisher(), { verbosity: "allSubs", noDrop: true, manual: true, welcomeMessage: "hi" }],
    ["Publisher", () => new Publisher(), { noDrop: true, conflate: true }],
    ["Subscriber", () => new Subscriber(), { conflate: true }],
    ["Stream", () => new Stream(), { notify: false }],
  ]
  for (const [type, create, options] of typed) {
    it(`of ${type} warns exactly for those that wait for the next connection`, async () => {
      const socket = create()
      try {
        await socket.bind("tcp://127.0.0.1:*")
        for (const [name, value] of Object.entries(options)) {
          expect(await warningsAfter(() => set(socket, name, value)), name).toBe(IMMEDIATE.has(name) ? 0 : 1)
        }
      } finally {
        closeAll(socket as { close(): void })
      }
    })
  }
})

describe("an option that applies from the next connection", () => {
  it("maxMessageSize set after bind limits new connections, not the one already up", async () => {
    const pull = new Pull()
    const old = new Push()
    const later = new Push()
    try {
      await pull.bind("tcp://127.0.0.1:*")
      const endpoint = pull.lastEndpoint!
      old.connect(endpoint)
      await flows(old, pull, "old")
      pull.maxMessageSize = 100
      const big = Buffer.alloc(1000, 0x62)
      await old.send(big)
      expect((await pull.receive())[0]).toEqual(big)
      const dropped = nextEvent(pull.events, "disconnect")
      later.connect(endpoint)
      await later.send(big)
      expect((await dropped).error?.code).toBe("ERR_MESSAGE_TOO_LARGE")
      await flows(old, pull, "old still")
    } finally {
      closeAll(old, later, pull)
    }
  })

  it("curveServer set after bind: the next CURVE handshake fails with EINVAL, the process lives on, and the key makes the next one work", async () => {
    const server = curveKeyPair()
    const client = curveKeyPair()
    const pull = new Pull()
    const plain = new Push()
    const curve = new Push({
      reconnectInterval: 20,
      curveServerKey: server.publicKey,
      curvePublicKey: client.publicKey,
      curveSecretKey: client.secretKey,
    })
    try {
      await pull.bind("tcp://127.0.0.1:*")
      const endpoint = pull.lastEndpoint!
      plain.connect(endpoint)
      await flows(plain, pull, "null")
      pull.curveServer = true
      const failed = nextEvent(pull.events, "handshake:error:other")
      curve.connect(endpoint)
      const failure = await failed
      expect(failure.error.code).toBe("EINVAL")
      expect(failure.error.detail).toMatch(/curveSecretKey/)
      // The NULL connection made before is not touched.
      await flows(plain, pull, "null still")
      pull.curveSecretKey = server.secretKey
      // The client redials; this time the server has its key.
      await curve.send("over curve")
      expect(String((await pull.receive())[0])).toBe("over curve")
    } finally {
      closeAll(plain, curve, pull)
    }
  })
})

describe("a security option set after bind", () => {
  const keys = curveKeyPair()
  const cases: Array<[string, unknown, unknown]> = [
    ["curveServer", true, false],
    ["curveSecretKey", keys.secretKey, null],
    ["curvePublicKey", keys.publicKey, null],
    ["curveServerKey", keys.publicKey, null],
    ["plainServer", true, false],
    ["plainUsername", "user", null],
    ["plainPassword", "secret", null],
  ]
  for (const [name, value, reset] of cases) {
    it(`${name}: the next NULL client's handshake fails, nothing throws, and unset again the next one works`, async () => {
      const pull = new Pull()
      const refused = new Push({ reconnectInterval: -1 })
      const welcome = new Push()
      try {
        await pull.bind("tcp://127.0.0.1:*")
        set(pull, name, value)
        const failed = new Promise<string>((resolve) => {
          for (const type of ["handshake:error:protocol", "handshake:error:auth", "handshake:error:other"] as const) {
            pull.events.on(type, (event) => resolve(`${type} ${event.error.code}`))
          }
        })
        refused.connect(pull.lastEndpoint!)
        expect(await failed).toMatch(/^handshake:error:/)
        set(pull, name, reset)
        welcome.connect(pull.lastEndpoint!)
        await flows(welcome, pull, name)
      } finally {
        closeAll(refused, welcome, pull)
      }
    })
  }
})

describe("heartbeatInterval set after connect", () => {
  it("leaves the connection already up without PINGs, and applies to the next one after a reconnect", async () => {
    const first = await RawServer.listen("tcp://127.0.0.1:0")
    const second = await RawServer.listen("tcp://127.0.0.1:0")
    const push = new Push({ reconnectInterval: 20 })
    try {
      push.connect(first.endpoint)
      const old = await first.connection()
      await old.handshake(1, "PULL")
      const oldPings = pings(old)
      push.heartbeatInterval = 30
      push.connect(second.endpoint)
      const other = await second.connection()
      await other.handshake(1, "PULL")
      // Three intervals pass on the new connection; the old one, up all along, got none.
      await pings(other).until(3)
      expect(oldPings.count).toBe(0)
      // After a reconnect the first endpoint's connection is a new one, with heartbeats.
      old.close()
      const renewed = await first.connection()
      await renewed.handshake(1, "PULL")
      await pings(renewed).until(1)
    } finally {
      closeAll(push)
    }
  })
})

describe("a timer option above what a Node timer holds (2^31 - 1 ms)", () => {
  // Node turns a longer timeout into 1 ms (TimeoutOverflowWarning). libzmq's
  // options are C ints, so such a value is EINVAL there; either refusing it
  // or waiting that long is right, timing out after 1 ms is not.
  const HUGE = 2 ** 31

  /** Past this, a 1 ms timer set before it has fired: timers of the same loop run in order of expiry. */
  const pastOneMillisecond = () => new Promise((resolve) => setTimeout(resolve, 20))

  function refused(set: () => void): boolean {
    try {
      set()
      return false
    } catch (err) {
      expect((err as { code?: string }).code).toBe("EINVAL")
      return true
    }
  }

  it("receiveTimeout is refused, or a receive waits longer than 1 ms", async () => {
    const pull = new Pull()
    const push = new Push()
    try {
      if (refused(() => (pull.receiveTimeout = HUGE))) return
      await pull.bind("tcp://127.0.0.1:*")
      push.connect(pull.lastEndpoint!)
      const received = pull.receive().then(
        (message) => String(message[0]),
        (err: { code?: string }) => `rejected with ${err.code}`,
      )
      await pastOneMillisecond()
      await push.send("late")
      expect(await received).toBe("late")
    } finally {
      closeAll(push, pull)
    }
  })

  it("handshakeInterval set after bind is refused, or a handshake may take longer than 1 ms", async () => {
    const pull = new Pull()
    try {
      await pull.bind("tcp://127.0.0.1:*")
      if (refused(() => (pull.handshakeInterval = HUGE))) return
      const peer = await dial(pull.lastEndpoint!)
      await pastOneMillisecond()
      await peer.handshake(1, "PUSH")
      peer.write(dataFrame("slow but fine"))
      expect(String((await pull.receive())[0])).toBe("slow but fine")
    } finally {
      closeAll(pull)
    }
  })
})
