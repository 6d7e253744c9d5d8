import { afterEach, describe, expect, it } from "vitest"
import { Dealer, Proxy, Reply, Request, Router } from "../../src/index.js"
import { cleanupIpc, transports } from "../helpers/endpoints.js"
import { closeAll } from "../helpers/sockets.js"

afterEach(cleanupIpc)

describe.each(transports)("Proxy over $name", ({ bindAddress }) => {
  it("brokers requests from many clients to many workers and routes each reply back", async () => {
    const proxy = new Proxy(new Router(), new Dealer())
    const clients = Array.from({ length: 3 }, () => new Request())
    const workers = Array.from({ length: 2 }, () => new Reply())
    try {
      await proxy.frontEnd.bind(bindAddress())
      await proxy.backEnd.bind(bindAddress())
      const running = proxy.run()
      for (const [i, worker] of workers.entries()) {
        worker.connect(proxy.backEnd.lastEndpoint!)
        void (async () => {
          for await (const [request] of worker) await worker.send(`${request} by w${i}`)
        })()
      }
      for (const client of clients) client.connect(proxy.frontEnd.lastEndpoint!)
      const replies = await Promise.all(
        clients.map(async (client, c) => {
          const out: string[] = []
          for (let n = 0; n < 5; n++) {
            await client.send(`c${c}-${n}`)
            out.push((await client.receive())[0]!.toString())
          }
          return out
        }),
      )
      for (const [c, out] of replies.entries()) {
        expect(out.map((r) => r.split(" by ")[0])).toEqual([0, 1, 2, 3, 4].map((n) => `c${c}-${n}`))
      }
      proxy.terminate()
      await running
    } finally {
      closeAll(proxy.frontEnd, proxy.backEnd, ...clients, ...workers)
    }
  })

  it("terminate() ends run() and closes both sockets, as zeromq.js's proxy does", async () => {
    const proxy = new Proxy(new Dealer(), new Dealer())
    try {
      await proxy.frontEnd.bind(bindAddress())
      await proxy.backEnd.bind(bindAddress())
      const running = proxy.run()
      proxy.terminate()
      await running
      expect([proxy.frontEnd.closed, proxy.backEnd.closed]).toEqual([true, true])
      expect(() => proxy.terminate()).toThrow(expect.objectContaining({ code: "EBADF", message: "Socket is closed" }))
      expect(() => proxy.run()).toThrow(expect.objectContaining({ code: "EBUSY" }))
    } finally {
      closeAll(proxy.frontEnd, proxy.backEnd)
    }
  })

  it.each(["frontEnd", "backEnd"] as const)("closing the %s ends run() and closes the other socket too", async (side) => {
    const proxy = new Proxy(new Dealer(), new Dealer())
    try {
      await proxy.frontEnd.bind(bindAddress())
      await proxy.backEnd.bind(bindAddress())
      const running = proxy.run()
      proxy[side].close()
      await running
      expect([proxy.frontEnd.closed, proxy.backEnd.closed]).toEqual([true, true])
    } finally {
      closeAll(proxy.frontEnd, proxy.backEnd)
    }
  })

  it("a failed send ends run() with that error instead of dropping the message silently", async () => {
    const proxy = new Proxy(new Dealer(), new Router({ mandatory: true }))
    const client = new Dealer()
    try {
      await proxy.frontEnd.bind(bindAddress())
      await proxy.backEnd.bind(bindAddress())
      client.connect(proxy.frontEnd.lastEndpoint!)
      const running = proxy.run()
      // The ROUTER back-end is asked to route to a peer it does not have.
      await client.send(["nobody", "lost?"])
      await expect(running).rejects.toMatchObject({ code: "EHOSTUNREACH" })
    } finally {
      closeAll(proxy.frontEnd, proxy.backEnd, client)
    }
  })

  it("validates its sockets as zeromq.js does", async () => {
    expect(() => new (Proxy as unknown as new () => unknown)()).toThrow(new TypeError("Front-end must be a socket object"))
    expect(() => new (Proxy as unknown as new (a: unknown) => unknown)(new Dealer())).toThrow(TypeError)
    expect(() => new (Proxy as unknown as new (...a: unknown[]) => unknown)(new Dealer(), new Dealer(), 1)).toThrow(TypeError)
    expect(() => new Proxy({} as Dealer, new Dealer())).toThrow(expect.objectContaining({ code: "EINVAL" }))
    const proxy = new Proxy(new Dealer(), new Dealer())
    try {
      expect(() => proxy.pause()).toThrow(expect.objectContaining({ code: "EBADF" }))
      expect(() => proxy.run()).toThrow(expect.objectContaining({ code: "EINVAL", message: "Front-end socket must be bound or connected" }))
      await proxy.frontEnd.bind(bindAddress())
      expect(() => proxy.run()).toThrow(expect.objectContaining({ code: "EINVAL", message: "Back-end socket must be bound or connected" }))
    } finally {
      closeAll(proxy.frontEnd, proxy.backEnd)
    }
  })

  it("pause() holds messages in the sockets until resume()", async () => {
    const proxy = new Proxy(new Dealer(), new Dealer())
    const client = new Dealer()
    const worker = new Dealer({ receiveTimeout: 50 })
    try {
      await proxy.frontEnd.bind(bindAddress())
      await proxy.backEnd.bind(bindAddress())
      client.connect(proxy.frontEnd.lastEndpoint!)
      worker.connect(proxy.backEnd.lastEndpoint!)
      const running = proxy.run()
      proxy.pause()
      await client.send("held")
      await expect(worker.receive()).rejects.toMatchObject({ code: "EAGAIN" })
      worker.receiveTimeout = -1
      proxy.resume()
      expect((await worker.receive())[0]!.toString()).toBe("held")
      proxy.terminate()
      await running
    } finally {
      closeAll(proxy.frontEnd, proxy.backEnd, client, worker)
    }
  })
})
