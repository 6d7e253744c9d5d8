/** The de-duplication window across reopen: rebuilt from the segments the log keeps for it, which go once it has passed. */
import { afterAll, describe, expect, it } from "vitest"
import { removeTempDirs, tempDir, waitFor } from "../helpers.js"
import { group, message, open, segmentFiles } from "./helpers.js"

describe("the de-duplication window on disk", () => {
  afterAll(() => removeTempDirs())

  it("keeps acked segments while their ids are in the window, rebuilds the window on reopen, and lets them go after", async () => {
    const dir = tempDir()
    const options = { segmentSize: 8 * 1024, checkpointInterval: 20, preallocate: 0 }
    const { store } = await open(dir, options)
    await store.commit([group("q")])
    const window = 1500
    const storedAt = Date.now()
    const seqs: number[] = []
    for (let i = 0; i < 400; i += 20) {
      const ops = Array.from({ length: 20 }, (_, k) => message("q", i + k, { storedAt, dedupWindow: window }))
      seqs.push(...(await store.commit(ops)))
    }
    // Everything acked: no message needs the segments any more, only the window does.
    await store.commit([{ type: "ack", queue: "q", group: "g", positions: seqs }])
    const written = segmentFiles(dir).length
    expect(written).toBeGreaterThan(3)
    await store.close()
    const { store: again, recovery } = await open(dir, options)
    // Two checkpoints (the close's and the reopen's) cover them: only the window keeps them.
    expect(segmentFiles(dir).length).toBe(written)
    expect(recovery.notes.join("\n")).toMatch(/de-duplication window rebuilt from \d+ segments/)
    // The first id and the last: still duplicates of their original seqs.
    expect(await again.commit([message("q", 0, { storedAt: Date.now(), dedupWindow: window })])).toEqual([-seqs[0]!])
    expect(await again.commit([message("q", 399, { storedAt: Date.now(), dedupWindow: window })])).toEqual([-seqs[399]!])
    // Once the window has passed, the sealed segments are deleted (bounded poll: on-disk state).
    await waitFor(() => segmentFiles(dir).length <= 2, "the window's segments to go", 10_000)
    expect(Date.now()).toBeGreaterThanOrEqual(storedAt + window)
    await again.close()
  })
})
