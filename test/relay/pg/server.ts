/**
 * What a PostgreSQL test file needs of the test server: its connection
 * string, or a loud skip (a `describe.skip` whose title says why) when the
 * run has none.
 */
import { describe, inject, it } from "vitest"

/** The test server's connection string; undefined when none could be started. */
export function pgUrl(): string | undefined {
  const url = inject("pgUrl")
  return url === "" || url === undefined ? undefined : url
}

/** Declares a skipped block saying why these PostgreSQL tests did not run. */
export function skipWithoutPg(what: string): void {
  const reason = inject("pgSkipReason") || "no PostgreSQL server"
  describe.skip(`${what}: SKIPPED, no PostgreSQL server (${reason})`, () => {
    it("needs a PostgreSQL server", () => undefined)
  })
}
