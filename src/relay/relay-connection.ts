/**
 * RelayConnection: a RelayClient's link to one relay node, over a DEALER.
 * Requests ready in the same event-loop turn share one frame. Every request
 * stays pending until the relay answers; after a reconnect (a relay restart,
 * a network blip) the connection says HELLO, registers its consumers and
 * resolver again and resends what is pending, so a call is answered or
 * rejected, never lost. With `failover`, requests never written when the
 * relay turns out unreachable are handed back (`Unsent`) for another relay.
 */
import { randomBytes, randomUUID } from "node:crypto"
import { Dealer } from "../index.js"
import { ZmeshError } from "../errors.js"
import type { RelayClientOptions, SendOptions, SendResult } from "./client.js"
import { type ConsumerLink, type RelayConsumer, RelayMessage } from "./consumer.js"
import { Limits, MAX_ID_LENGTH, type NodeInfo, Op, PROTOCOL_VERSION, headersSize, isName } from "./protocol.js"
import { RequestChannel } from "./request-channel.js"
import type { Headers } from "./store/store.js"
import { type CheckResolver, type Decision, type PrepareOptions, Transaction, type TransactionLink } from "./transaction.js"

const DEFAULT_MAX_MESSAGE = 1024 * 1024
/** SEND's field saying "an id made up by the client, first write". */
const FRESH = 11

/** What a connection is made with; RelayClient has checked it. */
export interface ConnectionOptions {
  readonly relay: string
  readonly sendTimeout: number
  readonly maxInFlight: number
  readonly socket: RelayClientOptions["socket"]
  readonly producerId: string | undefined
  /** Hand back requests never written when the relay turns out unreachable (other relays can take them). */
  readonly failover: boolean
}

export class RelayConnection implements ConsumerLink, TransactionLink {
  private readonly dealer: Dealer
  private readonly channel: RequestChannel
  private readonly consumers = new Map<number, RelayConsumer>()
  private info: NodeInfo | undefined
  private epoch: string | undefined
  private isClosed = false
  /** The idempotent producer's name, this instance's epoch, and the last send number. */
  readonly producerId: string | undefined
  private readonly producerEpoch = randomBytes(9).toString("base64url")
  private producerSeq = 0
  private resolver: CheckResolver | undefined
  private down = false

  constructor(options: ConnectionOptions) {
    this.producerId = options.producerId
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
    this.channel = new RequestChannel(this.dealer, options.sendTimeout, options.maxInFlight, {
      connected: () => this.register(),
      command: (c) => this.handle(c),
    })
    // A failed attempt or a lost connection ("connect:delay" is every attempt, not a failure).
    const down = () => {
      this.down = true
      // Never written, so never stored: another relay may take them.
      if (options.failover) this.channel.handBackUnsent()
    }
    this.dealer.events.on("connect:retry", down)
    this.dealer.events.on("disconnect", down)
    this.dealer.events.on("handshake", () => (this.down = false))
    this.dealer.connect(options.relay)
  }

  /** False once the relay was found unreachable (a refused or lost connection), until it is back. */
  get reachable(): boolean {
    return !this.down
  }

  /** Resolves once the relay has stored the message durably (fsync'd). */
  send(queue: string, body: Buffer | Uint8Array | string, options: SendOptions = {}, movable = false): Promise<SendResult> {
    const m = checkMessage("send", queue, body, options.id, options.headers)
    if (m instanceof ZmeshError) return Promise.reject(m)
    const { data, id, hsize } = m
    const { delay, at, headers } = options
    if (delay !== undefined && at !== undefined) return reject("ERR_RELAY_DELAY_CONFLICT", "send: delay and at exclude each other")
    if (delay !== undefined && (!Number.isInteger(delay) || delay < 0)) return Promise.reject(new ZmeshError("EINVAL", "send: delay must be a non-negative integer (ms)"))
    const due = at instanceof Date ? at.getTime() : at
    if (due !== undefined && (!Number.isInteger(due) || due < 0)) return Promise.reject(new ZmeshError("EINVAL", "send: at must be a Date or epoch ms"))
    const maxSize = this.info?.maxMessageSize ?? DEFAULT_MAX_MESSAGE
    if (data.length + hsize > maxSize) {
      return reject("ERR_RELAY_MESSAGE_TOO_LARGE", `send: message of ${data.length + hsize} bytes exceeds the relay's maxMessageSize of ${maxSize}`)
    }
    const maxDelay = this.info?.maxDelay
    if (maxDelay !== undefined && ((delay ?? 0) > maxDelay || (due ?? 0) - Date.now() > maxDelay)) {
      return reject("ERR_RELAY_DELAY_TOO_LONG", `send: due beyond the relay's maxDelay of ${maxDelay} ms`)
    }
    const command: unknown[] = [Op.SEND, 0, queue, id, data, headers ?? null, delay ?? null, due ?? null]
    if (this.producerId !== undefined) command.push(this.producerId, this.producerEpoch, ++this.producerSeq)
    else command.push(null, null, null)
    // An id made up here, written for the first time, cannot be a duplicate: the relay skips its lookup.
    command.push(options.id === undefined ? true : null)
    return this.channel.request("send", command, data.length + hsize + 64, false, movable, FRESH) as Promise<SendResult>
  }

