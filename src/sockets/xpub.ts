/**
 * XPUB (RFC 29 and libzmq's xpub.cpp): a publisher that also receives its
 * subscribers' subscriptions as `\x01topic` / `\x00topic` messages, for
 * proxies and last-value caches.
 */
import type { SocketOptions } from "./socket-options.js"
import { toFrame, type MessageLike } from "../message.js"
import { type SubscriptionLimitOptionValues, defineOptions } from "../options.js"
import type { Pipe } from "../routing/pipe.js"
import { allow, type Readable, type Writable } from "./capabilities.js"
import { PublisherBase, type Verbosity } from "./pub-base.js"

export interface XPublisherOptionValues extends SubscriptionLimitOptionValues {
  /** ZMQ_XPUB_NODROP: wait (or EAGAIN) while a matching subscriber is full, instead of dropping. */
  noDrop: boolean
  /** ZMQ_XPUB_MANUAL: subscriptions are not applied until the application calls `subscribe()` for them. */
  manual: boolean
  /** ZMQ_XPUB_WELCOME_MSG: a message sent to every new subscriber. */
  welcomeMessage: string | null
  /**
   * ZMQ_XPUB_VERBOSE / ZMQ_XPUB_VERBOSER: null reports only the first
   * subscription to a topic and its last cancel; "allSubs" every subscription;
   * "allSubsUnsubs" every subscription and cancel.
   */
  verbosity: Verbosity
}

/**
 * @example
 * ```ts
 * const xpub = new XPublisher({ verbosity: "allSubs" })
 * await xpub.bind("tcp://127.0.0.1:*")
 * const [sub] = await xpub.receive() // <Buffer 01 ...topic>
 * ```
 */
export class XPublisher extends PublisherBase {
  protected readonly reportsToApp = true

  constructor(options?: SocketOptions<XPublisher>) {
    super("XPUB", options, { noDrop: false, manual: false, welcomeMessage: null, verbosity: null })
    // As zeromq.js: an option name that does not exist is an error, not a new property.
    if (new.target === XPublisher) Object.seal(this)
  }

  protected get isManual(): boolean {
    return this.manual
  }

  protected get verbosityLevel(): Verbosity {
    return this.verbosity
  }

  protected get dropsNever(): boolean {
    return this.noDrop
  }

  /** The next subscription (`\x01topic` / `\x00topic`) or message from a subscriber. */
  /** Manual mode: subscribes the peer whose subscription was received last to these topics. */
  subscribe(...topics: Array<Buffer | string>): void {
    for (const topic of topics) this.applyManual(true, toFrame(topic as MessageLike))
  }

  /** Manual mode: the reverse of `subscribe()`. */
  unsubscribe(...topics: Array<Buffer | string>): void {
    for (const topic of topics) this.applyManual(false, toFrame(topic as MessageLike))
  }

  protected override xattach(pipe: Pipe): boolean {
    super.xattach(pipe)
    const welcome = this.welcomeMessage
    if (welcome !== null) pipe.write([Buffer.from(welcome)])
    return true
  }
}

export interface XPublisher extends Readable, Writable, XPublisherOptionValues {}
allow(XPublisher.prototype, "read", "write")
defineOptions(XPublisher.prototype, { noDrop: "bool", manual: "bool", welcomeMessage: "string?", verbosity: "verbosity" })
