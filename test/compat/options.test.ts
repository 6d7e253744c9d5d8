/**
 * zeromq.js compatibility: socket options as properties and constructor
 * options, their checks and errors, their defaults, the low-level accessors
 * by libzmq number, and the warning for options set after bind/connect.
 */
import { describe, expect, it } from "vitest"
import { Dealer } from "../../src/index.js"
import { type Api, captureWarnings, libraries, socketTracker, thrown, warningsDelivered, zeromq } from "./helpers.js"

const track = socketTracker()

type Loose = Record<string, unknown>

describe.each(libraries)("socket options ($name)", ({ zmq }) => {
  const AnyDealer = zmq.Dealer as unknown as new (options?: object) => Loose & { close(): void }

  describe("checks", () => {
    it("an unknown constructor option is a TypeError", () => {
      const err = thrown(() => track(new AnyDealer({ doesNotExist: 1 })))
      expect(err).toBeInstanceOf(TypeError)
      expect(err.message).toBe("Cannot add property doesNotExist, object is not extensible")
    })

    it.each(["securityMechanism", "type", "lastEndpoint", "closed"])("the read-only %s as a constructor option is a TypeError", (name) => {
      const err = thrown(() => track(new AnyDealer({ [name]: 1 })))
      expect(err).toBeInstanceOf(TypeError)
      expect(err.message).toBe(`Cannot set property ${name} of #<Socket> which has only a getter`)
    })

    it("assigning an unknown property is a TypeError (sockets are sealed)", () => {
      const dealer = track(new AnyDealer())
      const err = thrown(() => (dealer.doesNotExist = 1))
      expect(err).toBeInstanceOf(TypeError)
      expect(err.message).toBe("Cannot add property doesNotExist, object is not extensible")
    })

    it("assigning a read-only property is a TypeError", () => {
      const dealer = track(new AnyDealer())
      const err = thrown(() => (dealer.securityMechanism = "plain"))
      expect(err).toBeInstanceOf(TypeError)
      expect(err.message).toBe("Cannot set property securityMechanism of #<Socket> which has only a getter")
    })

    it.each([
      ["linger", "hello", "Option value must be a number"],
      ["recoveryInterval", "5", "Option value must be a number"],
      ["immediate", 1, "Option value must be a boolean"],
      ["routingId", 1, "Option value must be a string or buffer"],
      ["zapDomain", 1, "Option value must be a string or buffer"],
    ])("%s = %j is a TypeError", (name, value, message) => {
      const dealer = track(new AnyDealer())
      const err = thrown(() => (dealer[name] = value))
      expect(err).toBeInstanceOf(TypeError)
      expect(err.message).toBe(message)
      const fromConstructor = thrown(() => track(new AnyDealer({ [name]: value })))
      expect(fromConstructor.message).toBe(message)
    })

    it.each([
      ["sendHighWaterMark", -1],
      ["receiveHighWaterMark", -1],
      ["linger", -2],
      ["routingId", ""],
    ])("%s = %j, out of range, is EINVAL", (name, value) => {
      const dealer = track(new AnyDealer())
      expect(thrown(() => (dealer[name] = value))).toMatchObject({ code: "EINVAL", errno: 22, message: "Invalid argument" })
    })
  })

  describe("values", () => {
    it("bool, int and 64-bit options round-trip", () => {
      const dealer = track(new zmq.Dealer())
      dealer.immediate = true
      dealer.backlog = 75
      dealer.maxMessageSize = 0xffffffff
      expect(dealer).toMatchObject({ immediate: true, backlog: 75, maxMessageSize: 0xffffffff })
    })

    it("a string option round-trips, given as a string or a Buffer", () => {
      const dealer = track(new AnyDealer())
      dealer.routingId = "åbçdéfghïjk"
      expect(dealer.routingId).toBe("åbçdéfghïjk")
      dealer.routingId = Buffer.from("åbçdéfghïjk")
      expect(dealer.routingId).toBe("åbçdéfghïjk")
    })

    it("a nullable string option resets to null", () => {
      const dealer = track(new AnyDealer())
      dealer.socksProxy = Buffer.from("foo")
      expect(dealer.socksProxy).toBe("foo")
      dealer.socksProxy = null
      expect(dealer.socksProxy).toBeNull()
    })

    it("securityMechanism follows the options: null, then plain", () => {
      const dealer = track(new zmq.Dealer())
      expect(dealer.securityMechanism).toBeNull()
      dealer.plainServer = true
      expect(dealer.securityMechanism).toBe("plain")
    })

    it("the defaults are libzmq's", () => {
      const dealer = track(new AnyDealer())
      const read = Object.fromEntries(Object.keys(DEALER_DEFAULTS).map((name) => [name, dealer[name]]))
      expect(read).toEqual(DEALER_DEFAULTS)
    })
  })

  describe("low-level accessors by libzmq option number", () => {
    interface LowLevel {
      getInt32Option(id: unknown): number
      setInt32Option(id: unknown, value: unknown): void
      getBoolOption(id: unknown): boolean
      setBoolOption(id: unknown, value: unknown): void
      getInt64Option(id: unknown): number
      setInt64Option(id: unknown, value: unknown): void
      getStringOption(id: unknown): string | null
      setStringOption(id: unknown, value: unknown): void
    }
    const lowLevel = () => track(new zmq.Dealer()) as unknown as LowLevel & Dealer

    it("ZMQ_LINGER (17) is linger, both ways", () => {
      const dealer = lowLevel()
      expect(dealer.getInt32Option(17)).toBe(dealer.linger)
      dealer.setInt32Option(17, 5)
      expect(dealer.linger).toBe(5)
    })

    it("bool, int64 and string options by number", () => {
      const dealer = lowLevel()
      expect(dealer.getBoolOption(39)).toBe(false)
      dealer.setBoolOption(39, true)
      expect(dealer.immediate).toBe(true)
      expect(dealer.getInt64Option(22)).toBe(-1)
      dealer.setInt64Option(22, 0xffffffffffff)
      expect(dealer.maxMessageSize).toBe(0xffffffffffff)
      expect(dealer.getStringOption(5)).toBeNull()
      dealer.setStringOption(5, Buffer.from("åbç"))
      expect(dealer.routingId).toBe("åbç")
    })

    it("an unknown option number is EINVAL", () => {
      const dealer = lowLevel()
      expect(thrown(() => dealer.getInt32Option(999))).toMatchObject({ code: "EINVAL", message: "Invalid argument" })
      expect(thrown(() => dealer.setInt32Option(999, 1))).toMatchObject({ code: "EINVAL", message: "Invalid argument" })
    })

    it("an option number that is not a number is a TypeError", () => {
      const err = thrown(() => lowLevel().getInt32Option("17"))
      expect(err).toBeInstanceOf(TypeError)
      expect(err.message).toBe("Identifier must be a number")
    })

    it("a value of the wrong type is a TypeError", () => {
      const err = thrown(() => lowLevel().setInt32Option(17, "5"))
      expect(err).toBeInstanceOf(TypeError)
      expect(err.message).toBe("Option value must be a number")
    })
  })

  describe("the warning for an option that applies from the next connect/bind", () => {
    const warnings = captureWarnings()
    const WARNING = "Socket option will not take effect until next connect/bind."
    let inprocCounter = 0
    const inproc = () => `inproc://compat-options-${zmq === zeromq ? "zeromq" : "zmesh"}-${++inprocCounter}`

    it("is emitted when an option is set after connect", async () => {
      const dealer = track(new zmq.Dealer({ linger: 0 }))
      dealer.connect(inproc())
      dealer.routingId = "after-connect"
      await warningsDelivered()
      expect(warnings.messages).toEqual([WARNING])
    })

    it("is emitted when an option is set after bind", async () => {
      const dealer = track(new zmq.Dealer({ linger: 0 }))
      await dealer.bind(inproc())
      dealer.backlog = 10
      await warningsDelivered()
      expect(warnings.messages).toEqual([WARNING])
    })

    it("is emitted when an option is set while a bind is under way", async () => {
      const dealer = track(new zmq.Dealer({ linger: 0 }))
      const bound = dealer.bind("tcp://127.0.0.1:*")
      dealer.routingId = "during-bind"
      await bound
      await warningsDelivered()
      expect(warnings.messages).toEqual([WARNING])
    })

    it("is not emitted before bind/connect", async () => {
      const dealer = track(new zmq.Dealer({ linger: 0 }))
      dealer.routingId = "before"
      dealer.backlog = 10
      await warningsDelivered()
      expect(warnings.messages).toEqual([])
    })

    it.each([
      ["linger", 0],
      ["sendTimeout", 10],
      ["receiveTimeout", 10],
      ["sendHighWaterMark", 10],
      ["receiveHighWaterMark", 10],
    ])("is not emitted for %s, which applies at once", async (name, value) => {
      const dealer = track(new zmq.Dealer({ linger: 0 }))
      dealer.connect(inproc())
      ;(dealer as unknown as Loose)[name] = value
      await warningsDelivered()
      expect(warnings.messages).toEqual([])
    })

    it("is not emitted for ZMQ_ROUTER_MANDATORY on a connected Router", async () => {
      const router = track(new zmq.Router({ linger: 0 }))
      router.connect(inproc())
      router.mandatory = true
      await warningsDelivered()
      expect(warnings.messages).toEqual([])
    })
  })
})

