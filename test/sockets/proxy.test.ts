import { afterEach, describe, expect, it } from "vitest"
import { Dealer, Proxy, Reply, Request, Router } from "../../src/index.js"
import { cleanupIpc, transports } from "../helpers/endpoints.js"
import { closeAll, nextEvent } from "../helpers/sockets.js"

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

  it("terminate() ends run() without consuming the next message", async () => {
    const proxy = new Proxy(new Dealer(), new Dealer())
    const peer = new Dealer()
    try {
      await proxy.frontEnd.bind(bindAddress())
      await proxy.backEnd.bind(bindAddress())
      const ready = nextEvent(proxy.frontEnd.events, "handshake")
      peer.connect(proxy.frontEnd.lastEndpoint!)
      await ready
      const running = proxy.run()
      proxy.terminate()
      await running
      await peer.send("after terminate")
      expect((await proxy.frontEnd.receive())[0]!.toString()).toBe("after terminate")
      expect(() => proxy.terminate()).toThrow(expect.objectContaining({ code: "EFSM" }))
    } finally {
      closeAll(proxy.frontEnd, proxy.backEnd, peer)
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
      proxy.pause()
      const running = proxy.run()
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
