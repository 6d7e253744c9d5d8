/**
 * XSUB (RFC 29 and libzmq's xsub.cpp): a subscriber whose subscriptions are
 * messages the application sends (`\x01topic` / `\x00topic`), for proxies.
 */
import type { SocketOptions } from "./socket-options.js"
import type { Message } from "../routing/pipe.js"
import { allow, type Readable, type Writable } from "./capabilities.js"
import { SubscriberBase } from "./sub-base.js"

/**
 * @example
 * ```ts
 * const xsub = new XSubscriber()
 * xsub.connect("tcp://127.0.0.1:5556")
 * await xsub.send(Buffer.from("\x01weather."))
 * ```
 */
/** libzmq's xsub sets ZMQ_LINGER to 0: pending subscriptions are not worth waiting for at close. */
const XSUB_DEFAULTS = { linger: 0 }

export class XSubscriber extends SubscriberBase {
  protected readonly filters = false

  constructor(options?: SocketOptions<XSubscriber>) {
    super("XSUB", options, XSUB_DEFAULTS)
    // As zeromq.js: an option name that does not exist is an error, not a new property.
    if (new.target === XSubscriber) Object.seal(this)
  }

  protected xsend(message: Message): boolean {
    if (!this.subscription(message)) this.sendToAll(message)
    return true
  }

  protected xhasOut(): boolean {
    return true
  }
}

export interface XSubscriber extends Readable, Writable {}
allow(XSubscriber.prototype, "read", "write")
