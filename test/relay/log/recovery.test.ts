/** Reopening the log: torn tails truncated past the checkpoint, corruption reported and never silently dropped. */
import { appendFileSync, openSync, readFileSync, closeSync, writeSync, truncateSync, unlinkSync } from "node:fs"
import { join } from "node:path"
import { afterAll, describe, expect, it } from "vitest"
import { RECORD_HEADER, SEGMENT_HEADER } from "../../../src/relay/store/log/record.js"
import { removeTempDirs, tempDir } from "../helpers.js"
import { checkpointFiles, fill, group, open, pendingIds, segmentFiles, segmentPath, sizeOf } from "./helpers.js"

/** Offsets of the records in a segment file. */
function recordOffsets(path: string): number[] {
  const data = readFileSync(path)
  const out: number[] = []
  for (let at = SEGMENT_HEADER; at + RECORD_HEADER <= data.length; at += RECORD_HEADER + data.readUInt32BE(at)) out.push(at)
  return out
}

function flipByte(path: string, at: number): void {
  const fd = openSync(path, "r+")
  const b = Buffer.alloc(1)
  const data = readFileSync(path)
  b[0] = data[at]! ^ 0x40
  writeSync(fd, b, 0, 1, at)
  closeSync(fd)
}

const ids = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => `m${from + i}`)

describe("log recovery", () => {
  afterAll(() => removeTempDirs())

  it("truncates a torn tail past the checkpoint, says so, and keeps every committed record", async () => {
    const dir = tempDir()
    const { store } = await open(dir)
    await store.commit([group("q")])
    await fill(store, "q", 0, 50)
    await store.close()
    const [last] = segmentFiles(dir).slice(-1)
    const path = segmentPath(dir, last!)
    const clean = sizeOf(path)
    // A write that crashed halfway: a record header promising more bytes than follow.
    const torn = Buffer.alloc(40, 0xab)
    torn.writeUInt32BE(500, 0)
    appendFileSync(path, torn)
    const { store: again, recovery } = await open(dir)
    expect(recovery.notes.join("\n")).toMatch(new RegExp(`truncated a torn tail of 40 bytes at .*${last} offset ${clean}`))
    expect(recovery.corruption).toEqual([])
    expect(sizeOf(path)).toBe(clean)
    expect(await pendingIds(again, "q")).toEqual(ids(0, 50))
    await fill(again, "q", 50, 60)
    await again.close()
    const { store: third, recovery: r3 } = await open(dir)
    expect(r3.notes.join("\n")).not.toMatch(/torn/)
    expect(await pendingIds(third, "q")).toEqual(ids(0, 60))
    await third.close()
  })

  it("treats a cut last record after the last checkpoint as torn, but a file shorter than its checkpoint says as corruption", async () => {
    const dir = tempDir()
    const { store } = await open(dir)
    await store.commit([group("q")])
    await fill(store, "q", 0, 20)
    await store.close()
    const [last] = segmentFiles(dir).slice(-1)
    const path = segmentPath(dir, last!)
    const size = sizeOf(path)
    truncateSync(path, size - 10)
    // The checkpoint written at close covers the whole file: a shorter file is not a torn write.
    const { store: s2, recovery } = await open(dir)
    expect(recovery.corruption).toHaveLength(1)
    expect(recovery.corruption[0]!.reason).toMatch(new RegExp(`file is ${size - 10} bytes, the checkpoint says ${size}`))
    await s2.close()
    // Without checkpoints the whole log is replayed and the cut record is a torn tail.
    const dir2 = tempDir()
    const { store: s3 } = await open(dir2)
    await s3.commit([group("q")])
    await fill(s3, "q", 0, 20)
    await s3.close()
    for (const f of checkpointFiles(dir2)) unlinkSync(join(dir2, f))
    const p2 = segmentPath(dir2, segmentFiles(dir2).at(-1)!)
    truncateSync(p2, sizeOf(p2) - 10)
    const { store: s4, recovery: r4 } = await open(dir2)
    expect(r4.corruption).toEqual([])
    expect(r4.notes.join("\n")).toMatch(/truncated a torn tail of \d+ bytes/)
    expect(await pendingIds(s4, "q")).toEqual(ids(0, 19))
    await s4.close()
  })

  it("reports a flipped byte in a sealed segment when the message is read, names the file and offset, and serves the rest", async () => {
    const dir = tempDir()
    const { store } = await open(dir, { segmentSize: 4096, cacheBytes: 0 })
    await store.commit([group("q")])
    await fill(store, "q", 0, 200)
    await store.close()
    const segments = segmentFiles(dir)
    expect(segments.length).toBeGreaterThan(3)
    const path = segmentPath(dir, segments[1]!)
    const victim = recordOffsets(path)[2]!
    flipByte(path, victim + RECORD_HEADER + 8)
    const size = sizeOf(path)
    const { store: again, recovery } = await open(dir, { segmentSize: 4096, cacheBytes: 0 })
    expect(recovery.corruption).toEqual([]) // sealed before the checkpoint: not scanned at open
    const pending = await again.fetch("q", "g", 0, 1000)
    const bad = pending.filter((p) => p.message === undefined)
    expect(bad).toHaveLength(1)
    expect(bad[0]!.corrupt!.where).toBe(`${path} offset ${victim}`)
    expect(bad[0]!.corrupt!.reason).toBe("crc mismatch")
    expect(pending.filter((p) => p.message !== undefined)).toHaveLength(199)
    expect(sizeOf(path)).toBe(size)
    await again.close()
  })

  it("reports corruption in a sealed segment met during replay, resynchronises on the next valid record, truncates nothing", async () => {
    const dir = tempDir()
    const { store } = await open(dir, { segmentSize: 4096 })
    await store.commit([group("q")])
    await fill(store, "q", 0, 200)
    await store.close()
    for (const f of checkpointFiles(dir)) unlinkSync(join(dir, f))
    const segments = segmentFiles(dir)
    const path = segmentPath(dir, segments[1]!)
    const offsets = recordOffsets(path)
    // One flipped payload byte, and in another record a destroyed length field.
    flipByte(path, offsets[1]! + RECORD_HEADER + 3)
    flipByte(path, offsets[4]!)
    const size = sizeOf(path)
    const { store: again, recovery } = await open(dir, { segmentSize: 4096 })
    expect(recovery.corruption.map((c) => c.where)).toEqual([`${path} offset ${offsets[1]}`, `${path} offset ${offsets[4]}`])
    expect(recovery.corruption[0]!.reason).toMatch(/crc mismatch; skipped \d+ bytes to the next valid record/)
    expect(recovery.corruption[1]!.reason).toMatch(/skipped \d+ bytes to the next valid record/)
    expect(sizeOf(path)).toBe(size)
    const got = await pendingIds(again, "q")
    expect(got).toHaveLength(198)
    expect(new Set(got).size).toBe(198)
    await again.close()
  })

  it("refuses to open a log with a record kind it does not know (a newer version's log), instead of skipping it", async () => {
    const dir = tempDir()
    const { store } = await open(dir)
    await fill(store, "q", 0, 3)
    await store.close()
    for (const f of checkpointFiles(dir)) unlinkSync(join(dir, f))
    const { RecordWriter } = await import("../../../src/relay/store/log/record.js")
    const w = new RecordWriter()
    w.append(1000, Buffer.from([0x91, 0x63])) // [99]
    appendFileSync(segmentPath(dir, segmentFiles(dir).at(-1)!), w.bytes())
    await expect(open(dir)).rejects.toMatchObject({ code: "ERR_RELAY_CORRUPT", message: expect.stringMatching(/unknown record kind 99/) })
  })
})
