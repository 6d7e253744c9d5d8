#!/usr/bin/env node
// @ts-check
/**
 * What PostgresStore's statements cost the server, in backend CPU (read from
 * /proc/<backend pid>/stat, so other load on the machine does not count) and
 * wall time per statement:
 *
 * - the send statement (INSERT_MESSAGES, 256 rows of 256 B, ids random like
 *   RelayClient's) with and without the de-duplication window;
 * - ways to keep the id window: none, a (queue, id) text key, a 64-bit hash
 *   key (the store's), with a BRIN index on expiry, a plain INSERT (no
 *   ON CONFLICT), a unique index on the messages table itself;
 * - a claim of 500 rows with and without FOR UPDATE SKIP LOCKED.
 *
 *   npm run build && node bench/relay/pg-costs.js postgres://postgres@127.0.0.1:5432/postgres
 *
 * The server must run on this machine (its backend's /proc entry is read).
 * Uses schemas pgcost_*, dropped at the end.
 */
import { randomUUID } from "node:crypto"
import { readFileSync } from "node:fs"

const url = process.argv[2]
if (url === undefined) throw new Error("usage: node bench/relay/pg-costs.js postgres://...")
const { default: pg } = await import("pg")
const { PostgresStore } = await import("zmesh/relay")
// @ts-ignore internal module of the build
const Q = await import("../../dist/src/relay/store/postgres/queries.js")
const N = 256

/** @param {import("pg").Client} c */
async function backendCpu(c) {
  const pid = (await c.query("SELECT pg_backend_pid() AS p")).rows[0].p
  return () => {
    const f = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" ")
    return (Number(f[11]) + Number(f[12])) * 10 // clock ticks of 10 ms
  }
}

async function sendStatement() {
  for (const win of [0, 120_000, 0, 120_000]) {
    const schema = `pgcost_send_${win}`
    const store = new PostgresStore({ connectionString: url, schema })
    await store.open()
    await store.close()
    const c = new pg.Client({ connectionString: url, options: `-c search_path=${schema}` })
    await c.connect()
    const cpu = await backendCpu(c)
    const values = () => {
      const ids = Array.from({ length: N }, () => randomUUID())
      const each = (/** @type {unknown} */ v) => ids.map(() => v)
      return [["bench"], each(1), Buffer.alloc(256 * N, 0x61), ids, ids.map((_, i) => i * 256), each(256), each(null), each(Date.now()), each(0), each(null), each(null), each(null), each(win), each(false), null, null]
    }
    for (let i = 0; i < 30; i++) await c.query({ name: "ins", text: Q.INSERT_MESSAGES, values: values() })
    const c0 = cpu()
    const t0 = performance.now()
    for (let i = 0; i < 300; i++) await c.query({ name: "ins", text: Q.INSERT_MESSAGES, values: values() })
    console.log(`send statement, window ${win} ms: backend ${(((cpu() - c0) * 1000) / 300 / N).toFixed(1)} us/row, wall ${((performance.now() - t0) / 300).toFixed(2)} ms per ${N} rows`)
    await c.query(`DROP SCHEMA ${schema} CASCADE`)
    await c.end()
  }
}

