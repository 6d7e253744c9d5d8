import { afterEach, describe, expect, it } from "vitest"
import { Dealer, Reply, Request } from "../../src/index.js"
import { cleanupIpc, transports } from "../helpers/endpoints.js"
import { closeAll } from "../helpers/sockets.js"
import { bindAndConnect, text } from "./helpers.js"

afterEach(cleanupIpc)

describe.each(transports)("28/REQREP REP over $name (test_spec_rep)", ({ bindAddress }) => {
  it("SHALL receive incoming messages from its peers using a fair-queuing strategy", async () => {
    const rep = new Reply()
    const reqs = Array.from({ length: 5 }, () => new Request())
    try {
      await bindAndConnect(rep, bindAddress(), reqs)
      for (let i = 0; i < reqs.length; i++) await reqs[i]!.send(`R${i}`)
      const seen = new Set<string>()
      for (let i = 0; i < reqs.length; i++) {
        const [body] = await rep.receive()
        seen.add(body!.toString())
        await rep.send(`${body} done`)
      }
      expect(seen).toEqual(new Set(["R0", "R1", "R2", "R3", "R4"]))
      for (let i = 0; i < reqs.length; i++) expect(text(await reqs[i]!.receive())).toEqual([`R${i} done`])
    } finally {
      closeAll(rep, ...reqs)
    }
  })

  it("SHALL pass the envelope back unchanged with the reply", async () => {
    const rep = new Reply()
    const dealer = new Dealer()
    try {
      await bindAndConnect(rep, bindAddress(), [dealer])
      await dealer.send(["", "A"])
      expect(text(await rep.receive())).toEqual(["A"])
      await rep.send("A")
      expect(text(await dealer.receive())).toEqual(["", "A"])
      await dealer.send(["X", "Y", "", "A"])
      expect(text(await rep.receive())).toEqual(["A"])
      await rep.send("A")
      expect(text(await dealer.receive())).toEqual(["X", "Y", "", "A"])
    } finally {
      closeAll(rep, dealer)
    }
  })

  it("SHALL discard a request that has no delimiter", async () => {
    const rep = new Reply()
    const dealer = new Dealer()
    try {
      await bindAndConnect(rep, bindAddress(), [dealer])
      await dealer.send(["no", "delimiter"])
      await dealer.send(["", "good"])
      expect(text(await rep.receive())).toEqual(["good"])
    } finally {
      closeAll(rep, dealer)
    }
  })

  it("rejects a send before a receive, and a receive before the reply, with EFSM", async () => {
    const rep = new Reply()
    const req = new Request()
    try {
      await bindAndConnect(rep, bindAddress(), [req])
      await expect(rep.send("too early")).rejects.toMatchObject({ code: "EFSM" })
      await req.send("q")
      await rep.receive()
      await expect(rep.receive()).rejects.toMatchObject({ code: "EFSM" })
      await rep.send("a")
      expect(text(await req.receive())).toEqual(["a"])
    } finally {
      closeAll(rep, req)
    }
  })
})
