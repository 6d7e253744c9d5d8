/** The request handler every pattern worker runs, and what it may return. */
import type { Message, MessageLike } from "../src/index.js"

/** A reply: one part, or an array of parts. */
export type Reply = MessageLike | readonly MessageLike[]

/**
 * Serves one request (its body frames, envelope removed) and returns the
 * reply, or a promise of it. A handler that throws or rejects sends no reply:
 * the worker reports the error in its `error` event and the request is
 * retried elsewhere (by the queue, the broker, or the client's retry).
 */
export type RequestHandler = (request: Message) => Reply | Promise<Reply>

/** @internal A reply as an array of parts. */
export function replyFrames(reply: Reply): MessageLike[] {
  return Array.isArray(reply) ? [...(reply as readonly MessageLike[])] : [reply as MessageLike]
}