  /**
   * Stores a half message: durable, invisible to consumers until the
   * returned transaction commits. Needs a `producerId`: a half message left
   * undecided is checked back with a resolver of that producer (`onCheck`).
   */
  async prepare(queue: string, body: Buffer | Uint8Array | string, options: PrepareOptions = {}, movable = false): Promise<Transaction> {
    if (this.producerId === undefined) throw new ZmeshError("EINVAL", "prepare: the client needs a producerId (check-backs ask that producer)")
    const m = checkMessage("prepare", queue, body, options.id, options.headers)
    if (m instanceof ZmeshError) throw m
    const { data, id, hsize } = m
    const command = [Op.PREPARE, 0, queue, id, data, options.headers ?? null, this.producerId, this.producerEpoch, ++this.producerSeq]
    const r = (await this.channel.request("send", command, data.length + hsize + 64, false, movable)) as SendResult
    return new Transaction(this, queue, id, r.seq, r.duplicate)
  }

  /**
   * Registers the resolver the relay asks about this producer's half
   * messages left undecided for its `checkAfter` (from any client instance
   * of the same producerId, e.g. after a crash and restart).
   */
  onCheck(resolver: CheckResolver): void {
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

  /** Delivers the consumer's queue to it from this relay (a consumer may take from several relays). */
  attach(consumer: RelayConsumer): void {
    if (this.isClosed) return
    this.consumers.set(consumer.tag, consumer)
    if (this.channel.connected) this.subscribe(consumer)
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
  async stop(consumer: RelayConsumer, unseen: RelayMessage[]): Promise<void> {
    if (!this.consumers.delete(consumer.tag) || this.isClosed) return
    const tokens = unseen.map((m) => m.token)
    await this.channel.request("stop", [Op.STOP, 0, consumer.tag, tokens], 32 + tokens.length * 9)
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
          for (const c of this.consumers.values()) c.dropBuffered(this)
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
        for (const consumer of this.consumers.values()) consumer.dropBuffered(this)
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

/** The checks a message gets before it goes to the relay: its queue name, body, id (made up if not given) and headers. */
function checkMessage(
  what: string,
  queue: string,
  body: Buffer | Uint8Array | string,
  givenId: string | undefined,
  headers: Headers | undefined,
): ZmeshError | { data: Uint8Array; id: string; hsize: number } {
  if (!isName(queue)) return new ZmeshError("ERR_RELAY_INVALID_QUEUE", `invalid queue name ${JSON.stringify(queue)}`)
  const data = typeof body === "string" ? Buffer.from(body) : body
  if (!(data instanceof Uint8Array)) return new ZmeshError("EINVAL", `${what}: body must be a Buffer, Uint8Array or string`)
  const id = givenId ?? randomUUID()
  if (typeof id !== "string" || id.length === 0 || id.length > MAX_ID_LENGTH) {
    return new ZmeshError("EINVAL", `${what}: id must be a string of 1-${MAX_ID_LENGTH} characters`)
  }
  const hsize = headersSize(headers)
  if (hsize < 0) return new ZmeshError("EINVAL", `${what}: headers must be an object of strings`)
  return { data, id, hsize }
}
