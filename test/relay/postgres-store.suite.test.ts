/**
 * The relay suite on PostgresStore, against the run's test server: each test's
 * folder names its own schema, so that tests do not see each other's queues
 * and a restart on the same folder finds the same data.
 */
import { createHash } from "node:crypto"
import { afterAll } from "vitest"
import { PostgresStore } from "../../src/relay/index.js"
import { pgUrl, skipWithoutPg } from "./pg/server.js"
import { relaySuite } from "./suite/index.js"

const url = pgUrl()

if (url === undefined) skipWithoutPg("the relay suite on PostgreSQL")
else {
  const schemas = new Set<string>()
  relaySuite({
    name: "PostgreSQL",
    make: (dir) => {
      const schema = `t_${createHash("sha256").update(dir).digest("hex").slice(0, 20)}`
      schemas.add(schema)
      return new PostgresStore({ connectionString: url, schema, holdTimeout: 2000 })
    },
  })
  afterAll(async () => {
    const { default: pg } = await import("pg")
    const client = new pg.Client({ connectionString: url })
    await client.connect()
    for (const schema of schemas) await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`)
    await client.end()
  })
}
