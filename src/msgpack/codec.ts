/**
 * MessagePack encoding with msgpackr, for typed messages: one JavaScript
 * value per frame. Records are on (objects of one shape encode their keys
 * once per message) and structured clone is off (no cycles or shared
 * references, so any MessagePack decoder can read what this one writes).
 */
import { Packr, type Options } from "msgpackr"
import { ZmeshError } from "../errors.js"
import type { Readable, Writable } from "../sockets/capabilities.js"
import { wrap, type TypedSocket } from "./typed-socket.js"

/** msgpackr's options. Leave `structures` unset unless both ends share them: every message then carries its own record definitions. */
export type MsgpackOptions = Options

/** The options zmesh sets unless you do. */
export const msgpackDefaults = { useRecords: true, structuredClone: false } as const satisfies MsgpackOptions

/**
 * Encodes values of type `T` to frames and decodes frames back. `T` is a
 * promise about what peers send, not a check: validate input from peers you
 * do not trust.
 *
 * @example
 * ```ts
 * interface Job { id: number; urls: string[] }
 * const jobs = new MsgpackCodec<Job>()
 * const frame = jobs.encode({ id: 1, urls: ["https://example.com"] })
 * const job: Job = jobs.decode(frame)
 * ```
 */
export class MsgpackCodec<T = unknown> {
  private readonly packr: Packr

  constructor(options: MsgpackOptions = {}) {
    this.packr = new Packr({ ...msgpackDefaults, ...options })
  }

  /** One value as one frame. Throws EINVAL for a value MessagePack cannot hold (a BigInt beyond 64 bits, a cycle with structured clone off). */
  encode(value: T): Buffer {
    try {
      return this.packr.pack(value)
    } catch (cause) {
      throw new ZmeshError("EINVAL", `cannot encode the value as MessagePack: ${(cause as Error).message}`, { cause })
    }
  }

  /** The value in one frame. Throws ERR_DECODE when the frame is not exactly one MessagePack value. */
  decode(frame: Buffer): T {
    if (frame.length === 0) throw new ZmeshError("ERR_DECODE", "cannot decode an empty frame as MessagePack")
    try {
      return this.packr.unpack(frame) as T
    } catch (cause) {
      throw new ZmeshError("ERR_DECODE", `a ${frame.length}-byte frame is not valid MessagePack: ${(cause as Error).message}`, { cause })
    }
  }

  /** A typed view of `socket` that sends and receives values of type `T` with this codec. */
  wrap<S extends Readable | Writable<never>>(socket: S): TypedSocket<S, T> {
    return wrap(this, socket)
  }
}
