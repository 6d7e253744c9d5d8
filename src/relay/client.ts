/**
 * RelayClient: sends to, and consumes from, one relay node or several. With
 * several, each queue has a preferred relay by rendezvous hashing; a send goes
 * to the first reachable relay in the queue's ranking, and a consumer takes
 * the queue from every relay (so that nothing sent during a failover is left
 * behind). See docs/scaling.md.
 */
import { ZmeshError } from "../errors.js"
import type { DealerOptionValues } from "../index.js"
import type { SocketOptionValues } from "../options.js"
import { type ConsumeOptions, type ConsumerLink, RelayConsumer, type RelayMessage, closedError } from "./consumer.js"
import { Limits, isName } from "./protocol.js"
import { RelayConnection } from "./relay-connection.js"
import { rank } from "./rendezvous.js"
import { Unsent } from "./request-channel.js"
import { PRODUCER_RECEIPTS, type Headers } from "./store/store.js"
import type { CheckResolver, Decision, PrepareOptions, Transaction } from "./transaction.js"

export interface RelayClientOptions {
  /** The relay's endpoint, e.g. `node.endpoint`. */
  relay?: string
  /** Several relays instead of one: queues are spread over them by rendezvous hashing, with failover. */
  relays?: readonly string[]
  /** ms a call may wait for the relay's answer before rejecting with ERR_RELAY_UNREACHABLE (default 30000). */
  sendTimeout?: number
  /** Requests written and not yet answered per relay, at most (default 10000, or 4096 for a producer); more wait their turn. */
  maxInFlight?: number
  /** Options for the underlying Dealer (security, heartbeats, reconnect intervals). */
  socket?: Partial<SocketOptionValues & DealerOptionValues>
  /**
   * Makes this client an idempotent producer: its sends are numbered, and a
   * resend after a lost confirm is stored once. Needed for `prepare()` and
   * `onCheck()`. Each client instance is a new epoch of the producer.
   */
  producerId?: string
}

export interface SendOptions {
  /** Message id; default a fresh unique id. */
  id?: string
  /** ms from now; 0 = now. */
  delay?: number
  /** Absolute due time (epoch ms or Date); exclusive with delay. */
  at?: Date | number
  headers?: Headers
}

export interface SendResult {
  readonly queue: string
  readonly id: string
  readonly seq: number
  readonly duplicate: boolean
}

/** Queues whose relay ranking is remembered. */
const RANKED = 10_000

/**
 * A client of relay nodes: durable sends, delayed sends, cancel, consumers,
 * and, with a `producerId`, idempotent sends and transactions.
 *
 * @example
 * ```ts
 * const client = new RelayClient({ relay: "tcp://127.0.0.1:7400" })
 * const { seq } = await client.send("orders", JSON.stringify(order))   // durable on the relay
 * for await (const m of client.consume("orders")) { handle(m.body); await m.ack() }
 * ```
 */
export class RelayClient implements ConsumerLink {
  /** The idempotent producer's name, if this client is one. */
  readonly producerId: string | undefined
  private readonly connections: RelayConnection[]
  private readonly relays: readonly string[]
  private readonly ranks = new Map<string, number[]>()
  private lastTag = 0
  private isClosed = false

  constructor(options: RelayClientOptions) {
    const relays = options?.relays ?? (options?.relay === undefined ? undefined : [options.relay])
    if (options?.relay !== undefined && options.relays !== undefined) throw new ZmeshError("EINVAL", "RelayClient: give relay or relays, not both")
    if (!Array.isArray(relays) || relays.length === 0 || relays.some((r) => typeof r !== "string")) {
      throw new ZmeshError("EINVAL", "RelayClient: relay must be an endpoint string (or relays a non-empty array of them)")
    }
    if (new Set(relays).size !== relays.length) throw new ZmeshError("EINVAL", "RelayClient: relays lists an endpoint twice")
    const producerId = options.producerId
    if (producerId !== undefined && !isName(producerId)) {
      throw new ZmeshError("EINVAL", "RelayClient: producerId must be 1-200 characters of A-Z a-z 0-9 . _ - : /")
    }
    const sendTimeout = options.sendTimeout ?? 30_000
    // A producer's resends are recognised among its last PRODUCER_RECEIPTS sends: keep fewer in flight.
    const maxInFlight = options.maxInFlight ?? (producerId === undefined ? 10_000 : PRODUCER_RECEIPTS)
    if (!Number.isInteger(sendTimeout) || sendTimeout <= 0) throw new ZmeshError("EINVAL", "RelayClient: sendTimeout must be a positive integer (ms)")
    if (!Number.isInteger(maxInFlight) || maxInFlight <= 0) throw new ZmeshError("EINVAL", "RelayClient: maxInFlight must be a positive integer")
    if (producerId !== undefined && maxInFlight > PRODUCER_RECEIPTS) {
      throw new ZmeshError("EINVAL", `RelayClient: maxInFlight is at most ${PRODUCER_RECEIPTS} for a producer (its resends are matched among that many)`)
    }
    this.producerId = producerId
    this.relays = relays
    const failover = relays.length > 1
    this.connections = relays.map((relay) => new RelayConnection({ relay, sendTimeout, maxInFlight, socket: options.socket, producerId, failover }))
  }

  /** Resolves once the relay has stored the message durably (fsync'd). */
  send(queue: string, body: Buffer | Uint8Array | string, options: SendOptions = {}): Promise<SendResult> {
    return this.routed(queue, (c, movable) => c.send(queue, body, options, movable))
  }

