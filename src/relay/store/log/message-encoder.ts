/**
 * The MESSAGE record's payload written straight into the batch buffer, as the
 * same MessagePack a generic encoder would produce (decodeOp reads both):
 * the hot path of every send, without an intermediate buffer or a second copy
 * of the body.
 */
import { headersBound, writeBin, writeHeaders, writeStr, writeUint } from "../../msgpack-write.js"
import type { MessageOp } from "../store.js"

/** An upper bound of the encoded size. */
export function messageBound(op: MessageOp): number {
  let n = 64 + 3 * (op.queue.length + op.id.length) + op.body.length + headersBound(op.headers)
  if (op.producerId) n += 3 * op.producerId.length + 5
  if (op.producerEpoch) n += 3 * op.producerEpoch.length + 5
  return n
}

/** Writes [1 or 7, queue, id, storedAt, due, headers, body, producerId, producerSeq, producerEpoch, dedupWindow] at `at`; returns the end. */
export function writeMessage(buf: Buffer, at: number, op: MessageOp): number {
  buf[at++] = 0x9b // fixarray of 11
  buf[at++] = op.half === true ? 7 : 1 // HALF or MESSAGE
  at = writeStr(buf, at, op.queue)
  at = writeStr(buf, at, op.id)
  at = writeUint(buf, at, op.storedAt)
  at = writeUint(buf, at, op.due)
  at = writeHeaders(buf, at, op.headers)
  at = writeBin(buf, at, op.body)
  if (op.producerId === undefined || op.producerId === null) buf[at++] = 0xc0
  else at = writeStr(buf, at, op.producerId)
  if (op.producerSeq === undefined || op.producerSeq === null) buf[at++] = 0xc0
  else at = writeUint(buf, at, op.producerSeq)
  if (op.producerEpoch === undefined || op.producerEpoch === null) buf[at++] = 0xc0
  else at = writeStr(buf, at, op.producerEpoch)
  return writeUint(buf, at, op.dedupWindow ?? 0)
}
