/**
 * RelayClient: sends to, and consumes from, a relay node over a DEALER.
 * Requests ready in the same event-loop turn share one frame. Every request
 * stays pending until the relay answers; after a reconnect (a relay restart,
 * a network blip) the client says HELLO, registers its consumers again and
 * resends what is pending, so a call is answered or rejected, never lost.
 */
import { randomBytes, randomUUID } from "node:crypto"
import { Dealer, type DealerOptionValues } from "../index.js"
import { ZmeshError } from "../errors.js"
import type { SocketOptionValues } from "../options.js"
import { type ConsumeOptions, type ConsumerLink, RelayConsumer, RelayMessage, closedError } from "./consumer.js"
import { Limits, MAX_ID_LENGTH, type NodeInfo, Op, PROTOCOL_VERSION, headersSize, isName } from "./protocol.js"
import { RequestChannel } from "./request-channel.js"
import { PRODUCER_RECEIPTS, type Headers } from "./store/store.js"
import { type CheckResolver, type Decision, type PrepareOptions, Transaction, type TransactionLink } from "./transaction.js"

const DEFAULT_MAX_MESSAGE = 1024 * 1024

export interface RelayClientOptions {
  /** The relay's endpoint, e.g. `node.endpoint`. */
  relay: string
  /** ms a call may wait for the relay's answer before rejecting with ERR_RELAY_UNREACHABLE (default 30000). */
  sendTimeout?: number
  /** Requests written and not yet answered, at most (default 10000); more wait their turn. */
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

/**
 * A client of a relay node: durable sends, delayed sends, cancel, consumers.
 *
 * @example
 * ```ts
 * const client = new RelayClient({ relay: "tcp://127.0.0.1:7400" })
 * const { seq } = await client.send("orders", JSON.stringify(order))   // durable on the relay
 * for await (const m of client.consume("orders")) { handle(m.body); await m.ack() }
 * ```
 */
export class RelayClient implements ConsumerLink, TransactionLink {
  private readonly dealer: Dealer
  private readonly channel: RequestChannel
  private readonly consumers = new Map<number, RelayConsumer>()
  private lastTag = 0
  private info: NodeInfo | undefined
  private epoch: string | undefined
  private isClosed = false
  /** The idempotent producer's name, this instance's epoch, and the last send number. */
  readonly producerId: string | undefined
  private readonly producerEpoch = randomBytes(9).toString("base64url")
  private producerSeq = 0
  private resolver: CheckResolver | undefined

  constructor(options: RelayClientOptions) {
    if (typeof options?.relay !== "string") throw new ZmeshError("EINVAL", "RelayClient: relay must be an endpoint string")
    const producerId = options.producerId
    if (producerId !== undefined && !isName(producerId)) {
      throw new ZmeshError("EINVAL", "RelayClient: producerId must be 1-200 characters of A-Z a-z 0-9 . _ - : /")
    }
    this.producerId = producerId
    const sendTimeout = options.sendTimeout ?? 30_000
    // A producer's resends are recognised among its last PRODUCER_RECEIPTS sends: keep fewer in flight.
    const maxInFlight = options.maxInFlight ?? (producerId === undefined ? 10_000 : PRODUCER_RECEIPTS)
    if (producerId !== undefined && maxInFlight > PRODUCER_RECEIPTS) {
      throw new ZmeshError("EINVAL", `RelayClient: maxInFlight is at most ${PRODUCER_RECEIPTS} for a producer (its resends are matched among that many)`)
    }
    if (!Number.isInteger(sendTimeout) || sendTimeout <= 0) throw new ZmeshError("EINVAL", "RelayClient: sendTimeout must be a positive integer (ms)")
    if (!Number.isInteger(maxInFlight) || maxInFlight <= 0) throw new ZmeshError("EINVAL", "RelayClient: maxInFlight must be a positive integer")
    this.dealer = new Dealer({
      reconnectInterval: 100,
      reconnectMaxInterval: 2000,
      heartbeatInterval: 2000,
      heartbeatTimeout: 6000,
      ...options.socket,
      // The relay knows this client's session by its routing id, across reconnects.
      routingId: `zr-${randomBytes(12).toString("base64url")}`,
      // Nothing is queued for a connection that is not up: pending requests are resent on the next one.
      immediate: true,
      sendHighWaterMark: 0,
      linger: 200,
    })
    this.channel = new RequestChannel(this.dealer, sendTimeout, maxInFlight, {
      connected: () => this.register(),
      command: (c) => this.handle(c),
    })
    this.dealer.connect(options.relay)
  }

