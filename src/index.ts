/**
 * zmesh: ZeroMQ's socket patterns in pure TypeScript, ZMTP 3.1 on the wire,
 * with zeromq.js v6's API.
 *
 * @example
 * ```ts
 * import { Push, Pull } from "zmesh"
 * const pull = new Pull(); await pull.bind("tcp://127.0.0.1:*")
 * const push = new Push(); push.connect(pull.lastEndpoint!)
 * await push.send("hello")
 * const [msg] = await pull.receive()
 * ```
 */
import "./sockets/socket-types.js"
export { Socket } from "./sockets/socket-base.js"
export { Push } from "./sockets/push.js"
export { Pull } from "./sockets/pull.js"
export { Pair } from "./sockets/pair.js"
export { Request, type RequestOptionValues } from "./sockets/req.js"
export { Reply } from "./sockets/rep.js"
export { Dealer, type DealerOptionValues } from "./sockets/dealer.js"
export { Router, type RouterOptionValues, type RouterConnectOptions } from "./sockets/router.js"
export { Publisher, type PublisherOptionValues } from "./sockets/pub.js"
export { Subscriber } from "./sockets/sub.js"
export { XPublisher, type XPublisherOptionValues } from "./sockets/xpub.js"
export { XSubscriber } from "./sockets/xsub.js"
export { Stream, type StreamOptionValues, type StreamConnectOptions } from "./sockets/stream.js"
export { Proxy } from "./sockets/proxy.js"
export type { Readable, Writable } from "./sockets/capabilities.js"
export { curveKeyPair } from "./keys.js"
export { Observer } from "./events.js"
export type { Event, EventType, EventOfType, EventFor, EventSubscriber } from "./events.js"
export { Context, context, capability, type ContextOptionValues } from "./context.js"
// Values of zmesh's own (ZmeshError, ErrorCode, z85Encode, z85Decode) are in "zmesh/extras".
export type { ZmeshError, ErrorCode } from "./errors.js"
export type { MessageLike } from "./message.js"
export type { Message } from "./routing/pipe.js"
export type { SocketOptionValues } from "./options.js"
export type { SocketOptions } from "./sockets/socket-options.js"

/** The ZMTP version spoken on the wire, in the spirit of zeromq.js's `version` (the libzmq version). */
export const version = "4.3.5"
