/**
 * The consuming side of a RelayClient: RelayConsumer, an async iterable of
 * RelayMessage, each of which is acked, nacked or extended on the relay.
 */
import { ZmeshError } from "../errors.js"
import { Queue } from "../routing/queue.js"
import type { Headers } from "./store/store.js"

/** Consumer settings; a group's are fixed by its first consumer. */
export interface ConsumeOptions {
  /** Default "default". Consumers of one group compete; every group gets every message. */
  group?: string
  /** Most unacked messages this consumer holds (default 100). */
  prefetch?: number
  /** ms a delivery is leased before it is redelivered (default 30000). */
  ackTimeout?: number
  /** Deliveries without an ack before the message is dead-lettered (default 5). */
  maxDeliveries?: number
  /** Default `${queue}.dlq`. */
  deadLetterQueue?: string
}

/** What a consumer and its messages need of their client. */
export interface ConsumerLink {
  /** ack, nack or extend a delivery by its token, given by the relay instance `epoch`. */
  settle(kind: "ack" | "nack" | "extend", token: number, delay: number, epoch: string | undefined): Promise<void>
  /** The consumer is done; `unseen` are deliveries that never reached the application. */
  stop(consumer: RelayConsumer, unseen: RelayMessage[]): Promise<void>
}

/**
 * A delivered message. Ack it when done; until then it is leased to this
 * consumer for the group's ackTimeout.
 *
 * @example
 * ```ts
 * for await (const m of consumer) {
 *   await handle(m.body)
 *   await m.ack()
 * }
 * ```
 */
export class RelayMessage {
  readonly queue: string
  readonly id: string
  /** The sequence number the relay gave the message when it stored it. */
  readonly seq: number
  readonly body: Buffer
  readonly headers: Headers
  /** 1 on the first delivery, then counting redeliveries. */
  readonly deliveryCount: number
  /** Epoch ms when the relay stored the message. */
  readonly storedAt: number
  /** The idempotent producer that sent it (its `producerId`), and the send's number in its epoch; null otherwise. */
  readonly producerId: string | null
  readonly producerSeq: number | null
  /** @internal The lease token of this delivery attempt. */
  readonly token: number
  /** @internal The client (of the relay) that delivered it. */
  readonly link: ConsumerLink
  private readonly epoch: string | undefined
  private acked: Promise<void> | undefined

  /** @internal */
  constructor(link: ConsumerLink, epoch: string | undefined, fields: Omit<RelayMessage, "ack" | "nack" | "extend" | "link" | "epoch" | "acked">) {
    this.link = link
    this.epoch = epoch
    this.queue = fields.queue
    this.id = fields.id
    this.seq = fields.seq
    this.body = fields.body
    this.headers = fields.headers
    this.deliveryCount = fields.deliveryCount
    this.storedAt = fields.storedAt
    this.producerId = fields.producerId
    this.producerSeq = fields.producerSeq
    this.token = fields.token
  }

  /** Done with it: resolves once the ack is durable. Rejects ERR_RELAY_LEASE_EXPIRED if the lease was lost (it is redelivered). */
  ack(): Promise<void> {
    // Acking again while an ack is pending or done is the same ack; after a failure it is tried again.
    this.acked ??= this.link.settle("ack", this.token, 0, this.epoch).catch((err: Error) => {
      this.acked = undefined
      throw err
    })
    return this.acked
  }

  /** Give it back: redelivered now, or after `delay` ms. Counts as a failed delivery. */
  nack(options?: { delay?: number }): Promise<void> {
    return this.link.settle("nack", this.token, options?.delay ?? 0, this.epoch)
  }

  /** Still working on it: renews the lease for another ackTimeout. */
  extend(): Promise<void> {
    return this.link.settle("extend", this.token, 0, this.epoch)
  }
}

/**
 * Messages of one queue for one consumer group, from `client.consume()`.
 *
 * @example
 * ```ts
 * const c = client.consume("orders", { group: "billing", prefetch: 10 })
 * for await (const m of c) await m.ack()
 * ```
 */
export class RelayConsumer implements AsyncIterable<RelayMessage> {
  readonly queue: string
  readonly group: string
  /** @internal */
  readonly tag: number
  /** @internal The settings sent to the relay. */
  readonly settings: Required<ConsumeOptions>
  private readonly link: ConsumerLink
  private readonly buffer = new Queue<RelayMessage>()
  private readonly waiters = new Queue<{ resolve: (m: RelayMessage | undefined) => void; reject: (e: Error) => void }>()
  private failure: Error | undefined
  private isClosed = false
  private closing: Promise<void> | undefined

  /** @internal */
  constructor(link: ConsumerLink, tag: number, queue: string, settings: Required<ConsumeOptions>) {
    this.link = link
    this.tag = tag
    this.queue = queue
    this.group = settings.group
    this.settings = settings
  }

  get closed(): boolean {
    return this.isClosed
  }

  /**
   * The next message; resolves undefined once the consumer is closed. Calls
   * are served in order, so a call whose promise is dropped still takes the
   * message it was waiting for (keep one call pending at a time, as the
   * async iteration does).
   */
  receive(): Promise<RelayMessage | undefined> {
    const m = this.buffer.shift()
    if (m !== undefined) return Promise.resolve(m)
    if (this.failure !== undefined) return Promise.reject(this.failure)
    if (this.isClosed) return Promise.resolve(undefined)
    return new Promise((resolve, reject) => this.waiters.push({ resolve, reject }))
  }

  [Symbol.asyncIterator](): AsyncIterator<RelayMessage, undefined> {
    return {
      next: async () => {
        const value = await this.receive()
        return value === undefined ? { value: undefined, done: true } : { value, done: false }
      },
    }
  }

  /** Stops consuming: unacked messages go back to the group at once; the iteration ends. */
  close(): Promise<void> {
    if (this.closing !== undefined) return this.closing
    const unseen = this.buffer.drain()
    this.end(undefined)
    this.closing = this.link.stop(this, unseen).catch(() => undefined)
    return this.closing
  }

  /** @internal A delivery for this consumer. */
  push(message: RelayMessage): void {
    if (this.isClosed) return
    const waiter = this.waiters.shift()
    if (waiter !== undefined) waiter.resolve(message)
    else this.buffer.push(message)
  }

  /** @internal The relay forgot our leases (it restarted, or our session expired): buffered ones (of that relay's client) will come again. */
  dropBuffered(from: ConsumerLink): void {
    this.buffer.removeWhere((m) => m.link === from)
  }

  /** @internal Ends the consumer, with an error for the iteration if given. */
  end(err: Error | undefined): void {
    if (this.isClosed) return
    this.isClosed = true
    this.failure = err
    for (const w of this.waiters.drain()) {
      if (err === undefined) w.resolve(undefined)
      else w.reject(err)
    }
  }
}

export function closedError(what: string): ZmeshError {
  return new ZmeshError("ERR_RELAY_CLOSED", `${what}: the relay client is closed`)
}
