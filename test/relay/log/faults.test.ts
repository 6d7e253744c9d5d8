/** A failing or full disk under the log: the batch is refused, the file is put back, nothing committed is lost. */
import { afterAll, describe, expect, it } from "vitest"
import { type LogFs, nodeFs } from "../../../src/relay/store/log/log-fs.js"
import { removeTempDirs, tempDir } from "../helpers.js"
import { fill, group, message, open, pendingIds, segmentFiles, segmentPath, sizeOf } from "./helpers.js"

type Faults = Partial<Record<keyof LogFs, string>>

/** node:fs with a switch per operation: while `fail` names it, it fails with that errno code; `once` fails its next call only. */
function faultyFs(): { fs: LogFs; fail: Faults; once: Faults } {
  const fail: Faults = {}
  const once: Faults = {}
  const fs = new Proxy(nodeFs, {
    get(target, key: keyof LogFs) {
      const real = target[key] as (...args: unknown[]) => Promise<unknown>
      return (...args: unknown[]) => {
        const code = once[key] ?? fail[key]
        delete once[key]
        if (code !== undefined) return Promise.reject(Object.assign(new Error(`${code}: injected ${key} failure`), { code }))
        return real(...args)
      }
    },
  })
  return { fs, fail, once }
}

describe("log store under disk faults", () => {
  afterAll(() => removeTempDirs())

  it("refuses a batch whose fdatasync fails (ERR_RELAY_STORE_FAILED), cuts the file back, and commits the next", async () => {
    const dir = tempDir()
    const f = faultyFs()
    // No zeros written ahead here: the test compares file sizes.
    const { store } = await open(dir, { fs: f.fs, preallocate: 0 })
    await store.commit([group("q")])
    await fill(store, "q", 0, 10)
    const path = segmentPath(dir, segmentFiles(dir).at(-1)!)
    const good = sizeOf(path)
    f.once.fdatasync = "EIO"
    await expect(store.commit([message("q", 10)])).rejects.toMatchObject({ code: "ERR_RELAY_STORE_FAILED", message: expect.stringMatching(/EIO/) })
    expect(sizeOf(path)).toBe(good)
    await store.commit([message("q", 11)])
    expect(await pendingIds(store, "q")).toEqual([...Array.from({ length: 10 }, (_, i) => `m${i}`), "m11"])
    await store.close()
    const { store: again } = await open(dir)
    expect(await pendingIds(again, "q")).toEqual([...Array.from({ length: 10 }, (_, i) => `m${i}`), "m11"])
    await again.close()
  })

  it("forgets the ids and producer receipts of a refused batch, so that its resend is stored and not called a duplicate", async () => {
    const dir = tempDir()
    const f = faultyFs()
    const { store } = await open(dir, { fs: f.fs, preallocate: 0 })
    await store.commit([group("q")])
    const idempotent = { dedupWindow: 60_000, producerId: "p", producerEpoch: "e", storedAt: Date.now() }
    f.once.fdatasync = "EIO"
    await expect(store.commit([message("q", 1, { ...idempotent, producerSeq: 1 })])).rejects.toMatchObject({ code: "ERR_RELAY_STORE_FAILED" })
    const [seq] = await store.commit([message("q", 1, { ...idempotent, producerSeq: 1 })])
    expect(seq).toBeGreaterThan(0)
    // Now stored: the same again is a duplicate of it, by id and by producer sequence.
    expect(await store.commit([message("q", 1, { ...idempotent, producerSeq: 1 })])).toEqual([-seq!])
    expect(await pendingIds(store, "q")).toEqual(["m1"])
    await store.close()
  })

  it("answers a full disk (ENOSPC) with ERR_RELAY_STORE_FULL and recovers when space is back", async () => {
    const dir = tempDir()
    const f = faultyFs()
    const { store } = await open(dir, { fs: f.fs })
    await store.commit([group("q")])
    f.once.writev = "ENOSPC"
    await expect(store.commit([message("q", 1)])).rejects.toMatchObject({ code: "ERR_RELAY_STORE_FULL" })
    await store.commit([message("q", 2)])
    expect(await pendingIds(store, "q")).toEqual(["m2"])
    await store.close()
  })

  it("stops taking commits when it cannot even cut the file back, and keeps serving reads", async () => {
    const dir = tempDir()
    const f = faultyFs()
    const { store } = await open(dir, { fs: f.fs, cacheBytes: 0 })
    await store.commit([group("q")])
    await fill(store, "q", 0, 5)
    f.fail.fdatasync = "EIO"
    f.fail.ftruncate = "EIO"
    await expect(store.commit([message("q", 5)])).rejects.toMatchObject({ code: "ERR_RELAY_STORE_FAILED" })
    delete f.fail.fdatasync
    delete f.fail.ftruncate
    await expect(store.commit([message("q", 6)])).rejects.toMatchObject({ code: "ERR_RELAY_STORE_FAILED", message: expect.stringMatching(/unusable/) })
    expect(await pendingIds(store, "q")).toEqual(["m0", "m1", "m2", "m3", "m4"])
    await store.close()
  })

  it("refuses messages beyond maxBytes with ERR_RELAY_STORE_FULL before writing anything, but still takes acks", async () => {
    const dir = tempDir()
    const { store } = await open(dir, { maxBytes: 3000 })
    await store.commit([group("q")])
    const seqs = await fill(store, "q", 0, 20)
    expect(store.admit(10_000)).toBe(false)
    await expect(fill(store, "q", 20, 40)).rejects.toMatchObject({ code: "ERR_RELAY_STORE_FULL" })
    const kept = await pendingIds(store, "q")
    expect(kept.slice(0, 20)).toEqual(Array.from({ length: 20 }, (_, i) => `m${i}`))
    seqs.push(...(await store.fetch("q", "g", seqs.at(-1)!, 100)).map((p) => p.pos))
    await store.commit([{ type: "ack", queue: "q", group: "g", positions: seqs }])
    expect(await pendingIds(store, "q")).toEqual([])
    await store.close()
  })

  it("says clearly when the data folder cannot be used", async () => {
    const f = faultyFs()
    f.fail.mkdir = "EACCES"
    await expect(open(tempDir(), { fs: f.fs })).rejects.toMatchObject({ code: "ERR_RELAY_DATA_DIR", message: expect.stringMatching(/cannot create it \(EACCES\)/) })
  })
})
