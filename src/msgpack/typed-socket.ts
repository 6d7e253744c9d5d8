/**
 * Typed views of sockets: send and receive JavaScript values of one type,
 * one MessagePack frame each, with the socket's capabilities carried over
 * (a typed Publisher has `send` only, a typed Pull `receive` only).
 */
import type { MessageLike } from "../message.js"
import type { Message } from "../routing/pipe.js"
import type { Readable, Writable } from "../sockets/capabilities.js"
import { MsgpackCodec, type MsgpackOptions } from "./codec.js"

/** A typed sender: the value is the last frame; `envelope` frames (a routing id, a topic) go before it. */
export interface TypedWritable<T> {
  send(value: T, envelope?: readonly MessageLike[]): Promise<void>
}

/** A typed receiver: the value is decoded from the last frame of each message. */
export interface TypedReadable<T> {
  /** The next value. Rejects with ERR_DECODE for a frame that is not MessagePack (that message is consumed). */
  receive(): Promise<T>
  /** The next value and the frames before it (a ROUTER's routing id, a topic). */
  receiveWithEnvelope(): Promise<{ envelope: Message; value: T }>
  /** Values until the socket closes. */
  [Symbol.asyncIterator](): AsyncIterator<T, undefined>
}

/** A socket of type `S` carrying values of type `T`; `socket` is the socket itself (bind, connect, close). */
export type TypedSocket<S, T> = { readonly socket: S } & (S extends Writable<never> ? TypedWritable<T> : unknown) &
  (S extends Readable ? TypedReadable<T> : unknown)

/**
 * Wraps a socket so it sends and receives values of type `T` encoded with
 * MessagePack (msgpackr, records on, structured clone off).
 *
 * @example
 * ```ts
 * interface Job { id: number; url: string }
 * const pull = new Pull()
 * const jobs = typed<Job>()(pull)        // or: new MsgpackCodec<Job>().wrap(pull)
 * const job = await jobs.receive()       // job: Job
 * // @ts-expect-error a Pull cannot send
 * jobs.send({ id: 1, url: "" })
 * ```
 */
export function typed<T>(options?: MsgpackOptions): <S extends Readable | Writable<never>>(socket: S) => TypedSocket<S, T> {
  const codec = new MsgpackCodec<T>(options)
  return (socket) => wrap(codec, socket)
}

/** @internal */
export function wrap<S extends Readable | Writable<never>, T>(codec: MsgpackCodec<T>, socket: S): TypedSocket<S, T> {
  const view: Record<string | symbol, unknown> = { socket }
  if ("send" in socket) {
    const writable = socket as unknown as Writable<readonly MessageLike[]>
    view.send = (value: T, envelope: readonly MessageLike[] = []) => {
      let frame: Buffer
      try {
        frame = codec.encode(value)
      } catch (err) {
        return Promise.reject(err)
      }
      return writable.send([...envelope, frame])
    }
  }
  if ("receive" in socket) {
    const readable = socket as Readable
    const next = async () => {
      const message = await readable.receive()
      const last = message.pop()
      return { envelope: message, value: codec.decode(last!) }
    }
    view.receive = async () => (await next()).value
    view.receiveWithEnvelope = next
    view[Symbol.asyncIterator] = () => {
      const messages = readable[Symbol.asyncIterator]()
      return {
        next: async (): Promise<IteratorResult<T, undefined>> => {
          const result = await messages.next()
          if (result.done === true) return { value: undefined, done: true }
          return { value: codec.decode(result.value.at(-1)!), done: false }
        },
      }
    }
  }
  return view as TypedSocket<S, T>
}