async function idWindows() {
  const c = new pg.Client({ connectionString: url })
  await c.connect()
  const cpu = await backendCpu(c)
  await c.query(`DROP SCHEMA IF EXISTS pgcost_ids CASCADE; CREATE SCHEMA pgcost_ids; SET search_path = pgcost_ids;
    CREATE TABLE m (seq bigserial PRIMARY KEY, queue text, id text, body bytea);
    CREATE TABLE ids_text (queue text, id text, seq bigint, exp bigint, PRIMARY KEY (queue, id));
    CREATE TABLE ids_hash (key bigint PRIMARY KEY, queue text, id text, seq bigint, exp bigint);
    CREATE TABLE ids_brin (key bigint PRIMARY KEY, queue text, id text, seq bigint, exp bigint); CREATE INDEX ON ids_brin USING brin (exp);
    CREATE TABLE m2 (seq bigserial PRIMARY KEY, queue text, id text, body bytea, key bigint); CREATE UNIQUE INDEX ON m2 (key);`)
  const insert = "INSERT INTO m (queue, id, body) SELECT 'bench', i, $2::bytea FROM unnest($1::text[]) i"
  /** @param {string} table @param {string} conflict */
  const withIds = (table, conflict) =>
    `WITH x AS (INSERT INTO ${table} SELECT ${table === "ids_text" ? "" : "hashtextextended(i, 0), "}'bench', i, 1, 0 FROM unnest($1::text[]) i ${conflict}) ${insert}`
  const variants = {
    "no window": insert,
    "(queue, id) key, upsert": withIds("ids_text", "ON CONFLICT (queue, id) DO UPDATE SET seq = EXCLUDED.seq WHERE ids_text.exp < 0"),
    "hash key, upsert": withIds("ids_hash", "ON CONFLICT (key) DO UPDATE SET seq = EXCLUDED.seq WHERE ids_hash.exp < 0"),
    "hash key + BRIN, upsert": withIds("ids_brin", "ON CONFLICT (key) DO UPDATE SET seq = EXCLUDED.seq WHERE ids_brin.exp < 0"),
    "hash key, plain insert": withIds("ids_hash", ""),
    "unique key on messages": "INSERT INTO m2 (queue, id, body, key) SELECT 'bench', i, $2::bytea, hashtextextended(i, 0) FROM unnest($1::text[]) i ON CONFLICT (key) DO NOTHING",
  }
  const body = Buffer.alloc(256, 0x61)
  for (const [name, text] of Object.entries(variants)) {
    const run = () => c.query({ name, text, values: [Array.from({ length: N }, () => randomUUID()), body] })
    for (let i = 0; i < 30; i++) await run()
    const c0 = cpu()
    const t0 = performance.now()
    for (let i = 0; i < 300; i++) await run()
    console.log(`id window, ${name}: backend ${(((cpu() - c0) * 1000) / 300 / N).toFixed(1)} us/row, wall ${((performance.now() - t0) / 300).toFixed(2)} ms per ${N} rows`)
  }
  await c.query("DROP SCHEMA pgcost_ids CASCADE")
  await c.end()
}

async function claims() {
  const variants = {
    "FOR UPDATE SKIP LOCKED": Q.CLAIM,
    "no row locks": Q.CLAIM.replace("FOR UPDATE SKIP LOCKED", "").replace(
      "WHERE d.group_id = c.group_id AND d.pos = c.pos",
      "WHERE d.group_id = c.group_id AND d.pos = c.pos AND (d.held_by = 0 OR d.held_by NOT IN (SELECT id FROM nodes WHERE expires_at > now()))",
    ),
  }
  for (const [name, text] of Object.entries(variants)) {
    const schema = "pgcost_claim"
    const store = new PostgresStore({ connectionString: url, schema })
    await store.open()
    await store.commit([{ type: "group", queue: "q", group: "g", settings: { ackTimeout: 30000, maxDeliveries: 5, deadLetterQueue: "q.dlq" } }])
    const body = Buffer.alloc(256, 0x61)
    for (let i = 0; i < 80; i++) await store.commit(Array.from({ length: 500 }, (_, k) => ({ type: "message", queue: "q", id: `${i}-${k}`, body, headers: null, storedAt: Date.now(), due: 0 })))
    await store.close()
    const c = new pg.Client({ connectionString: url, options: `-c search_path=${schema}` })
    await c.connect()
    await c.query("SET synchronous_commit = off")
    const node = (await c.query("INSERT INTO nodes (expires_at) VALUES (now() + interval '1 hour') RETURNING id")).rows[0].id
    const gid = (await c.query("SELECT id FROM groups")).rows[0].id
    const cpu = await backendCpu(c)
    let from = 0
    const c0 = cpu()
    const t0 = performance.now()
    for (let i = 0; i < 80; i++) {
      const { rows } = await c.query({ name, text, values: [gid, 500, Date.now(), node, from] })
      from = rows.at(-1)?.pos ?? from
    }
    console.log(`claim of 500, ${name}: backend ${((cpu() - c0) / 80).toFixed(2)} ms, wall ${((performance.now() - t0) / 80).toFixed(2)} ms`)
    await c.query(`DROP SCHEMA ${schema} CASCADE`)
    await c.end()
  }
}

await sendStatement()
await idWindows()
await claims()
