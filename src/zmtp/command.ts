/** ZMTP commands (RFC 23/37): `name_len(1) name data` inside a COMMAND frame. */
import { ZmeshError } from "../errors.js"
import { FLAG_COMMAND, FLAG_LONG, SHORT_FRAME_MAX } from "./frame.js"
import { encodeMetadata } from "./metadata.js"

export interface Command {
  readonly name: string
  readonly data: Buffer
}

/** Splits a command frame's body into name and data. */
export function parseCommand(body: Buffer): Command {
  const nameLen = body[0]
  if (nameLen === undefined || nameLen === 0 || 1 + nameLen > body.length) {
    throw new ZmeshError("ERR_ZMTP_PROTOCOL", "malformed command frame: bad name length")
  }
  return { name: body.toString("latin1", 1, 1 + nameLen), data: body.subarray(1 + nameLen) }
}

/** A whole command frame (header included), short or long as its size needs. */
export function encodeCommand(name: string, data: Buffer = EMPTY): Buffer {
  const bodySize = 1 + name.length + data.length
  const long = bodySize > SHORT_FRAME_MAX
  const header = long ? 9 : 2
  const frame = Buffer.allocUnsafe(header + bodySize)
  if (long) {
    frame[0] = FLAG_COMMAND | FLAG_LONG
    frame.writeUInt32BE(Math.floor(bodySize / 0x100000000), 1)
    frame.writeUInt32BE(bodySize >>> 0, 5)
  } else {
    frame[0] = FLAG_COMMAND
    frame[1] = bodySize
  }
  frame[header] = name.length
  frame.write(name, header + 1, "latin1")
  data.copy(frame, header + 1 + name.length)
  return frame
}

export function encodeReady(props: Iterable<readonly [string, Buffer | string]>): Buffer {
  return encodeCommand("READY", encodeMetadata(props))
}

/** ERROR: `reason_len(1) reason`; reasons longer than 255 bytes are cut. */
export function encodeError(reason: string): Buffer {
  const text = Buffer.from(reason, "latin1").subarray(0, 255)
  const data = Buffer.allocUnsafe(1 + text.length)
  data[0] = text.length
  text.copy(data, 1)
  return encodeCommand("ERROR", data)
}

/**
 * ERROR as libzmq 4.3.5's PLAIN mechanism writes and expects it: its
 * "\x05ERROR" literal is parsed by C as "\x5E" + "RROR", so the body is
 * `5e "RROR" reason_len reason`. A libzmq PLAIN client only reads a refusal
 * (and its ZAP status) in this form; any other it reports as a protocol error.
 */
export function encodePlainError(reason: string): Buffer {
  const text = Buffer.from(reason, "latin1").subarray(0, 255)
  const body = Buffer.allocUnsafe(6 + text.length)
  body[0] = 0x5e
  body.write("RROR", 1, "latin1")
  body[5] = text.length
  text.copy(body, 6)
  return Buffer.concat([Buffer.of(FLAG_COMMAND, body.length), body])
}

export function parseErrorReason(data: Buffer): string {
  const len = data[0] ?? 0
  return data.toString("latin1", 1, Math.min(1 + len, data.length))
}

/** Context bytes a PONG may echo: 37/ZMTP allows at most 16. */
export const PING_CONTEXT_MAX = 16

/** PING: `ttl(2, deciseconds) context(0-16)`. */
export function encodePing(ttlDeciseconds: number, context: Buffer = EMPTY): Buffer {
  const data = Buffer.allocUnsafe(2 + Math.min(context.length, PING_CONTEXT_MAX))
  data.writeUInt16BE(Math.max(0, Math.min(0xffff, ttlDeciseconds)), 0)
  context.copy(data, 2, 0, PING_CONTEXT_MAX)
  return encodeCommand("PING", data)
}

export interface Ping {
  /** Time to live announced by the peer, in milliseconds (0: none). */
  readonly ttl: number
  readonly context: Buffer
}

export function parsePing(data: Buffer): Ping {
  if (data.length < 2) throw new ZmeshError("ERR_ZMTP_PROTOCOL", "malformed PING: shorter than its 2-byte TTL")
  return { ttl: data.readUInt16BE(0) * 100, context: data.subarray(2, 2 + PING_CONTEXT_MAX) }
}

export function encodePong(context: Buffer): Buffer {
  return encodeCommand("PONG", context.subarray(0, PING_CONTEXT_MAX))
}

const EMPTY = Buffer.alloc(0)

/** SUBSCRIBE (37/ZMTP): the topic is the whole data; LONG framing past 255 bytes. */
export function encodeSubscribe(topic: Buffer): Buffer {
  return encodeCommand("SUBSCRIBE", topic)
}

/** CANCEL (37/ZMTP). */
export function encodeCancel(topic: Buffer): Buffer {
  return encodeCommand("CANCEL", topic)
}

/** The ZMTP 3.0 form of a subscription: a data frame `\x01topic` or `\x00topic`. */
export function subscriptionFrame(subscribe: boolean, topic: Buffer): Buffer {
  const frame = Buffer.allocUnsafe(1 + topic.length)
  frame[0] = subscribe ? 1 : 0
  topic.copy(frame, 1)
  return frame
}
