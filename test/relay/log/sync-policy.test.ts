/** Where a group commit's fdatasync runs: on the loop's thread while nothing else waits for it, else on the pool. */
import { closeSync, openSync, writeSync } from "node:fs"
import { join } from "node:path"
import { afterAll, describe, expect, it } from "vitest"
import { type LogFs, nodeFs } from "../../../src/relay/store/log/log-fs.js"
import { type LoopClock, SyncPolicy } from "../../../src/relay/store/log/sync-policy.js"
import { removeTempDirs, tempDir } from "../helpers.js"
import { fill, group, message, open, pendingIds, segmentFiles, segmentPath, sizeOf } from "./helpers.js"

/** A clock the test moves by hand: `idle` is the loop's idle time, `now` the time, both in ms. */
function fakeClock(): LoopClock & { idleMs: number | undefined; nowMs: number } {
  const clock = {
    idleMs: 0 as number | undefined,
    nowMs: 0,
    idle: () => clock.idleMs,
    now: () => clock.nowMs,
  }
  return clock
}

/** One sync of `commits` commits: begin, `took` ms, end with `staged`; returns whether it ran on the loop's thread. */
function sync(policy: SyncPolicy, clock: ReturnType<typeof fakeClock>, took = 0.2, staged = false, commits = 1): boolean {
  const inline = policy.begin(commits)
  clock.nowMs += took
  policy.end(staged, took)
  return inline
}

describe("SyncPolicy", () => {
  it("syncs on the loop's thread while the loop goes idle between commits", () => {
    const clock = fakeClock()
    const policy = new SyncPolicy(true, clock)
    for (let i = 0; i < 5; i++) {
      expect(sync(policy, clock)).toBe(true)
      clock.idleMs! += 0.05 // the loop waited for the client's next send
    }
    expect([policy.inline, policy.pooled]).toEqual([5, 0])
  })

  it("goes to the pool when work was waiting after a sync on the loop, and stays while work arrives during syncs", () => {
    const clock = fakeClock()
    const policy = new SyncPolicy(true, clock)
    expect(sync(policy, clock)).toBe(true)
    // The loop did not go idle before the next commit, but it is a single one (the client's next request): no change.
    expect(sync(policy, clock)).toBe(true)
    clock.idleMs! += 1
    expect(sync(policy, clock)).toBe(true)
    // Not idle, and several commits were waiting: work to overlap.
    expect(sync(policy, clock, 0.2, true, 3)).toBe(false)
    expect(sync(policy, clock, 0.2, true)).toBe(false)
    // A sync on the pool that nothing arrived during: back to the loop's thread.
    expect(sync(policy, clock, 0.2, false)).toBe(false)
    expect(sync(policy, clock)).toBe(true)
    // A single commit waiting after two syncs in a row (a consumer's acks streaming in): work to overlap.
    expect(sync(policy, clock)).toBe(true)
    expect(sync(policy, clock)).toBe(false)
  })

  it("lets stalls on the loop's thread use up 100 ms, refilled at 1% of the time passing, then keeps to the pool", () => {
    const clock = fakeClock()
    const policy = new SyncPolicy(true, clock)
    const idleSync = (took = 0.2) => {
      clock.idleMs! += 1
      return sync(policy, clock, took)
    }
    expect(idleSync(5)).toBe(true) // slow, not a stall: costs nothing
    expect(idleSync(60)).toBe(true) // 40 ms left
    expect(idleSync(50)).toBe(true) // 40 + 0.5 (refilled during it) - 50 = -9.5 ms left
    expect(idleSync()).toBe(false)
    // 9.5 ms come back in 950 ms.
    clock.nowMs += 900
    expect(idleSync()).toBe(false)
    clock.nowMs += 60
    expect(idleSync()).toBe(true)
    // A disk that hangs 5 s: the loop stays clear of it for about 8 minutes.
    expect(idleSync(5000)).toBe(true)
    clock.nowMs += 480_000
    expect(idleSync()).toBe(false)
    clock.nowMs += 20_000
    expect(idleSync()).toBe(true)
  })

  it("always uses the pool when disabled, or where the loop's idle time is not known", () => {
    const clock = fakeClock()
    const off = new SyncPolicy(false, clock)
    const unknown = new SyncPolicy(true, { ...clock, idle: () => undefined })
    for (let i = 0; i < 3; i++) {
      clock.idleMs! += 1
      expect(sync(off, clock)).toBe(false)
      expect(sync(unknown, clock)).toBe(false)
    }
  })
})

/**
 * node:fs recording where each fdatasync was asked to run. Syncs asked
 * inline return at once (a real one can stall for more than 10 ms on a busy
 * disk, and the policy would rightly move off the loop's thread: the test
 * is about the choice, nodeFs's own inline sync is tested below). `gate`
 * holds pool syncs until released; `failInline` fails the next inline one.
 */
