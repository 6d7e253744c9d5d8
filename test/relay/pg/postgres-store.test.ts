/**
 * PostgresStore itself, below the relay node: migrations, what two stores on
 * one schema (two nodes) see of each other's claims and holds, releases
 * that only one node wins, retention, and notifications between nodes.
 */
import { afterAll, afterEach, describe, expect, it } from "vitest"
import { PostgresStore, type PostgresStoreOptions, type StoreOp } from "../../../src/relay/index.js"
import { MIGRATIONS } from "../../../src/relay/store/postgres/schema.js"
import { Decided } from "../../../src/relay/store/store.js"
import { waitFor } from "../helpers.js"
import { pgUrl, skipWithoutPg } from "./server.js"

const url = pgUrl()

function message(queue: string, id: string, due = 0): StoreOp {
  return { type: "message", queue, id, body: Buffer.from(`body of ${id}`), headers: id.startsWith("h") ? { k: id } : null, storedAt: Date.now(), due }
}

const settings = { ackTimeout: 30_000, maxDeliveries: 5, deadLetterQueue: "q.dlq" }

if (url === undefined) skipWithoutPg("PostgresStore")
else {
  describe("PostgresStore", () => {
    const open: PostgresStore[] = []
    const schemas = new Set<string>()
    let counter = 0
    const fresh = () => {
      const schema = `st_${process.pid}_${++counter}`
      schemas.add(schema)
      return schema
    }
    const store = async (schema: string, options: Partial<PostgresStoreOptions> = {}) => {
      const s = new PostgresStore({ connectionString: url, schema, holdTimeout: 1000, ...options })
      open.push(s)
      await s.open()
      return s
    }
    const sql = async <T extends Record<string, unknown>>(text: string, values: unknown[] = []): Promise<T[]> => {
      const { default: pg } = await import("pg")
      const client = new pg.Client({ connectionString: url })
      await client.connect()
      try {
        return (await client.query(text, values)).rows as T[]
      } finally {
        await client.end()
      }
    }
    afterEach(async () => {
      for (const s of open.splice(0)) await s.close()
    })
    afterAll(async () => {
      for (const schema of schemas) await sql(`DROP SCHEMA IF EXISTS ${schema} CASCADE`)
    })

    it("creates its schema at the latest version on first open, and migrates nothing the second time", async () => {
      const schema = fresh()
      const first = await store(schema)
      expect(first.queues()).toEqual([])
      await first.close()
      const second = await store(schema)
      const versions = await sql<{ version: number }>(`SELECT version FROM ${schema}.schema_version ORDER BY version`)
      expect(versions.map((r) => r.version)).toEqual(MIGRATIONS.map((_, i) => i + 1))
      await second.close()
    })

    it("refuses a schema migrated by a newer zmesh", async () => {
      const schema = fresh()
      await (await store(schema)).close()
      await sql(`INSERT INTO ${schema}.schema_version (version) VALUES (${MIGRATIONS.length + 1})`)
      const s = new PostgresStore({ connectionString: url, schema })
      await expect(s.open()).rejects.toMatchObject({ code: "ERR_RELAY_STORE_FAILED", message: expect.stringMatching(/newer than this zmesh/) })
    })

    it("fails to open with ERR_RELAY_STORE_FAILED when the server cannot be reached, and rejects bad options", async () => {
      const s = new PostgresStore({ connectionString: "postgres://postgres@127.0.0.1:1/postgres", connectTimeout: 2000 })
      await expect(s.open()).rejects.toMatchObject({ code: "ERR_RELAY_STORE_FAILED" })
      expect(() => new PostgresStore({ connectionString: url, schema: "Bad-Name" })).toThrow(expect.objectContaining({ code: "EINVAL" }))
      expect(() => new PostgresStore({ connectionString: "" })).toThrow(expect.objectContaining({ code: "EINVAL" }))
      expect(() => new PostgresStore({ connectionString: url, holdTimeout: 0 })).toThrow(expect.objectContaining({ code: "EINVAL" }))
    })

    it("commits in order with increasing seqs, keeps headers and bodies, and counts depth, delays and pending", async () => {
      const s = await store(fresh())
      await s.commit([{ type: "group", queue: "q", group: "g", settings }])
      const seqs = await Promise.all([s.commit([message("q", "a"), message("q", "h1")]), s.commit([message("q", "later", Date.now() + 60_000)])])
      expect(seqs[0]![1]).toBeGreaterThan(seqs[0]![0]!)
      expect(s.queues()).toEqual([{ name: "q", depth: 2, delayed: 1, prepared: 0, groups: [{ name: "g", settings, pending: 2 }] }])
      const claimed = await s.claim("q", "g", 10)
      expect(claimed.map((p) => [p.pos, p.message?.id, p.message?.body.toString(), p.message?.headers, p.deliveries])).toEqual([
        [seqs[0]![0], "a", "body of a", null, 0],
        [seqs[0]![1], "h1", "body of h1", { k: "h1" }, 0],
      ])
    })

    it("lets one node claim a message at a time: the other skips what the first holds, and takes it when the first closes", async () => {
      const schema = fresh()
      const a = await store(schema)
      const b = await store(schema)
      await a.commit([{ type: "group", queue: "q", group: "g", settings }])
      await a.commit(Array.from({ length: 6 }, (_, i) => message("q", `m${i}`)))
      const [fromA, fromB] = await Promise.all([a.claim("q", "g", 4), b.claim("q", "g", 4)])
      const ids = [...fromA, ...fromB].map((p) => p.message!.id)
      expect(new Set(ids).size).toBe(6)
      expect(ids.sort()).toEqual(["m0", "m1", "m2", "m3", "m4", "m5"])
      expect(await b.claim("q", "g", 10)).toEqual([])
      const held = fromA.map((p) => p.message!.id)
      await a.close()
      expect((await b.claim("q", "g", 10)).map((p) => p.message!.id).sort()).toEqual(held.sort())
    })

    it("with watches on (as relay nodes run), a node takes what another held as soon as that one closes", async () => {
      const schema = fresh()
      const a = await store(schema)
      const b = await store(schema)
      a.watch(() => undefined)
      let told = 0
      b.watch(() => told++)
      await a.commit([{ type: "group", queue: "q", group: "g", settings }])
      await a.commit(Array.from({ length: 4 }, (_, i) => message("q", `m${i}`)))
      const held = await a.claim("q", "g", 2)
      expect((await b.claim("q", "g", 10)).map((p) => p.message!.id)).toEqual(["m2", "m3"])
      await a.commit([message("q", "m4")])
      // b's next claim starts after what it holds, and still sees a's new message.
      await waitFor(async () => (await b.claim("q", "g", 10)).some((p) => p.message!.id === "m4"), "b to claim m4")
      const before = told
      await a.close()
      await waitFor(() => told > before, "b to hear that a left")
      expect((await b.claim("q", "g", 10)).map((p) => p.message!.id)).toEqual(held.map((p) => p.message!.id))
    })

    it("gives a dead node's holds to the others once they expire, with the failures recorded so far", async () => {
      const schema = fresh()
      const a = await store(schema)
      const b = await store(schema)
      await a.commit([{ type: "group", queue: "q", group: "g", settings }])
      await a.commit([message("q", "x")])
      const [p] = await a.claim("q", "g", 1)
      await a.commit([{ type: "retry", queue: "q", group: "g", pos: p!.pos, deliveries: 2, notBefore: 0 }])
      // A retry ends the hold: b may take it now.
      const [again] = await b.claim("q", "g", 1)
      expect(again).toMatchObject({ pos: p!.pos, deliveries: 2 })
      // b "dies": its heartbeat stops (as if its process were killed) and its row expires.
      clearInterval((b as unknown as { heartbeat: NodeJS.Timeout }).heartbeat)
      await sql(`UPDATE ${schema}.nodes SET expires_at = now() - interval '1 second' WHERE id <> (SELECT min(id) FROM ${schema}.nodes)`)
      const [taken] = await a.claim("q", "g", 1)
      expect(taken).toMatchObject({ pos: p!.pos, deliveries: 2 })
    })

    it("skips messages whose not-before time has not come", async () => {
      const s = await store(fresh())
      await s.commit([{ type: "group", queue: "q", group: "g", settings }])
      const [seq] = await s.commit([message("q", "x")])
      await s.claim("q", "g", 1)
      await s.commit([{ type: "retry", queue: "q", group: "g", pos: seq!, deliveries: 1, notBefore: Date.now() + 300 }])
      expect(await s.claim("q", "g", 1)).toEqual([])
      await waitFor(async () => (await s.claim("q", "g", 1)).length === 1, "the message to be due again")
    })

    it("releases a delayed message once: when two nodes race, exactly one gets its new position", async () => {
      const schema = fresh()
      const a = await store(schema)
      const b = await store(schema)
      await a.commit([{ type: "group", queue: "q", group: "g", settings }])
      const seqs = await a.commit(Array.from({ length: 20 }, (_, i) => message("q", `d${i}`, Date.now() + 50)))
      await waitFor(async () => (await a.due(Date.now(), 100)).length === 20, "all twenty to be due")
      const due = await a.due(Date.now(), 100)
      expect(due.map((d) => d.seq)).toEqual(seqs)
      const release = (s: PostgresStore) => s.commit(due.map((d) => ({ type: "release", queue: d.queue, seq: d.seq }) as const))
      const [ra, rb] = await Promise.all([release(a), release(b)])
      for (let i = 0; i < due.length; i++) expect([ra[i]! > 0, rb[i]! > 0].filter(Boolean)).toHaveLength(1)
      expect(await a.due(Date.now(), 100)).toEqual([])
      expect((await a.claim("q", "g", 100)).map((p) => p.message!.id).sort()).toEqual(due.map((_, i) => `d${i}`).sort())
      expect(await a.commit([{ type: "cancel", queue: "q", id: "d3" }])).toEqual([0])
    })

    it("drops a message once every group acked it, keeps it while one has not, and keeps everything while a queue has no group", async () => {
      const schema = fresh()
      const s = await store(schema)
      const [orphan] = await s.commit([message("nogroup", "kept")])
      await s.commit([
        { type: "group", queue: "q", group: "g1", settings },
        { type: "group", queue: "q", group: "g2", settings },
      ])
      const [m1, m2] = await s.commit([message("q", "one"), message("q", "two")])
      await s.commit([{ type: "ack", queue: "q", group: "g1", positions: [m1!, m2!] }])
      const rows = async () => (await sql<{ id: string }>(`SELECT id FROM ${schema}.messages ORDER BY seq`)).map((r) => r.id)
      expect(await rows()).toEqual(["kept", "one", "two"])
      await s.commit([{ type: "ack", queue: "q", group: "g2", positions: [m1!] }])
      expect(await rows()).toEqual(["kept", "two"])
      expect(s.queues().find((q) => q.name === "q")).toMatchObject({ depth: 1, groups: [{ name: "g1", pending: 0 }, { name: "g2", pending: 1 }] })
      // A group created later starts at what the queue still stores.
      await s.commit([{ type: "group", queue: "q", group: "late", settings }])
      expect((await s.claim("q", "late", 10)).map((p) => p.message!.id)).toEqual(["two"])
      expect(orphan).toBeGreaterThan(0)
    })

    it("stores an id once when two nodes receive it at the same moment: the other gets the original's seq, negated", async () => {
      const schema = fresh()
      const a = await store(schema)
      const b = await store(schema)
      for (let round = 0; round < 10; round++) {
        const op = (): StoreOp => ({ ...(message("q", `race-${round}`) as object), dedupWindow: 60_000 }) as StoreOp
        const [[ra], [rb]] = await Promise.all([a.commit([op()]), b.commit([op()])])
        const stored = [ra!, rb!].filter((r) => r > 0)
        expect(stored, `round ${round}: ${ra}, ${rb}`).toHaveLength(1)
        expect([ra!, rb!].filter((r) => r < 0)).toEqual([-stored[0]!])
      }
      const rows = await sql<{ n: string }>(`SELECT count(*) AS n FROM ${schema}.messages`)
      expect(Number(rows[0]!.n)).toBe(10)
    })

    it("keeps a half message out of releases and cancels; commit gives it a position once, rollback of it then is refused", async () => {
      const s = await store(fresh())
      await s.commit([{ type: "group", queue: "q", group: "g", settings }])
      const half = { ...(message("q", "tx-1") as object), due: Date.now() - 1, half: true, dedupWindow: 60_000 } as StoreOp
      const [seq] = await s.commit([half])
      const [due] = await s.due(Date.now(), 10)
      expect(due).toMatchObject({ seq, half: true, id: "tx-1", checks: 0 })
      expect(await s.commit([{ type: "release", queue: "q", seq: seq! }, { type: "cancel", queue: "q", id: "tx-1" }])).toEqual([0, 0])
      expect(await s.claim("q", "g", 10)).toEqual([])
      expect(s.queues()[0]).toMatchObject({ prepared: 1, depth: 0 })
      const [pos] = await s.commit([{ type: "commit", queue: "q", id: "tx-1", at: Date.now(), dedupWindow: 60_000 }])
      expect(pos).toBeGreaterThan(seq!)
      expect(await s.commit([{ type: "commit", queue: "q", id: "tx-1", at: Date.now(), dedupWindow: 60_000 }])).toEqual([Decided.committed])
      expect(await s.commit([{ type: "rollback", queue: "q", id: "tx-1", at: Date.now(), reason: "test", dedupWindow: 60_000 }])).toEqual([Decided.committed])
      expect((await s.claim("q", "g", 10)).map((p) => [p.pos, p.message!.id])).toEqual([[pos, "tx-1"]])
      expect(s.queues()[0]).toMatchObject({ prepared: 0, depth: 1 })
    })

    it("upkeep: the sweep deletes messages no group has a row for, expiry drops ids out of the window and old receipts", async () => {
      const schema = fresh()
      const s = await store(schema)
      const upkeep = s as unknown as { sweep(): Promise<void>; expire(now: number): Promise<void> }
      await s.commit([{ type: "group", queue: "q", group: "g", settings }])
      const [orphan, kept] = await s.commit([message("q", "orphan"), message("q", "kept")])
      // What two racing acks of different groups can leave: a message without delivery rows.
      await sql(`DELETE FROM ${schema}.deliveries WHERE seq = $1`, [orphan])
      await s.commit([message("nogroup", "stays")])
      await upkeep.sweep()
      const ids = async () => (await sql<{ id: string }>(`SELECT id FROM ${schema}.messages ORDER BY seq`)).map((r) => r.id)
      expect(await ids()).toEqual(["kept", "stays"])
      expect(kept).toBeGreaterThan(0)
      const now = Date.now()
      await s.commit([
        { ...(message("w", "short") as object), dedupWindow: 1 } as StoreOp,
        { ...(message("w", "long") as object), dedupWindow: 60_000 } as StoreOp,
        { ...(message("w", "p1") as object), producerId: "p", producerEpoch: "e", producerSeq: 1 } as StoreOp,
      ])
      await sql(`UPDATE ${schema}.receipts SET at = at - 2 * 86400000`)
      await upkeep.expire(now + 1000)
      expect((await sql<{ id: string }>(`SELECT id FROM ${schema}.ids ORDER BY id`)).map((r) => r.id)).toEqual(["long"])
      expect(await sql(`SELECT * FROM ${schema}.receipts`)).toEqual([])
    })

    it("wakes the other node's watcher with the queues a commit filled, and not its own", async () => {
      const schema = fresh()
      const a = await store(schema)
      const b = await store(schema)
      const seenByA: Array<readonly string[] | undefined> = []
      const seenByB: Array<readonly string[] | undefined> = []
      a.watch((q) => seenByA.push(q))
      b.watch((q) => seenByB.push(q))
      // Both know of each other (the second announced itself; the first learns it at its next beat).
      await waitFor(() => (a as unknown as { peers: number }).peers === 1 && (b as unknown as { peers: number }).peers === 1, "the nodes to see each other")
      await waitFor(async () => {
        await b.commit([message("woken", `w${Date.now()}`)])
        return seenByA.some((q) => q?.includes("woken") === true)
      }, "a's watcher to hear of b's commit")
      expect(seenByB.some((q) => q?.includes("woken") === true)).toBe(false)
    })
  })
}
