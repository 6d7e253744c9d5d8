/**
 * zeromq.js compatibility: the main entry's names, `capability`, and socket
 * construction (`new Socket(type, options)`, subclasses, the socket classes).
 * Where zeromq.js behaves the same, the check runs against both libraries.
 */
import { describe, expect, it } from "vitest"
import * as zmesh from "../../src/index.js"
import { Context, Dealer, Pair, Publisher, Request, Socket } from "../../src/index.js"
import { libraries, socketTracker, thrown, zeromq } from "./helpers.js"

const track = socketTracker()

const ZEROMQ_NAMES = [
  "version", "capability", "curveKeyPair", "context", "Context", "Socket", "Observer", "Proxy", "Pair", "Publisher",
  "Subscriber", "Request", "Reply", "Dealer", "Router", "Pull", "Push", "XPublisher", "XSubscriber", "Stream",
]

describe("the main entry", () => {
  it("exports exactly zeromq.js's names, so `import * as zmq` sees the same module", () => {
    expect(Object.keys(zmesh).sort()).toEqual([...ZEROMQ_NAMES].sort())
    expect(Object.keys(zeromq).sort()).toEqual([...ZEROMQ_NAMES].sort())
  })

  it("version is libzmq's version string", () => {
    expect(zmesh.version).toBe(zeromq.version)
  })

  it("capability says what zmesh supports: ipc and curve, no tipc, pgm, norm, gssapi or draft", () => {
    expect({ ...zmesh.capability }).toEqual({ ipc: true, curve: true, tipc: false, pgm: false, norm: false, gssapi: false, draft: false })
    expect(Object.keys(zmesh.capability).sort()).toEqual(Object.keys(zeromq.capability).sort())
  })

  it("curveKeyPair() returns two 40-character Z85 keys, as zeromq.js's", () => {
    for (const { publicKey, secretKey } of [zmesh.curveKeyPair(), zeromq.curveKeyPair()]) {
      expect(publicKey).toHaveLength(40)
      expect(secretKey).toHaveLength(40)
    }
  })
})

describe.each(libraries)("new Socket(...) argument checks ($name)", ({ zmq }) => {
  const AnySocket = zmq.Socket as unknown as new (...args: unknown[]) => Socket

  it.each([
    ["no arguments", [], "Socket type must be a number"],
    ["a string type", ["foo"], "Socket type must be a number"],
    ["options that are not an object", [1, 2], "Options must be an object"],
    ["three arguments", [1, {}, 2], "Expected 2 arguments but received 3"],
  ])("throws a TypeError for %s", (_name, args, message) => {
    const err = thrown(() => new AnySocket(...args))
    expect(err).toBeInstanceOf(TypeError)
    expect(err.message).toBe(message)
  })

  it("refuses an unknown socket type number with EINVAL", () => {
    expect(thrown(() => new AnySocket(37))).toMatchObject({ code: "EINVAL", errno: 22, message: "Invalid argument" })
  })

  it("refuses a context option that is not a Context with 'Invalid argument'", () => {
    expect(thrown(() => new AnySocket(1, { context: {} })).message).toBe("Invalid argument")
    expect(thrown(() => new zmq.Dealer({ context: {} as Context }))).toMatchObject({ message: "Invalid argument" })
  })

  it("cannot be called without new", () => {
    const call = zmq.Dealer as unknown as () => unknown
    expect(thrown(() => call())).toBeInstanceOf(TypeError)
  })

  it.each([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11])("new Socket(%i) makes a socket of that libzmq type", (type) => {
    const socket = track(new AnySocket(type))
    expect(socket.type).toBe(type)
  })

  it("a socket class makes a socket of its type with the default context", () => {
    const dealer = track(new zmq.Dealer())
    expect(dealer).toBeInstanceOf(zmq.Dealer)
    expect(dealer.type).toBe(5)
    expect(dealer.context).toBe(zmq.context)
  })

  it("a socket given { context } belongs to that context", () => {
    const context = new zmq.Context()
    expect(track(new zmq.Dealer({ context })).context).toBe(context)
    expect(track(new AnySocket(1, { context })).context).toBe(context)
  })

  it("sets the options it is given", () => {
    expect(track(new zmq.Dealer({ recoveryInterval: 5, routingId: "me" }))).toMatchObject({ recoveryInterval: 5, routingId: "me" })
  })
})

describe("new Socket(type) in zmesh", () => {
  it("builds an instance of the socket class of that type", () => {
    const AnySocket = Socket as unknown as new (type: number, options?: object) => Socket
    const request = track(new AnySocket(3, { linger: 0 }))
    expect(request).toBeInstanceOf(Request)
    expect(request.linger).toBe(0)
    expect(track(new AnySocket(0))).toBeInstanceOf(Pair)
  })
})

describe.each(libraries)("a user subclass of Socket ($name)", ({ zmq }) => {
  // zmesh's Socket is abstract in its types; zeromq.js's is not. At run time both take super(type, options).
  const Base = zmq.Socket as unknown as new (type: number, options?: object) => Pick<Socket, "type" | "context" | "linger" | "close">

  class Mine extends Base {
    constructor(options?: object) {
      super(1, options)
    }
    greet(): string {
      return "hello"
    }
  }

  it("is a socket of the type it passes to super(), in the default context", () => {
    const first = track(new Mine())
    const second = track(new Mine())
    expect(first.type).toBe(1)
    expect(first.context).toBe(second.context)
    expect(first.context).toBe(zmq.context)
  })

  it("belongs to the context it is given", () => {
    const context = new zmq.Context()
    expect(track(new Mine({ context })).context).toBe(context)
  })

  it("is an instance of the subclass, with the subclass's methods", () => {
    const mine = track(new Mine())
    expect(mine).toBeInstanceOf(Mine)
    expect(mine.greet()).toBe("hello")
  })
})

describe("socket classes in zmesh", () => {
  it("are sealed: assigning an unknown property throws", () => {
    const pub = track(new Publisher())
    expect(thrown(() => ((pub as unknown as Record<string, unknown>).doesNotExist = 1))).toBeInstanceOf(TypeError)
  })

  it("count against the context's maxSockets only once constructed", () => {
    const context = new Context({ maxSockets: 1 })
    expect(thrown(() => new Dealer({ context, doesNotExist: 1 } as object))).toBeInstanceOf(TypeError)
    track(new Dealer({ context }))
  })
})
