/**
 * The PostgreSQL store's statements. Each runs prepared (by name, once per
 * connection); batches pass arrays and `unnest` them, so that a group commit
 * of any size is a handful of statements. Message bodies travel as one bytea
 * with offsets (bytea[] would go as hex text).
 */
import type { PgQuery } from "./connection.js"

/**
 * New messages (one run of MESSAGE ops, no two with the same id or producer
 * send in it): their seqs by input order (`ord`), and for duplicates the
 * original's seq. A duplicate is a message whose producer epoch and send
 * number have a receipt, or whose id has a live entry in the window (an
 * insert that finds one, even one another node just committed, is refused by
 * ON CONFLICT ... WHERE). Also the delivery rows made per group; with a
 * channel ($16), the NOTIFY of the other nodes, so that a batch of sends
 * alone is one statement, one round trip.
 */
export const INSERT_MESSAGES = `
WITH v AS MATERIALIZED (
  SELECT nextval('seq') AS s, ord, ($1::text[])[qi] AS q, i, off, len, h, st, du, pid, pep, pseq, win, half
  FROM unnest($2::int[], $4::text[], $5::int[], $6::int[], $7::text[], $8::bigint[], $9::bigint[],
              $10::text[], $11::text[], $12::bigint[], $13::bigint[], $14::boolean[])
    WITH ORDINALITY AS u(qi, i, off, len, h, st, du, pid, pep, pseq, win, half, ord)
), pr AS (
  SELECT v.ord, r.seq AS orig FROM v JOIN receipts r ON r.producer_id = v.pid AND r.epoch = v.pep AND r.pseq = v.pseq
  WHERE v.pseq IS NOT NULL
), w AS (
  INSERT INTO ids AS x (key, queue, id, seq, stored_at, expires)
  SELECT hashtextextended(q || E'\\n' || i, 0), q, i, s, st, st + win FROM v WHERE win > 0 AND ord NOT IN (SELECT ord FROM pr)
  ON CONFLICT (key) DO UPDATE
    SET queue = EXCLUDED.queue, id = EXCLUDED.id, seq = EXCLUDED.seq, stored_at = EXCLUDED.stored_at, expires = EXCLUDED.expires, decision = 0
  WHERE x.expires <= EXCLUDED.stored_at OR x.id <> EXCLUDED.id OR x.queue <> EXCLUDED.queue
  RETURNING x.seq
), keep AS (
  SELECT * FROM v WHERE ord NOT IN (SELECT ord FROM pr) AND (win = 0 OR s IN (SELECT seq FROM w))
), m AS (
  INSERT INTO messages (seq, queue, pos, id, body, headers, stored_at, due, producer_id, producer_epoch, producer_seq, half)
  SELECT s, q, CASE WHEN du = 0 AND NOT half THEN s END, i, substring($3::bytea FROM off + 1 FOR len), h, st, du, pid, pep, pseq, half
  FROM keep
  RETURNING seq, queue, pos
), rc AS (
  INSERT INTO receipts (producer_id, epoch, pseq, seq, at) SELECT pid, pep, pseq, s, st FROM keep WHERE pseq IS NOT NULL
  ON CONFLICT DO NOTHING
), d AS (
  INSERT INTO deliveries (group_id, pos, seq)
  SELECT g.id, m.pos, m.seq FROM m JOIN groups g ON g.queue = m.queue WHERE m.pos IS NOT NULL
  RETURNING group_id
)
SELECT (SELECT array_agg(s ORDER BY ord) FROM keep) AS seqs,
       (SELECT array_agg(ord ORDER BY ord) FROM keep) AS ords,
       (SELECT json_agg(json_build_array(v.ord, coalesce(pr.orig, (SELECT x.seq FROM ids x WHERE x.key = hashtextextended(v.q || E'\\n' || v.i, 0) AND x.queue = v.q AND x.id = v.i))))
          FROM v LEFT JOIN pr USING (ord) WHERE v.ord NOT IN (SELECT ord FROM keep)) AS dups,
       (SELECT json_object_agg(group_id, n) FROM (SELECT group_id, count(*) AS n FROM d GROUP BY group_id) x) AS added,
       (SELECT pg_notify($15, $16) WHERE $15 IS NOT NULL) AS notified`

