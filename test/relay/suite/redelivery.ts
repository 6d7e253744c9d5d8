/** Leases, acks bound to the attempt, nack, extend, dead-lettering, and consumers that die. */
import { afterEach, describe, expect, it } from "vitest"
import { Op } from "../../../src/relay/protocol.js"
import { Harness, type StoreFactory, take, tempDir, texts, waitFor } from "../helpers.js"

export function redeliveryTests(factory: StoreFactory): void {
  describe("acks and redelivery", () => {
    const h = new Harness(factory)
    afterEach(() => h.close())

    it("redelivers after the lease (ackTimeout) with deliveryCount 2; the late ack of the first attempt does not ack the redelivery", async () => {
      const node = await h.node(tempDir())
      const client = h.client(node.endpoint)
      await client.send("slow", "payload")
      const c = client.consume("slow", { ackTimeout: 150 })
      const [first] = await take(c, 1)
      expect(first!.deliveryCount).toBe(1)
      const [second] = await take(c, 1)
      expect(second!.id).toBe(first!.id)
      expect(second!.deliveryCount).toBe(2)
      await expect(first!.ack()).rejects.toMatchObject({ code: "ERR_RELAY_LEASE_EXPIRED" })
      // The redelivery is still leased: acking it works, and it then stays acked.
      await second!.ack()
      await waitFor(() => node.stats().queues.find((q) => q.name === "slow")?.depth === 0, "the message to be gone")
      expect(node.stats().counters.redelivered).toBe(1)
    })

    it("nack redelivers at once with a higher deliveryCount; nack with a delay waits that long", async () => {
      const node = await h.node(tempDir())
      const client = h.client(node.endpoint)
      await client.send("retry", "x")
      const c = client.consume("retry")
      const [m1] = await take(c, 1)
      await m1!.nack()
      const [m2] = await take(c, 1)
      expect(m2!.deliveryCount).toBe(2)
      const nacked = Date.now()
      await m2!.nack({ delay: 300 })
      const [m3] = await take(c, 1)
      expect(Date.now() - nacked).toBeGreaterThanOrEqual(295)
      expect(m3!.deliveryCount).toBe(3)
      await m3!.ack()
    })

    it("extend renews the lease: no redelivery while the consumer keeps extending", async () => {
      const node = await h.node(tempDir())
      const client = h.client(node.endpoint)
      await client.send("long", "work")
      const c = client.consume("long", { ackTimeout: 250 })
      const [m] = await take(c, 1)
      const started = Date.now()
      while (Date.now() - started < 800) {
        await m!.extend()
        await new Promise((resolve) => setTimeout(resolve, 80))
      }
      await m!.ack()
      expect(node.stats().counters.redelivered).toBe(0)
      expect(node.stats().counters.acked).toBe(1)
    })

    it("dead-letters after maxDeliveries, keeping the id and body and saying where from and why", async () => {
      const node = await h.node(tempDir())
      const client = h.client(node.endpoint)
      const sent = await client.send("payments", "poison", { id: "pay-7", headers: { tenant: "acme" } })
      const c = client.consume("payments", { group: "billing", maxDeliveries: 3 })
      for (let i = 1; i <= 3; i++) {
        const [m] = await take(c, 1)
        expect(m!.deliveryCount).toBe(i)
        await m!.nack()
      }
      const [dead] = await take(client.consume("payments.dlq"), 1)
      expect({ id: dead!.id, body: dead!.body.toString(), headers: dead!.headers }).toEqual({
        id: "pay-7",
        body: "poison",
        headers: { tenant: "acme", "x-dead-letter-queue": "payments", "x-dead-letter-group": "billing", "x-dead-letter-reason": "max-deliveries" },
      })
      expect(dead!.seq).toBeGreaterThan(sent.seq)
      await dead!.ack()
      expect(node.stats().counters.deadLettered).toBe(1)
      await waitFor(() => node.stats().queues.find((q) => q.name === "payments")?.depth === 0, "the original to be gone")
    })

    it("dead-letters into a chosen queue when leases keep expiring", async () => {
      const node = await h.node(tempDir())
      const client = h.client(node.endpoint)
      await client.send("flaky", "never acked")
      const c = client.consume("flaky", { ackTimeout: 60, maxDeliveries: 2, deadLetterQueue: "graveyard" })
      await take(c, 2)
      const [dead] = await take(client.consume("graveyard"), 1)
      expect(dead!.headers["x-dead-letter-reason"]).toBe("max-deliveries")
      expect(dead!.body.toString()).toBe("never acked")
    })

    it("redelivers the unacked messages of a consumer whose connection drops without a goodbye", async () => {
      // A long session timeout: the node must notice the lost connection itself, well before it.
      const node = await h.node(tempDir(), { sessionTimeout: 8000 })
      const client = h.client(node.endpoint)
      await Promise.all(["a", "b", "c"].map((x) => client.send("tasks", x)))
      const doomed = h.raw(node.endpoint)
      await doomed.hello()
      await doomed.send([Op.CONSUME, doomed.nextRid(), 1, "tasks", "default", 10, 60_000, 5, "tasks.dlq"])
      const held = [await doomed.expect((c) => c[0] === Op.DELIVER), await doomed.expect((c) => c[0] === Op.DELIVER), await doomed.expect((c) => c[0] === Op.DELIVER)]
      expect(held.map((d) => Buffer.from(d[6] as Buffer).toString()).sort()).toEqual(["a", "b", "c"])
      // The process holding them dies: its connection closes, no BYE, no acks.
      doomed.dealer.close()
      const closed = Date.now()
      const survivor = client.consume("tasks", { ackTimeout: 60_000 })
      const again = await take(survivor, 3)
      // Within the grace for a reconnect (1 s) and a sweep, long before the session timeout.
      expect(Date.now() - closed).toBeLessThan(3000)
      expect(texts(again).sort()).toEqual(["a", "b", "c"])
      expect(again.every((m) => m.deliveryCount === 2)).toBe(true)
    })

    it("redelivers the unacked messages of a consumer that falls silent (no heartbeat) within the session timeout", async () => {
      const node = await h.node(tempDir(), { sessionTimeout: 400 })
      const client = h.client(node.endpoint)
      await client.send("silent", "s")
      const mute = h.raw(node.endpoint)
      await mute.hello()
      await mute.send([Op.CONSUME, mute.nextRid(), 1, "silent", "default", 10, 60_000, 5, "silent.dlq"])
      await mute.expect((c) => c[0] === Op.DELIVER)
      // Connected, but it never speaks again.
      const survivor = client.consume("silent")
      const started = Date.now()
      const [m] = await take(survivor, 1)
      expect(m!.body.toString()).toBe("s")
      expect(Date.now() - started).toBeGreaterThanOrEqual(300)
    })
  })
}
