/**
 * Capabilities as interfaces (zeromq.js v6): a socket type is Readable,
 * Writable or both, and `allow()` gives its prototype exactly those methods.
 */
import { error } from "../errors.js"
import type { MessageLike } from "../message.js"
import type { Message } from "../routing/pipe.js"
import type { Socket } from "./socket-base.js"

/** A socket that sends. `send()` calls complete in call order; `trySend()` sends only if it can now. */
export interface Writable<M = MessageLike | readonly MessageLike[]> {
  /** Sends a message: one part, or an array of parts. Waits while the socket cannot take it. */
  send(message: M): Promise<void>
  /** Sends only if that can be done now; returns false, queueing nothing, otherwise. */
  trySend(message: M): boolean
}

/** A socket that receives, by `receive()` or async iteration (which ends when the socket closes). */
export interface Readable {
  /** The next message, as an array of its parts. */
  receive(): Promise<Message>
  /**
   * The next message if one is waiting now, else undefined: the synchronous
   * fast path beside `receive()`, as `trySend()` is beside `send()`.
   */
  tryReceive(): Message | undefined
  [Symbol.asyncIterator](): AsyncIterator<Message, undefined>
}

/** The protected send and receive of a socket, for `allow()`. */
interface Capability {
  send(socket: Socket, message: MessageLike | readonly MessageLike[]): Promise<void>
  trySend(socket: Socket, message: MessageLike | readonly MessageLike[]): boolean
  receive(socket: Socket): Promise<Message>
  tryReceive(socket: Socket): Message | undefined
  iterate(socket: Socket): AsyncIterator<Message, undefined>
}

let capability: Capability

/** @internal Called once by Socket's static block, which alone can reach the protected methods. */
export function grantCapabilities(granted: Capability): void {
  capability = granted
}

/**
 * Gives a socket type the methods of its capabilities, as zeromq.js's
 * allowMethods does; its interface declares them (`interface Push extends Writable {}`),
 * so `pub.receive()` is a compile error.
 */
export function allow(prototype: Socket, ...capabilities: Array<"read" | "write">): void {
  if (capabilities.includes("write")) {
    Object.defineProperties(prototype, {
      send: method(function (this: Socket, message: MessageLike | readonly MessageLike[]) {
        return capability.send(this, message)
      }),
      trySend: method(function (this: Socket, message: MessageLike | readonly MessageLike[]) {
        return capability.trySend(this, message)
      }),
    })
  }
  if (capabilities.includes("read")) {
    Object.defineProperties(prototype, {
      receive: method(function (this: Socket) {
        return capability.receive(this)
      }),
      tryReceive: method(function (this: Socket) {
        return capability.tryReceive(this)
      }),
      [Symbol.asyncIterator]: method(function (this: Socket) {
        return capability.iterate(this)
      }),
    })
  }
}

/**
 * zeromq.js's sockets all have send() and receive() at run time (its types
 * hide the ones a type cannot use). Plain-JavaScript callers get them here:
 * `send()` without a message throws as there, and a send or receive the
 * type cannot do rejects with ENOTSUP (zeromq.js's would never settle).
 */
export function disallowByDefault(prototype: Socket): void {
  const unsupported = (socket: Socket, what: string) =>
    Promise.reject(error("ENOTSUP", `a ${socket.socketType} socket cannot ${what}`))
  Object.defineProperties(prototype, {
    send: method(function (this: Socket, message?: unknown) {
      if (message === undefined) throw new TypeError("Message must be present")
      return unsupported(this, "send")
    }),
    receive: method(function (this: Socket) {
      return unsupported(this, "receive")
    }),
    [Symbol.asyncIterator]: method(function (this: Socket) {
      return { next: () => unsupported(this, "receive") }
    }),
  })
}

function method(value: (...args: never[]) => unknown): PropertyDescriptor {
  return { value, writable: true, configurable: true, enumerable: false }
}
