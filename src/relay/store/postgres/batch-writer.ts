/**
 * Writes one group commit as one PostgreSQL transaction: consecutive
 * operations of a kind become one statement (multi-row, through arrays), in
 * order, and the other nodes are woken (NOTIFY, delivered at the commit).
 * A batch of sends alone is a single statement, one round trip. The store's
 * picture of its queues changes only once the commit succeeded.
 */
import { type AckOp, type CancelOp, type CheckOp, type CommitOp, Decided, type GroupOp, type MessageOp, type ReleaseOp, type RetryOp, type RollbackOp, type StoreOp } from "../store.js"
import type { Connection, PgClient } from "./connection.js"
import { storeError } from "./connection.js"
import { MAX_BYTES, MAX_ROWS, insertMessages, wokenBy } from "./message-writer.js"
import { ACK, CANCEL, CHECK, CREATE_GROUP, DECIDE, LOCK_FOR_GROUP, NOTIFY, POSITIONS, RELEASE, RETRY, prepared } from "./queries.js"
import type { QueueBook } from "./queue-book.js"
import { encodeText } from "./rows.js"

export interface BatchContext {
  readonly book: QueueBook
  /** A row of group `gid` below its claim frontier may be claimed again from `at` (a retry gave it back). */
  lookBack(gid: number, at: number): void
  readonly nodeId: number
  /** The NOTIFY channel, when other nodes are listening; undefined when this node is alone. */
  readonly channel: string | undefined
}

/** A NOTIFY payload must stay under 8000 bytes; past this, "everything". */
const MAX_PAYLOAD = 7000

type Effect = () => void

/** A 31-bit FNV-1a hash (the schema's advisory lock class). */
export function lockHash(s: string): number {
  let h = 0x811c9dc5
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i)
    h = Math.imul(h, 0x01000193)
  }
  return h & 0x7fffffff
}

export async function writeBatch(conn: Connection, ops: readonly StoreOp[], ctx: BatchContext): Promise<number[]> {
  let client: PgClient
  try {
    client = await conn.get()
  } catch (err) {
    throw storeError(err, "connect to commit")
  }
  const results = new Array<number>(ops.length).fill(0)
  const effects: Effect[] = []
  const woken = new Set<string>()
  // The hot paths: sends alone are one statement (its own transaction), NOTIFY included; acks alone too.
  const single = ops.every((op) => op.type === "message") && fitsOneStatement(ops as MessageOp[])
  const acksOnly = !single && ops.every((op) => op.type === "ack")
  let step = single ? "message" : acksOnly ? "ack" : "begin"
  try {
    if (acksOnly) await ack(client, ops as AckOp[], new Map(), effects, ctx)
    else if (single) {
      wokenBy(ops as MessageOp[], woken)
      const wake = () => {
        const payload = notice(woken, ctx)
        return payload === undefined ? undefined : ([ctx.channel!, payload] as [string, string])
      }
      await insertMessages(ops as MessageOp[], { client, book: ctx.book, results, offset: 0, effects, woken, notice: wake })
    } else {
      await client.query(ops.some((op) => op.type === "group") ? `BEGIN; ${LOCK_FOR_GROUP}` : "BEGIN")
      const ids = new Map<string, number>()
      for (let i = 0; i < ops.length; ) {
        const type = ops[i]!.type
        let j = i + 1
        while (j < ops.length && ops[j]!.type === type) j++
        step = type
        const run = ops.slice(i, j)
        switch (type) {
          case "message":
            wokenBy(run as MessageOp[], woken)
            await insertMessages(run as MessageOp[], { client, book: ctx.book, results, offset: i, effects, woken, notice: undefined })
            break
          case "group":
            for (const op of run as GroupOp[]) await createGroup(client, op, ids, effects, woken, ctx)
            break
          case "ack":
            await ack(client, run as AckOp[], ids, effects, ctx)
            break
          case "retry":
            await retry(client, run as RetryOp[], ids, effects, woken, ctx)
            break
          case "release":
            await release(client, run as ReleaseOp[], i, results, effects, woken, ctx)
            break
          case "cancel":
            await cancel(client, run as CancelOp[], i, results, effects, ctx)
            break
          case "commit":
          case "rollback":
            for (let k = 0; k < run.length; k++) await decide(client, run[k] as CommitOp | RollbackOp, i + k, results, effects, woken, ctx)
            break
          case "check":
            for (const op of run as CheckOp[]) await client.query(prepared("check", CHECK, [op.seq, op.checks, op.next]))
            break
        }
        i = j
      }
      step = "commit"
      const payload = notice(woken, ctx)
      if (payload !== undefined) await client.query(prepared("notify", NOTIFY, [ctx.channel, payload]))
      await client.query("COMMIT")
    }
  } catch (err) {
    // The transaction is void; a connection that broke under it is replaced.
    if (!single && !acksOnly) await client.query("ROLLBACK").catch(() => conn.drop())
    throw storeError(err, `commit (${step})`)
  }
  for (const effect of effects) effect()
  return results
}

