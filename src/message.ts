/** What `send()` accepts, and its conversion to frames. */
import { ZmeshError } from "./errors.js"
import type { Message } from "./routing/pipe.js"

/** One message part as zeromq.js accepts it. */
export type MessageLike = ArrayBufferView | ArrayBuffer | SharedArrayBuffer | string | number | null

/**
 * Converts a part to a Buffer without copying binary data: a Buffer or typed
 * array is sent by reference, so do not change it until `send()` resolves
 * and the message has left (as with zeromq.js).
 */
export function toFrame(part: MessageLike): Buffer {
  if (Buffer.isBuffer(part)) return part
  if (typeof part === "string") return Buffer.from(part, "utf8")
  if (ArrayBuffer.isView(part)) return Buffer.from(part.buffer, part.byteOffset, part.byteLength)
  if (part instanceof ArrayBuffer || part instanceof SharedArrayBuffer) return Buffer.from(part)
  if (part === null) return EMPTY
  // As zeromq.js: anything else (numbers, booleans, objects, functions) is sent as its string form.
  return Buffer.from(String(part), "utf8")
}

export function toMessage(message: MessageLike | readonly MessageLike[]): Message {
  if (message === undefined) throw new TypeError("Message must be present")
  if (Array.isArray(message)) {
    if (message.length === 0) throw new ZmeshError("EINVAL", "cannot send a message with no parts")
    const frames: Buffer[] = new Array(message.length)
    for (let i = 0; i < message.length; i++) frames[i] = toFrame(message[i] as MessageLike)
    return frames
  }
  return [toFrame(message as MessageLike)]
}

const EMPTY = Buffer.alloc(0)
