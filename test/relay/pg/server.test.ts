/** The test server is real and durable: fsync and synchronous_commit are on. */
import { describe, expect, it } from "vitest"
import { pgUrl, skipWithoutPg } from "./server.js"

const url = pgUrl()

if (url === undefined) skipWithoutPg("the PostgreSQL test server")
else {
  describe("the PostgreSQL test server", () => {
    it("accepts connections, with fsync and synchronous_commit on", async () => {
      const { default: pg } = await import("pg")
      const client = new pg.Client({ connectionString: url })
      await client.connect()
      try {
        const { rows } = await client.query("SELECT current_setting('fsync') AS fsync, current_setting('synchronous_commit') AS sc")
        expect(rows[0]).toEqual({ fsync: "on", sc: "on" })
      } finally {
        await client.end()
      }
    })
  })
}
