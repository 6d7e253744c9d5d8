/** The state machine behind every store: ack floors, out-of-order acks, trimming, retries, delays, snapshots. */
import { describe, expect, it } from "vitest"
import { RelayState } from "../../../src/relay/store/relay-state.js"
import type { StoreOp } from "../../../src/relay/store/store.js"

const settings = { ackTimeout: 1000, maxDeliveries: 3, deadLetterQueue: "q.dlq" }

function machine() {
  const pinned = new Map<number, number>()
  const state = new RelayState({
    pin: (seq) => pinned.set(seq, (pinned.get(seq) ?? 0) + 1),
    unpin: (seq) => {
      const n = pinned.get(seq)! - 1
      if (n === 0) pinned.delete(seq)
      else pinned.set(seq, n)
    },
  })
  let seq = 0
  const apply = (op: StoreOp) => state.apply(op, ++seq, seq * 100, 100)
  const msg = (queue: string, id: string, due = 0) => apply({ type: "message", queue, id, body: Buffer.from(id), headers: null, storedAt: 0, due })
  const pending = (queue: string, group: string) => state.pending(queue, group, 0, 1000).map((p) => p.pos)
  return { state, apply, msg, pending, pinned }
}

describe("relay state", () => {
  it("keeps an ack floor plus out-of-order acks, and drops a message only once every group acked it", () => {
    const m = machine()
    m.apply({ type: "group", queue: "q", group: "a", settings })
    m.apply({ type: "group", queue: "q", group: "b", settings })
    const seqs = ["1", "2", "3", "4"].map((id) => m.msg("q", id))
    m.apply({ type: "ack", queue: "q", group: "a", positions: [seqs[1]!, seqs[3]!] })
    expect(m.pending("q", "a")).toEqual([seqs[0], seqs[2]])
    m.apply({ type: "ack", queue: "q", group: "a", positions: [seqs[0]!, seqs[2]!] })
    expect(m.pending("q", "a")).toEqual([])
    expect(m.state.queueInfos()[0]!.depth).toBe(4) // b has acked nothing
    m.apply({ type: "ack", queue: "q", group: "b", positions: [seqs[0]!, seqs[1]!] })
    expect(m.state.queueInfos()[0]!.depth).toBe(2)
    expect([...m.pinned.keys()]).toEqual([seqs[2], seqs[3]])
  })

  it("starts a new group at the oldest stored message, and ignores acks of unknown positions", () => {
    const m = machine()
    m.apply({ type: "group", queue: "q", group: "a", settings })
    const seqs = ["1", "2", "3"].map((id) => m.msg("q", id))
    m.apply({ type: "ack", queue: "q", group: "a", positions: [seqs[0]!, 999] })
    m.apply({ type: "group", queue: "q", group: "late", settings })
    expect(m.pending("q", "late")).toEqual([seqs[1], seqs[2]])
  })

  it("records failure counts and not-before times, forgotten once acked", () => {
    const m = machine()
    m.apply({ type: "group", queue: "q", group: "a", settings })
    const s = m.msg("q", "x")
    m.apply({ type: "retry", queue: "q", group: "a", pos: s, deliveries: 2, notBefore: 12345 })
    expect(m.state.pending("q", "a", 0, 10)[0]).toMatchObject({ pos: s, deliveries: 2, notBefore: 12345 })
    m.apply({ type: "ack", queue: "q", group: "a", positions: [s] })
    m.apply({ type: "retry", queue: "q", group: "a", pos: s, deliveries: 3, notBefore: 0 })
    expect(m.state.pending("q", "a", 0, 10)).toEqual([])
  })

  it("orders delays by (due, seq), releases them to the end of the queue, and cancels by id", () => {
    const m = machine()
    m.apply({ type: "group", queue: "q", group: "a", settings })
    const late = m.msg("q", "late", 300)
    const early = m.msg("q", "early", 100)
    const tie = m.msg("q", "tie", 100)
    const now = m.msg("q", "now")
    expect(m.state.delays.dueAt(200, 10).map((d) => d.id)).toEqual(["early", "tie"])
    expect(m.state.delays.peek()?.id).toBe("early")
    const pos = m.apply({ type: "release", queue: "q", seq: early })
    expect(pos).toBeGreaterThan(now)
    expect(m.apply({ type: "release", queue: "q", seq: early })).toBe(0)
    expect(m.apply({ type: "cancel", queue: "q", id: "tie" })).toBe(tie)
    expect(m.apply({ type: "cancel", queue: "q", id: "tie" })).toBe(0)
    expect(m.state.pending("q", "a", 0, 10).map((p) => [p.pos, p.seq])).toEqual([
      [now, now],
      [pos, early],
    ])
    expect(m.state.delays.dueAt(1000, 10).map((d) => d.seq)).toEqual([late])
    expect(m.pinned.has(tie)).toBe(false)
  })

  it("restores from a snapshot to the same state, payload pins included", () => {
    const m = machine()
    m.apply({ type: "group", queue: "q", group: "a", settings })
    const seqs = Array.from({ length: 100 }, (_, i) => m.msg("q", `m${i}`))
    m.msg("q", "later", 5000)
    m.apply({ type: "ack", queue: "q", group: "a", positions: [seqs[0]!, seqs[5]!, seqs[7]!] })
    m.apply({ type: "retry", queue: "q", group: "a", pos: seqs[1]!, deliveries: 1, notBefore: 77 })
    const copy = machine()
    copy.state.restore(m.state.snapshot())
    expect(copy.state.pending("q", "a", 0, 1000)).toEqual(m.state.pending("q", "a", 0, 1000))
    expect(copy.state.queueInfos()).toEqual(m.state.queueInfos())
    expect(copy.state.delays.dueAt(10_000, 10)).toEqual(m.state.delays.dueAt(10_000, 10))
    expect([...copy.pinned].sort()).toEqual([...m.pinned].sort())
  })
})

