/** Half messages: prepare, commit, rollback, check-back (answered, unknown, unanswered), and restarts in between. */
import { afterEach, describe, expect, it } from "vitest"
import type { HalfMessage } from "../../../src/relay/index.js"
import { Harness, type StoreFactory, take, tempDir, texts, waitFor } from "../helpers.js"

export function transactionTests(factory: StoreFactory): void {
  describe("half messages", () => {
    const h = new Harness(factory)
    afterEach(() => h.close())

    it("keeps a prepared message from consumers until commit; a repeated commit is harmless, a rollback after it refused", async () => {
      const node = await h.node(tempDir())
      const producer = h.client(node.endpoint, { producerId: "orders-svc" })
      const tx = await producer.prepare("orders", "order 1 created", { id: "order-1", headers: { kind: "created" } })
      expect(tx.id).toBe("order-1")
      await producer.send("orders", "plain")
      const consumer = h.client(node.endpoint).consume("orders")
      // Only the plain message is deliverable; the half message waits.
      expect(texts(await take(consumer, 1))).toEqual(["plain"])
      expect(node.stats().queues.find((q) => q.name === "orders")?.prepared).toBe(1)
      await tx.commit()
      await tx.commit()
      const [m] = await take(consumer, 1)
      expect([m!.id, m!.body.toString(), m!.headers.kind, m!.producerId]).toEqual(["order-1", "order 1 created", "created", "orders-svc"])
      await expect(tx.rollback()).rejects.toMatchObject({ code: "ERR_RELAY_TX_COMMITTED" })
      expect(node.stats().queues.find((q) => q.name === "orders")?.prepared).toBe(0)
    })

    it("never delivers a rolled-back message, and refuses to commit it afterwards", async () => {
      const node = await h.node(tempDir())
      const producer = h.client(node.endpoint, { producerId: "orders-svc" })
      const tx = await producer.prepare("orders", "never")
      await tx.rollback()
      await tx.rollback()
      await expect(tx.commit()).rejects.toMatchObject({ code: "ERR_RELAY_TX_ROLLED_BACK" })
      await producer.send("orders", "after")
      expect(texts(await take(h.client(node.endpoint).consume("orders"), 1))).toEqual(["after"])
    })

    it("refuses prepare without a producerId, and decisions for ids the relay never saw", async () => {
      const node = await h.node(tempDir())
      const plain = h.client(node.endpoint)
      await expect(plain.prepare("orders", "x")).rejects.toMatchObject({ code: "EINVAL" })
      expect(() => plain.onCheck(() => "commit")).toThrow(expect.objectContaining({ code: "EINVAL" }))
      const producer = h.client(node.endpoint, { producerId: "p" })
      await expect(producer.decide("orders", "no-such-id", "commit")).rejects.toMatchObject({ code: "ERR_RELAY_TX_UNKNOWN" })
    })

    it("asks the producer's resolver about a message left undecided (a producer that crashed), and commits on its word", async () => {
      const node = await h.node(tempDir(), { checkAfter: 150 })
      const crashed = h.client(node.endpoint, { producerId: "orders-svc" })
      await crashed.prepare("orders", "order 2 created", { id: "order-2" })
      await crashed.close() // gone before deciding
      const restarted = h.client(node.endpoint, { producerId: "orders-svc" })
      const asked: HalfMessage[] = []
      restarted.onCheck((half) => {
        asked.push(half)
        return "commit"
      })
      const [m] = await take(h.client(node.endpoint).consume("orders"), 1)
      expect(m!.id).toBe("order-2")
      expect(asked.map((a) => [a.queue, a.id, a.body.toString(), a.checks])).toEqual([["orders", "order-2", "order 2 created", 1]])
    })

    it("rolls back on the resolver's word, and after maxChecks 'unknown' answers, saying why", async () => {
      const lines: string[] = []
      const node = await h.node(tempDir(), { checkAfter: 100, maxChecks: 3, log: (_level, line) => lines.push(line) })
      const producer = h.client(node.endpoint, { producerId: "svc" })
      const no = await producer.prepare("orders", "rejected", { id: "no" })
      const unsure = await producer.prepare("orders", "unsure", { id: "unsure" })
      const checks: number[] = []
      producer.onCheck((half) => {
        if (half.id === "no") return "rollback"
        checks.push(half.checks)
        return "unknown"
      })
      await waitFor(() => node.stats().counters.rolledBack === 2, `two rollbacks (checks so far ${JSON.stringify(checks)})`, 10_000)
      await expect(unsure.commit()).rejects.toMatchObject({ code: "ERR_RELAY_TX_ROLLED_BACK" })
      expect(checks).toEqual([1, 2, 3])
      await expect(no.commit()).rejects.toMatchObject({ code: "ERR_RELAY_TX_ROLLED_BACK" })
      expect(lines.join("\n")).toMatch(/orders\/unsure rolled back: "unknown" after 3 check-backs/)
      expect(node.stats().counters.rolledBack).toBe(2)
    })

    it("rolls back a message whose producer never answers, after maxChecks unanswered check-backs", async () => {
      const lines: string[] = []
      const node = await h.node(tempDir(), { checkAfter: 60, maxChecks: 2, log: (_level, line) => lines.push(line) })
      const producer = h.client(node.endpoint, { producerId: "silent" })
      const tx = await producer.prepare("orders", "orphan", { id: "orphan" })
      await waitFor(() => node.stats().counters.rolledBack === 1, "the rollback", 10_000)
      expect(lines.join("\n")).toMatch(/orders\/orphan of producer silent rolled back: no decision after 2 check-backs/)
      await expect(tx.commit()).rejects.toMatchObject({ code: "ERR_RELAY_TX_ROLLED_BACK" })
    })

    it("keeps half messages across a restart: a commit made after it is honoured, and check-back resumes", async () => {
      const dir = tempDir()
      let node = await h.node(dir, { checkAfter: 150 })
      const endpoint = node.endpoint
      const producer = h.client(endpoint, { producerId: "orders-svc" })
      const decided = await producer.prepare("orders", "decided after the restart", { id: "a" })
      await producer.prepare("orders", "asked after the restart", { id: "b" })
      await h.stop(node)
      node = await h.node(dir, { bind: endpoint, checkAfter: 150 })
      expect(node.stats().queues.find((q) => q.name === "orders")?.prepared).toBe(2)
      await decided.commit()
      producer.onCheck((half) => (half.id === "b" ? "commit" : "unknown"))
      const got = await take(h.client(endpoint).consume("orders"), 2)
      expect(texts(got)).toEqual(["decided after the restart", "asked after the restart"])
    })
  })
}
