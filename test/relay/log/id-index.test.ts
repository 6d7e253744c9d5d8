/** The de-duplication window's ring: the same answers as a plain map model, through growth, wrap-around, expiry, removal and deferred inserts. */
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { Decision, IdIndex } from "../../../src/relay/store/id-index.js"

type Step = { kind: "put"; queue: string; id: string; ttl: number; later: boolean } | { kind: "tick"; by: number } | { kind: "remove"; queue: string; id: string } | { kind: "settle" }

/**
 * Ids of 1 to 85 characters, so the ring of their bytes grows and wraps too:
 * some prefixes of each other, some with characters stored escaped (0xff
 * and above).
 */
const idOf = (n: number): string => (n % 3 === 0 ? "x".repeat(n * 7 + 1) : n % 3 === 1 ? "x".repeat(n * 7) + n : "ÿ日é".repeat(n * 2) + n)

const step: fc.Arbitrary<Step> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ kind: fc.constant("put" as const), queue: fc.constantFrom("a", "b"), id: fc.integer({ min: 0, max: 12 }).map(idOf), ttl: fc.integer({ min: 1, max: 50 }), later: fc.boolean() }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant("tick" as const), by: fc.integer({ min: 0, max: 20 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("remove" as const), queue: fc.constantFrom("a", "b"), id: fc.integer({ min: 0, max: 12 }).map(idOf) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("settle" as const) }) },
)

/** Bits of hash: the real width, and none (every id down the same chain). */
const hashes = { real: 31, colliding: 0 }

describe("the id window", () => {
  it.each(Object.keys(hashes) as Array<keyof typeof hashes>)("answers as a map of id -> (seq, expiry, decision) does, across growth, expiry, removal and putLater (%s hash)", (name) => {
    const hash = hashes[name]
    fc.assert(
      fc.property(fc.array(step, { maxLength: 400, size: "max" }), (steps) => {
        const index = new IdIndex(4, hash)
        const model = new Map<string, { seq: number; expires: number; decision: Decision }>()
        let now = 1000
        let seq = 0
        const removed = new Set<number>()
        for (const s of steps) {
          if (s.kind === "tick") {
            now += s.by
            index.expire(now)
          } else if (s.kind === "settle") {
            index.settle()
          } else if (s.kind === "put") {
            seq++
            const decision = s.later || seq % 3 !== 0 ? Decision.none : Decision.committed
            if (s.later) index.putLater(s.queue, s.id, seq, now + s.ttl)
            else index.put(s.queue, s.id, seq, now + s.ttl, decision)
            model.set(`${s.queue}/${s.id}`, { seq, expires: now + s.ttl, decision })
          } else {
            const m = model.get(`${s.queue}/${s.id}`)
            if (m !== undefined) {
              index.remove(s.queue, s.id, m.seq)
              removed.add(m.seq)
              model.delete(`${s.queue}/${s.id}`)
            }
          }
        }
        for (const queue of ["a", "b"]) {
          for (let i = 0; i <= 12; i++) {
            const m = model.get(`${queue}/${idOf(i)}`)
            const want = m !== undefined && m.expires > now ? m.seq : 0
            expect(index.seqOf(queue, idOf(i), now)).toBe(want)
            expect(removed.has(index.seqOf(queue, idOf(i), now))).toBe(false)
            if (want !== 0) expect(index.decisionOf(queue, idOf(i), now)).toBe(m!.decision)
          }
        }
      }),
    )
  })
})