/** The original of a duplicate that another node stored at the same moment (not in the statement's snapshot). */
export const ORIGINAL = "SELECT seq FROM ids WHERE key = hashtextextended($1 || E'\\n' || $2, 0) AND queue = $1 AND id = $2"

/** Wakes the other nodes (at commit): $1 the channel, $2 `<node> <queues>`. */
export const NOTIFY = "SELECT pg_notify($1, $2)"

/**
 * Taken first by a transaction that creates a group: it waits for the
 * transactions writing messages to finish and holds new ones back until it
 * commits, so that every message gets a delivery row for the new group,
 * whether it was stored before (the group's own INSERT) or after (theirs).
 */
export const LOCK_FOR_GROUP = "LOCK TABLE messages IN SHARE ROW EXCLUSIVE MODE"

/** A group (no-op if it exists), with delivery rows for every message its queue stores. */
export const CREATE_GROUP = `
WITH g AS (
  INSERT INTO groups (queue, name, ack_timeout, max_deliveries, dead_letter_queue) VALUES ($1, $2, $3, $4, $5)
  ON CONFLICT (queue, name) DO NOTHING
  RETURNING id
), d AS (
  INSERT INTO deliveries (group_id, pos, seq)
  SELECT g.id, m.pos, m.seq FROM g, messages m WHERE m.queue = $1 AND m.pos IS NOT NULL
  RETURNING 1
)
SELECT (SELECT id FROM g) AS created, (SELECT count(*) FROM d) AS n, e.id, e.ack_timeout, e.max_deliveries, e.dead_letter_queue
FROM (SELECT 1) one LEFT JOIN groups e ON e.queue = $1 AND e.name = $2`

/**
 * Acks: deletes the groups' delivery rows, and the messages no group has a
 * row for any more (retention). Rows other connections delete at the same
 * time are not seen here: the sweep (SWEEP) finds what such a race leaves.
 */
export const ACK = `
WITH a AS (SELECT * FROM unnest($1::int[], $2::bigint[]) AS a(gid, pos)),
d AS (
  DELETE FROM deliveries x USING a WHERE x.group_id = a.gid AND x.pos = a.pos
  RETURNING x.group_id, x.pos, x.seq
), m AS (
  -- NOT IN over d is one hashed lookup per row (a correlated NOT EXISTS over d scanned it for each: quadratic).
  DELETE FROM messages m USING (SELECT DISTINCT seq FROM d) dd WHERE m.seq = dd.seq AND NOT EXISTS (
    SELECT 1 FROM groups g JOIN deliveries o ON o.group_id = g.id AND o.pos = m.pos
    WHERE g.queue = m.queue AND (o.group_id, o.pos) NOT IN (SELECT group_id, pos FROM d)
  )
  RETURNING m.queue
)
SELECT (SELECT json_object_agg(group_id, n) FROM (SELECT group_id, count(*) AS n FROM d GROUP BY group_id) x) AS removed,
       (SELECT json_object_agg(queue, n) FROM (SELECT queue, count(*) AS n FROM m GROUP BY queue) y) AS dropped`

/** Failed deliveries: the count and not-before time; the hold (if this node's) ends. */
export const RETRY = `
UPDATE deliveries x SET deliveries = r.n, not_before = r.nb, held_by = CASE WHEN x.held_by = $5 THEN 0 ELSE x.held_by END
FROM unnest($1::int[], $2::bigint[], $3::int[], $4::bigint[]) AS r(gid, pos, n, nb)
WHERE x.group_id = r.gid AND x.pos = r.pos`

/** New positions for releases, in order. */
export const POSITIONS = "SELECT nextval('seq') AS pos FROM generate_series(1, $1::int) ORDER BY 1"

/**
 * Releases: a delayed message not yet released takes its new position and
 * joins its queue (delivery rows for its groups). A message another node
 * released or cancelled first is left alone: that release gets nothing.
 */
export const RELEASE = `
WITH r AS (SELECT * FROM unnest($1::bigint[], $2::bigint[]) AS r(seq, newpos)),
u AS (
  UPDATE messages m SET pos = r.newpos FROM r WHERE m.seq = r.seq AND m.pos IS NULL AND NOT m.half
  RETURNING m.seq, m.pos, m.queue
), d AS (
  INSERT INTO deliveries (group_id, pos, seq) SELECT g.id, u.pos, u.seq FROM u JOIN groups g ON g.queue = u.queue
  RETURNING group_id
)
SELECT (SELECT json_agg(json_build_array(seq, pos, queue)) FROM u) AS released,
       (SELECT json_object_agg(group_id, n) FROM (SELECT group_id, count(*) AS n FROM d GROUP BY group_id) x) AS added`

