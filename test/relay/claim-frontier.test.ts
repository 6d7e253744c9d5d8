/** Where PostgresStore's claims start: after the highest position claimed, looking back only when told, in pages. */
import { describe, expect, it } from "vitest"
import { ClaimFrontier } from "../../src/relay/store/postgres/claim-frontier.js"

describe("ClaimFrontier", () => {
  it("looks from the start first, pages through a look-back, then goes on after the highest position claimed", () => {
    const f = new ClaimFrontier()
    const now = Date.now()
    expect(f.start(now)).toBe(0)
    f.claimed(0, 2, [3, 4]) // a full page: the look-back goes on
    expect(f.start(now)).toBe(4)
    f.claimed(4, 2, [7]) // less than asked: done
    expect(f.start(now)).toBe(7)
    f.claimed(7, 2, [9, 12])
    expect(f.start(now)).toBe(12)
  })

  it("looks back from the start after lookBack(), at once or when a given-back row comes due", () => {
    const f = new ClaimFrontier()
    const now = Date.now()
    f.start(now)
    f.claimed(0, 10, [5])
    expect(f.start(now)).toBe(5)
    f.claimed(5, 10, [])
    f.lookBack(now + 60_000)
    expect(f.start(now)).toBe(5)
    expect(f.start(now + 60_000)).toBe(0)
    f.claimed(0, 10, [2])
    f.lookBack()
    expect(f.start(now + 60_000)).toBe(0)
  })

  it("does not take a look-back asked for while a claim was in flight as done", () => {
    const f = new ClaimFrontier()
    const now = Date.now()
    expect(f.start(now)).toBe(0)
    f.lookBack() // e.g. a retry committed while the claim ran
    f.claimed(0, 10, [1, 2])
    expect(f.start(now)).toBe(0)
  })
})
