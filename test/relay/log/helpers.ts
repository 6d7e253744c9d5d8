/** Helpers for the log store's unit tests. */
import { readdirSync, statSync } from "node:fs"
import { join } from "node:path"
import { LogStore, type LogStoreOptions } from "../../../src/relay/store/log/log-store.js"
import type { MessageOp, StoreOp } from "../../../src/relay/store/store.js"

export function message(queue: string, i: number, extra: Partial<MessageOp> = {}): MessageOp {
  return { type: "message", queue, id: `m${i}`, body: Buffer.from(`body-${i}-${"x".repeat(60)}`), headers: null, storedAt: 1, due: 0, ...extra }
}

export const group = (queue: string, name = "g"): StoreOp => ({
  type: "group",
  queue,
  group: name,
  settings: { ackTimeout: 1000, maxDeliveries: 5, deadLetterQueue: `${queue}.dlq` },
})

export async function open(dir: string, options: Partial<LogStoreOptions> = {}): Promise<{ store: LogStore; recovery: Awaited<ReturnType<LogStore["open"]>> }> {
  const store = new LogStore({ dir, ...options })
  const recovery = await store.open()
  return { store, recovery }
}

/** Commits messages m<from>..m<to-1> to `queue`, `batch` per commit; returns their seqs. */
export async function fill(store: LogStore, queue: string, from: number, to: number, batch = 10): Promise<number[]> {
  const seqs: number[] = []
  for (let i = from; i < to; i += batch) {
    const ops = []
    for (let k = i; k < Math.min(to, i + batch); k++) ops.push(message(queue, k))
    seqs.push(...(await store.commit(ops)))
  }
  return seqs
}

/** The ids a group has not acknowledged, in order (corrupt ones as "!corrupt"). */
export async function pendingIds(store: LogStore, queue: string, name = "g"): Promise<string[]> {
  const out: string[] = []
  let after = 0
  for (;;) {
    const batch = await store.fetch(queue, name, after, 1000)
    if (batch.length === 0) return out
    for (const p of batch) out.push(p.message?.id ?? "!corrupt")
    after = batch[batch.length - 1]!.pos
  }
}

export function segmentFiles(dir: string): string[] {
  return readdirSync(join(dir, "log")).filter((n) => n.endsWith(".seg")).sort()
}

export function segmentPath(dir: string, name: string): string {
  return join(dir, "log", name)
}

export function sizeOf(path: string): number {
  return statSync(path).size
}

export function checkpointFiles(dir: string): string[] {
  return readdirSync(dir).filter((n) => n.endsWith(".ckpt")).sort()
}
