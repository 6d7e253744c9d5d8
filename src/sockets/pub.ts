/** PUB (RFC 29): fan-out to matching subscribers; a full subscriber misses messages, the others do not wait. */
import type { SocketOptions } from "./socket-options.js"
import type { MessageLike } from "../message.js"
import { type SubscriptionLimitOptionValues, defineOptions } from "../options.js"
import { allow, type Writable } from "./capabilities.js"
import { PublisherBase } from "./pub-base.js"

export interface PublisherOptionValues extends SubscriptionLimitOptionValues {
  /** ZMQ_XPUB_NODROP: wait (or EAGAIN after sendTimeout) while a matching subscriber is full, instead of dropping. */
  noDrop: boolean
  /** ZMQ_CONFLATE: keep only the newest message per subscriber; the high-water mark does not apply. */
  conflate: boolean
}

/**
 * Publishes messages to every {@link Subscriber} whose subscription is a
 * prefix of the message's first frame.
 *
 * @example
 * ```ts
 * const pub = new Publisher()
 * await pub.bind("tcp://127.0.0.1:5556")
 * await pub.send(["weather.paris", "12C"])
 * ```
 */
export class Publisher extends PublisherBase {
  protected readonly reportsToApp = false
  protected readonly isManual = false
  protected readonly verbosityLevel = null

  constructor(options?: SocketOptions<Publisher>) {
    super("PUB", options, { noDrop: false, conflate: false })
    // As zeromq.js: an option name that does not exist is an error, not a new property.
    if (new.target === Publisher) Object.seal(this)
  }

  protected get dropsNever(): boolean {
    return this.noDrop
  }

  trySend(message: MessageLike | readonly MessageLike[]): boolean {
    return this.trySendMessage(message)
  }
}

export interface Publisher extends Writable, PublisherOptionValues {}
allow(Publisher.prototype, "write")
defineOptions(Publisher.prototype, { noDrop: "bool", conflate: "bool" })
