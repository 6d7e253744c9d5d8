/** `zmesh relay --store postgres://...`: the same start line, logs and signals as on the embedded log, and clear failures. */
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest"
import { RelayClient } from "../../../src/relay/index.js"
import { type CliRelay, ensureBuilt, killIfAlive, runCli, startCli } from "../cli-helpers.js"
import { take } from "../helpers.js"
import { pgUrl, skipWithoutPg } from "./server.js"

const url = pgUrl()

if (url === undefined) skipWithoutPg("zmesh relay --store")
else {
  describe("zmesh relay --store (PostgreSQL)", () => {
    let relay: CliRelay | undefined
    let client: RelayClient | undefined
    const schema = `cli_${process.pid}`
    beforeAll(() => ensureBuilt(), 120_000)
    afterEach(async () => {
      await client?.close()
      client = undefined
      killIfAlive(relay)
      relay = undefined
    })
    afterAll(async () => {
      const { default: pg } = await import("pg")
      const c = new pg.Client({ connectionString: url })
      await c.connect()
      await c.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`)
      await c.end()
    })

    it("serves from the database, says so without the password, stops on SIGTERM, and finds its messages after a restart", async () => {
      // The same server with a password in the URL (trust authentication ignores it): the log must not show it.
      const withPassword = url.replace("postgres@", "postgres:s3cret@")
      relay = await startCli(["--bind", "tcp://127.0.0.1:*", "--store", withPassword, "--schema", schema, "--stats-interval", "100"])
      expect(relay.endpoint, relay.stderr()).toMatch(/^tcp:\/\/127\.0\.0\.1:\d+$/)
      expect(relay.stdout()).toMatch(/recovered 0 queues, 0 messages, 0 delayed in \d+ ms: PostgreSQL schema cli_\d+ at version \d+ \(migrated from 0\)/)
      expect(relay.stdout()).toMatch(new RegExp(`listening on tcp://\\S+ \\(store postgres://postgres:\\*\\*\\*@127\\.0\\.0\\.1:\\d+/postgres schema ${schema}, pid \\d+\\)`))
      expect(relay.stdout()).not.toContain("s3cret")
      client = new RelayClient({ relay: relay.endpoint })
      await client.send("cli-pg", "kept in the database")
      await relay.line(/stats: .*queues: cli-pg 1/)
      relay.proc.kill("SIGTERM")
      expect(await relay.exited).toBe(0)
      expect(relay.stdout()).toMatch(/stopped after \d+ group commits of \d+ operations\n$/)
      expect(relay.stderr()).toBe("")
      // Another process, the same schema (through the environment variable this time).
      process.env.ZMESH_RELAY_STORE = url
      try {
        relay = await startCli(["--bind", "tcp://127.0.0.1:*", "--schema", schema, "--stats-interval", "0"])
      } finally {
        delete process.env.ZMESH_RELAY_STORE
      }
      expect(relay.stdout()).toMatch(/recovered 1 queues, 1 messages, 0 delayed/)
      await client.close()
      client = new RelayClient({ relay: relay.endpoint })
      const [m] = await take(client.consume("cli-pg"), 1)
      expect(m!.body.toString()).toBe("kept in the database")
      await m!.ack()
    })

    it("exits 2 for a store that is not PostgreSQL or flags that do not go with it, and 1 when the server cannot be reached", async () => {
      const notPg = await runCli(["relay", "--bind", "tcp://127.0.0.1:*", "--store", "mysql://db/x"])
      expect(notPg.code).toBe(2)
      expect(notPg.stderr).toMatch(/--store wants a postgres:\/\/ or postgresql:\/\/ URL/)
      const mixed = await runCli(["relay", "--bind", "tcp://127.0.0.1:*", "--store", url, "--segment-size", "65536"])
      expect(mixed.code).toBe(2)
      const badSchema = await runCli(["relay", "--bind", "tcp://127.0.0.1:*", "--store", url, "--schema", "Not-OK"])
      expect(badSchema.code).toBe(2)
      const away = await runCli(["relay", "--bind", "tcp://127.0.0.1:*", "--store", "postgres://postgres@127.0.0.1:1/postgres"])
      expect(away.code).toBe(1)
      expect(away.stderr).toMatch(/could not start: PostgreSQL could not connect/)
    })
  })
}