function fitsOneStatement(ops: readonly MessageOp[]): boolean {
  if (ops.length > MAX_ROWS) return false
  let bytes = 0
  for (const op of ops) bytes += op.body.length
  return ops.length === 1 || bytes <= MAX_BYTES
}

/** The NOTIFY payload for the queues that got claimable messages, when other nodes listen. */
function notice(woken: ReadonlySet<string>, ctx: BatchContext): string | undefined {
  if (ctx.channel === undefined || woken.size === 0) return undefined
  const payload = `${ctx.nodeId} ${[...woken].join(" ")}`
  return payload.length > MAX_PAYLOAD ? `${ctx.nodeId} *` : payload
}

async function createGroup(client: PgClient, op: GroupOp, ids: Map<string, number>, effects: Effect[], woken: Set<string>, ctx: BatchContext): Promise<void> {
  const s = op.settings
  const { rows } = await client.query(prepared("group", CREATE_GROUP, [op.queue, op.group, s.ackTimeout, s.maxDeliveries, s.deadLetterQueue]))
  const row = rows[0]!
  const created = row.created as number | null
  const id = created ?? (row.id as number)
  ids.set(`${op.queue}\u0000${op.group}`, id)
  woken.add(op.queue)
  // An existing group keeps the settings it was created with.
  const settings = created !== null ? s : { ackTimeout: row.ack_timeout as number, maxDeliveries: row.max_deliveries as number, deadLetterQueue: row.dead_letter_queue as string }
  const pending = created !== null ? Number(row.n) : 0
  effects.push(() => ctx.book.addGroup(op.queue, id, op.group, settings, pending))
}

/** A group's id: known to the book, created earlier in this batch, or looked up (made by another node). */
async function groupId(client: PgClient, queue: string, group: string, ids: Map<string, number>, ctx: BatchContext): Promise<number | undefined> {
  const key = `${queue}\u0000${group}`
  const known = ctx.book.groupId(queue, group) ?? ids.get(key)
  if (known !== undefined) return known
  const { rows } = await client.query(prepared("group_id", "SELECT id FROM groups WHERE queue = $1 AND name = $2", [queue, group]))
  const id = rows[0]?.id as number | undefined
  if (id !== undefined) ids.set(key, id)
  return id
}

async function ack(client: PgClient, run: AckOp[], ids: Map<string, number>, effects: Effect[], ctx: BatchContext): Promise<void> {
  const gids: number[] = []
  const positions: number[] = []
  for (const op of run) {
    const gid = await groupId(client, op.queue, op.group, ids, ctx)
    if (gid === undefined) continue
    for (const pos of op.positions) {
      gids.push(gid)
      positions.push(pos)
    }
  }
  if (gids.length === 0) return
  const { rows } = await client.query(prepared("ack", ACK, [gids, positions]))
  const removed = rows[0]!.removed as Record<string, number> | null
  const dropped = rows[0]!.dropped as Record<string, number> | null
  effects.push(() => {
    ctx.book.pendingChanged(removed, -1)
    ctx.book.dropped(dropped)
  })
}

