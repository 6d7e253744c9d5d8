/**
 * The PostgreSQL store's tables, as versioned migrations: each runs once, in
 * order, in one transaction with its row in `schema_version`, under an
 * advisory lock so that nodes starting together migrate once. A database
 * migrated by a newer zmesh is refused rather than guessed at.
 */
import { ZmeshError } from "../../../errors.js"
import type { Connection } from "./connection.js"

/** Migration N (1-based) is MIGRATIONS[N - 1]; only ever append. */
export const MIGRATIONS: readonly string[] = [
  // 1: messages, consumer groups, per-group delivery state, nodes and their holds.
  `
  CREATE SEQUENCE seq;
  -- Every message, delayed or not. pos is its position in its queue (its seq, or a new
  -- number when a delayed one is released); NULL while it waits in the delay index.
  CREATE TABLE messages (
    seq bigint PRIMARY KEY,
    queue text NOT NULL,
    pos bigint,
    id text NOT NULL,
    body bytea NOT NULL,
    headers text,
    stored_at bigint NOT NULL,
    due bigint NOT NULL,
    producer_id text,
    producer_seq bigint
  );
  CREATE INDEX messages_delayed ON messages (due, seq) WHERE pos IS NULL;
  CREATE INDEX messages_delayed_id ON messages (queue, id) WHERE pos IS NULL;
  CREATE TABLE groups (
    id serial PRIMARY KEY,
    queue text NOT NULL,
    name text NOT NULL,
    ack_timeout integer NOT NULL,
    max_deliveries integer NOT NULL,
    dead_letter_queue text NOT NULL,
    UNIQUE (queue, name)
  );
  -- One row per message a group has not acknowledged; the ack deletes it. held_by is the
  -- node (nodes.id) that claimed it, 0 for none; a hold lasts while that node is alive.
  CREATE TABLE deliveries (
    group_id integer NOT NULL,
    pos bigint NOT NULL,
    seq bigint NOT NULL,
    deliveries integer NOT NULL DEFAULT 0,
    not_before bigint NOT NULL DEFAULT 0,
    held_by integer NOT NULL DEFAULT 0,
    PRIMARY KEY (group_id, pos)
  ) WITH (fillfactor = 80);
  -- Relay nodes using the database; a node renews expires_at while it runs.
  CREATE TABLE nodes (
    id serial PRIMARY KEY,
    started_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL,
    info text
  );
  `,
  // 2: de-duplication (the id window, idempotent producers' receipts) and half messages.
  `
  ALTER TABLE messages
    ADD COLUMN producer_epoch text,
    -- A half (prepared) message: pos NULL and invisible until committed; due is its next check-back.
    ADD COLUMN half boolean NOT NULL DEFAULT false,
    ADD COLUMN checks integer NOT NULL DEFAULT 0;
  -- Ids stored recently, per queue, until expires (epoch ms); decision: 0 none, 1 committed, 2 rolled back.
  -- Keyed by a 64-bit hash of (queue, id): a small, fast index. Two ids with one hash share a row (the
  -- later replaces the earlier, which loses its protection): a collision never makes a false duplicate.
  CREATE TABLE ids (
    key bigint PRIMARY KEY,
    queue text NOT NULL,
    id text NOT NULL,
    seq bigint NOT NULL,
    stored_at bigint NOT NULL,
    expires bigint NOT NULL,
    decision smallint NOT NULL DEFAULT 0
  );
  -- Rows come in time order: a BRIN index finds the expired ones for next to nothing per insert.
  CREATE INDEX ids_expires ON ids USING brin (expires);
  -- An idempotent producer epoch's send numbers and the seqs they were stored as.
  CREATE TABLE receipts (
    producer_id text NOT NULL,
    epoch text NOT NULL,
    pseq bigint NOT NULL,
    seq bigint NOT NULL,
    at bigint NOT NULL,
    PRIMARY KEY (producer_id, epoch, pseq)
  );
  `,
]

/** Creates the schema if needed and applies the migrations it lacks; returns [from, to] versions. */
export async function migrate(conn: Connection, schema: string, lockKey: number): Promise<[number, number]> {
  const q = (text: string, what: string) => conn.query(text, what)
  await q("BEGIN", "begin the migration")
  try {
    // Nodes starting together: one migrates, the others wait and find it done.
    await q(`SELECT pg_advisory_xact_lock(${lockKey}, 0)`, "lock the schema for migration")
    await q(`CREATE SCHEMA IF NOT EXISTS ${schema}`, "create the schema")
    await q("CREATE TABLE IF NOT EXISTS schema_version (version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())", "create schema_version")
    const { rows } = await q("SELECT coalesce(max(version), 0) AS v FROM schema_version", "read the schema version")
    const from = Number(rows[0]!.v)
    if (from > MIGRATIONS.length) {
      throw new ZmeshError("ERR_RELAY_STORE_FAILED", `schema ${schema} is at version ${from}, newer than this zmesh knows (${MIGRATIONS.length}): upgrade zmesh`)
    }
    for (let v = from + 1; v <= MIGRATIONS.length; v++) {
      await q(MIGRATIONS[v - 1]!, `apply migration ${v}`)
      await q(`INSERT INTO schema_version (version) VALUES (${v})`, `record migration ${v}`)
    }
    await q("COMMIT", "commit the migration")
    return [from, MIGRATIONS.length]
  } catch (err) {
    await conn.query("ROLLBACK", "roll back the migration").catch(() => conn.drop())
    throw err
  }
}
