/** De-duplication: the id window per queue, idempotent producers' sequences, across restarts; what consumers see. */
import { afterEach, describe, expect, it } from "vitest"
import { Op } from "../../../src/relay/protocol.js"
import { Harness, type StoreFactory, take, tempDir, texts } from "../helpers.js"

export function idempotencyTests(factory: StoreFactory): void {
  describe("de-duplication", () => {
    const h = new Harness(factory)
    afterEach(() => h.close())

    it("stores a message sent twice with the same id once, answering the repeat with the original seq", async () => {
      const node = await h.node(tempDir())
      const client = h.client(node.endpoint)
      const first = await client.send("orders", "order 7", { id: "order-7" })
      const again = await client.send("orders", "order 7, again", { id: "order-7" })
      // The same id in another queue is another message.
      const elsewhere = await client.send("audit", "order 7", { id: "order-7" })
      await client.send("orders", "next", { id: "order-8" })
      expect(first.duplicate).toBe(false)
      expect(again).toEqual({ queue: "orders", id: "order-7", seq: first.seq, duplicate: true })
      expect(elsewhere.duplicate).toBe(false)
      const got = await take(client.consume("orders"), 2)
      expect(texts(got)).toEqual(["order 7", "next"])
      expect(node.stats().counters.duplicates).toBe(1)
    })

    it("catches a repeat sent in the same turn as its original, before either is durable", async () => {
      const node = await h.node(tempDir())
      const client = h.client(node.endpoint)
      const [a, b, c] = await Promise.all([client.send("q", "a", { id: "same" }), client.send("q", "b", { id: "same" }), client.send("q", "c", { id: "other" })])
      expect([a.duplicate, b.duplicate, c.duplicate]).toEqual([false, true, false])
      expect(b.seq).toBe(a.seq)
      expect(texts(await take(client.consume("q"), 2))).toEqual(["a", "c"])
    })

    it("answers a resend after a lost confirm with the original receipt, across a relay restart", async () => {
      const dir = tempDir()
      let node = await h.node(dir)
      const endpoint = node.endpoint
      const peer = h.raw(endpoint)
      await peer.hello()
      // The confirm of this send is never read: as good as lost.
      const send = [Op.SEND, peer.nextRid(), "payments", "pay-1", Buffer.from("42 EUR"), null, null, null]
      await peer.send(send)
      const [, , seq] = await peer.answer(send[1] as number)
      await h.stop(node)
      node = await h.node(dir, { bind: endpoint })
      // A new session (the client reconnected to a restarted relay) resends it.
      const again = h.raw(endpoint)
      await again.hello()
      const rid = again.nextRid()
      await again.send([Op.SEND, rid, "payments", "pay-1", Buffer.from("42 EUR"), null, null, null])
      expect(await again.answer(rid)).toEqual([Op.OK, rid, seq, true])
      const client = h.client(endpoint)
      await client.send("payments", "end")
      expect(texts(await take(client.consume("payments"), 2))).toEqual(["42 EUR", "end"])
    })

    it("recognises an idempotent producer's resend by its sequence, without the id window and across a restart", async () => {
      const dir = tempDir()
      let node = await h.node(dir, { dedupWindow: 0 })
      const endpoint = node.endpoint
      const producer = ["billing", "epoch-1", 1]
      const peer = h.raw(endpoint)
      await peer.hello()
      const rid = peer.nextRid()
      await peer.send([Op.SEND, rid, "invoices", "inv-1", Buffer.from("invoice"), null, null, null, ...producer])
      const [, , seq] = await peer.answer(rid)
      await h.stop(node)
      node = await h.node(dir, { bind: endpoint, dedupWindow: 0 })
      const again = h.raw(endpoint)
      await again.hello()
      // Resent under a new id (a producer that made ids up per attempt): the sequence still matches.
      const rid2 = again.nextRid()
      await again.send([Op.SEND, rid2, "invoices", "inv-1-retry", Buffer.from("invoice"), null, null, null, ...producer])
      expect(await again.answer(rid2)).toEqual([Op.OK, rid2, seq, true])
      // The next sequence number is a new message; another epoch's sequence 1 too.
      const rid3 = again.nextRid()
      await again.send([Op.SEND, rid3, "invoices", "inv-2", Buffer.from("second"), null, null, null, "billing", "epoch-1", 2])
      const rid4 = again.nextRid()
      await again.send([Op.SEND, rid4, "invoices", "inv-3", Buffer.from("third"), null, null, null, "billing", "epoch-2", 1])
      expect((await again.answer(rid3))[3]).toBe(false)
      expect((await again.answer(rid4))[3]).toBe(false)
      const client = h.client(endpoint)
      expect(texts(await take(client.consume("invoices"), 3))).toEqual(["invoice", "second", "third"])
    })

    it("starts a new epoch per client instance: the same producerId is never mistaken for an earlier instance's sends", async () => {
      const node = await h.node(tempDir(), { dedupWindow: 0 })
      const one = h.client(node.endpoint, { producerId: "orders-svc" })
      const r1 = await one.send("q", "from the first instance", { id: "a" })
      await one.close()
      const two = h.client(node.endpoint, { producerId: "orders-svc" })
      const r2 = await two.send("q", "from the second instance", { id: "b" })
      expect([r1.duplicate, r2.duplicate]).toEqual([false, false])
      const got = await take(two.consume("q"), 2)
      expect(texts(got)).toEqual(["from the first instance", "from the second instance"])
      // Consumers see who sent it and the send's number within its epoch.
      expect(got.map((m) => [m.producerId, m.producerSeq, m.deliveryCount])).toEqual([
        ["orders-svc", 1, 1],
        ["orders-svc", 1, 1],
      ])
    })

    it("lets an id be used again once the window has passed", async () => {
      const window = 300
      const node = await h.node(tempDir(), { dedupWindow: window })
      const client = h.client(node.endpoint)
      const before = Date.now()
      const first = await client.send("q", "first", { id: "w" })
      // Repeats inside the window are duplicates; the first repeat stored again comes after it.
      let r = await client.send("q", "repeat", { id: "w" })
      while (r.duplicate) {
        expect(r.seq).toBe(first.seq)
        r = await client.send("q", "repeat", { id: "w" })
      }
      // Stored at or after `before`, so the window ended at or after before + window.
      expect(Date.now() - before).toBeGreaterThanOrEqual(window)
      expect(r.seq).toBeGreaterThan(first.seq)
      expect(texts(await take(client.consume("q"), 2))).toEqual(["first", "repeat"])
    })

    it("stores every repeat when the window is off (dedupWindow: 0) and no producer is set", async () => {
      const node = await h.node(tempDir(), { dedupWindow: 0 })
      const client = h.client(node.endpoint)
      const a = await client.send("q", "a", { id: "x" })
      const b = await client.send("q", "b", { id: "x" })
      expect(b.duplicate).toBe(false)
      expect(b.seq).toBeGreaterThan(a.seq)
      expect(texts(await take(client.consume("q"), 2))).toEqual(["a", "b"])
    })
  })
}
