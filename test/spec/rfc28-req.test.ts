import { afterEach, describe, expect, it } from "vitest"
import { Reply, Request, Router, type ZmeshError } from "../../src/index.js"
import { cleanupIpc, transports } from "../helpers/endpoints.js"
import { closeAll } from "../helpers/sockets.js"
import { bindAndConnect, text } from "./helpers.js"

afterEach(cleanupIpc)

describe.each(transports)("28/REQREP REQ over $name (test_spec_req)", ({ bindAddress }) => {
  it("SHALL route outgoing messages round-robin to its peers, in connect order", async () => {
    const req = new Request()
    const reps = Array.from({ length: 5 }, () => new Reply())
    try {
      await req.bind(bindAddress())
      for (const rep of reps) {
        const ready = new Promise((resolve) => rep.events.on("handshake", resolve))
        rep.connect(req.lastEndpoint!)
        await ready
      }
      for (const rep of reps) {
        await req.send("ABC")
        expect(text(await rep.receive())).toEqual(["ABC"])
        await rep.send("DEF")
        expect(text(await req.receive())).toEqual(["DEF"])
      }
    } finally {
      closeAll(req, ...reps)
    }
  })

  it("SHALL prefix the message with an empty delimiter frame", async () => {
    const req = new Request()
    const router = new Router()
    try {
      await req.bind(bindAddress())
      router.connect(req.lastEndpoint!)
      await req.send(["ABC", "DEF"])
      const [id, ...rest] = await router.receive()
      expect(id!.length).toBeGreaterThan(0)
      expect(text(rest)).toEqual(["", "ABC", "DEF"])
      await router.send([id!, "", "GHI"])
      expect(text(await req.receive())).toEqual(["GHI"])
    } finally {
      closeAll(req, router)
    }
  })

  it("SHALL block on send, then fail with EAGAIN after sendTimeout, when it has no peers", async () => {
    const req = new Request({ sendTimeout: 50 })
    try {
      await expect(req.send("ABC")).rejects.toMatchObject({ code: "EAGAIN" })
      req.sendTimeout = 0
      await expect(req.send("ABC")).rejects.toMatchObject({ code: "EAGAIN" })
    } finally {
      closeAll(req)
    }
  })

  it("SHALL accept an incoming message only from the last peer it sent a request to", async () => {
    const req = new Request({ routingId: "A" })
    const routers = Array.from({ length: 3 }, () => new Router({ mandatory: true }))
    try {
      for (const router of routers) await router.bind(bindAddress())
      for (const router of routers) {
        const ready = new Promise((resolve) => req.events.on("handshake", resolve))
        req.connect(router.lastEndpoint!)
        await ready
      }
      for (let i = 0; i < routers.length; i++) {
        await req.send("ABC")
        const [id, empty, body] = await routers[i]!.receive()
        expect([id!.toString(), empty!.length, body!.toString()]).toEqual(["A", 0, "ABC"])
        // Every router answers; only the one that was asked may be heard.
        for (let j = 0; j < routers.length; j++) {
          if (j !== i) await routers[j]!.send(["A", "", "WRONG"])
        }
        await routers[i]!.send(["A", "", "GOOD"])
        expect(text(await req.receive())).toEqual(["GOOD"])
      }
    } finally {
      closeAll(req, ...routers)
    }
  })

  it("rejects a second send before the reply with EFSM, and a receive before any send", async () => {
    const req = new Request()
    const rep = new Reply()
    try {
      await bindAndConnect(rep, bindAddress(), [req])
      await expect(req.receive()).rejects.toMatchObject({ code: "EFSM" })
      await req.send("one")
      const err = (await req.send("two").catch((e: unknown) => e)) as ZmeshError
      expect(err.code).toBe("EFSM")
      expect(text(await rep.receive())).toEqual(["one"])
    } finally {
      closeAll(req, rep)
    }
  })

  it("relaxed: a new request may go before the reply; the late reply is dropped", async () => {
    const req = new Request({ relaxed: true, correlate: true })
    const router = new Router()
    try {
      await bindAndConnect(router, bindAddress(), [req])
      await req.send("first")
      const first = await router.receive()
      await req.send("second")
      const second = await router.receive()
      // The correlate id (4 bytes) comes before the delimiter.
      expect(first[1]!.length).toBe(4)
      expect(text(first.slice(2))).toEqual(["", "first"])
      await router.send([first[0]!, first[1]!, "", "late"])
      await router.send([second[0]!, second[1]!, "", "current"])
      expect(text(await req.receive())).toEqual(["current"])
    } finally {
      closeAll(req, router)
    }
  })

  it("correlate: drops replies whose request id does not match (test_req_correlate)", async () => {
    const req = new Request({ correlate: true })
    const router = new Router()
    try {
      await bindAndConnect(router, bindAddress(), [req])
      await req.send("ask")
      const [id, requestId, empty, body] = await router.receive()
      expect(requestId!.length).toBe(4)
      expect([empty!.length, body!.toString()]).toEqual([0, "ask"])
      const wrong = Buffer.from(requestId!)
      wrong[0] = wrong[0]! ^ 0xff
      await router.send([id!, wrong, "", "wrong id"])
      await router.send([id!, "", "no id"])
      await router.send([id!, requestId!, "", "right"])
      expect(text(await req.receive())).toEqual(["right"])
    } finally {
      closeAll(req, router)
    }
  })
})
