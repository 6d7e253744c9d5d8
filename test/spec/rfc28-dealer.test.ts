import { afterEach, describe, expect, it } from "vitest"
import { Dealer, Reply } from "../../src/index.js"
import { cleanupIpc, transports } from "../helpers/endpoints.js"
import { closeAll } from "../helpers/sockets.js"
import { bindAndConnect, text } from "./helpers.js"

afterEach(cleanupIpc)

describe.each(transports)("28/REQREP DEALER over $name (test_spec_dealer)", ({ bindAddress }) => {
  it("SHALL route outgoing messages round-robin to its peers", async () => {
    const dealer = new Dealer()
    const reps = Array.from({ length: 5 }, () => new Reply())
    try {
      await bindAndConnect(dealer, bindAddress(), reps)
      for (let i = 0; i < reps.length; i++) await dealer.send(["", "ABC"])
      for (const rep of reps) expect(text(await rep.receive())).toEqual(["ABC"])
    } finally {
      closeAll(dealer, ...reps)
    }
  })

  it("SHALL receive incoming messages from its peers using a fair-queuing strategy", async () => {
    const receiver = new Dealer()
    const senders = Array.from({ length: 5 }, () => new Dealer())
    try {
      await bindAndConnect(receiver, bindAddress(), senders)
      await senders[0]!.send("A")
      expect(text(await receiver.receive())).toEqual(["A"])
      await senders[0]!.send("A")
      expect(text(await receiver.receive())).toEqual(["A"])
      for (const sender of senders) await sender.send("B")
      for (let i = 0; i < senders.length; i++) expect(text(await receiver.receive())).toEqual(["B"])
    } finally {
      closeAll(receiver, ...senders)
    }
  })

  it("SHALL block on send, then fail with EAGAIN after sendTimeout, when it has no peers", async () => {
    const dealer = new Dealer({ sendTimeout: 50 })
    try {
      await expect(dealer.send("x")).rejects.toMatchObject({ code: "EAGAIN" })
    } finally {
      closeAll(dealer)
    }
  })

  it("probeRouter sends an empty message to each new peer", async () => {
    const dealer = new Dealer({ probeRouter: true })
    const receiver = new Dealer()
    try {
      await bindAndConnect(receiver, bindAddress(), [dealer])
      expect(await receiver.receive()).toEqual([Buffer.alloc(0)])
    } finally {
      closeAll(dealer, receiver)
    }
  })
})
