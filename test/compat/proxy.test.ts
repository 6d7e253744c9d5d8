/**
 * zeromq.js compatibility: Proxy: constructor checks, run() on sockets that
 * are neither bound nor connected, pause/resume/terminate outside a run,
 * how a run ends, and a failed send ending it with its error.
 */
import { describe, expect, it } from "vitest"
import { Dealer, Proxy, Router } from "../../src/index.js"
import { inprocEndpoint } from "../helpers/endpoints.js"
import { failure, libraries, socketTracker, thrown } from "./helpers.js"

const track = socketTracker()

describe.each(libraries)("Proxy ($name)", ({ zmq }) => {
  const AnyProxy = zmq.Proxy as unknown as new (...args: unknown[]) => Proxy

  /** A Router/Dealer proxy whose sockets the tracker closes. */
  const makeProxy = () => {
    const proxy = new zmq.Proxy(new zmq.Router({ linger: 0 }), new zmq.Dealer({ linger: 0 }))
    track(proxy.frontEnd)
    track(proxy.backEnd)
    return proxy
  }

  describe("construction", () => {
    it("without sockets is a TypeError", () => {
      const err = thrown(() => new AnyProxy())
      expect(err).toBeInstanceOf(TypeError)
      expect(err.message).toBe("Front-end must be a socket object")
    })

    it("with three arguments is a TypeError", () => {
      const sockets = [1, 2, 3].map(() => track(new zmq.Dealer({ linger: 0 })))
      const err = thrown(() => new AnyProxy(...sockets))
      expect(err).toBeInstanceOf(TypeError)
      expect(err.message).toMatch(/^Expected 2 arguments/)
    })

    it("with objects that are not sockets is 'Invalid argument'", () => {
      expect(thrown(() => new AnyProxy({}, {})).message).toBe("Invalid argument")
    })

    it("keeps its sockets as frontEnd and backEnd", () => {
      const front = track(new zmq.Router({ linger: 0 }))
      const back = track(new zmq.Dealer({ linger: 0 }))
      const proxy = new zmq.Proxy(front, back)
      expect(proxy.frontEnd).toBe(front)
      expect(proxy.backEnd).toBe(back)
    })
  })

  describe("run()", () => {
    it("fails with EINVAL when the front end is neither bound nor connected", async () => {
      const proxy = makeProxy()
      await proxy.backEnd.bind(inprocEndpoint())
      expect(await failure(() => proxy.run())).toMatchObject({ code: "EINVAL", message: "Front-end socket must be bound or connected" })
    })

    it("fails with EINVAL when the back end is neither bound nor connected", async () => {
      const proxy = makeProxy()
      await proxy.frontEnd.bind(inprocEndpoint())
      expect(await failure(() => proxy.run())).toMatchObject({ code: "EINVAL", message: "Back-end socket must be bound or connected" })
    })

    it("fails the same way when the front end was bound but is closed", async () => {
      const proxy = makeProxy()
      await proxy.frontEnd.bind(inprocEndpoint())
      await proxy.backEnd.bind(inprocEndpoint())
      proxy.frontEnd.close()
      expect(await failure(() => proxy.run())).toMatchObject({ message: "Front-end socket must be bound or connected" })
    })

    it("moves requests and replies both ways until terminate(), which closes both sockets", async () => {
      const proxy = makeProxy()
      await proxy.frontEnd.bind("tcp://127.0.0.1:*")
      await proxy.backEnd.bind("tcp://127.0.0.1:*")
      const running = proxy.run()
      const worker = track(new zmq.Reply({ linger: 0 }))
      const client = track(new zmq.Request({ linger: 0 }))
      worker.connect(proxy.backEnd.lastEndpoint!)
      client.connect(proxy.frontEnd.lastEndpoint!)
      await client.send("ping")
      const [request] = await worker.receive()
      await worker.send(`${request}-pong`)
      expect((await client.receive()).map(String)).toEqual(["ping-pong"])
      proxy.terminate()
      await running
      expect([proxy.frontEnd.closed, proxy.backEnd.closed]).toEqual([true, true])
    })
  })

  describe("pause, resume and terminate outside a run", () => {
    const EBADF = { code: "EBADF", errno: 9, message: "Socket is closed" }

    it.each(["pause", "resume", "terminate"] as const)("%s() before run() throws EBADF", async (method) => {
      const proxy = makeProxy()
      await proxy.frontEnd.bind(inprocEndpoint())
      await proxy.backEnd.bind(inprocEndpoint())
      expect(thrown(() => proxy[method]())).toMatchObject(EBADF)
    })

    it.each(["pause", "resume", "terminate"] as const)("%s() after the run ended throws EBADF", async (method) => {
      const proxy = makeProxy()
      await proxy.frontEnd.bind(inprocEndpoint())
      await proxy.backEnd.bind(inprocEndpoint())
      const running = proxy.run()
      proxy.terminate()
      await running
      expect(thrown(() => proxy[method]())).toMatchObject(EBADF)
    })
  })
})

describe("Proxy in zmesh", () => {
  it.each(["frontEnd", "backEnd"] as const)("closing the %s ends run() and closes the other socket", async (side) => {
    const proxy = new Proxy(track(new Router({ linger: 0 })), track(new Dealer({ linger: 0 })))
    await proxy.frontEnd.bind(inprocEndpoint())
    await proxy.backEnd.bind(inprocEndpoint())
    const running = proxy.run()
    proxy[side].close()
    await running
    expect([proxy.frontEnd.closed, proxy.backEnd.closed]).toEqual([true, true])
  })

  it("a send that fails (ROUTER mandatory back end, unknown routing id) rejects run() with EHOSTUNREACH", async () => {
    const proxy = new Proxy(track(new Dealer({ linger: 0 })), track(new Router({ linger: 0, mandatory: true })))
    await proxy.frontEnd.bind(inprocEndpoint())
    await proxy.backEnd.bind(inprocEndpoint())
    const running = proxy.run()
    const client = track(new Dealer({ linger: 0 }))
    client.connect(proxy.frontEnd.lastEndpoint!)
    await client.send(["nobody", "lost"])
    expect(await failure(() => running)).toMatchObject({ code: "EHOSTUNREACH", message: "Host unreachable" })
    expect([proxy.frontEnd.closed, proxy.backEnd.closed]).toEqual([true, true])
  })
})