/** Cancels the oldest delayed, unreleased message of a queue with this id. */
export const CANCEL = `
DELETE FROM messages WHERE pos IS NULL AND NOT half AND seq = (
  SELECT seq FROM messages WHERE queue = $1 AND id = $2 AND pos IS NULL AND NOT half ORDER BY seq LIMIT 1
) RETURNING seq`

/**
 * A half message's decision ($3: 1 commit, 2 rollback): committed, it joins
 * its queue (a new position, delivery rows); rolled back, it is deleted. The
 * decision stays known in the window ($4 at, $5 window). Decided before (or
 * by another node at the same moment): nothing changes, and `known` says
 * how it was decided, if the window still knows.
 */
export const DECIDE = `
WITH h AS (
  SELECT seq FROM messages WHERE queue = $1::text AND id = $2::text AND pos IS NULL AND half ORDER BY seq LIMIT 1 FOR UPDATE
), c AS (
  UPDATE messages m SET pos = nextval('seq'), half = false FROM h WHERE $3::int = 1 AND m.seq = h.seq RETURNING m.seq, m.pos, m.queue
), r AS (
  DELETE FROM messages m USING h WHERE $3::int = 2 AND m.seq = h.seq RETURNING m.seq
), d AS (
  INSERT INTO deliveries (group_id, pos, seq) SELECT g.id, c.pos, c.seq FROM c JOIN groups g ON g.queue = c.queue
  RETURNING group_id
), w AS (
  INSERT INTO ids AS x (key, queue, id, seq, stored_at, expires, decision)
  SELECT hashtextextended($1 || E'\\n' || $2, 0), $1, $2, h.seq, $4::bigint, $4::bigint + $5::bigint, $3::int FROM h WHERE $5::bigint > 0
  ON CONFLICT (key) DO UPDATE
    SET queue = EXCLUDED.queue, id = EXCLUDED.id, seq = EXCLUDED.seq, stored_at = EXCLUDED.stored_at, expires = EXCLUDED.expires, decision = EXCLUDED.decision
)
SELECT (SELECT pos FROM c) AS pos, (SELECT seq FROM r) AS dropped,
       (SELECT json_object_agg(group_id, n) FROM (SELECT group_id, count(*) AS n FROM d GROUP BY group_id) x) AS added,
       (SELECT decision FROM ids WHERE key = hashtextextended($1 || E'\\n' || $2, 0) AND queue = $1 AND id = $2 AND expires > $4) AS known`

/** A check-back of a half message was counted: the count and the next check time. */
export const CHECK = "UPDATE messages SET checks = $2, due = $3 WHERE seq = $1 AND pos IS NULL AND half"

const PENDING_COLUMNS = "u.pos, u.deliveries, u.not_before, m.seq, m.id, m.body, m.headers, m.stored_at, m.due, m.producer_id, m.producer_seq"

/** A stored message by seq (delayed and half ones too). */
export const READ = "SELECT seq, id, body, headers, stored_at, due, producer_id, producer_seq FROM messages WHERE seq = $1"

/**
 * Claims up to $2 of a group's messages after position $5: due ($3, epoch
 * ms), and held by no live node. SKIP LOCKED: rows another node is claiming
 * at this moment are passed over, not waited for.
 */
export const CLAIM = `
WITH c AS (
  SELECT group_id, pos FROM deliveries
  WHERE group_id = $1 AND pos > $5 AND not_before <= $3
    AND (held_by = 0 OR held_by NOT IN (SELECT id FROM nodes WHERE expires_at > now()))
  ORDER BY pos LIMIT $2
  FOR UPDATE SKIP LOCKED
), u AS (
  UPDATE deliveries d SET held_by = $4 FROM c WHERE d.group_id = c.group_id AND d.pos = c.pos
  RETURNING d.pos, d.seq, d.deliveries, d.not_before
)
SELECT ${PENDING_COLUMNS} FROM u JOIN messages m ON m.seq = u.seq ORDER BY u.pos`

