/**
 * Recovery checkpoints: the whole relay state as of a log position, so that
 * reopening replays only the records after it. A checkpoint file is
 * `ZMRCKPT1 | crc32 u32 | len u32 | MessagePack`, written to a temporary
 * name, fdatasync'd, renamed into place and the directory fsync'd: it is
 * either whole or absent. The two newest are kept.
 */
import { join } from "node:path"
import { Packr } from "msgpackr"
import type { StateSnapshot } from "../relay-state.js"
import { type LogFs, syncDir } from "./log-fs.js"
import { crc32 } from "./record.js"

const MAGIC = Buffer.from("ZMRCKPT1", "latin1")
const HEADER = 16
const packr = new Packr({ useRecords: false, moreTypes: false })

export interface Checkpoint {
  /** The last seq whose record the state includes. */
  readonly lastSeq: number
  /** Where replay starts: the segment (by base seq) and byte offset after that record. */
  readonly segment: number
  readonly offset: number
  readonly created: number
  readonly state: StateSnapshot
  /** Segments holding ids still in the de-duplication window: (base seq, until) pairs; absent in older checkpoints. */
  readonly windows?: number[]
}

const NAME = /^checkpoint-(\d{20})\.ckpt$/

export function checkpointName(lastSeq: number): string {
  return `checkpoint-${String(lastSeq).padStart(20, "0")}.ckpt`
}

/** Checkpoint file names in a folder listing, newest first. */
export function checkpointFiles(names: readonly string[]): string[] {
  return names.filter((n) => NAME.test(n)).sort((a, b) => (a < b ? 1 : a > b ? -1 : 0))
}

export function encodeCheckpoint(checkpoint: Checkpoint): Buffer {
  const body = packr.pack({ v: 1, ...checkpoint })
  const out = Buffer.allocUnsafe(HEADER + body.length)
  MAGIC.copy(out, 0)
  out.writeUInt32BE(crc32(body), 8)
  out.writeUInt32BE(body.length, 12)
  body.copy(out, HEADER)
  return out
}

/** Decodes a checkpoint file; throws with the reason if it is not a whole, valid one. */
export function decodeCheckpoint(data: Buffer): Checkpoint {
  if (data.length < HEADER || !data.subarray(0, 8).equals(MAGIC)) throw new Error("not a checkpoint file")
  const len = data.readUInt32BE(12)
  if (data.length !== HEADER + len) throw new Error(`checkpoint length ${data.length - HEADER}, header says ${len}`)
  const body = data.subarray(HEADER)
  if (crc32(body) !== data.readUInt32BE(8)) throw new Error("checkpoint crc mismatch")
  const value = packr.unpack(body) as Checkpoint & { v: number }
  if (value.v !== 1) throw new Error(`unsupported checkpoint version ${String(value.v)}`)
  return value
}

/** Writes a checkpoint durably into `dir` and returns its file name. */
export async function writeCheckpoint(fsx: LogFs, dir: string, checkpoint: Checkpoint): Promise<string> {
  const name = checkpointName(checkpoint.lastSeq)
  const tmp = join(dir, `${name}.tmp`)
  const fd = await fsx.open(tmp, "w")
  try {
    await fsx.writev(fd, [encodeCheckpoint(checkpoint)], 0)
    await fsx.fdatasync(fd)
  } finally {
    await fsx.close(fd)
  }
  await fsx.rename(tmp, join(dir, name))
  await syncDir(fsx, dir)
  return name
}
