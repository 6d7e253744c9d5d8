/**
 * The relay protocol (docs/relay.md): over DEALER (client) to ROUTER (node),
 * every ZMTP message is one frame holding a MessagePack array of commands,
 * each an array whose first element is its opcode. Several commands share a
 * frame whenever several are ready in the same event-loop turn.
 */
import { Packr } from "msgpackr"
import { ZmeshError, type ErrorCode } from "../errors.js"
import { headersBound, writeArrayHeader, writeBin, writeHeaders, writeStr, writeUint } from "./msgpack-write.js"
import type { Headers } from "./store/store.js"

export const PROTOCOL_VERSION = 1

/** Opcodes: requests from clients below 64, messages from the node from 64. */
export const Op = {
  /** [1, rid, version, heartbeat?] -> OK [info] */
  HELLO: 1,
  /**
   * [2, rid, queue, id, body, headers|nil, delay|nil, at|nil, producerId?, producerEpoch?, producerSeq?]
   * -> OK [seq, duplicate] (CONFIRMS when not a duplicate)
   */
  SEND: 2,
  /** [3, rid, queue, id] -> OK [cancelled] */
  CANCEL: 3,
  /** [4, rid, tag, queue, group, prefetch, ackTimeout, maxDeliveries, deadLetterQueue] -> OK [settings] */
  CONSUME: 4,
  /** [5, rid, tag, unseen tokens] -> OK [] */
  STOP: 5,
  /** [6, rid, token] -> OK [] once durable */
  ACK: 6,
  /** [7, rid, token, delay] -> OK [] */
  NACK: 7,
  /** [8, rid, token] -> OK [] */
  EXTEND: 8,
  /** [9] -> PONG: keeps the session alive. */
  PING: 9,
  /** [10]: the client is closing; its consumers stop and their messages go back at once. */
  BYE: 10,
  /** [11, rid, queue, id, body, headers|nil, producerId, producerEpoch, producerSeq] -> OK [seq, duplicate]: a half message. */
  PREPARE: 11,
  /** [12, rid, queue, id, "commit" | "rollback" | "unknown"] -> OK [] once durable: a half message's fate, or a check-back's answer. */
  DECIDE: 12,
  /** [13, rid, producerId] -> OK []: this session answers check-backs for the producer. */
  RESOLVER: 13,
  /** [64, rid, ...result] */
  OK: 64,
  /** [65, rid (0 when none), code, message] */
  ERROR: 65,
  /** [66, tag, token, queue, id, seq, body, headers|nil, deliveryCount, storedAt, producerId|nil, producerSeq|nil] */
  DELIVER: 66,
  /** [67] */
  PONG: 67,
  /** [68]: the node does not know this session (it expired or the node restarted): HELLO and CONSUME again. */
  RESET: 68,
  /** [69, [rid, seq, rid, seq, ...]]: OK for several SENDs at once (duplicate false). */
  CONFIRMS: 69,
  /** [70, [rid, rid, ...]]: OK with no result for several requests at once (acks, extends, nacks, stops). */
  OKS: 70,
  /** [71, queue, id, seq, body, headers|nil, checks]: a check-back; answer with DECIDE. */
  CHECK: 71,
} as const

export type Opcode = (typeof Op)[keyof typeof Op]

/** What the node says about itself in its answer to HELLO. */
export interface NodeInfo {
  readonly version: number
  /** Random per node start: a change means the node restarted and old leases are gone. */
  readonly epoch: string
  readonly maxMessageSize: number
  readonly maxDelay: number
  /** ms of silence after which the node ends a session; clients PING well within it. */
  readonly sessionTimeout: number
}

const packr = new Packr({ useRecords: false, moreTypes: false, mapsAsObjects: true })

