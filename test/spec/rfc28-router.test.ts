import { afterEach, describe, expect, it } from "vitest"
import { Dealer, Router } from "../../src/index.js"
import { cleanupIpc, transports } from "../helpers/endpoints.js"
import { closeAll, nextEvent } from "../helpers/sockets.js"
import { bindAndConnect, text } from "./helpers.js"

afterEach(cleanupIpc)

describe.each(transports)("28/REQREP ROUTER over $name (test_spec_router)", ({ bindAddress }) => {
  it("SHALL receive incoming messages fair-queued, prefixed with the sender's routing id", async () => {
    const router = new Router()
    const ids = ["A\0", "B\0", "C\0", "D\0", "E\0"]
    const senders = ids.map((routingId) => new Dealer({ routingId }))
    try {
      await bindAndConnect(router, bindAddress(), senders)
      await senders[0]!.send("M")
      expect(text(await router.receive())).toEqual(["A\0", "M"])
      await senders[0]!.send("M")
      expect(text(await router.receive())).toEqual(["A\0", "M"])
      for (const sender of senders) await sender.send("M")
      let sum = 0
      for (let i = 0; i < senders.length; i++) {
        const [id, body] = await router.receive()
        expect(id!.length).toBe(2)
        expect(body!.toString()).toBe("M")
        sum += id![0]!
      }
      expect(sum).toBe(5 * 65 + 10)
    } finally {
      closeAll(router, ...senders)
    }
  })

  it("names an anonymous peer 0x00 + a 4-byte counter", async () => {
    const router = new Router()
    const dealers = [new Dealer(), new Dealer()]
    try {
      await bindAndConnect(router, bindAddress(), dealers)
      await dealers[0]!.send("0")
      await dealers[1]!.send("1")
      const idOf = new Map<string, Buffer>()
      for (let i = 0; i < 2; i++) {
        const [id, body] = await router.receive()
        idOf.set(body!.toString(), id!)
      }
      const [a, b] = [idOf.get("0")!, idOf.get("1")!]
      for (const id of [a, b]) {
        expect(id.length).toBe(5)
        expect(id[0]).toBe(0)
      }
      // Consecutive counter values, in connect order.
      expect((b.readUInt32BE(1) - a.readUInt32BE(1)) >>> 0).toBe(1)
      await router.send([b, "to 1"])
      await router.send([a, "to 0"])
      expect(text(await dealers[0]!.receive())).toEqual(["to 0"])
      expect(text(await dealers[1]!.receive())).toEqual(["to 1"])
    } finally {
      closeAll(router, ...dealers)
    }
  })

  it("drops messages to unknown peers silently, or rejects with EHOSTUNREACH when mandatory", async () => {
    const router = new Router()
    const dealer = new Dealer({ routingId: "known" })
    try {
      await bindAndConnect(router, bindAddress(), [dealer])
      await router.send(["nobody", "lost"])
      router.mandatory = true
      await expect(router.send(["nobody", "lost"])).rejects.toMatchObject({ code: "EHOSTUNREACH" })
      await router.send(["known", "found"])
      expect(text(await dealer.receive())).toEqual(["found"])
    } finally {
      closeAll(router, dealer)
    }
  })

  it("mandatory: a send to a full peer waits, and fails with EAGAIN after sendTimeout (test_router_mandatory)", async () => {
    const router = new Router({ mandatory: true, sendHighWaterMark: 1, sendTimeout: 50 })
    const dealer = new Dealer({ routingId: "slow", receiveHighWaterMark: 1 })
    try {
      await bindAndConnect(router, bindAddress(), [dealer])
      const big = Buffer.alloc(64 * 1024)
      let sent = 0
      for (;;) {
        const ok = await router.send(["slow", big]).then(
          () => true,
          (err: { code: string }) => {
            expect(err.code).toBe("EAGAIN")
            return false
          },
        )
        if (!ok) break
        sent++
      }
      expect(sent).toBeGreaterThan(0)
      for (let i = 0; i < sent; i++) expect((await dealer.receive())[0]!.length).toBe(big.length)
    } finally {
      closeAll(router, dealer)
    }
  })

  it("a routing id already in use is ignored, or taken over with handover (test_router_handover)", async () => {
    const router = new Router()
    const first = new Dealer({ routingId: "X" })
    const second = new Dealer({ routingId: "X" })
    try {
      await bindAndConnect(router, bindAddress(), [first, second])
      await first.send("from first")
      await second.send("from second")
      expect(text(await router.receive())).toEqual(["X", "from first"])
      await router.send(["X", "reply"])
      expect(text(await first.receive())).toEqual(["reply"])

      router.handover = true
      const third = new Dealer({ routingId: "X" })
      const gone = nextEvent(first.events, "disconnect")
      const ready = nextEvent(router.events, "handshake")
      third.connect(router.lastEndpoint!)
      await ready
      await gone
      await router.send(["X", "handed over"])
      expect(text(await third.receive())).toEqual(["handed over"])
      closeAll(third)
    } finally {
      closeAll(router, first, second)
    }
  })

  it("connect({ routingId }) names the peer it connects to (ZMQ_CONNECT_ROUTING_ID)", async () => {
    const server = new Router({ routingId: "server" })
    const client = new Router()
    try {
      await server.bind(bindAddress())
      const ready = nextEvent(client.events, "handshake")
      client.connect(server.lastEndpoint!, { routingId: "srv" })
      // Routable at once: the name is known before the connection is up.
      await client.send(["srv", "hello"])
      await ready
      const [id, body] = await server.receive()
      expect(body!.toString()).toBe("hello")
      await server.send([id!, "hi back"])
      expect(text(await client.receive())).toEqual(["srv", "hi back"])
    } finally {
      closeAll(server, client)
    }
  })
})