/** Every base option of a zeromq.js Dealer, with the value zeromq.js 6.8.0 (libzmq 4.3.5) reads by default. */
const DEALER_DEFAULTS: Record<string, unknown> = {
  linger: -1,
  sendHighWaterMark: 1000,
  receiveHighWaterMark: 1000,
  sendTimeout: -1,
  receiveTimeout: -1,
  reconnectInterval: 100,
  reconnectMaxInterval: 0,
  connectTimeout: 0,
  handshakeInterval: 30000,
  heartbeatInterval: 0,
  heartbeatTimeout: -1,
  heartbeatTimeToLive: 0,
  maxMessageSize: -1,
  backlog: 100,
  immediate: false,
  ipv6: false,
  routingId: null,
  plainServer: false,
  plainUsername: null,
  plainPassword: null,
  curveServer: false,
  // An empty string option reads as null in zeromq.js.
  zapDomain: null,
  zapEnforceDomain: false,
  tcpKeepalive: -1,
  tcpKeepaliveIdle: -1,
  tcpKeepaliveCount: -1,
  tcpKeepaliveInterval: -1,
  tcpMaxRetransmitTimeout: 0,
  sendBufferSize: -1,
  receiveBufferSize: -1,
  typeOfService: 0,
  affinity: 0,
  rate: 100,
  recoveryInterval: 10000,
  multicastHops: 1,
  multicastMaxTransportDataUnit: 1500,
  socksProxy: null,
  interface: null,
  loopbackFastPath: false,
  securityMechanism: null,
  type: 5,
  lastEndpoint: null,
  closed: false,
  threadSafe: false,
}