/** Encodes a frame of commands; DELIVER commands, the bulk of the node's output, are written by hand. */
export function encodeFrame(commands: readonly unknown[]): Buffer {
  let deliveries = 0
  for (const c of commands) if (isDeliver(c)) deliveries++
  if (deliveries === 0) return packr.pack(commands)
  const packed: Array<Buffer | undefined> = new Array(commands.length)
  let bound = 5
  for (let i = 0; i < commands.length; i++) {
    const c = commands[i]
    if (isDeliver(c)) {
      const producer = (c[10] as string | null | undefined)?.length ?? 0
      bound += 96 + 3 * ((c[3] as string).length + (c[4] as string).length + producer) + (c[6] as Uint8Array).length + headersBound(c[7] as Headers | null)
    } else {
      const b = packr.pack(c)
      packed[i] = b
      bound += b.length
    }
  }
  const out = Buffer.allocUnsafe(bound)
  let at = writeArrayHeader(out, 0, commands.length)
  for (let i = 0; i < commands.length; i++) {
    const b = packed[i]
    if (b !== undefined) {
      out.set(b, at)
      at += b.length
    } else {
      at = writeDeliver(out, at, commands[i] as unknown[])
    }
  }
  return out.subarray(0, at)
}

function isDeliver(c: unknown): c is unknown[] {
  return Array.isArray(c) && c[0] === Op.DELIVER
}

/** [66, tag, token, queue, id, seq, body, headers|nil, deliveryCount, storedAt, producerId|nil, producerSeq|nil] */
function writeDeliver(buf: Buffer, at: number, c: unknown[]): number {
  buf[at++] = 0x9c // fixarray of 12
  buf[at++] = Op.DELIVER
  at = writeUint(buf, at, c[1] as number)
  at = writeUint(buf, at, c[2] as number)
  at = writeStr(buf, at, c[3] as string)
  at = writeStr(buf, at, c[4] as string)
  at = writeUint(buf, at, c[5] as number)
  at = writeBin(buf, at, c[6] as Uint8Array)
  at = writeHeaders(buf, at, c[7] as Headers | null)
  at = writeUint(buf, at, c[8] as number)
  at = writeUint(buf, at, c[9] as number)
  const producerId = c[10] as string | null | undefined
  if (producerId === null || producerId === undefined) buf[at++] = 0xc0
  else at = writeStr(buf, at, producerId)
  const producerSeq = c[11] as number | null | undefined
  if (producerSeq === null || producerSeq === undefined) buf[at++] = 0xc0
  else at = writeUint(buf, at, producerSeq)
  return at
}

/** Decodes a frame into its commands; throws ERR_RELAY_PROTOCOL for anything else. */
export function decodeFrame(frame: Buffer): unknown[][] {
  let value: unknown
  try {
    value = packr.unpack(frame)
  } catch (err) {
    throw new ZmeshError("ERR_RELAY_PROTOCOL", `frame is not MessagePack: ${(err as Error).message}`, { cause: err })
  }
  if (!Array.isArray(value)) throw new ZmeshError("ERR_RELAY_PROTOCOL", "frame is not an array of commands")
  return value as unknown[][]
}

/** Queue and group names: 1-200 characters of A-Z a-z 0-9 . _ - : / */
const NAME = /^[A-Za-z0-9._:/-]{1,200}$/
const knownNames = new Set<string>()

export function isName(value: unknown): value is string {
  if (typeof value !== "string") return false
  if (knownNames.has(value)) return true
  if (!NAME.test(value)) return false
  if (knownNames.size < 10_000) knownNames.add(value)
  return true
}

export const MAX_ID_LENGTH = 255

export function isId(value: unknown): value is string {
  return typeof value === "string" && value.length > 0 && value.length <= MAX_ID_LENGTH
}

/** Headers: an object of string values (or nil); returns their size in bytes, or -1 if malformed. */
export function headersSize(value: unknown): number {
  if (value === null || value === undefined) return 0
  if (typeof value !== "object" || Array.isArray(value) || value instanceof Uint8Array) return -1
  let size = 0
  for (const [k, v] of Object.entries(value)) {
    if (typeof v !== "string") return -1
    size += Buffer.byteLength(k) + Buffer.byteLength(v)
  }
  return size
}

export function isCount(value: unknown, min: number, max: number): value is number {
  return typeof value === "number" && Number.isInteger(value) && value >= min && value <= max
}

/** An error for the client, with the code it will see. */
export function fail(code: ErrorCode, message: string): ZmeshError {
  return new ZmeshError(code, message)
}

/** Limits on consumer settings, checked on both sides. */
export const Limits = {
  prefetch: [1, 100_000],
  ackTimeout: [1, 24 * 3600_000],
  maxDeliveries: [1, 1_000_000],
  nackDelay: [0, 365 * 24 * 3600_000],
} as const
