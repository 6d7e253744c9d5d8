/**
 * A short run of every target of bench/fuzz/run.ts (which feeds them a
 * million inputs): the frame decoder, the NULL session, PLAIN and CURVE on
 * both sides, and the subscription tables against their models.
 */
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { ROLES, TRANSCRIPT_MESSAGES, runHandshake, transcript } from "./handshake-run.js"
import { runs } from "./streams.js"
import { fuzzTargets } from "./targets.js"

const targets = await fuzzTargets()

describe("fuzz targets (short runs)", () => {
  it.each(ROLES)("the recorded %s transcript completes the handshake and delivers every message, fed by flights or byte by byte", async (role) => {
    const flights = await transcript(role)
    for (const chunks of [flights, [...Buffer.concat(flights)].map((b) => Buffer.of(b))]) {
      const run = await runHandshake(role, chunks, -1)
      expect(run.violations).toEqual([])
      expect(run.failure?.error.message).toBeUndefined()
      expect([run.ready, run.messages]).toEqual([true, TRANSCRIPT_MESSAGES.length])
    }
  })

  for (const target of targets) {
    it(`${target.name}: no broken promise`, async () => {
      const numRuns = target.name === "subscriptions" ? 300 : target.name.includes("CURVE") ? 60 : 150
      await fc.assert(
        fc.asyncProperty(target.arbitrary, async (input) => {
          const prepared = target.prepare(input)
          const problems = await target.check(prepared)
          expect(problems, target.show(prepared)).toEqual([])
        }),
        runs(numRuns),
      )
    })
  }
})
