/** SUB (RFC 29): receives what its publishers send on the topics it subscribed to. */
import type { SocketOptions } from "./socket-options.js"
import { toFrame } from "../message.js"
import { type InvertMatchingOptionValues, defineOptions } from "../options.js"
import type { Message } from "../routing/pipe.js"
import { subscriptionFrame } from "../zmtp/command.js"
import type { ConflateOptionValues } from "./socket-base.js"
import { allow, type Readable } from "./capabilities.js"
import { SubscriberBase } from "./sub-base.js"

/**
 * @example
 * ```ts
 * const sub = new Subscriber()
 * sub.connect("tcp://127.0.0.1:5556")
 * sub.subscribe("weather.")
 * for await (const [topic, reading] of sub) console.log(`${topic}: ${reading}`)
 * ```
 */
/** libzmq's xsub sets ZMQ_LINGER to 0: pending subscriptions are not worth waiting for at close. */
const SUB_DEFAULTS = { conflate: false, linger: 0, invertMatching: false }

export class Subscriber extends SubscriberBase {
  protected readonly filters = true

  constructor(options?: SocketOptions<Subscriber>) {
    super("SUB", options, SUB_DEFAULTS)
    // As zeromq.js: an option name that does not exist is an error, not a new property.
    if (new.target === Subscriber) Object.seal(this)
  }

  /** Receives messages whose first frame starts with one of the prefixes; none given means everything. */
  subscribe(...prefixes: Array<Buffer | string>): void {
    if (prefixes.length === 0) prefixes = [""]
    for (const prefix of prefixes) this.subscription([subscriptionFrame(true, toFrame(prefix))])
  }

  /** Undoes one `subscribe()` of each prefix; none given means the empty prefix. */
  unsubscribe(...prefixes: Array<Buffer | string>): void {
    if (prefixes.length === 0) prefixes = [""]
    for (const prefix of prefixes) this.subscription([subscriptionFrame(false, toFrame(prefix))])
  }

  protected xsend(_message: Message): boolean {
    return false
  }

  protected xhasOut(): boolean {
    return false
  }
}

export interface Subscriber extends Readable, ConflateOptionValues, InvertMatchingOptionValues {}
allow(Subscriber.prototype, "read")
defineOptions(Subscriber.prototype, { conflate: "bool", invertMatching: "bool" })
