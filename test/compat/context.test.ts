/**
 * zeromq.js compatibility: Context construction, its options and their
 * checks, maxSockets, and what a context gives its new sockets. Each check
 * runs against zmesh and the `zeromq` package.
 */
import { afterEach, describe, expect, it } from "vitest"
import { Context, context, Dealer } from "../../src/index.js"
import { libraries, socketTracker, thrown } from "./helpers.js"

const track = socketTracker()

describe.each(libraries)("Context ($name)", ({ zmq }) => {
  const AnyContext = zmq.Context as unknown as new (...args: unknown[]) => Record<string, unknown>

  describe("construction", () => {
    it.each([
      ["options that are not an object", [1], "Options must be an object"],
      ["two arguments", [{}, 2], "Expected 1 argument but received 2"],
      ["an option of the wrong type", [{ ioThreads: "hello" }], "Option value must be a number"],
      ["a read-only option", [{ maxSocketsLimit: 1 }], "Cannot set property maxSocketsLimit of #<Context> which has only a getter"],
      ["an unknown option", [{ doesNotExist: 1 }], "Cannot add property doesNotExist, object is not extensible"],
    ])("throws a TypeError for %s", (_name, args, message) => {
      const err = thrown(() => new AnyContext(...args))
      expect(err).toBeInstanceOf(TypeError)
      expect(err.message).toBe(message)
    })

    it("sets the options it is given", () => {
      expect(new zmq.Context({ ioThreads: 5, maxSockets: 12 })).toMatchObject({ ioThreads: 5, maxSockets: 12 })
    })

    it("cannot be called without new", () => {
      expect(thrown(() => (zmq.Context as unknown as () => unknown)())).toBeInstanceOf(TypeError)
    })
  })

  describe("options", () => {
    it("have libzmq's defaults", () => {
      const ctx = new zmq.Context()
      expect({
        blocky: ctx.blocky,
        ioThreads: ctx.ioThreads,
        maxMessageSize: ctx.maxMessageSize,
        maxSockets: ctx.maxSockets,
        maxSocketsLimit: ctx.maxSocketsLimit,
        ipv6: ctx.ipv6,
      }).toEqual({ blocky: true, ioThreads: 1, maxMessageSize: 2 ** 31 - 1, maxSockets: 1023, maxSocketsLimit: 65535, ipv6: false })
    })

    it("are readable and settable", () => {
      const ctx = new zmq.Context()
      ctx.blocky = false
      ctx.ioThreads = 3
      ctx.maxMessageSize = 1000
      ctx.maxSockets = 10
      ctx.ipv6 = true
      expect(ctx).toMatchObject({ blocky: false, ioThreads: 3, maxMessageSize: 1000, maxSockets: 10, ipv6: true })
    })

    it("threadPriority and threadSchedulingPolicy are write-only", () => {
      const ctx = new zmq.Context()
      ctx.threadPriority = 1
      ctx.threadSchedulingPolicy = 1
      expect(ctx.threadPriority).toBeUndefined()
      expect(ctx.threadSchedulingPolicy).toBeUndefined()
    })

    it("maxSocketsLimit is read-only", () => {
      const ctx = new AnyContext()
      const err = thrown(() => (ctx.maxSocketsLimit = 1))
      expect(err).toBeInstanceOf(TypeError)
      expect(err.message).toBe("Cannot set property maxSocketsLimit of #<Context> which has only a getter")
    })

    it("an unknown property cannot be added", () => {
      const ctx = new AnyContext()
      const err = thrown(() => (ctx.doesNotExist = 1))
      expect(err).toBeInstanceOf(TypeError)
      expect(err.message).toBe("Cannot add property doesNotExist, object is not extensible")
    })

    it.each([
      ["ioThreads", "x", "Option value must be a number"],
      ["maxSockets", true, "Option value must be a number"],
      ["blocky", 1, "Option value must be a boolean"],
      ["ipv6", "yes", "Option value must be a boolean"],
    ])("setting %s to %j throws a TypeError", (name, value, message) => {
      const ctx = new AnyContext()
      const err = thrown(() => (ctx[name] = value))
      expect(err).toBeInstanceOf(TypeError)
      expect(err.message).toBe(message)
    })

    it("the low-level accessors read and write options by libzmq number", () => {
      const ctx = new zmq.Context() as unknown as { getInt32Option(id: unknown): number; setInt32Option(id: number, value: number): void; ioThreads: number }
      expect(ctx.getInt32Option(1)).toBe(1)
      ctx.setInt32Option(1, 4)
      expect(ctx.ioThreads).toBe(4)
      const err = thrown(() => ctx.getInt32Option("x"))
      expect(err).toBeInstanceOf(TypeError)
      expect(err.message).toBe("Identifier must be a number")
    })
  })

  describe("and its sockets", () => {
    it("maxSockets: the socket past the limit fails with EMFILE", () => {
      const ctx = new zmq.Context({ maxSockets: 2 })
      track(new zmq.Dealer({ context: ctx }))
      track(new zmq.Dealer({ context: ctx }))
      expect(thrown(() => track(new zmq.Dealer({ context: ctx })))).toMatchObject({
        code: "EMFILE",
        errno: 24,
        message: "Too many open file descriptors",
      })
    })

    it("blocky false: new sockets default to linger 0 (else -1)", () => {
      expect(track(new zmq.Dealer({ context: new zmq.Context({ blocky: false }) })).linger).toBe(0)
      expect(track(new zmq.Dealer({ context: new zmq.Context({ blocky: true }) })).linger).toBe(-1)
    })

    it("ipv6 true: new sockets default to ipv6", () => {
      expect(track(new zmq.Dealer({ context: new zmq.Context({ ipv6: true }) })).ipv6).toBe(true)
    })
  })
})

describe("contexts in zmesh", () => {
  afterEach(() => {
    context.blocky = true
  })

  it("a closed socket frees its place under maxSockets at once (libzmq frees it when its reaper gets to it)", () => {
    const ctx = new Context({ maxSockets: 1 })
    new Dealer({ context: ctx }).close()
    track(new Dealer({ context: ctx }))
  })

  it("context.blocky = false makes new sockets default to linger 0", () => {
    context.blocky = false
    expect(track(new Dealer()).linger).toBe(0)
    context.blocky = true
    expect(track(new Dealer()).linger).toBe(-1)
  })
})