  /** Resolves once the relay has stored the message durably (fsync'd). */
  send(queue: string, body: Buffer | Uint8Array | string, options: SendOptions = {}): Promise<SendResult> {
    if (!isName(queue)) return reject("ERR_RELAY_INVALID_QUEUE", `invalid queue name ${JSON.stringify(queue)}`)
    const data = typeof body === "string" ? Buffer.from(body) : body
    if (!(data instanceof Uint8Array)) return Promise.reject(new ZmeshError("EINVAL", "send: body must be a Buffer, Uint8Array or string"))
    const { delay, at, headers } = options
    const id = options.id ?? randomUUID()
    if (typeof id !== "string" || id.length === 0 || id.length > MAX_ID_LENGTH) {
      return Promise.reject(new ZmeshError("EINVAL", `send: id must be a string of 1-${MAX_ID_LENGTH} characters`))
    }
    if (delay !== undefined && at !== undefined) return reject("ERR_RELAY_DELAY_CONFLICT", "send: delay and at exclude each other")
    if (delay !== undefined && (!Number.isInteger(delay) || delay < 0)) return Promise.reject(new ZmeshError("EINVAL", "send: delay must be a non-negative integer (ms)"))
    const due = at instanceof Date ? at.getTime() : at
    if (due !== undefined && (!Number.isInteger(due) || due < 0)) return Promise.reject(new ZmeshError("EINVAL", "send: at must be a Date or epoch ms"))
    const hsize = headersSize(headers)
    if (hsize < 0) return Promise.reject(new ZmeshError("EINVAL", "send: headers must be an object of strings"))
    const maxSize = this.info?.maxMessageSize ?? DEFAULT_MAX_MESSAGE
    if (data.length + hsize > maxSize) {
      return reject("ERR_RELAY_MESSAGE_TOO_LARGE", `send: message of ${data.length + hsize} bytes exceeds the relay's maxMessageSize of ${maxSize}`)
    }
    const maxDelay = this.info?.maxDelay
    if (maxDelay !== undefined && ((delay ?? 0) > maxDelay || (due ?? 0) - Date.now() > maxDelay)) {
      return reject("ERR_RELAY_DELAY_TOO_LONG", `send: due beyond the relay's maxDelay of ${maxDelay} ms`)
    }
    const command = [Op.SEND, 0, queue, id, data, headers ?? null, delay ?? null, due ?? null]
    if (this.producerId !== undefined) command.push(this.producerId, this.producerEpoch, ++this.producerSeq)
    return this.channel.request("send", command, data.length + hsize + 64) as Promise<SendResult>
  }