/** A group's unacknowledged messages after a position, without holds (RelayStore.fetch). */
export const FETCH = `
SELECT ${PENDING_COLUMNS}
FROM deliveries u JOIN groups g ON g.id = u.group_id JOIN messages m ON m.seq = u.seq
WHERE g.queue = $1 AND g.name = $2 AND u.pos > $3
ORDER BY u.pos LIMIT $4`

export const DUE = "SELECT queue, seq, due, half, id, producer_id, checks FROM messages WHERE pos IS NULL AND due <= $1 ORDER BY due, seq LIMIT $2"

export const NEXT_DUE = "SELECT due FROM messages WHERE pos IS NULL ORDER BY due, seq LIMIT 1"

export const GROUPS = "SELECT id, queue, name, ack_timeout, max_deliveries, dead_letter_queue FROM groups ORDER BY id"
export const GROUP = "SELECT id, ack_timeout, max_deliveries, dead_letter_queue FROM groups WHERE queue = $1 AND name = $2"

/** Depth and delayed count per queue, and pending count per group: the whole picture (open, and now and then with other nodes). */
export const COUNT_MESSAGES = `
SELECT queue, count(pos) AS depth, count(*) FILTER (WHERE pos IS NULL AND NOT half) AS delayed, count(*) FILTER (WHERE half) AS prepared
FROM messages GROUP BY queue`

/** De-duplication upkeep: ids out of the window, receipts past their epoch's bound or a day old ($2 receipts kept, $3 ttl). */
export const EXPIRE_IDS = "DELETE FROM ids WHERE expires <= $1"
export const TRIM_RECEIPTS = `
DELETE FROM receipts r USING (SELECT producer_id, epoch, max(pseq) AS top, max(at) AS last FROM receipts GROUP BY 1, 2) e
WHERE r.producer_id = e.producer_id AND r.epoch = e.epoch AND (r.pseq <= e.top - $2::bigint OR e.last < $1::bigint - $3::bigint)`
export const COUNT_PENDING = "SELECT group_id, count(*) AS n FROM deliveries GROUP BY group_id"

export const REGISTER_NODE = "INSERT INTO nodes (expires_at, info) VALUES (now() + $1 * interval '1 millisecond', $2) RETURNING id"

/** Renews this node's holds; returns how many nodes are alive (this one included). */
export const HEARTBEAT = `
WITH h AS (UPDATE nodes SET expires_at = now() + $2 * interval '1 millisecond' WHERE id = $1 RETURNING id)
SELECT (SELECT count(*) FROM h) AS renewed, (SELECT count(*) FROM nodes WHERE expires_at > now() AND id <> $1) AS others`

/** Re-registers a node whose row was removed (it was gone longer than an hour), under its old id. */
export const REVIVE_NODE = "INSERT INTO nodes (id, expires_at, info) VALUES ($1, now() + $2 * interval '1 millisecond', $3) ON CONFLICT (id) DO NOTHING"

/** At a clean stop: this node's holds end at once. */
export const RELEASE_HOLDS = "UPDATE deliveries SET held_by = 0 WHERE held_by = $1"
export const REMOVE_NODE = "DELETE FROM nodes WHERE id = $1"
/** Rows of nodes gone for an hour are of no use. */
export const FORGET_NODES = "DELETE FROM nodes WHERE expires_at < now() - interval '1 hour'"

/**
 * Retention's safety net: messages of queues with groups that no group has a
 * delivery row for (left by acks of different groups racing on different
 * connections). Delayed messages and queues without groups keep theirs.
 * One node sweeps at a time ($1: the schema's advisory lock class).
 */
export const SWEEP = `
WITH l AS (SELECT pg_try_advisory_xact_lock($1::int, 1) AS got)
DELETE FROM messages m
WHERE (SELECT got FROM l) AND m.pos IS NOT NULL AND EXISTS (SELECT 1 FROM groups g WHERE g.queue = m.queue)
  AND NOT EXISTS (SELECT 1 FROM groups g JOIN deliveries o ON o.group_id = g.id AND o.pos = m.pos WHERE g.queue = m.queue)
RETURNING m.queue`

export const SIZE = "SELECT coalesce(sum(pg_total_relation_size(c.oid)), 0) AS bytes FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relkind = 'r'"

/** A prepared statement: named once per connection by its text. */
export function prepared(name: string, text: string, values: unknown[]): PgQuery {
  return { name: `zmesh_${name}`, text, values }
}
