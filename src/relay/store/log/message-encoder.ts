/**
 * The MESSAGE record's payload written straight into the batch buffer, as the
 * same MessagePack a generic encoder would produce (decodeOp reads both):
 * the hot path of every send, without an intermediate buffer or a second copy
 * of the body.
 */
import type { MessageOp } from "../store.js"

/** An upper bound of the encoded size. */
export function messageBound(op: MessageOp): number {
  let n = 64 + 3 * (op.queue.length + op.id.length) + op.body.length
  if (op.headers !== null) for (const [k, v] of Object.entries(op.headers)) n += 10 + 3 * (k.length + v.length)
  if (op.producerId) n += 3 * op.producerId.length + 5
  return n
}

/** Writes [1, queue, id, storedAt, due, headers, body, producerId, producerSeq] at `at`; returns the end. */
export function writeMessage(buf: Buffer, at: number, op: MessageOp): number {
  buf[at++] = 0x99 // fixarray of 9
  buf[at++] = 1 // MESSAGE
  at = writeStr(buf, at, op.queue)
  at = writeStr(buf, at, op.id)
  at = writeUint(buf, at, op.storedAt)
  at = writeUint(buf, at, op.due)
  if (op.headers === null) buf[at++] = 0xc0
  else {
    const entries = Object.entries(op.headers)
    at = writeMapHeader(buf, at, entries.length)
    for (const [k, v] of entries) {
      at = writeStr(buf, at, k)
      at = writeStr(buf, at, v)
    }
  }
  at = writeBin(buf, at, op.body)
  if (op.producerId === undefined || op.producerId === null) buf[at++] = 0xc0
  else at = writeStr(buf, at, op.producerId)
  if (op.producerSeq === undefined || op.producerSeq === null) buf[at++] = 0xc0
  else at = writeUint(buf, at, op.producerSeq)
  return at
}

function writeStr(buf: Buffer, at: number, s: string): number {
  const len = Buffer.byteLength(s)
  if (len < 32) buf[at++] = 0xa0 | len
  else if (len < 0x100) {
    buf[at++] = 0xd9
    buf[at++] = len
  } else if (len < 0x10000) {
    buf[at++] = 0xda
    buf.writeUInt16BE(len, at)
    at += 2
  } else {
    buf[at++] = 0xdb
    buf.writeUInt32BE(len, at)
    at += 4
  }
  return at + buf.write(s, at, len, "utf8")
}

function writeBin(buf: Buffer, at: number, data: Uint8Array): number {
  const len = data.length
  if (len < 0x100) {
    buf[at++] = 0xc4
    buf[at++] = len
  } else if (len < 0x10000) {
    buf[at++] = 0xc5
    buf.writeUInt16BE(len, at)
    at += 2
  } else {
    buf[at++] = 0xc6
    buf.writeUInt32BE(len, at)
    at += 4
  }
  buf.set(data, at)
  return at + len
}

/** Non-negative integers; above 2^32 as float64, as msgpackr does (it reads uint64 as BigInt). */
function writeUint(buf: Buffer, at: number, n: number): number {
  if (n < 0x80) buf[at++] = n
  else if (n < 0x100) {
    buf[at++] = 0xcc
    buf[at++] = n
  } else if (n < 0x10000) {
    buf[at++] = 0xcd
    buf.writeUInt16BE(n, at)
    at += 2
  } else if (n <= 0xffffffff) {
    buf[at++] = 0xce
    buf.writeUInt32BE(n, at)
    at += 4
  } else {
    buf[at++] = 0xcb
    buf.writeDoubleBE(n, at)
    at += 8
  }
  return at
}

function writeMapHeader(buf: Buffer, at: number, n: number): number {
  if (n < 16) buf[at++] = 0x80 | n
  else {
    buf[at++] = 0xde
    buf.writeUInt16BE(n, at)
    at += 2
  }
  return at
}