  /** Cancels a delayed message not yet due: true; false if unknown, not delayed, or already delivered. */
  async cancel(queue: string, id: string): Promise<boolean> {
    if (this.connections.length === 1) return this.connections[0]!.cancel(queue, id)
    // After a failover the message may sit on any relay: ask them all.
    const answers = await Promise.all(this.connections.map((c) => c.cancel(queue, id)))
    return answers.includes(true)
  }

  /**
   * Stores a half message: durable, invisible to consumers until the
   * returned transaction commits. Needs a `producerId`: a half message left
   * undecided is checked back with a resolver of that producer (`onCheck`).
   */
  prepare(queue: string, body: Buffer | Uint8Array | string, options: PrepareOptions = {}): Promise<Transaction> {
    return this.routed(queue, (c, movable) => c.prepare(queue, body, options, movable))
  }

  /**
   * Registers the resolver the relays ask about this producer's half
   * messages left undecided for their `checkAfter` (from any client instance
   * of the same producerId, e.g. after a crash and restart).
   */
  onCheck(resolver: CheckResolver): void {
    if (this.producerId === undefined) throw new ZmeshError("EINVAL", "onCheck: the client needs a producerId")
    if (typeof resolver !== "function") throw new ZmeshError("EINVAL", "onCheck: the resolver must be a function")
    for (const c of this.connections) c.onCheck(resolver)
  }

  /** @internal A decision for a half message by queue and id (Transaction.commit/rollback do this). */
  decide(queue: string, id: string, decision: Decision): Promise<void> {
    return this.connections[this.ranked(queue)[0]!]!.decide(queue, id, decision)
  }

  /** Starts consuming a queue (from every relay); messages arrive through the returned consumer's async iteration. */
  consume(queue: string, options: ConsumeOptions = {}): RelayConsumer {
    if (this.isClosed) throw closedError("consume")
    const settings: Required<ConsumeOptions> = {
      group: options.group ?? "default",
      prefetch: options.prefetch ?? 100,
      ackTimeout: options.ackTimeout ?? 30_000,
      maxDeliveries: options.maxDeliveries ?? 5,
      deadLetterQueue: options.deadLetterQueue ?? `${queue}.dlq`,
    }
    const consumer = new RelayConsumer(this, ++this.lastTag, queue, settings)
    const problem = checkConsumer(queue, settings)
    if (problem !== undefined) consumer.end(problem)
    else for (const c of this.connections) c.attach(consumer)
    return consumer
  }

  /** Closes the client: consumers end, calls still pending reject with ERR_RELAY_CLOSED. */
  async close(): Promise<void> {
    if (this.isClosed) return
    this.isClosed = true
    await Promise.all(this.connections.map((c) => c.close()))
  }

  /** @internal ConsumerLink: messages carry their own connection, which settles them. */
  settle(): Promise<void> {
    return Promise.reject(new ZmeshError("ERR_RELAY_PROTOCOL", "settle: a message is settled by the connection that delivered it"))
  }

  /** @internal ConsumerLink: stops the consumer on every relay, handing each its own unseen deliveries. */
  async stop(consumer: RelayConsumer, unseen: RelayMessage[]): Promise<void> {
    await Promise.all(this.connections.map((c) => c.stop(consumer, unseen.filter((m) => m.link === c))))
  }

  /**
   * Tries the queue's relays in rank order, reachable ones first; a call
   * handed back unwritten (its relay found unreachable) goes to the next. The
   * last one waits for its relay (up to sendTimeout).
   */
  private async routed<T>(queue: string, call: (c: RelayConnection, movable: boolean) => Promise<T>): Promise<T> {
    if (this.connections.length === 1) return call(this.connections[0]!, false)
    const order = this.ranked(queue).map((i) => this.connections[i]!)
    const candidates = [...order.filter((c) => c.reachable), ...order.filter((c) => !c.reachable)]
    for (let i = 0; ; i++) {
      const last = i + 1 === candidates.length
      try {
        return await call(candidates[i]!, !last)
      } catch (err) {
        if (!(err instanceof Unsent) || last) throw err
      }
    }
  }

  private ranked(queue: string): number[] {
    let order = this.ranks.get(queue)
    if (order === undefined) {
      order = rank(this.relays, queue)
      if (this.ranks.size >= RANKED) this.ranks.clear()
      this.ranks.set(queue, order)
    }
    return order
  }
}

function checkConsumer(queue: string, s: Required<ConsumeOptions>): ZmeshError | undefined {
  if (!isName(queue)) return new ZmeshError("ERR_RELAY_INVALID_QUEUE", `invalid queue name ${JSON.stringify(queue)}`)
  if (!isName(s.group)) return new ZmeshError("ERR_RELAY_INVALID_QUEUE", `invalid group name ${JSON.stringify(s.group)}`)
  if (!isName(s.deadLetterQueue) || s.deadLetterQueue === queue) {
    return new ZmeshError("ERR_RELAY_INVALID_QUEUE", `invalid dead-letter queue ${JSON.stringify(s.deadLetterQueue)}`)
  }
  for (const key of ["prefetch", "ackTimeout", "maxDeliveries"] as const) {
    const [min, max] = Limits[key]
    const v = s[key]
    if (!Number.isInteger(v) || v < min || v > max) return new ZmeshError("EINVAL", `consume: ${key} must be an integer in ${min}-${max}`)
  }
  return undefined
}
