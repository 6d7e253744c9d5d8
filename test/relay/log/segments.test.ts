/** Segment rolling and deletion, checkpoints, and reopen time that does not grow with history. */
import { existsSync, readFileSync, statSync, unlinkSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { afterAll, describe, expect, it } from "vitest"
import type { LogStore } from "../../../src/relay/store/log/log-store.js"
import { removeTempDirs, tempDir, waitFor } from "../helpers.js"
import { checkpointFiles, fill, group, message, open, pendingIds, segmentFiles } from "./helpers.js"

const SMALL = { segmentSize: 4096, checkpointBytes: 8192, checkpointInterval: 50 }

async function ackAll(store: LogStore, queue: string, seqs: readonly number[], name = "g"): Promise<void> {
  for (let i = 0; i < seqs.length; i += 50) await store.commit([{ type: "ack", queue, group: name, positions: seqs.slice(i, i + 50) }])
}

describe("log segments and checkpoints", () => {
  afterAll(() => removeTempDirs())

  it("names segments by base seq and deletes them once every group has acked past them", async () => {
    const dir = tempDir()
    const { store } = await open(dir, SMALL)
    await store.commit([group("q", "a"), group("q", "b")])
    const seqs = await fill(store, "q", 0, 300)
    const before = segmentFiles(dir)
    expect(before.length).toBeGreaterThan(5)
    expect(before.every((n) => /^\d{20}\.seg$/.test(n))).toBe(true)
    expect(Number(before[1]!.slice(0, 20))).toBeGreaterThan(Number(before[0]!.slice(0, 20)))
    await ackAll(store, "q", seqs, "a")
    // Group b has acked nothing: every segment stays.
    await fill(store, "other", 0, 60)
    expect(segmentFiles(dir).slice(0, before.length)).toEqual(before)
    await ackAll(store, "q", seqs.slice(0, 200), "b")
    await fill(store, "other", 60, 120) // more log, so more checkpoints
    await waitFor(() => !segmentFiles(dir).includes(before[0]!), "the first segment to be deleted")
    const now = segmentFiles(dir)
    // The segments holding q's last 100 messages, unacked by b, are still there.
    const lastNeeded = before.filter((n) => Number(n.slice(0, 20)) <= seqs[200]!).at(-1)!
    expect(now).toContain(lastNeeded)
    await store.close()
    const { store: again } = await open(dir, SMALL)
    expect(await pendingIds(again, "q", "b")).toEqual(Array.from({ length: 100 }, (_, i) => `m${200 + i}`))
    expect(await pendingIds(again, "q", "a")).toEqual([])
    await again.close()
  })

  it("keeps a segment while a delayed message in it waits, and lets it go once cancelled", async () => {
    const dir = tempDir()
    const { store } = await open(dir, SMALL)
    await store.commit([group("q")])
    await store.commit([message("q", -1, { id: "later", due: Date.now() + 3_600_000 })])
    const first = segmentFiles(dir)[0]!
    const seqs = await fill(store, "q", 0, 200)
    const second = segmentFiles(dir)[1]!
    await ackAll(store, "q", seqs)
    await fill(store, "pad", 0, 100)
    await waitFor(() => !segmentFiles(dir).includes(second), "an acked segment to go")
    expect(segmentFiles(dir)).toContain(first)
    expect(await store.commit([{ type: "cancel", queue: "q", id: "later" }])).not.toEqual([0])
    await fill(store, "pad", 100, 200)
    await waitFor(() => !segmentFiles(dir).includes(first), "the first segment to go after the cancel")
    await store.close()
  })

  it("keeps everything for a queue no group consumes yet", async () => {
    const dir = tempDir()
    const { store } = await open(dir, SMALL)
    await fill(store, "waiting", 0, 200)
    const files = segmentFiles(dir)
    await fill(store, "waiting", 200, 260)
    await store.commit([group("waiting")])
    expect(segmentFiles(dir).slice(0, files.length)).toEqual(files)
    expect((await pendingIds(store, "waiting")).length).toBe(260)
    await store.close()
  })

  it("reopens from the checkpoint: the records before it are not replayed, so reopen does not grow with history", async () => {
    const dir = tempDir()
    const { store } = await open(dir, { checkpointBytes: 64 * 1024 })
    await store.commit([group("q")])
    for (let round = 0; round < 10; round++) {
      const seqs = await fill(store, "q", round * 500, (round + 1) * 500, 100)
      await ackAll(store, "q", seqs)
    }
    await fill(store, "q", 5000, 5010)
    await store.close()
    const { store: again, recovery } = await open(dir)
    expect(recovery.notes.join("\n")).toMatch(/checkpoint \d+ loaded, 0 records replayed after it/)
    expect(await pendingIds(again, "q")).toEqual(Array.from({ length: 10 }, (_, i) => `m${5000 + i}`))
    // Abandoned without close (as a crash would): only the records after the last checkpoint are replayed.
    await fill(again, "q", 5010, 5020)
    const { store: third, recovery: r3 } = await open(dir)
    const replayed = Number(/(\d+) records replayed/.exec(r3.notes.join("\n"))![1])
    expect(replayed).toBeGreaterThan(0)
    expect(replayed).toBeLessThan(50)
    expect(await pendingIds(third, "q")).toEqual(Array.from({ length: 20 }, (_, i) => `m${5000 + i}`))
    await third.close()
  })

  it("falls back to the older checkpoint when the newest is damaged, and reports it", async () => {
    const dir = tempDir()
    const { store } = await open(dir, { checkpointBytes: 4096 })
    await store.commit([group("q")])
    await fill(store, "q", 0, 200)
    await waitFor(() => checkpointFiles(dir).length === 2, "two checkpoints")
    await store.close()
    const names = checkpointFiles(dir)
    const newest = join(dir, names.at(-1)!)
    const data = readFileSync(newest)
    data[data.length - 3]! ^= 0xff
    writeFileSync(newest, data)
    const { store: again, recovery } = await open(dir)
    expect(recovery.corruption.map((c) => c.where)).toEqual([newest])
    expect(recovery.notes.join("\n")).toMatch(/unusable \(checkpoint crc mismatch\); trying an older one/)
    expect((await pendingIds(again, "q")).length).toBe(200)
    await again.close()
    expect(existsSync(newest)).toBe(true)
    unlinkSync(newest)
  })
})

describe("space written ahead (preallocation)", () => {
  afterAll(() => removeTempDirs())

  it("zero-fills ahead of the log, and a reopen after a crash ends the log at its last record without calling the zeros a torn tail", async () => {
    const dir = tempDir()
    const { store } = await open(dir, { preallocate: 64 * 1024 })
    await store.commit([group("q")])
    await fill(store, "q", 0, 50)
    const path = join(dir, "log", segmentFiles(dir)[0]!)
    await waitFor(() => statSync(path).size >= 64 * 1024, "zeros written ahead")
    // The log ends where its one segment's records end: the store's byte count (records may end in a 0 byte).
    const end = store.stats().bytes
    const data = readFileSync(path)
    expect(end).toBeLessThan(data.length)
    expect(data.subarray(end).every((b) => b === 0)).toBe(true)
    // Abandoned as a crash would leave it, zeros and all.
    const { store: again, recovery } = await open(dir, { preallocate: 64 * 1024 })
    expect(recovery.notes.join("\n")).not.toMatch(/torn/)
    expect(statSync(path).size).toBe(end)
    expect((await pendingIds(again, "q")).length).toBe(50)
    await fill(again, "q", 50, 60)
    await again.close()
    // Closed cleanly: the last segment ends with its last record.
    const last = join(dir, "log", segmentFiles(dir).at(-1)!)
    const bytes = readFileSync(last)
    let at = 16
    while (at + 16 <= bytes.length && bytes.readUInt32BE(at + 4) !== 0) at += 16 + bytes.readUInt32BE(at)
    expect(at).toBe(bytes.length)
    const { store: third, recovery: r3 } = await open(dir)
    expect(r3.notes.join("\n")).not.toMatch(/torn/)
    expect((await pendingIds(third, "q")).length).toBe(60)
    await third.close()
  })
})
