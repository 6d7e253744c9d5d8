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
import { Queue } from "../routing/queue.js"
import { type ConsumeOptions, type ConsumerLink, RelayConsumer, RelayMessage, closedError } from "./consumer.js"
import { Limits, MAX_ID_LENGTH, type NodeInfo, Op, PROTOCOL_VERSION, decodeFrame, encodeFrame, headersSize, isName } from "./protocol.js"
import type { Headers } from "./store/store.js"

export interface RelayClientOptions {
  /** The relay's endpoint, e.g. `node.endpoint`. */
  relay: string
  /** ms a call may wait for the relay's answer before rejecting with ERR_RELAY_UNREACHABLE (default 30000). */
  sendTimeout?: number
  /** Requests written and not yet answered, at most (default 10000); more wait their turn. */
  maxInFlight?: number
  /** Options for the underlying Dealer (security, heartbeats, reconnect intervals). */
  socket?: Partial<SocketOptionValues & DealerOptionValues>
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

type Kind = "hello" | "send" | "cancel" | "consume" | "stop" | "settle"

interface Request {
  readonly rid: number
  readonly kind: Kind
  readonly command: unknown[]
  readonly bytes: number
  readonly deadline: number
  /** HELLO and CONSUME belong to one connection: made again on the next, not resent. */
  readonly internal: boolean
  sentOn: number
  resolve(value: unknown): void
  reject(err: Error): void
}

/** A frame carries at most about this much; a bigger single command goes alone. */
const MAX_FRAME = 256 * 1024
const DEFAULT_MAX_MESSAGE = 1024 * 1024
const NO_FIELDS: unknown[] = []

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
export class RelayClient implements ConsumerLink {
  private readonly dealer: Dealer
  private readonly sendTimeout: number
  private readonly maxInFlight: number
  private readonly pending = new Map<number, Request>()
  private unsent = new Queue<Request>()
  private readonly consumers = new Map<number, RelayConsumer>()
  private lastRid = 0
  private lastTag = 0
  /** Incremented on every new connection; a request remembers the one it was written on. */
  private connection = 0
  private connected = false
  private inflight = 0
  private outbox: unknown[] = []
  private outboxBytes = 0
  private flushScheduled = false
  private wrote = false
  private info: NodeInfo | undefined
  private epoch: string | undefined
  private isClosed = false
  private readonly sweeper: NodeJS.Timeout
  private pinger: NodeJS.Timeout | undefined

  constructor(options: RelayClientOptions) {
    if (typeof options?.relay !== "string") throw new ZmeshError("EINVAL", "RelayClient: relay must be an endpoint string")
    this.sendTimeout = options.sendTimeout ?? 30_000
    this.maxInFlight = options.maxInFlight ?? 10_000
    if (!Number.isInteger(this.sendTimeout) || this.sendTimeout <= 0) throw new ZmeshError("EINVAL", "RelayClient: sendTimeout must be a positive integer (ms)")
    if (!Number.isInteger(this.maxInFlight) || this.maxInFlight <= 0) throw new ZmeshError("EINVAL", "RelayClient: maxInFlight must be a positive integer")
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
    this.dealer.events.on("handshake", () => queueMicrotask(() => this.onConnected()))
    this.dealer.events.on("disconnect", () => {
      this.connected = false
    })
    this.dealer.connect(options.relay)
    void this.receiveLoop()
    this.sweeper = setInterval(() => this.expire(), Math.max(10, Math.min(1000, this.sendTimeout >> 2)))
    this.sweeper.unref()
    this.armPing(10_000)
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
    return this.request("send", command, data.length + hsize + 64) as Promise<SendResult>
  }

  /** Cancels a delayed message not yet due: true; false if unknown, not delayed, or already delivered. */
  cancel(queue: string, id: string): Promise<boolean> {
    if (!isName(queue)) return reject("ERR_RELAY_INVALID_QUEUE", `invalid queue name ${JSON.stringify(queue)}`)
    if (typeof id !== "string" || id.length === 0 || id.length > MAX_ID_LENGTH) return Promise.reject(new ZmeshError("EINVAL", "cancel: invalid id"))
    return this.request("cancel", [Op.CANCEL, 0, queue, id], 64) as Promise<boolean>
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
    if (this.connected) this.subscribe(consumer)
    return consumer
  }