describe("entry ring", () => {
  it("keeps entries in order through wrap-around, growth, trimming, copies and binary search", async () => {
    const { EntryRing } = await import("../../../src/relay/store/entry-ring.js")
    const ring = new EntryRing(4)
    const model: number[] = []
    let pos = 0
    for (let round = 0; round < 50; round++) {
      for (let k = 0; k < 1 + (round % 7); k++) {
        pos += 1 + (round % 3)
        ring.push(pos, pos + 1, pos + 2, pos + 3, `p${pos}`)
        model.push(pos)
      }
      for (let k = 0; k < round % 5 && model.length > 0; k++) {
        ring.shift()
        model.shift()
      }
      const flat = ring.toArray()
      expect(Array.from({ length: model.length }, (_, i) => flat[i * 4])).toEqual(model)
      const copy = EntryRing.from(ring.first, flat)
      for (let i = ring.first; i < ring.end; i++) {
        expect([copy.pos(i), copy.seq(i), copy.loc(i), copy.size(i)]).toEqual([ring.pos(i), ring.seq(i), ring.loc(i), ring.size(i)])
        expect(ring.payload(i)).toBe(`p${ring.pos(i)}`)
      }
      for (const p of model) expect(ring.pos(ring.indexOf(p))).toBe(p)
      expect(ring.indexOf(pos + 1)).toBe(-1)
    }
  })

})

describe("relay state: de-duplication and half messages", () => {
  it("restores producer receipts and half messages with their check counts from a snapshot, and recalls ids in the window from records", () => {
    const m = machine()
    const now = Date.now()
    const base = { type: "message", body: Buffer.from("x"), headers: null, storedAt: now, due: 0, dedupWindow: 60_000 } as const
    const a = m.apply({ ...base, queue: "q", id: "a", producerId: "p", producerEpoch: "e", producerSeq: 1 })
    const half = m.apply({ ...base, queue: "q", id: "h", due: now + 1000, half: true, producerId: "p", producerEpoch: "e", producerSeq: 2 })
    m.apply({ type: "check", queue: "q", seq: half, checks: 2, next: now + 5000 })
    const copy = machine()
    copy.state.restore(m.state.snapshot(Infinity, now))
    // The producer's receipts come with the snapshot; the id window from the records (the log keeps them).
    expect(copy.state.duplicateOf({ ...base, queue: "q", id: "new", producerId: "p", producerEpoch: "e", producerSeq: 1 }, now)).toBe(a)
    expect(copy.state.duplicateOf({ ...base, queue: "q", id: "a" }, now)).toBe(0)
    copy.state.recall({ ...base, queue: "q", id: "a" }, a, now)
    copy.state.recall({ ...base, queue: "q", id: "old", storedAt: now - 120_000 }, 9, now)
    expect(copy.state.duplicateOf({ ...base, queue: "q", id: "a" }, now)).toBe(a)
    expect(copy.state.duplicateOf({ ...base, queue: "q", id: "old" }, now)).toBe(0)
    expect(copy.state.delays.get(half)).toMatchObject({ half: true, checks: 2, due: now + 5000, producerId: "p" })
    expect(copy.state.queueInfos()[0]).toMatchObject({ depth: 1, delayed: 0, prepared: 1 })
    // Only what is durable goes into a checkpoint: receipts of seqs past `upTo` stay out.
    const partial = machine()
    partial.state.restore(m.state.snapshot(a - 1, now))
    expect(partial.state.duplicateOf({ ...base, queue: "q", id: "z", producerId: "p", producerEpoch: "e", producerSeq: 1 }, now)).toBe(0)
  })

  it("decides a half message once: commit joins the queue, a later rollback reports the earlier decision", () => {
    const m = machine()
    m.apply({ type: "group", queue: "q", group: "g", settings })
    const base = { type: "message", body: Buffer.from("x"), headers: null, storedAt: 1, dedupWindow: 60_000 } as const
    const half = m.apply({ ...base, queue: "q", id: "h", due: 1000, half: true })
    // Neither cancel nor release touches a half message.
    expect(m.apply({ type: "cancel", queue: "q", id: "h" })).toBe(0)
    expect(m.apply({ type: "release", queue: "q", seq: half })).toBe(0)
    expect(m.pending("q", "g")).toEqual([])
    const pos = m.apply({ type: "commit", queue: "q", id: "h", at: 2, dedupWindow: 60_000 })
    expect(m.pending("q", "g")).toEqual([pos])
    expect(m.apply({ type: "rollback", queue: "q", id: "h", at: 3, reason: "late", dedupWindow: 60_000 })).toBe(-1)
    expect(m.apply({ type: "commit", queue: "q", id: "nope", at: 3, dedupWindow: 60_000 })).toBe(0)
  })
})
