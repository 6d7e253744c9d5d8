/**
 * The Clone pattern's key-value message (after the guide's KVMSG, chapter 5):
 * five frames [key, sequence, uuid, properties, body]. The sequence is a
 * 64-bit big-endian number the server assigns; the uuid (16 bytes) names the
 * update's origin; properties are UTF-8 "name=value" lines; an empty body
 * deletes the key.
 */
import { randomUUID } from "node:crypto"
import { type Message, type MessageLike } from "../../src/index.js"
import { ZmeshError } from "../../src/extras.js"

/** One key's state, as the server stores it and clients mirror it. */
export interface CloneEntry {
  readonly key: string
  /** The server's sequence number of the update that set this value. */
  readonly sequence: number
  /** 16 bytes naming the update (the client that sent it picks it). */
  readonly uuid: Buffer
  /** Properties sent with the update; `ttl` (ms) makes the key expire on the server. */
  readonly properties: Readonly<Record<string, string>>
  readonly body: Buffer
}

/** Keys of the protocol's own messages; an update may not use them. */
export const CloneKey = {
  /** Client to server on the snapshot socket: [ICANHAZ?, subtree]. */
  SNAPSHOT_REQUEST: "ICANHAZ?",
  /** Server to client, ends a snapshot: [KTHXBAI, sequence, server uuid, "", subtree]. */
  SNAPSHOT_END: "KTHXBAI",
  /** Server heartbeat on the update socket: [HUGZ, sequence, server uuid, "", ""]. */
  HEARTBEAT: "HUGZ",
} as const

const reserved = new Set<string>(Object.values(CloneKey))

/** @internal */
export function isReservedKey(key: string): boolean {
  return reserved.has(key)
}

/** @internal A fresh 16-byte uuid. */
export function newUuid(): Buffer {
  return Buffer.from(randomUUID().replaceAll("-", ""), "hex")
}

/** @internal */
export function encodeSequence(sequence: number): Buffer {
  const frame = Buffer.allocUnsafe(8)
  frame.writeBigUInt64BE(BigInt(sequence))
  return frame
}

/** @internal Properties as "name=value" lines. */
export function encodeProperties(properties: Readonly<Record<string, string>>): Buffer {
  let text = ""
  for (const [name, value] of Object.entries(properties)) {
    if (name.includes("=") || name.includes("\n") || value.includes("\n")) {
      throw new TypeError(`property ${JSON.stringify(name)} cannot hold "=" in its name or a newline`)
    }
    text += `${name}=${value}\n`
  }
  return Buffer.from(text)
}

/** @internal The frames of an entry. */
export function encodeEntry(entry: CloneEntry): Buffer[] {
  return [Buffer.from(entry.key), encodeSequence(entry.sequence), entry.uuid, encodeProperties(entry.properties), entry.body]
}

/** @internal Parses the five KVMSG frames; throws ERR_PATTERN_PROTOCOL when they are malformed. */
export function decodeEntry(message: Message): CloneEntry {
  if (message.length !== 5) throw malformed(`${message.length} frames, not 5`)
  const [key, sequence, uuid, properties, body] = message as [Buffer, Buffer, Buffer, Buffer, Buffer]
  if (key.length === 0) throw malformed("an empty key")
  if (sequence.length !== 8) throw malformed(`a ${sequence.length}-byte sequence, not 8`)
  if (uuid.length !== 16) throw malformed(`a ${uuid.length}-byte uuid, not 16`)
  const value = sequence.readBigUInt64BE()
  if (value > BigInt(Number.MAX_SAFE_INTEGER)) throw malformed("a sequence beyond 2^53")
  return { key: key.toString(), sequence: Number(value), uuid, properties: decodeProperties(properties), body }
}

function decodeProperties(frame: Buffer): Record<string, string> {
  const properties: Record<string, string> = Object.create(null) as Record<string, string>
  for (const line of frame.toString().split("\n")) {
    const at = line.indexOf("=")
    if (at > 0) properties[line.slice(0, at)] = line.slice(at + 1)
  }
  return properties
}

function malformed(what: string): ZmeshError {
  return new ZmeshError("ERR_PATTERN_PROTOCOL", `malformed key-value message: ${what}`)
}

/** @internal A value as a body frame (null and "" delete). */
export function toBody(value: MessageLike): Buffer {
  if (Buffer.isBuffer(value)) return value
  if (typeof value === "string") return Buffer.from(value)
  if (ArrayBuffer.isView(value)) return Buffer.from(value.buffer, value.byteOffset, value.byteLength)
  if (value instanceof ArrayBuffer || value instanceof SharedArrayBuffer) return Buffer.from(value)
  if (value === null) return Buffer.alloc(0)
  return Buffer.from(String(value))
}