function recordingFs(): { fs: LogFs; syncs: boolean[]; gate: { hold: boolean; release?: () => void }; failInline: { next: boolean } } {
  const syncs: boolean[] = []
  const gate: { hold: boolean; release?: () => void } = { hold: false }
  const failInline = { next: false }
  const fs: LogFs = {
    ...nodeFs,
    fdatasync: async (fd, inline) => {
      syncs.push(inline === true)
      if (inline === true) {
        if (!failInline.next) return
        failInline.next = false
        throw Object.assign(new Error("EIO: injected fdatasync failure"), { code: "EIO" })
      }
      if (gate.hold) await new Promise<void>((resolve) => (gate.release = resolve))
      return nodeFs.fdatasync(fd)
    },
  }
  return { fs, syncs, gate, failInline }
}

/** Lets the event loop block in its poll phase for a moment, as a relay waiting for its client's next send. */
const loopIdles = () => new Promise((resolve) => setTimeout(resolve, 2))

describe("log store: where fdatasync runs", () => {
  afterAll(() => removeTempDirs())

  it("nodeFs syncs inline on the calling thread, and a failure rejects instead of throwing", async () => {
    const path = join(tempDir(), "f")
    const fd = openSync(path, "w")
    writeSync(fd, "data")
    await nodeFs.fdatasync(fd, true)
    closeSync(fd)
    const failed = nodeFs.fdatasync(fd, true)
    await expect(failed).rejects.toMatchObject({ code: "EBADF" })
  })

  it("syncs commits on the loop's thread while the loop idles between them", async () => {
    const dir = tempDir()
    const f = recordingFs()
    const { store } = await open(dir, { fs: f.fs, preallocate: 0 })
    await store.commit([group("q")])
    for (let i = 0; i < 5; i++) {
      await loopIdles()
      await store.commit([message("q", i)])
    }
    // Commit syncs only (preallocate 0: no zero fills); the segment's creation syncs its folder with fsync.
    expect(f.syncs).toEqual([true, true, true, true, true, true])
    await store.close()
    const { store: again } = await open(dir)
    expect(await pendingIds(again, "q")).toEqual(["m0", "m1", "m2", "m3", "m4"])
    await again.close()
  })

  it("syncs on the pool with inlineSync false", async () => {
    const f = recordingFs()
    const { store } = await open(tempDir(), { fs: f.fs, preallocate: 0, inlineSync: false })
    await store.commit([group("q")])
    for (let i = 0; i < 3; i++) {
      await loopIdles()
      await store.commit([message("q", i)])
    }
    expect(f.syncs).toEqual([false, false, false, false])
    await store.close()
  })

  it("moves to the pool when commits arrive during a sync, and back once they stop", async () => {
    const f = recordingFs()
    const { store } = await open(tempDir(), { fs: f.fs, preallocate: 0 })
    await store.commit([group("q")]) // on the loop's thread
    // Two commits come before the loop idled (two clients' requests were waiting): on the pool, where the test holds it.
    f.gate.hold = true
    const first = Promise.all([store.commit([message("q", 0)]), store.commit([message("q", 1)])])
    await new Promise<void>((resolve) => {
      const check = () => (f.gate.release !== undefined ? resolve() : setImmediate(check))
      check()
    })
    // Staged while that sync is in flight: it becomes the next group commit, on the pool too.
    const second = store.commit([message("q", 2)])
    f.gate.hold = false
    f.gate.release!()
    await Promise.all([first, second])
    expect(f.syncs).toEqual([true, false, false])
    // Nothing arrived during that last sync: the next commit after an idle loop is back on the loop's thread.
    await loopIdles()
    await store.commit([message("q", 3)])
    expect(f.syncs).toEqual([true, false, false, true])
    expect(await pendingIds(store, "q")).toEqual(["m0", "m1", "m2", "m3"])
    await store.close()
  })

  it("refuses a batch whose fdatasync on the loop's thread fails, cuts the file back, and commits the next", async () => {
    const dir = tempDir()
    const f = recordingFs()
    const { store } = await open(dir, { fs: f.fs, preallocate: 0 })
    await store.commit([group("q")])
    await fill(store, "q", 0, 3, 1)
    const path = segmentPath(dir, segmentFiles(dir).at(-1)!)
    const good = sizeOf(path)
    await loopIdles()
    f.failInline.next = true
    const syncs = f.syncs.length
    await expect(store.commit([message("q", 3)])).rejects.toMatchObject({ code: "ERR_RELAY_STORE_FAILED", message: expect.stringMatching(/EIO/) })
    expect(f.syncs[syncs]).toBe(true)
    expect(sizeOf(path)).toBe(good)
    await store.commit([message("q", 4)])
    await store.close()
    const { store: again } = await open(dir)
    expect(await pendingIds(again, "q")).toEqual(["m0", "m1", "m2", "m4"])
    await again.close()
  })
})
