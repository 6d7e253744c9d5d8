/**
 * A run of MESSAGE ops as multi-row INSERTs: the bodies as one bytea with
 * offsets, the rest as arrays. De-duplication happens here for repeats within
 * the run (the second of two sends with one id, or one producer send number,
 * answers with the first's seq) and in the statement against what is stored.
 */
import type { MessageOp } from "../store.js"
import type { PgClient } from "./connection.js"
import { INSERT_MESSAGES, ORIGINAL, prepared } from "./queries.js"
import type { QueueBook } from "./queue-book.js"
import { encodeText } from "./rows.js"

/** Messages per INSERT statement, and body bytes. */
export const MAX_ROWS = 2000
export const MAX_BYTES = 8 * 1024 * 1024

export interface MessageRun {
  readonly client: PgClient
  readonly book: QueueBook
  /** Results of the whole batch; this run's start at `offset`. */
  readonly results: number[]
  readonly offset: number
  /** Changes to the book, applied once the commit succeeded. */
  readonly effects: Array<() => void>
  /** Queues that got claimable messages. */
  readonly woken: Set<string>
  /** For a batch of this one statement: the NOTIFY to send from within it. */
  readonly notice: (() => [string, string] | undefined) | undefined
}

/** Writes the run; results are seqs, or minus the original's seq for duplicates (RelayStore.commit). */
export async function insertMessages(run: readonly MessageOp[], w: MessageRun): Promise<void> {
  const firstOf = repeats(run)
  const unique: number[] = []
  for (let k = 0; k < run.length; k++) if (firstOf[k]! < 0) unique.push(k)
  for (let start = 0; start < unique.length; ) {
    let end = start
    let bytes = 0
    while (end < unique.length && end - start < MAX_ROWS && (end === start || bytes + run[unique[end]!]!.body.length <= MAX_BYTES)) {
      bytes += run[unique[end++]!]!.body.length
    }
    await insertPart(
      run,
      unique.slice(start, end),
      bytes,
      w,
      end === unique.length && w.notice !== undefined,
    )
    start = end
  }
  for (let k = 0; k < run.length; k++) {
    const first = firstOf[k]!
    if (first < 0) continue
    const r = w.results[w.offset + first]!
    w.results[w.offset + k] = r > 0 ? -r : r
  }
}

/** For each op, the index of an earlier op of the run it repeats (same producer send, or same id in the window), or -1. */
function repeats(run: readonly MessageOp[]): number[] {
  const firstOf = new Array<number>(run.length).fill(-1)
  let byProducer: Map<string, number> | undefined
  let byId: Map<string, number> | undefined
  for (let k = 0; k < run.length; k++) {
    const op = run[k]!
    const pkey = op.producerSeq != null && op.producerId && op.producerEpoch ? `${op.producerId}\n${op.producerEpoch}\n${op.producerSeq}` : undefined
    const ikey = op.dedupWindow ? `${op.queue}\n${op.id}` : undefined
    if (pkey === undefined && ikey === undefined) continue
    const first = (pkey === undefined ? undefined : byProducer?.get(pkey)) ?? (ikey === undefined ? undefined : byId?.get(ikey))
    if (first !== undefined) {
      firstOf[k] = first
      continue
    }
    if (pkey !== undefined) (byProducer ??= new Map()).set(pkey, k)
    if (ikey !== undefined) (byId ??= new Map()).set(ikey, k)
  }
  return firstOf
}

async function insertPart(run: readonly MessageOp[], part: readonly number[], bytes: number, w: MessageRun, notify: boolean): Promise<void> {
  const queues: string[] = []
  const queueIndex = new Map<string, number>()
  const n = part.length
  const qi = new Array<number>(n)
  const ids = new Array<string>(n)
  const offs = new Array<number>(n)
  const lens = new Array<number>(n)
  const headers = new Array<string | null>(n)
  const stored = new Array<number>(n)
  const due = new Array<number>(n)
  const pids = new Array<string | null>(n)
  const peps = new Array<string | null>(n)
  const pseqs = new Array<number | null>(n)
  const wins = new Array<number>(n)
  const halves = new Array<boolean>(n)
  const body = Buffer.allocUnsafe(bytes)
  let at = 0
  for (let j = 0; j < n; j++) {
    const op = run[part[j]!]!
    let q = queueIndex.get(op.queue)
    if (q === undefined) {
      queues.push(op.queue)
      queueIndex.set(op.queue, (q = queues.length))
    }
    qi[j] = q
    ids[j] = encodeText(op.id)
    body.set(op.body, at)
    offs[j] = at
    lens[j] = op.body.length
    at += op.body.length
    headers[j] = op.headers === null ? null : JSON.stringify(op.headers)
    stored[j] = op.storedAt
    due[j] = op.due
    pids[j] = op.producerId ?? null
    peps[j] = op.producerEpoch == null ? null : encodeText(op.producerEpoch)
    pseqs[j] = op.producerSeq ?? null
    wins[j] = op.dedupWindow ?? 0
    halves[j] = op.half === true
  }
  const wake = notify ? w.notice!() : undefined
  const values = [queues, qi, body, ids, offs, lens, headers, stored, due, pids, peps, pseqs, wins, halves, wake?.[0] ?? null, wake?.[1] ?? null]
  const { rows } = await w.client.query(prepared("insert", INSERT_MESSAGES, values))
  const row = rows[0]!
  const seqs = (row.seqs as number[] | null) ?? []
  const ords = (row.ords as number[] | null) ?? []
  const kept: MessageOp[] = []
  for (let k = 0; k < seqs.length; k++) {
    const j = ords[k]! - 1
    w.results[w.offset + part[j]!] = seqs[k]!
    kept.push(run[part[j]!]!)
  }
  for (const [ord, orig] of (row.dups as Array<[number, number | null]> | null) ?? []) {
    const op = run[part[ord - 1]!]!
    // Stored by another node at this very moment: not in the statement's snapshot, in the next one.
    const original = orig ?? ((await w.client.query(prepared("original", ORIGINAL, [op.queue, encodeText(op.id)]))).rows[0]?.seq as number | undefined)
    if (original === undefined) throw new Error(`${op.queue}/${op.id} was refused as a duplicate of a message that cannot be found`)
    w.results[w.offset + part[ord - 1]!] = -original
  }
  const added = row.added as Record<string, number> | null
  w.effects.push(() => {
    for (const op of kept) {
      const q = w.book.queue(op.queue)
      if (op.half === true) q.prepared++
      else if (op.due > 0) q.delayed++
      else q.depth++
    }
    w.book.pendingChanged(added, 1)
  })
}

/** The queues a run makes claimable messages in (before it is written: the NOTIFY goes with it). */
export function wokenBy(run: readonly MessageOp[], woken: Set<string>): void {
  for (const op of run) if (op.due === 0 && op.half !== true) woken.add(op.queue)
}