async function retry(client: PgClient, run: RetryOp[], ids: Map<string, number>, effects: Effect[], woken: Set<string>, ctx: BatchContext): Promise<void> {
  // The last retry of a position in the batch wins, as it would applied one by one.
  const last = new Map<string, [number, number, number, number]>()
  for (const op of run) {
    const gid = await groupId(client, op.queue, op.group, ids, ctx)
    if (gid === undefined) continue
    last.set(`${gid}:${op.pos}`, [gid, op.pos, op.deliveries, op.notBefore])
    woken.add(op.queue)
  }
  if (last.size === 0) return
  const rows = [...last.values()]
  effects.push(() => {
    for (const r of rows) ctx.lookBack(r[0], r[3])
  })
  await client.query(prepared("retry", RETRY, [rows.map((r) => r[0]), rows.map((r) => r[1]), rows.map((r) => r[2]), rows.map((r) => r[3]), ctx.nodeId]))
}

async function release(client: PgClient, run: ReleaseOp[], offset: number, results: number[], effects: Effect[], woken: Set<string>, ctx: BatchContext): Promise<void> {
  const { rows: fresh } = await client.query(prepared("positions", POSITIONS, [run.length]))
  const positions = fresh.map((r) => r.pos as number)
  const { rows } = await client.query(prepared("release", RELEASE, [run.map((op) => op.seq), positions]))
  const released = (rows[0]!.released as Array<[number, number, string]> | null) ?? []
  const added = rows[0]!.added as Record<string, number> | null
  const bySeq = new Map<number, [number, string]>()
  for (const [seq, pos, queue] of released) bySeq.set(Number(seq), [Number(pos), queue])
  run.forEach((op, k) => {
    const hit = bySeq.get(op.seq)
    if (hit === undefined) return
    bySeq.delete(op.seq)
    results[offset + k] = hit[0]
    woken.add(hit[1])
  })
  effects.push(() => {
    for (const [, , queue] of released) {
      const q = ctx.book.queue(queue)
      q.delayed = Math.max(0, q.delayed - 1)
      q.depth++
    }
    ctx.book.pendingChanged(added, 1)
  })
}

async function cancel(client: PgClient, run: CancelOp[], offset: number, results: number[], effects: Effect[], ctx: BatchContext): Promise<void> {
  for (let k = 0; k < run.length; k++) {
    const op = run[k]!
    const { rows } = await client.query(prepared("cancel", CANCEL, [op.queue, encodeText(op.id)]))
    const seq = rows[0]?.seq as number | undefined
    if (seq === undefined) continue
    results[offset + k] = seq
    effects.push(() => {
      const q = ctx.book.queue(op.queue)
      q.delayed = Math.max(0, q.delayed - 1)
    })
  }
}

/** A half message's commit or rollback (results as RelayStore.commit says). */
async function decide(client: PgClient, op: CommitOp | RollbackOp, index: number, results: number[], effects: Effect[], woken: Set<string>, ctx: BatchContext): Promise<void> {
  const decision = op.type === "commit" ? 1 : 2
  const { rows } = await client.query(prepared("decide", DECIDE, [op.queue, encodeText(op.id), decision, op.at, op.dedupWindow ?? 0]))
  const row = rows[0]!
  const pos = row.pos as number | null
  const dropped = row.dropped as number | null
  if (pos !== null || dropped !== null) {
    results[index] = pos ?? dropped!
    if (pos !== null) woken.add(op.queue)
    const added = row.added as Record<string, number> | null
    effects.push(() => {
      const q = ctx.book.queue(op.queue)
      q.prepared = Math.max(0, q.prepared - 1)
      if (pos !== null) q.depth++
      ctx.book.pendingChanged(added, 1)
    })
    return
  }
  const known = row.known as number | null
  results[index] = known === 1 ? Decided.committed : known === 2 ? Decided.rolledBack : 0
}
