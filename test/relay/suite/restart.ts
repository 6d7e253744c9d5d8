/** Restarts: nothing confirmed is lost, overdue messages go at once, acked ones never come back; clients carry on. */
import { afterEach, describe, expect, it } from "vitest"
import { Harness, type StoreFactory, take, tempDir, texts, waitFor } from "../helpers.js"

export function restartTests(factory: StoreFactory): void {
  describe("restart", () => {
    const h = new Harness(factory)
    afterEach(() => h.close())

    it("keeps pending, unacked and delayed messages across a restart; overdue ones go at once, acked ones never again", async () => {
      const dir = tempDir()
      let node = await h.node(dir)
      const endpoint = node.endpoint
      const client = h.client(endpoint)
      await Promise.all(["p1", "p2", "p3", "p4"].map((x) => client.send("work", x)))
      await client.send("work", "overdue", { delay: 300 })
      await client.send("work", "future", { delay: 1800 })
      const c = client.consume("work", { prefetch: 2, ackTimeout: 60_000 })
      const [p1, p2] = await take(c, 2)
      await p1!.ack() // acked: must never come back
      // p2 is delivered and unacked; p3, p4 were never delivered.
      expect(p2!.body.toString()).toBe("p2")
      await c.close()
      await h.stop(node)
      const down = Date.now()
      // Down long enough for "overdue" to come due while nothing runs.
      await new Promise((resolve) => setTimeout(resolve, 400))
      node = await h.node(dir, { bind: endpoint })
      expect(node.endpoint).toBe(endpoint)
      const after = client.consume("work", { prefetch: 10 })
      const got = await take(after, 4)
      const restarted = Date.now()
      expect(texts(got).sort()).toEqual(["overdue", "p2", "p3", "p4"])
      expect(restarted - down).toBeLessThan(1800 + 400)
      const [future] = await take(after, 1)
      expect(future!.body.toString()).toBe("future")
      for (const m of [...got, future!]) await m.ack()
      expect(node.stats().counters.delivered).toBe(5)
    })

    it("lets a client keep working across a restart: calls made while the relay is down complete once it is back", async () => {
      const dir = tempDir()
      let node = await h.node(dir)
      const endpoint = node.endpoint
      const client = h.client(endpoint)
      const consumer = client.consume("jobs")
      expect((await client.send("jobs", "before")).seq).toBeGreaterThan(0)
      const [before] = await take(consumer, 1)
      expect(before!.body.toString()).toBe("before")
      await before!.ack()
      await h.stop(node)
      const during = client.send("jobs", "during")
      node = await h.node(dir, { bind: endpoint })
      const r = await during
      expect(r.queue).toBe("jobs")
      // The consumer registered itself again with the new relay.
      const got = await take(consumer, 1)
      expect(texts(got)).toContain("during")
    })

    it("rejects calls with ERR_RELAY_UNREACHABLE when no relay answers within sendTimeout", async () => {
      const node = await h.node(tempDir())
      const endpoint = node.endpoint
      await h.stop(node)
      const client = h.client(endpoint, { sendTimeout: 300 })
      const started = Date.now()
      await expect(client.send("q", "x")).rejects.toMatchObject({ code: "ERR_RELAY_UNREACHABLE" })
      expect(Date.now() - started).toBeGreaterThanOrEqual(290)
      await expect(client.cancel("q", "x")).rejects.toMatchObject({ code: "ERR_RELAY_UNREACHABLE" })
    })

    it("rejects pending calls with ERR_RELAY_CLOSED when the client closes, and later calls too", async () => {
      const node = await h.node(tempDir())
      await h.stop(node)
      const client = h.client(node.endpoint)
      const pending = client.send("q", "x")
      await client.close()
      await expect(pending).rejects.toMatchObject({ code: "ERR_RELAY_CLOSED" })
      await expect(client.send("q", "y")).rejects.toMatchObject({ code: "ERR_RELAY_CLOSED" })
    })

    it("answers a request resent after a reconnect from memory instead of doing it twice", async () => {
      const node = await h.node(tempDir())
      const raw = h.raw(node.endpoint)
      await raw.hello()
      const send = [2, raw.nextRid(), "once", "id-1", Buffer.from("x"), null, null, null]
      await raw.send(send)
      const first = await raw.answer(send[1] as number)
      await raw.send(send)
      const second = await raw.answer(send[1] as number)
      expect(second).toEqual(first)
      await waitFor(() => node.stats().queues.find((q) => q.name === "once")?.depth === 1, "one stored copy")
      expect(node.stats().counters.confirmed).toBe(1)
    })
  })
}
