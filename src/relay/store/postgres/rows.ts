/** Rows of the PostgreSQL store's queries as the RelayStore's types. */
import { ZmeshError } from "../../../errors.js"
import type { GroupSettings, Headers, PendingMessage, StoredMessage } from "../store.js"

/**
 * PostgreSQL text cannot hold NUL, which a message id (any 1-255 characters)
 * may: such an id, or one starting with U+0001, is stored as U+0001 followed
 * by the id with U+0001 doubled and NUL written U+0001 U+0002. Every other id
 * is stored as it is.
 */
export function encodeText(s: string): string {
  if (s.indexOf("\u0000") < 0 && s.charCodeAt(0) !== 1) return s
  return `\u0001${s.replace(/\u0001/g, "\u0001\u0001").replace(/\u0000/g, "\u0001\u0002")}`
}

export function decodeText(s: string): string {
  if (s.charCodeAt(0) !== 1) return s
  return s.slice(1).replace(/\u0001([\u0001\u0002])/g, (_, c: string) => (c === "\u0001" ? "\u0001" : "\u0000"))
}

export function pending(r: Record<string, unknown>, queue: string): PendingMessage {
  return { pos: r.pos as number, deliveries: r.deliveries as number, notBefore: r.not_before as number, message: stored(r, queue) }
}

export function stored(r: Record<string, unknown>, queue: string): StoredMessage {
  return {
    queue,
    seq: r.seq as number,
    id: decodeText(r.id as string),
    body: r.body as Buffer,
    // JSON in a text column: NUL and lone surrogates come back as they went in (jsonb refuses both).
    headers: r.headers === null ? null : (JSON.parse(r.headers as string) as Headers),
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