  /**
   * Stores a half message: durable, invisible to consumers until the
   * returned transaction commits. Needs a `producerId`: a half message left
   * undecided is checked back with a resolver of that producer (`onCheck`).
   */
  async prepare(queue: string, body: Buffer | Uint8Array | string, options: PrepareOptions = {}): Promise<Transaction> {
    if (this.producerId === undefined) throw new ZmeshError("EINVAL", "prepare: the client needs a producerId (check-backs ask that producer)")
    if (!isName(queue)) throw new ZmeshError("ERR_RELAY_INVALID_QUEUE", `invalid queue name ${JSON.stringify(queue)}`)
    const data = typeof body === "string" ? Buffer.from(body) : body
    if (!(data instanceof Uint8Array)) throw new ZmeshError("EINVAL", "prepare: body must be a Buffer, Uint8Array or string")
    const id = options.id ?? randomUUID()
    if (typeof id !== "string" || id.length === 0 || id.length > MAX_ID_LENGTH) {
      throw new ZmeshError("EINVAL", `prepare: id must be a string of 1-${MAX_ID_LENGTH} characters`)
    }
    const hsize = headersSize(options.headers)
    if (hsize < 0) throw new ZmeshError("EINVAL", "prepare: headers must be an object of strings")
    const command = [Op.PREPARE, 0, queue, id, data, options.headers ?? null, this.producerId, this.producerEpoch, ++this.producerSeq]
    const r = (await this.channel.request("send", command, data.length + hsize + 64)) as SendResult
    return new Transaction(this, queue, id, r.seq, r.duplicate)
  }

  /**
   * Registers the resolver the relay asks about this producer's half
   * messages left undecided for its `checkAfter` (from any client instance
   * of the same producerId, e.g. after a crash and restart).
   */
  onCheck(resolver: CheckResolver): void {
    if (this.producerId === undefined) throw new ZmeshError("EINVAL", "onCheck: the client needs a producerId")
    if (typeof resolver !== "function") throw new ZmeshError("EINVAL", "onCheck: the resolver must be a function")
    const first = this.resolver === undefined
    this.resolver = resolver
    if (first && this.channel.connected) this.registerResolver()
  }

  /** @internal TransactionLink */
  decide(queue: string, id: string, decision: Decision): Promise<void> {
    return this.channel.request("decide", [Op.DECIDE, 0, queue, id, decision], 64 + id.length) as Promise<void>
  }

  /** Cancels a delayed message not yet due: true; false if unknown, not delayed, or already delivered. */
  cancel(queue: string, id: string): Promise<boolean> {
    if (!isName(queue)) return reject("ERR_RELAY_INVALID_QUEUE", `invalid queue name ${JSON.stringify(queue)}`)
    if (typeof id !== "string" || id.length === 0 || id.length > MAX_ID_LENGTH) return Promise.reject(new ZmeshError("EINVAL", "cancel: invalid id"))
    return this.channel.request("cancel", [Op.CANCEL, 0, queue, id], 64) as Promise<boolean>
  }

  /** Starts consuming a queue; messages arrive through the returned consumer's async iteration. */
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
    if (problem !== undefined) {
      consumer.end(problem)
      return consumer
    }
    this.consumers.set(consumer.tag, consumer)
    if (this.channel.connected) this.subscribe(consumer)
    return consumer
  }

  /** Closes the client: consumers end, calls still pending reject with ERR_RELAY_CLOSED. */
  async close(): Promise<void> {
    if (this.isClosed) return
    this.isClosed = true
    this.channel.post([Op.BYE], 8)
    this.channel.flush()
    this.channel.close()
    for (const c of this.consumers.values()) c.end(undefined)
    this.consumers.clear()
    this.dealer.close()
  }

  /** @internal ConsumerLink */
  settle(kind: "ack" | "nack" | "extend", token: number, delay: number, epoch: string | undefined): Promise<void> {
    if (epoch !== this.epoch) {
      // Delivered by a relay that has restarted since: that lease is gone, the message comes again.
      return reject("ERR_RELAY_LEASE_EXPIRED", `${kind}: the relay restarted since this delivery; the message is or will be redelivered`)
    }
    if (kind === "nack" && (!Number.isInteger(delay) || delay < Limits.nackDelay[0] || delay > Limits.nackDelay[1])) {
      return Promise.reject(new ZmeshError("EINVAL", "nack: delay must be a non-negative integer (ms)"))
    }
    const command = kind === "ack" ? [Op.ACK, 0, token] : kind === "nack" ? [Op.NACK, 0, token, delay] : [Op.EXTEND, 0, token]
    return this.channel.request("settle", command, 32) as Promise<void>
  }

