#!/usr/bin/env node
/**
 * node-postgres (`pg`) against porsager's `postgres`, for the relay's
 * PostgreSQL store (issue 14): 256 x 256 B rows in one transaction (unnest
 * of arrays; and the bodies as one bytea with offsets), then 1-row commits.
 * Writes into a table `t` of the database it is given (dropped and created).
 *
 *   npm i --no-save postgres       # not a dependency of zmesh
 *   node bench/relay/pg-drivers.js postgres://postgres@127.0.0.1:5432/postgres pg
 *   node bench/relay/pg-drivers.js postgres://postgres@127.0.0.1:5432/postgres postgres
 */
import pg from "pg"
const url = process.argv[2]
const ROWS = 256, SIZE = 256, BATCHES = Number(process.env.BATCHES ?? 1000), SINGLES = Number(process.env.SINGLES ?? 3000)
const body = Buffer.alloc(SIZE, 0x61)
const ids = Array.from({ length: ROWS }, (_, i) => `id-${i}`)
const bodies = Array.from({ length: ROWS }, () => body)
const setup = `DROP TABLE IF EXISTS t; CREATE TABLE t (seq bigserial PRIMARY KEY, id text NOT NULL, body bytea NOT NULL, stored_at bigint NOT NULL)`
function report(name, n, ms) { console.log(`${name.padEnd(48)} ${(n / (ms / 1000)).toFixed(0).padStart(8)} /s  (${n} in ${ms.toFixed(0)} ms)`) }

async function runPg() {
  const c = new pg.Client({ connectionString: url })
  await c.connect()
  await c.query(setup)
  const ins = { name: "ins", text: "INSERT INTO t (id, body, stored_at) SELECT * FROM unnest($1::text[], $2::bytea[], $3::bigint[])" }
  const stamps = ids.map(() => Date.now())
  for (let w = 0; w < 50; w++) await c.query({ ...ins, values: [ids, bodies, stamps] })
  let t0 = performance.now()
  for (let i = 0; i < BATCHES; i++) {
    await c.query("BEGIN")
    await c.query({ ...ins, values: [ids, bodies, stamps] })
    await c.query("COMMIT")
  }
  report("pg: 256-row unnest insert, BEGIN/INSERT/COMMIT", BATCHES * ROWS, performance.now() - t0)
  t0 = performance.now()
  for (let i = 0; i < BATCHES; i++) await c.query({ ...ins, values: [ids, bodies, stamps] })
  report("pg: 256-row unnest insert, autocommit", BATCHES * ROWS, performance.now() - t0)
  // concatenated bodies + lengths
  const all = Buffer.concat(bodies), lens = bodies.map((b) => b.length)
  const ins2 = { name: "ins2", text: "INSERT INTO t (id, body, stored_at) SELECT i, substring($2::bytea from o::int + 1 for l), s FROM unnest($1::text[], $3::int[], $4::bigint[], $5::bigint[]) AS u(i, l, o, s)" }
  const offs = []; let o = 0; for (const l of lens) { offs.push(o); o += l }
  t0 = performance.now()
  for (let i = 0; i < BATCHES; i++) await c.query({ ...ins2, values: [ids, all, lens, offs, stamps] })
  report("pg: 256-row, one bytea + offsets, autocommit", BATCHES * ROWS, performance.now() - t0)
  const one = { name: "one", text: "INSERT INTO t (id, body, stored_at) VALUES ($1, $2, $3)" }
  t0 = performance.now()
  for (let i = 0; i < SINGLES; i++) await c.query({ ...one, values: ["x", body, Date.now()] })
  report("pg: 1-row commits (autocommit)", SINGLES, performance.now() - t0)
  // 16 concurrent single-row commits over a pool of 16
  await c.end()
}

async function runPostgres() {
  const { default: postgres } = await import("postgres")
  const sql = postgres(url, { max: 1, onnotice: () => {} })
  await sql.unsafe(setup).simple()
  const stamps = ids.map(() => Date.now())
  const ins = (s) => s`INSERT INTO t (id, body, stored_at) SELECT * FROM unnest(${s.array(ids)}::text[], ${s.array(bodies, 17)}::bytea[], ${s.array(stamps, 20)}::bigint[])`
  for (let w = 0; w < 50; w++) await ins(sql)
  let t0 = performance.now()
  for (let i = 0; i < BATCHES; i++) await sql.begin((s) => [ins(s)])
  report("postgres: 256-row unnest insert, sql.begin (pipelined)", BATCHES * ROWS, performance.now() - t0)
  t0 = performance.now()
  for (let i = 0; i < BATCHES; i++) await ins(sql)
  report("postgres: 256-row unnest insert, autocommit", BATCHES * ROWS, performance.now() - t0)
  const all = Buffer.concat(bodies), lens = bodies.map((b) => b.length)
  const offs = []; let o = 0; for (const l of lens) { offs.push(o); o += l }
  t0 = performance.now()
  for (let i = 0; i < BATCHES; i++) await sql`INSERT INTO t (id, body, stored_at) SELECT i, substring(${all}::bytea from o::int + 1 for l), s FROM unnest(${sql.array(ids)}::text[], ${sql.array(lens)}::int[], ${sql.array(offs)}::bigint[], ${sql.array(stamps, 20)}::bigint[]) AS u(i, l, o, s)`
  report("postgres: 256-row, one bytea + offsets, autocommit", BATCHES * ROWS, performance.now() - t0)
  t0 = performance.now()
  for (let i = 0; i < SINGLES; i++) await sql`INSERT INTO t (id, body, stored_at) VALUES (${"x"}, ${body}, ${Date.now()})`
  report("postgres: 1-row commits (autocommit)", SINGLES, performance.now() - t0)
  const n = await sql`SELECT count(*)::int AS n, sum(length(body))::bigint AS b FROM t`
  console.log("postgres check rows", n[0])
  await sql.end()
}
if (process.argv[3] === "pg") await runPg(); else await runPostgres()
