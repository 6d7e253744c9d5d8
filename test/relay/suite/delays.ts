/** Delay queues: order and accuracy, absolute times, cancel, limits. */
import { afterEach, describe, expect, it } from "vitest"
import { Harness, type StoreFactory, take, tempDir, texts } from "../helpers.js"

export function delayTests(factory: StoreFactory): void {
  describe("delayed delivery", () => {
    const h = new Harness(factory)
    afterEach(() => h.close())

    it("delivers delayed messages in due order, never before their due time, and soon after it", async () => {
      const node = await h.node(tempDir())
      const client = h.client(node.endpoint)
      const c = client.consume("later")
      const start = Date.now()
      const delays = [400, 100, 300, 0, 200, 250]
      const due = new Map<string, number>()
      await Promise.all(
        delays.map((delay) => {
          due.set(`d${delay}`, Date.now() + delay)
          return client.send("later", `d${delay}`, { delay })
        }),
      )
      const got = await take(c, delays.length)
      const arrived = Date.now()
      expect(texts(got)).toEqual(["d0", "d100", "d200", "d250", "d300", "d400"])
      for (const m of got) {
        const receivedAt = Date.now()
        // Not before its due time (the relay's clock is this process's clock here).
        expect(m.storedAt + Number(m.body.toString().slice(1))).toBeLessThanOrEqual(receivedAt)
        await m.ack()
      }
      // Accuracy: all six within a generous margin of the last due time on a loaded machine.
      expect(arrived - start).toBeGreaterThanOrEqual(395)
      expect(arrived - start).toBeLessThan(400 + 2000)
    })

    it("delivers at an absolute time given as a Date or epoch ms", async () => {
      const node = await h.node(tempDir())
      const client = h.client(node.endpoint)
      const c = client.consume("at")
      const when = Date.now() + 250
      await client.send("at", "by-date", { at: new Date(when) })
      await client.send("at", "by-ms", { at: when - 100 })
      const got = await take(c, 2)
      expect(texts(got)).toEqual(["by-ms", "by-date"])
      expect(Date.now()).toBeGreaterThanOrEqual(when)
    })

    it("cancels a delayed message before it is due: true, and it never arrives; false for unknown, immediate or delivered ones", async () => {
      const node = await h.node(tempDir())
      const client = h.client(node.endpoint)
      const c = client.consume("cancellable")
      await client.send("cancellable", "doomed", { id: "x1", delay: 200 })
      await client.send("cancellable", "marker", { id: "x2", delay: 400 })
      await client.send("cancellable", "now", { id: "x3" })
      expect(await client.cancel("cancellable", "x1")).toBe(true)
      expect(await client.cancel("cancellable", "x1")).toBe(false)
      expect(await client.cancel("cancellable", "nope")).toBe(false)
      expect(await client.cancel("cancellable", "x3")).toBe(false)
      const got = await take(c, 2)
      expect(texts(got)).toEqual(["now", "marker"])
      expect(await client.cancel("cancellable", "x2")).toBe(false)
      expect(node.stats().queues.find((q) => q.name === "cancellable")?.delayed).toBe(0)
    })

    it("refuses a delay beyond maxDelay, and delay together with at", async () => {
      const node = await h.node(tempDir(), { maxDelay: 60_000 })
      const client = h.client(node.endpoint)
      await client.send("warmup", "x") // learns the relay's limits
      await expect(client.send("q", "x", { delay: 60_001 })).rejects.toMatchObject({ code: "ERR_RELAY_DELAY_TOO_LONG" })
      await expect(client.send("q", "x", { at: Date.now() + 3_600_000 })).rejects.toMatchObject({ code: "ERR_RELAY_DELAY_TOO_LONG" })
      await expect(client.send("q", "x", { delay: 10, at: Date.now() })).rejects.toMatchObject({ code: "ERR_RELAY_DELAY_CONFLICT" })
      const ok = await client.send("q", "x", { delay: 60_000 })
      expect(ok.seq).toBeGreaterThan(0)
      expect(await client.cancel("q", ok.id)).toBe(true)
    })

    it("treats an `at` in the past, and delay 0, as now", async () => {
      const node = await h.node(tempDir())
      const client = h.client(node.endpoint)
      await client.send("past", "a", { at: Date.now() - 60_000 })
      await client.send("past", "b", { delay: 0 })
      expect(texts(await take(client.consume("past"), 2))).toEqual(["a", "b"])
      expect(node.stats().queues.find((q) => q.name === "past")?.delayed).toBe(0)
    })
  })
}
