/** Store-and-forward through the public API: confirms, FIFO, groups, competing consumers, prefetch. */
import { afterEach, describe, expect, it } from "vitest"
import { Harness, type StoreFactory, stillPending, take, tempDir, texts, waitFor } from "../helpers.js"

export function forwardingTests(factory: StoreFactory): void {
  describe("store and forward", () => {
    const h = new Harness(factory)
    afterEach(() => h.close())

    it("send resolves with the queue, id and an increasing seq once stored; the consumer gets body, headers, id, seq and deliveryCount 1", async () => {
      const node = await h.node(tempDir())
      const client = h.client(node.endpoint)
      const a = await client.send("orders", "first", { id: "order-1", headers: { kind: "new" } })
      const b = await client.send("orders", Buffer.from([1, 2, 3]))
      expect(a).toEqual({ queue: "orders", id: "order-1", seq: expect.any(Number), duplicate: false })
      expect(b.seq).toBeGreaterThan(a.seq)
      expect(b.id).toMatch(/^[0-9a-f-]{36}$/)
      const [m1, m2] = await take(client.consume("orders"), 2)
      expect({ id: m1!.id, seq: m1!.seq, queue: m1!.queue, body: m1!.body.toString(), headers: m1!.headers, count: m1!.deliveryCount }).toEqual({
        id: "order-1",
        seq: a.seq,
        queue: "orders",
        body: "first",
        headers: { kind: "new" },
        count: 1,
      })
      expect([...m2!.body]).toEqual([1, 2, 3])
      expect(m2!.headers).toEqual({})
      await Promise.all([m1!.ack(), m2!.ack()])
    })

    it("keeps messages while no consumer is there and delivers them, in order, when one comes", async () => {
      const node = await h.node(tempDir())
      const producer = h.client(node.endpoint)
      const sent = await Promise.all(Array.from({ length: 100 }, (_, i) => producer.send("jobs", `job-${i}`)))
      expect(new Set(sent.map((r) => r.seq)).size).toBe(100)
      await producer.close()
      const consumer = h.client(node.endpoint).consume("jobs", { prefetch: 50 })
      const got: string[] = []
      for await (const m of consumer) {
        got.push(m.body.toString())
        await m.ack()
        if (got.length === 100) break
      }
      expect(got).toEqual(Array.from({ length: 100 }, (_, i) => `job-${i}`))
      await waitFor(() => node.stats().queues.find((q) => q.name === "jobs")?.depth === 0, "the queue to drain")
    })

    it("gives every group every message, and each message of a group to one of its competing consumers", async () => {
      const node = await h.node(tempDir())
      const client = h.client(node.endpoint)
      const audit = client.consume("events", { group: "audit" })
      const w1 = client.consume("events", { group: "workers", prefetch: 5 })
      const w2 = client.consume("events", { group: "workers", prefetch: 5 })
      const n = 60
      await Promise.all(Array.from({ length: n }, (_, i) => client.send("events", `e${i}`)))
      const auditGot = texts(await take(audit, n))
      expect(auditGot).toEqual(Array.from({ length: n }, (_, i) => `e${i}`))
      const workerGot: string[] = []
      const counts = [0, 0]
      const drain = async (c: typeof w1, k: number) => {
        for await (const m of c) {
          workerGot.push(m.body.toString())
          counts[k]!++
          await m.ack()
          if (workerGot.length === n) break
        }
      }
      await Promise.race([drain(w1, 0), drain(w2, 1)])
      await waitFor(() => workerGot.length === n, "the workers to get every message")
      expect(workerGot.sort()).toEqual(auditGot.sort())
      expect(counts[0]).toBeGreaterThan(0)
      expect(counts[1]).toBeGreaterThan(0)
      await w1.close()
      await w2.close()
    })

    it("holds at most `prefetch` unacked messages per consumer; the rest go to others", async () => {
      const node = await h.node(tempDir())
      const client = h.client(node.endpoint)
      await Promise.all(Array.from({ length: 10 }, (_, i) => client.send("limited", `m${i}`)))
      const slow = client.consume("limited", { prefetch: 3 })
      const first = await take(slow, 3)
      expect(texts(first)).toEqual(["m0", "m1", "m2"])
      const fourth = slow.receive()
      const fast = client.consume("limited", { prefetch: 100 })
      const rest = await take(fast, 7)
      expect(texts(rest)).toEqual(["m3", "m4", "m5", "m6", "m7", "m8", "m9"])
      expect(await stillPending(fourth)).toBe("pending")
      expect(node.stats().leases).toBe(10)
      await first[0]!.ack()
      // One ack frees one slot; nothing is left to fill it.
      await Promise.all(rest.map((m) => m.ack()))
      expect(await stillPending(fourth)).toBe("pending")
    })

    it("starts a group created later at the oldest message the queue still stores", async () => {
      const node = await h.node(tempDir())
      const client = h.client(node.endpoint)
      await Promise.all(Array.from({ length: 10 }, (_, i) => client.send("log", `r${i}`)))
      const early = client.consume("log", { group: "early" })
      const five = await take(early, 5)
      await Promise.all(five.map((m) => m.ack()))
      // r0-r4 are acked by the only group: gone. r5-r9 are still stored.
      await waitFor(() => node.stats().queues.find((q) => q.name === "log")?.depth === 5, "r0-r4 to be dropped")
      const late = client.consume("log", { group: "late" })
      expect(texts(await take(late, 5))).toEqual(["r5", "r6", "r7", "r8", "r9"])
    })

    it("lets a consumer close: its unacked messages go to another consumer of the group at once", async () => {
      const node = await h.node(tempDir())
      const client = h.client(node.endpoint)
      await Promise.all(Array.from({ length: 4 }, (_, i) => client.send("handoff", `h${i}`)))
      const a = client.consume("handoff", { prefetch: 4, ackTimeout: 60_000 })
      const seen = await take(a, 2)
      await waitFor(() => node.stats().leases === 4, "all four leased to the first consumer")
      await a.close()
      const b = client.consume("handoff", { prefetch: 4, ackTimeout: 60_000 })
      const again = await take(b, 4)
      expect(texts(again).sort()).toEqual(["h0", "h1", "h2", "h3"])
      const counts = Object.fromEntries(again.map((m) => [m.body.toString(), m.deliveryCount]))
      // The two the application saw count as a delivery; the two still buffered do not.
      expect(counts).toEqual({ [seen[0]!.body.toString()]: 2, [seen[1]!.body.toString()]: 2, h2: 1, h3: 1 })
      expect(await seen[0]!.ack().catch((e: { code: string }) => e.code)).toBe("ERR_RELAY_LEASE_EXPIRED")
    })
  })
}
