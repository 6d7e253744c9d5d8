/**
 * The request side of a RelayClient's connection: every request waits in
 * `pending` until the relay answers it (OK, ERROR, or inside CONFIRMS/OKS),
 * at most `maxInFlight` are written and unanswered at once, the requests of
 * one event-loop turn share a frame, and on every new connection everything
 * pending is written again (the relay answers repeats from its memory).
 * Calls unanswered after `sendTimeout` reject with ERR_RELAY_UNREACHABLE.
 */
import type { Dealer } from "../index.js"
import { ZmeshError } from "../errors.js"
import { Queue } from "../routing/queue.js"
import { writeCommands } from "./command-writer.js"
import { closedError } from "./consumer.js"
import { Op, decodeFrame } from "./protocol.js"

export type Kind = "hello" | "send" | "cancel" | "consume" | "stop" | "settle" | "decide" | "resolver"

interface Request {
  readonly rid: number
  readonly kind: Kind
  readonly command: unknown[]
  readonly bytes: number
  readonly deadline: number
  /** HELLO and CONSUME belong to one connection: made again on the next, not resent. */
  readonly internal: boolean
  /** May be handed back unwritten when the relay is unreachable (another relay can take it). */
  readonly movable: boolean
  /** A field of the command set to null on every write after the first (SEND's "first attempt" flag). */
  readonly firstOnly: number
  sentOn: number
  resolve(value: unknown): void
  reject(err: Error): void
}

export interface ChannelHooks {
  /** A connection is up: say HELLO and register consumers (internal requests); the pending ones follow. */
  connected(): void
  /** A command from the relay that answers no request (DELIVER, RESET, PONG...). */
  command(c: unknown[]): void
}

/** A request handed back unwritten: the relay was unreachable, and the caller may try another. */
export class Unsent extends ZmeshError {
  constructor(kind: Kind) {
    super("ERR_RELAY_UNREACHABLE", `${kind}: the relay is unreachable (the request was never written)`)
  }
}

/** A frame carries at most about this much; a bigger single command goes alone. */
const MAX_FRAME = 256 * 1024
const NO_FIELDS: unknown[] = []

export class RequestChannel {
  private readonly dealer: Dealer
  private readonly sendTimeout: number
  private readonly maxInFlight: number
  private readonly hooks: ChannelHooks
  private readonly pending = new Map<number, Request>()
  private unsent = new Queue<Request>()
  private lastRid = 0
  /** Incremented on every new connection; a request remembers the one it was written on. */
  private connection = 0
  private isConnected = false
  private inflight = 0
  private outbox: unknown[] = []
  private outboxBytes = 0
  private flushScheduled = false
  private wrote = false
  private isClosed = false
  private readonly sweeper: NodeJS.Timeout
  private pinger: NodeJS.Timeout | undefined

  constructor(dealer: Dealer, sendTimeout: number, maxInFlight: number, hooks: ChannelHooks) {
    this.dealer = dealer
    this.sendTimeout = sendTimeout
    this.maxInFlight = maxInFlight
    this.hooks = hooks
    dealer.events.on("handshake", () => queueMicrotask(() => this.onConnected()))
    dealer.events.on("disconnect", () => {
      this.isConnected = false
    })
    void this.receiveLoop()
    this.sweeper = setInterval(() => this.expire(), Math.max(10, Math.min(1000, sendTimeout >> 2)))
    this.sweeper.unref()
    this.armPing(10_000)
  }

  get connected(): boolean {
    return this.isConnected
  }

  /** Sends a request (its rid goes in `command[1]`) and resolves with its answer's fields. */
  request(kind: Kind, command: unknown[], bytes: number, internal = false, movable = false, firstOnly = -1): Promise<unknown> {
    if (this.isClosed) return Promise.reject(closedError(kind))
    const rid = ++this.lastRid
    command[1] = rid
    return new Promise((resolve, reject) => {
      const req: Request = { rid, kind, command, bytes, deadline: Date.now() + this.sendTimeout, internal, movable, firstOnly, sentOn: 0, resolve, reject }
      this.pending.set(rid, req)
      if (internal) this.write(req)
      else {
        this.unsent.push(req)
        this.pump()
      }
    })
  }

  /** Sends a command that wants no answer (PING, BYE) with the next frame. */
  post(command: unknown[], bytes: number): void {
    if (this.isConnected) this.enqueue(command, bytes)
  }

  /** Writes waiting requests while connected and under the in-flight limit. */
  private pump(): void {
    while (this.isConnected && this.inflight < this.maxInFlight && this.unsent.length > 0) {
      const req = this.unsent.shift()!
      if (this.pending.get(req.rid) === req) this.write(req)
    }
  }

  private write(req: Request): void {
    if (!this.isConnected) return // resent, or made again, on the next connection
    if (req.sentOn !== 0 && req.firstOnly >= 0) req.command[req.firstOnly] = null
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

  /** Writes the frame being gathered now. */
  flush(): void {
    this.flushScheduled = false
    if (this.outbox.length === 0) return
    const frame = writeCommands(this.outbox)
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
      if (req.sentOn === this.connection && this.isConnected) this.inflight--
      if (!req.internal) {
        req.reject(new ZmeshError("ERR_RELAY_UNREACHABLE", `no answer from the relay within sendTimeout (${this.sendTimeout} ms) for ${req.kind}`))
      }
    }
    this.pump()
  }

  /** PINGs when idle, well within the relay's session timeout. */
  armPing(sessionTimeout: number): void {
    clearInterval(this.pinger)
    this.pinger = setInterval(() => this.ping(), Math.max(20, Math.floor(sessionTimeout / 4)))
    this.pinger.unref()
  }

  private ping(): void {
    if (this.isConnected && !this.wrote) this.enqueue([Op.PING], 8)
    this.wrote = false
  }

  /** Rejects everything pending with ERR_RELAY_CLOSED and stops the timers. */
  close(): void {
    this.isClosed = true
    clearInterval(this.sweeper)
    clearInterval(this.pinger)
    for (const req of this.pending.values()) req.reject(closedError(req.kind))
    this.pending.clear()
  }

  /** Rejects with Unsent every movable request never written (another relay may take it); the others wait for this relay. */
  handBackUnsent(): void {
    const kept = new Queue<Request>()
    for (const req of this.unsent.drain()) {
      if (req.movable && this.pending.get(req.rid) === req && req.sentOn === 0) {
        this.pending.delete(req.rid)
        req.reject(new Unsent(req.kind))
      } else kept.push(req)
    }
    this.unsent = kept
  }

  private onConnected(): void {
    if (this.isClosed) return
    this.connection++
    this.isConnected = true
    this.inflight = 0
    // Whatever waited for the old connection belongs to no one now.
    this.outbox = []
    this.outboxBytes = 0
    for (const req of [...this.pending.values()]) if (req.internal) this.pending.delete(req.rid)
    this.hooks.connected()
    // Then every pending request again, in order: the relay answers a repeat from its memory.
    this.unsent = new Queue()
    for (const req of this.pending.values()) if (!req.internal) this.unsent.push(req)
    this.pump()
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
      default:
        return this.hooks.command(c)
    }
  }
}