  /** @internal ConsumerLink */
  async stop(consumer: RelayConsumer, unseen: number[]): Promise<void> {
    if (!this.consumers.delete(consumer.tag) || this.isClosed) return
    await this.channel.request("stop", [Op.STOP, 0, consumer.tag, unseen], 32 + unseen.length * 9)
  }

  // ---- connection ------------------------------------------------------------------------

  /** On every connection (and after a RESET): HELLO, then consumers and the resolver register again. */
  private register(): void {
    this.hello()
    for (const consumer of this.consumers.values()) this.subscribe(consumer)
    if (this.resolver !== undefined) this.registerResolver()
  }

  private registerResolver(): void {
    this.channel.request("resolver", [Op.RESOLVER, 0, this.producerId], 64, true).catch(() => undefined)
  }

  /** A check-back: ask the resolver, answer with its decision ("unknown" if it fails). */
  private async check(c: unknown[]): Promise<void> {
    const resolver = this.resolver
    if (resolver === undefined) return
    const half = { queue: c[1] as string, id: c[2] as string, seq: c[3] as number, body: c[4] as Buffer, headers: (c[5] as Headers | null) ?? {}, checks: c[6] as number }
    let decision: Decision
    try {
      decision = await resolver(half)
      if (decision !== "commit" && decision !== "rollback") decision = "unknown"
    } catch {
      decision = "unknown"
    }
    if (this.isClosed) return
    await this.decide(half.queue, half.id, decision).catch(() => undefined)
  }

  private hello(): void {
    this.channel.request("hello", [Op.HELLO, 0, PROTOCOL_VERSION], 16, true).then(
      (info) => {
        const next = info as NodeInfo
        if (this.epoch !== undefined && next.epoch !== this.epoch) {
          // The relay restarted: our leases are gone, and what was buffered comes again.
          for (const c of this.consumers.values()) c.dropBuffered()
        }
        this.epoch = next.epoch
        if (this.info?.sessionTimeout !== next.sessionTimeout) this.channel.armPing(next.sessionTimeout)
        this.info = next
      },
      () => undefined,
    )
  }

  private subscribe(consumer: RelayConsumer): void {
    const s = consumer.settings
    const command = [Op.CONSUME, 0, consumer.tag, consumer.queue, s.group, s.prefetch, s.ackTimeout, s.maxDeliveries, s.deadLetterQueue]
    this.channel.request("consume", command, 128, true).catch((err: ZmeshError) => {
      if (err.code === "ERR_RELAY_CLOSED") return
      this.consumers.delete(consumer.tag)
      consumer.end(err)
    })
  }

  /** Commands from the relay other than answers. */
  private handle(c: unknown[]): void {
    switch (c[0]) {
      case Op.DELIVER: {
        const consumer = this.consumers.get(c[1] as number)
        if (consumer === undefined) return // stopped meanwhile: the relay takes it back
        consumer.push(
          new RelayMessage(this, this.epoch, {
            token: c[2] as number,
            queue: c[3] as string,
            id: c[4] as string,
            seq: c[5] as number,
            body: c[6] as Buffer,
            headers: (c[7] as Headers | null) ?? {},
            deliveryCount: c[8] as number,
            storedAt: c[9] as number,
            producerId: (c[10] as string | null | undefined) ?? null,
            producerSeq: (c[11] as number | null | undefined) ?? null,
          }),
        )
        return
      }
      case Op.CHECK:
        void this.check(c)
        return
      case Op.RESET:
        // The relay does not know this session (it expired): register again; buffered leases are gone.
        for (const consumer of this.consumers.values()) consumer.dropBuffered()
        this.register()
        return
      default:
        return // PONG, or something newer than this client
    }
  }
}

function reject(code: ZmeshError["code"], message: string): Promise<never> {
  return Promise.reject(new ZmeshError(code, message))
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