  /** Closes the client: consumers end, calls still pending reject with ERR_RELAY_CLOSED. */
  async close(): Promise<void> {
    if (this.isClosed) return
    this.isClosed = true
    clearInterval(this.sweeper)
    clearInterval(this.pinger)
    if (this.connected) {
      this.enqueue([Op.BYE], 8)
      this.flush()
    }
    for (const req of this.pending.values()) req.reject(closedError(req.kind))
    this.pending.clear()
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
    return this.request("settle", command, 32) as Promise<void>
  }

  /** @internal ConsumerLink */
  async stop(consumer: RelayConsumer, unseen: number[]): Promise<void> {
    if (!this.consumers.delete(consumer.tag) || this.isClosed) return
    await this.request("stop", [Op.STOP, 0, consumer.tag, unseen], 32 + unseen.length * 9)
  }

  // ---- requests ----------------------------------------------------------------------------

  private request(kind: Kind, command: unknown[], bytes: number, internal = false): Promise<unknown> {
    if (this.isClosed) return Promise.reject(closedError(kind))
    const rid = ++this.lastRid
    command[1] = rid
    return new Promise((resolve, reject) => {
      const req: Request = { rid, kind, command, bytes, deadline: Date.now() + this.sendTimeout, internal, sentOn: 0, resolve, reject }
      this.pending.set(rid, req)
      if (internal) this.write(req)
      else {
        this.unsent.push(req)
        this.pump()
      }
    })
  }

  /** Writes waiting requests while connected and under the in-flight limit. */
  private pump(): void {
    while (this.connected && this.inflight < this.maxInFlight && this.unsent.length > 0) {
      const req = this.unsent.shift()!
      if (this.pending.get(req.rid) === req) this.write(req)
    }
  }

  private write(req: Request): void {
    if (!this.connected) return // resent, or made again, on the next connection
    req.sentOn = this.connection
    this.inflight++
    this.enqueue(req.command, req.bytes)
  }

  private enqueue(command: unknown[], bytes: number): void {
    if (this.outboxBytes + bytes > MAX_FRAME && this.outbox.length > 0) this.flush()
    this.outbox.push(command)
    this.outboxBytes += bytes
    if (this.flushScheduled) return
    this.flushScheduled = true
    // At the end of this turn: everything requested in it shares one frame (a microtask would
    // go after the first ack of a for-await loop, one frame per message).
    setImmediate(() => this.flush())
  }

  private flush(): void {
    this.flushScheduled = false
    if (this.outbox.length === 0) return
    const frame = encodeFrame(this.outbox)
    this.outbox = []
    this.outboxBytes = 0
    this.wrote = true
    // With no connection (immediate) this is refused: those requests stay pending and go again on the next.
    if (!this.dealer.closed) this.dealer.trySend(frame)
  }

  private answered(rid: number, ok: boolean, fields: unknown[]): void {
    const req = this.pending.get(rid)
    if (req === undefined) return // answered before, timed out, or from an earlier connection
    this.pending.delete(rid)
    if (req.sentOn === this.connection) this.inflight--
    if (!ok) {
      const code = typeof fields[0] === "string" ? fields[0] : "ERR_RELAY_PROTOCOL"
      req.reject(new ZmeshError(code as ZmeshError["code"], String(fields[1] ?? "the relay refused the request")))
    } else if (req.kind === "send") {
      const c = req.command
      req.resolve({ queue: c[2] as string, id: c[3] as string, seq: fields[0] as number, duplicate: fields[1] === true })
    } else {
      req.resolve(req.kind === "cancel" ? fields[0] === true : fields[0])
    }
    this.pump()
  }

  /** A send is durable (from CONFIRMS). */
  private confirmed(rid: number, seq: number): void {
    const req = this.pending.get(rid)
    if (req === undefined || req.kind !== "send") return
    this.pending.delete(rid)
    if (req.sentOn === this.connection) this.inflight--
    const c = req.command
    req.resolve({ queue: c[2] as string, id: c[3] as string, seq, duplicate: false })
    if (this.unsent.length > 0) this.pump()
  }