describe("options zeromq.js cannot read by default, in zmesh", () => {
  it("the CURVE keys and tcpAcceptFilter read as null (libzmq refuses the read with EINVAL)", () => {
    const dealer = track(new Dealer())
    expect([dealer.curvePublicKey, dealer.curveSecretKey, dealer.curveServerKey, dealer.tcpAcceptFilter]).toEqual([null, null, null, null])
  })
})

/** The readable properties of an instance and its prototypes, with their values (skipping those that throw). */
function readableProperties(socket: object): Map<string, unknown> {
  const found = new Map<string, unknown>()
  for (let proto = Object.getPrototypeOf(socket); proto !== null && proto !== Object.prototype; proto = Object.getPrototypeOf(proto)) {
    for (const [name, descriptor] of Object.entries(Object.getOwnPropertyDescriptors(proto))) {
      if (descriptor.get === undefined || found.has(name)) continue
      try {
        found.set(name, (socket as Loose)[name])
      } catch {
        // Write-only in libzmq (ZMQ_ROUTER_MANDATORY), or not built in (vmci).
      }
    }
  }
  return found
}

const SOCKET_CLASSES = [
  "Pair", "Publisher", "Subscriber", "Request", "Reply", "Dealer", "Router", "Pull", "Push", "XPublisher", "XSubscriber", "Stream",
] as const

describe("defaults of every socket class, against zeromq.js", () => {
  it.each(SOCKET_CLASSES)("%s: each property zeromq.js's reads, zmesh's has, with the same value", (name) => {
    const Make = (api: Api) => api[name] as unknown as new () => { close(): void; linger: number }
    const theirs = track(new (Make(zeromq))())
    const ours = track(new (Make(libraries[0].zmq))())
    const expected: Loose = {}
    const actual: Loose = {}
    for (const [property, value] of readableProperties(theirs)) {
      // Objects (events, context) are compared elsewhere.
      if (typeof value === "object" && value !== null) continue
      expected[property] = value
      actual[property] = property in ours ? (ours as unknown as Loose)[property] : "(missing)"
    }
    expect(actual).toEqual(expected)
  })
})
