/** Rows of the PostgreSQL store's queries as the RelayStore's types. */
import { ZmeshError } from "../../../errors.js"
import type { GroupSettings, Headers, PendingMessage, StoredMessage } from "../store.js"

export function pending(r: Record<string, unknown>, queue: string): PendingMessage {
  return { pos: r.pos as number, deliveries: r.deliveries as number, notBefore: r.not_before as number, message: stored(r, queue) }
}

export function stored(r: Record<string, unknown>, queue: string): StoredMessage {
  return {
    queue,
    seq: r.seq as number,
    id: r.id as string,
    body: r.body as Buffer,
    headers: (r.headers as Headers | null) ?? null,
    storedAt: r.stored_at as number,
    due: r.due as number,
    producerId: (r.producer_id as string | null) ?? null,
    producerSeq: (r.producer_seq as number | null) ?? null,
  }
}

export function settingsOf(g: Record<string, unknown>): GroupSettings {
  return { ackTimeout: g.ack_timeout as number, maxDeliveries: g.max_deliveries as number, deadLetterQueue: g.dead_letter_queue as string }
}

export function nodeInfo(): string {
  return `pid ${process.pid}`
}

export function positive(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback
  if (typeof value !== "number" || !Number.isInteger(value) || value <= 0) throw new ZmeshError("EINVAL", `PostgresStore: ${name} must be a positive integer, not ${String(value)}`)
  return value
}