  /** Rejects calls that waited sendTimeout for an answer (deadlines grow with rid, as the map's order). */
  private expire(): void {
    const now = Date.now()
    for (const req of this.pending.values()) {
      if (req.deadline > now) break
      this.pending.delete(req.rid)
      if (req.sentOn === this.connection && this.connected) this.inflight--
      if (!req.internal) {
        req.reject(new ZmeshError("ERR_RELAY_UNREACHABLE", `no answer from the relay within sendTimeout (${this.sendTimeout} ms) for ${req.kind}`))
      }
    }
    this.pump()
  }

  /** PINGs when idle, well within the relay's session timeout. */
  private armPing(sessionTimeout: number): void {
    clearInterval(this.pinger)
    this.pinger = setInterval(() => this.ping(), Math.max(20, Math.floor(sessionTimeout / 4)))
    this.pinger.unref()
  }

  private ping(): void {
    if (this.connected && !this.wrote) this.enqueue([Op.PING], 8)
    this.wrote = false
  }

  // ---- connection ----------------------------------------------------------------------

  private onConnected(): void {
    if (this.isClosed) return
    this.connection++
    this.connected = true
    this.inflight = 0
    // Whatever waited for the old connection belongs to no one now.
    this.outbox = []
    this.outboxBytes = 0
    for (const req of [...this.pending.values()]) if (req.internal) this.pending.delete(req.rid)
    this.hello()
    for (const consumer of this.consumers.values()) this.subscribe(consumer)
    // Then every pending request again, in order: the relay answers a repeat from its memory.
    this.unsent = new Queue()
    for (const req of this.pending.values()) if (!req.internal) this.unsent.push(req)
    this.pump()
  }

  private hello(): void {
    this.request("hello", [Op.HELLO, 0, PROTOCOL_VERSION], 16, true).then(
      (info) => {
        const next = info as NodeInfo
        if (this.epoch !== undefined && next.epoch !== this.epoch) {
          // The relay restarted: our leases are gone, and what was buffered comes again.
          for (const c of this.consumers.values()) c.dropBuffered()
        }
        this.epoch = next.epoch
        if (this.info?.sessionTimeout !== next.sessionTimeout) this.armPing(next.sessionTimeout)
        this.info = next
      },
      () => undefined,
    )
  }

  private subscribe(consumer: RelayConsumer): void {
    const s = consumer.settings
    const command = [Op.CONSUME, 0, consumer.tag, consumer.queue, s.group, s.prefetch, s.ackTimeout, s.maxDeliveries, s.deadLetterQueue]
    this.request("consume", command, 128, true).catch((err: ZmeshError) => {
      if (err.code === "ERR_RELAY_CLOSED") return
      this.consumers.delete(consumer.tag)
      consumer.end(err)
    })
  }

  private async receiveLoop(): Promise<void> {
    for await (const message of this.dealer) {
      if (message.length !== 1) continue
      let commands: unknown[][]
      try {
        commands = decodeFrame(message[0]!)
      } catch {
        continue // not from a relay we understand; the relay's own frames always decode
      }
      for (const c of commands) if (Array.isArray(c)) this.handle(c)
    }
  }

  private handle(c: unknown[]): void {
    switch (c[0]) {
      case Op.OK:
        return this.answered(c[1] as number, true, c.slice(2))
      case Op.ERROR:
        return this.answered(c[1] as number, false, c.slice(2))
      case Op.CONFIRMS: {
        const pairs = c[1]
        if (!Array.isArray(pairs)) return
        for (let i = 0; i + 1 < pairs.length; i += 2) this.confirmed(pairs[i] as number, pairs[i + 1] as number)
        return
      }
      case Op.OKS: {
        const rids = c[1]
        if (!Array.isArray(rids)) return
        for (const rid of rids) this.answered(rid as number, true, NO_FIELDS)
        return
      }
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
          }),
        )
        return
      }
      case Op.RESET:
        // The relay does not know this session (it expired): register again; buffered leases are gone.
        for (const consumer of this.consumers.values()) consumer.dropBuffered()
        this.hello()
        for (const consumer of this.consumers.values()) this.subscribe(consumer)
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
