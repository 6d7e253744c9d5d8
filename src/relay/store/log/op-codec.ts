/**
 * Record payloads: each operation as a MessagePack array whose first element
 * is its kind. Fields are only ever appended, so older fields keep their
 * places; a reader refuses a kind it does not know (a newer log) rather than
 * skip it. A half message is a MESSAGE under its own kind (7), so that an
 * older reader refuses it rather than deliver it. Kinds 11-15 are reserved.
 */
import { Packr } from "msgpackr"
import type { Headers, MessageOp, StoreOp, StoredMessage } from "../store.js"

export const RecordKind = {
  MESSAGE: 1,
  GROUP: 2,
  ACK: 3,
  RETRY: 4,
  RELEASE: 5,
  CANCEL: 6,
  HALF: 7,
  COMMIT: 8,
  ROLLBACK: 9,
  CHECK: 10,
} as const

const packr = new Packr({ useRecords: false, moreTypes: false })

export function encodeOp(op: StoreOp): Buffer {
  switch (op.type) {
    case "message":
      // [1 or 7, queue, id, storedAt, due, headers, body, producerId, producerSeq, producerEpoch, dedupWindow]
      return packr.pack([
        op.half === true ? RecordKind.HALF : RecordKind.MESSAGE,
        op.queue,
        op.id,
        op.storedAt,
        op.due,
        op.headers,
        op.body,
        op.producerId ?? null,
        op.producerSeq ?? null,
        op.producerEpoch ?? null,
        op.dedupWindow ?? 0,
      ])
    case "group": {
      const s = op.settings
      return packr.pack([RecordKind.GROUP, op.queue, op.group, s.ackTimeout, s.maxDeliveries, s.deadLetterQueue])
    }
    case "ack":
      return packr.pack([RecordKind.ACK, op.queue, op.group, op.positions])
    case "retry":
      return packr.pack([RecordKind.RETRY, op.queue, op.group, op.pos, op.deliveries, op.notBefore])
    case "release":
      return packr.pack([RecordKind.RELEASE, op.queue, op.seq])
    case "cancel":
      return packr.pack([RecordKind.CANCEL, op.queue, op.id])
    case "commit":
      return packr.pack([RecordKind.COMMIT, op.queue, op.id, op.at, op.dedupWindow ?? 0])
    case "rollback":
      return packr.pack([RecordKind.ROLLBACK, op.queue, op.id, op.at, op.reason, op.dedupWindow ?? 0])
    case "check":
      return packr.pack([RecordKind.CHECK, op.queue, op.seq, op.checks, op.next])
  }
}

/** Decodes a payload back into its operation; throws on a payload that is not one. */
export function decodeOp(payload: Buffer): StoreOp {
  const r = packr.unpack(payload) as unknown[]
  if (!Array.isArray(r)) throw new Error("record payload is not an array")
  switch (r[0]) {
    case RecordKind.MESSAGE:
    case RecordKind.HALF:
      return {
        type: "message",
        queue: str(r[1]),
        id: str(r[2]),
        storedAt: num(r[3]),
        due: num(r[4]),
        headers: (r[5] ?? null) as Headers | null,
        body: bin(r[6]),
        producerId: (r[7] ?? null) as string | null,
        producerSeq: (r[8] ?? null) as number | null,
        producerEpoch: (r[9] ?? null) as string | null,
        dedupWindow: (r[10] ?? 0) as number,
        half: r[0] === RecordKind.HALF,
      }
    case RecordKind.GROUP:
      return {
        type: "group",
        queue: str(r[1]),
        group: str(r[2]),
        settings: { ackTimeout: num(r[3]), maxDeliveries: num(r[4]), deadLetterQueue: str(r[5]) },
      }
    case RecordKind.ACK:
      if (!Array.isArray(r[3])) throw new Error("ack positions are not an array")
      return { type: "ack", queue: str(r[1]), group: str(r[2]), positions: (r[3] as unknown[]).map(num) }
    case RecordKind.RETRY:
      return { type: "retry", queue: str(r[1]), group: str(r[2]), pos: num(r[3]), deliveries: num(r[4]), notBefore: num(r[5]) }
    case RecordKind.RELEASE:
      return { type: "release", queue: str(r[1]), seq: num(r[2]) }
    case RecordKind.CANCEL:
      return { type: "cancel", queue: str(r[1]), id: str(r[2]) }
    case RecordKind.COMMIT:
      return { type: "commit", queue: str(r[1]), id: str(r[2]), at: num(r[3]), dedupWindow: num(r[4]) }
    case RecordKind.ROLLBACK:
      return { type: "rollback", queue: str(r[1]), id: str(r[2]), at: num(r[3]), reason: str(r[4]), dedupWindow: num(r[5]) }
    case RecordKind.CHECK:
      return { type: "check", queue: str(r[1]), seq: num(r[2]), checks: num(r[3]), next: num(r[4]) }
    default:
      throw new Error(`unknown record kind ${String(r[0])} (a log written by a newer version?)`)
  }
}

/** Decodes a MESSAGE payload read back for delivery; the body is copied out of the read buffer. */
export function decodeMessage(payload: Buffer, seq: number): StoredMessage {
  const op = decodeOp(payload)
  if (op.type !== "message") throw new Error(`record ${seq} is a ${op.type}, not a message`)
  return storedMessage(op, seq, op.due)
}

/** A message op as stored under `seq`, with a copy of its body (the op's may be a view into a frame or a read buffer). */
export function storedMessage(op: MessageOp, seq: number, due: number): StoredMessage {
  return {
    queue: op.queue,
    seq,
    id: op.id,
    body: Buffer.from(op.body),
    headers: op.headers,
    storedAt: op.storedAt,
    due,
    producerId: op.producerId ?? null,
    producerSeq: op.producerSeq ?? null,
  }
}

function str(v: unknown): string {
  if (typeof v !== "string") throw new Error("expected a string field")
  return v
}

function num(v: unknown): number {
  if (typeof v !== "number") throw new Error("expected a number field")
  return v
}

function bin(v: unknown): Uint8Array {
  if (!(v instanceof Uint8Array)) throw new Error("expected a binary field")
  return v
}
