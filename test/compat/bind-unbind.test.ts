/**
 * zeromq.js compatibility: bind() and unbind(): errors with libzmq's codes,
 * messages and the address, EBUSY while one is under way, close() during
 * one, and misuse. Each check runs against zmesh and the `zeromq` package.
 */
import { afterEach, describe, expect, it } from "vitest"
import { Dealer } from "../../src/index.js"
import { cleanupIpc, inprocEndpoint, ipcEndpoint } from "../helpers/endpoints.js"
import { failure, libraries, socketTracker, thrown } from "./helpers.js"

const track = socketTracker()
afterEach(cleanupIpc)

const transports = [
  { name: "tcp", address: () => "tcp://127.0.0.1:*" },
  { name: "ipc", address: ipcEndpoint },
  { name: "inproc", address: inprocEndpoint },
] as const

/** An endpoint of the transport that nothing is bound to. */
async function unboundEndpoint(name: string, address: () => string): Promise<string> {
  if (name !== "tcp") return address()
  // A port that was free a moment ago: bind it, read it, release it.
  const probe = new Dealer({ linger: 0 })
  await probe.bind(address())
  const endpoint = probe.lastEndpoint!
  await probe.unbind(endpoint)
  probe.close()
  return endpoint
}

describe.each(libraries)("bind/unbind ($name)", ({ zmq }) => {
  describe.each(transports)("over $name", ({ name, address }) => {
    it("bind resolves and sets lastEndpoint; unbind resolves", async () => {
      const sock = track(new zmq.Dealer({ linger: 0 }))
      await sock.bind(address())
      expect(sock.lastEndpoint).toMatch(name === "tcp" ? /^tcp:\/\/127\.0\.0\.1:[1-9]\d*$/ : new RegExp(`^${name}://`))
      await sock.unbind(sock.lastEndpoint!)
    })

    it("unbind of an endpoint it is not bound to fails with ENOENT and the address", async () => {
      const sock = track(new zmq.Dealer({ linger: 0 }))
      const endpoint = await unboundEndpoint(name, address)
      expect(await failure(() => sock.unbind(endpoint))).toMatchObject({ code: "ENOENT", errno: 2, message: "No such endpoint", address: endpoint })
    })

    it("a second bind while one is under way throws EBUSY at once, as do unbind, connect and disconnect", async () => {
      const sock = track(new zmq.Dealer({ linger: 0 }))
      const other = address()
      const bound = sock.bind(address())
      const busy = { code: "EBUSY", errno: 16, message: "Socket is blocked by a bind or unbind operation" }
      expect(thrown(() => sock.bind(other))).toMatchObject(busy)
      expect(thrown(() => sock.unbind(other))).toMatchObject(busy)
      expect(thrown(() => sock.connect(other))).toMatchObject(busy)
      expect(thrown(() => sock.disconnect(other))).toMatchObject(busy)
      await bound
    })

    it("a second unbind while one is under way throws EBUSY at once", async () => {
      const sock = track(new zmq.Dealer({ linger: 0 }))
      await sock.bind(address())
      const unbound = sock.unbind(sock.lastEndpoint!)
      expect(thrown(() => sock.unbind(sock.lastEndpoint!))).toMatchObject({ code: "EBUSY" })
      await unbound
    })

    it("close() during a bind: closed stays false until the bind settles, then true", async () => {
      const sock = track(new zmq.Dealer({ linger: 0 }))
      const bound = sock.bind(address())
      sock.close()
      expect(sock.closed).toBe(false)
      await bound
      expect(sock.closed).toBe(true)
    })

    it("close() during a failing unbind: closed turns true once it settles", async () => {
      const sock = track(new zmq.Dealer({ linger: 0 }))
      const unbound = sock.unbind(await unboundEndpoint(name, address))
      sock.close()
      expect(sock.closed).toBe(false)
      await expect(unbound).rejects.toMatchObject({ code: "ENOENT" })
      expect(sock.closed).toBe(true)
    })
  })

  it.each(["tcp", "inproc"] as const)("bind to an address in use over %s fails with EADDRINUSE and the address", async (name) => {
    const first = track(new zmq.Dealer({ linger: 0 }))
    const second = track(new zmq.Dealer({ linger: 0 }))
    await first.bind(name === "tcp" ? "tcp://127.0.0.1:*" : inprocEndpoint())
    const endpoint = first.lastEndpoint!
    expect(await failure(() => second.bind(endpoint))).toMatchObject({
      code: "EADDRINUSE",
      errno: 98,
      message: "Address already in use",
      address: endpoint,
    })
  })

  it.each([
    ["an invalid endpoint", "foo-bar", { code: "EINVAL", errno: 22, message: "Invalid argument" }],
    ["an unknown transport", "foo://bar", { code: "EPROTONOSUPPORT", errno: 93, message: "Protocol not supported" }],
  ])("bind and unbind of %s fail with libzmq's error and the address", async (_name, endpoint, expected) => {
    const sock = track(new zmq.Dealer({ linger: 0 }))
    expect(await failure(() => sock.bind(endpoint))).toMatchObject({ ...expected, address: endpoint })
    expect(await failure(() => sock.unbind(endpoint))).toMatchObject({ ...expected, address: endpoint })
  })

  it("close() after a failing bind: closed turns true once it settles", async () => {
    const first = track(new zmq.Dealer({ linger: 0 }))
    const sock = track(new zmq.Dealer({ linger: 0 }))
    await first.bind("tcp://127.0.0.1:*")
    const bound = sock.bind(first.lastEndpoint!)
    sock.close()
    expect(sock.closed).toBe(false)
    await expect(bound).rejects.toMatchObject({ code: "EADDRINUSE" })
    expect(sock.closed).toBe(true)
  })

  it("bind and unbind on a closed socket throw EBADF at once", () => {
    const sock = new zmq.Dealer({ linger: 0 })
    sock.close()
    const closed = { code: "EBADF", errno: 9, message: "Socket is closed" }
    expect(thrown(() => sock.bind("tcp://127.0.0.1:*"))).toMatchObject(closed)
    expect(thrown(() => sock.unbind("tcp://127.0.0.1:*"))).toMatchObject(closed)
  })

  it("an address that is not a string is a TypeError", () => {
    const sock = track(new zmq.Dealer({ linger: 0 })) as unknown as { bind(a: unknown): unknown; unbind(a: unknown): unknown }
    for (const call of [() => sock.bind(5555), () => sock.unbind(undefined)]) {
      const err = thrown(call)
      expect(err).toBeInstanceOf(TypeError)
      expect(err.message).toBe("Address must be a string")
    }
  })
})

describe("bind in zmesh", () => {
  // libzmq closes the listener in its I/O thread after unbind() resolves, so a rebind at once may race there.
  it("a tcp endpoint can be bound again as soon as unbind() resolves", async () => {
    const sock = track(new Dealer({ linger: 0 }))
    await sock.bind("tcp://127.0.0.1:*")
    const endpoint = sock.lastEndpoint!
    await sock.unbind(endpoint)
    await sock.bind(endpoint)
    expect(sock.lastEndpoint).toBe(endpoint)
  })

  it("over ipc, refuses a path a live socket listens on with EADDRINUSE (libzmq unlinks it and takes it over)", async () => {
    const first = track(new Dealer({ linger: 0 }))
    const second = track(new Dealer({ linger: 0 }))
    const endpoint = ipcEndpoint()
    await first.bind(endpoint)
    expect(await failure(() => second.bind(endpoint))).toMatchObject({ code: "EADDRINUSE", message: "Address already in use", address: endpoint })
  })
})
