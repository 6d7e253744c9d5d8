/**
 * The socket base: endpoints (bind/unbind/connect/disconnect), one pipe per
 * peer, the queues of waiting `send()` and `receive()` calls, timeouts,
 * linger and close, and events. Socket types implement the routing hooks.
 */
import { Context, context as defaultContext } from "../context.js"
import { ZmeshError, error } from "../errors.js"
import { Observer, type Event } from "../events.js"
import { toMessage, type MessageLike } from "../message.js"
import {
  assignOptions,
  checkOption,
  defineOptions,
  immediateOptions,
  socketDefaults,
  socketOptionChecks,
  type SocketOptionValues,
} from "../options.js"
import type { Message, Pipe, PipeOwner } from "../routing/pipe.js"
import { Queue } from "../routing/queue.js"
import type { PeerInfo } from "../zmtp/session.js"
import type { SocketType } from "../zmtp/socket-type.js"
import { disallowByDefault, grantCapabilities } from "./capabilities.js"
import { constructByNumber } from "./socket-by-number.js"
import { Endpoints } from "./endpoints.js"
import { closedLinger, hold, release, trackLinger } from "./keep-alive.js"
import { LowLevelOptions } from "./low-level-options.js"
import { type SecurityMechanism, securityOf } from "./security.js"

/** libzmq's numeric socket types, which zeromq.js exposes as `type`. */
const typeNumbers: Record<SocketType, number> = {
  PAIR: 0, PUB: 1, SUB: 2, REQ: 3, REP: 4, DEALER: 5, ROUTER: 6, PULL: 7, PUSH: 8, XPUB: 9, XSUB: 10, STREAM: 11,
}

interface SendWaiter {
  message: Message
  /** See Socket.xlane: sends of one lane complete in order; other lanes do not wait for it. */
  lane: unknown
  resolve: () => void
  reject: (err: Error) => void
  timer: NodeJS.Timeout | undefined
}

interface ReceiveWaiter {
  resolve: (message: Message) => void
  reject: (err: Error) => void
  timer: NodeJS.Timeout | undefined
}

const RESOLVED = Promise.resolve()

/**
 * A `send()` or `receive()` that completes at once resolves at once, which
 * in a tight `await` loop would starve timers and I/O (a PUB that drops for
 * a full peer never waits at all). So every this many such calls on one
 * socket, one resolves on the next event-loop turn instead, as zeromq.js
 * does after 512 synchronous operations.
 */
const SYNC_BUDGET = 512
/**
 * ...and every this many payload bytes, whichever comes first (the engine's
 * write backlog, WRITE_BACKLOG). 512 calls of 64 KiB let one loop move
 * 32 MiB without giving the event loop a turn: the peer's reads (in one
 * process) waited behind it, and the bursts kept so many buffers alive that
 * V8 ran a full GC every ~100 MiB. Small messages still yield every 512.
 */
const SYNC_BYTES = 256 * 1024


export interface Socket extends SocketOptionValues {}

/** The ZMQ_CONFLATE option of the socket types libzmq allows it on. */
export interface ConflateOptionValues {
  /** ZMQ_CONFLATE: keep only the newest message per peer, in and out; the high-water marks do not apply. */
  conflate: boolean
}

export abstract class Socket implements PipeOwner {
  /** @internal Option values; read and set them through the properties. */
  readonly options!: Record<string, unknown> & SocketOptionValues
  /** @internal The ZMTP socket type name. */
  readonly socketType!: SocketType
  private currentContext: Context | undefined
  private isClosed = false
  /** A bind or unbind is under way: other endpoint calls fail with EBUSY, close() waits for it. */
  private blocked = false
  private closeRequested = false
  /** Endpoints bound or connected, for zeromq.js's warning on options set after them. */
  private endpointCount = 0
  private closeHooks: Array<() => void> | undefined
  /** This socket holds the process alive (keep-alive.ts). */
  private holding = false
  private observer: Observer | undefined
  private readonly endpoints!: Endpoints
  private readonly sendWaiters = new Queue<SendWaiter>()
  private readonly receiveWaiters = new Queue<ReceiveWaiter>()
  /** send() and receive() calls that completed at once since this socket last yielded to the event loop. */
  private syncOperations = 0
  /** Their payload bytes. */
  private syncBytes = 0

  static {
    grantCapabilities({
      send: (socket, message) => socket.sendMessage(message),
      trySend: (socket, message) => socket.trySendMessage(message),
      receive: (socket) => socket.receiveMessage(),
      tryReceive: (socket) => socket.tryReceiveMessage(),
      iterate: (socket) => socket.iterate(),
    })
  }

  /**
   * Socket types call this with their ZMTP name. Called as `new Socket(type,
   * options)` with libzmq's type number (as zeromq.js allows), it builds the
   * socket of that type.
   */
  protected constructor(type: SocketType | number, options?: object, extraDefaults: object = {}) {
    if (options !== undefined && (typeof options !== "object" || options === null)) {
      throw new TypeError("Options must be an object")
    }
    // zmesh's socket classes pass their ZMTP name; `new Socket(1)` and user subclasses calling
    // `super(1, options)` pass libzmq's number, and get a socket of that type.
    if (new.target === Socket || typeof type !== "string" || !Object.hasOwn(typeNumbers, type)) {
      return constructByNumber(arguments.length, type, options, new.target)
    }
    this.socketType = type
    const context = (options as { context?: unknown } | undefined)?.context ?? defaultContext
    if (!(context instanceof Context)) throw error("EINVAL", "the context option must be a Context")
    this.currentContext = context
    this.options = {
      ...socketDefaults,
      linger: context.blocky ? -1 : 0,
      ipv6: context.ipv6,
      ...extraDefaults,
    } as Record<string, unknown> & SocketOptionValues
    const socket = this
    this.endpoints = new Endpoints({
      socketType: type,
      options: this.options,
      get closed() {
        return socket.isClosed
      },
      emit: (event) => this.emit(event),
      attach: (pipe, peer) => {
        if (!this.xattach(pipe, peer)) return false
        if (this.sendWaiters.length > 0) this.serveSenders()
        return true
      },
      ready: (pipe, peer) => this.xready(pipe, peer),
      detach: (pipe) => this.xdetach(pipe),
      command: (pipe, name, data) => this.xcommand(pipe, name, data),
      pipeReadable: (pipe) => this.pipeReadable(pipe),
      pipeWritable: (pipe) => this.pipeWritable(pipe),
    })
    assignOptions(this, options)
    // Last, so that a socket refused for its options never counts against maxSockets.
    context.acquire()
    trackLinger(this)
  }

  /** The context this socket belongs to: the default `context` unless given `{ context }`; undefined once closed. */
  get context(): Context {
    return this.currentContext as Context
  }

  /** The socket type as libzmq numbers it (ZMQ_PAIR = 0 ... ZMQ_XSUB = 10). */
  get type(): number {
    return typeNumbers[this.socketType]
  }

  /** ZMQ_LAST_ENDPOINT: the endpoint of the last bind, with the real port for `:*`. */
  get lastEndpoint(): string | null {
    return this.endpoints.lastEndpoint
  }

  /** ZMQ_MECHANISM: "curve" or "plain" when a role is configured, else null (NULL). */
  get securityMechanism(): SecurityMechanism {
    return securityOf(this.options)
  }

  /** Every zmesh socket may be used from any async context of its thread. */
  get threadSafe(): boolean {
    return false
  }

  get closed(): boolean {
    return this.isClosed
  }

  /** True when a message is waiting, so `receive()` would not wait. */
  get readable(): boolean {
    return !this.isClosed && this.xhasIn()
  }

  /** True when `send()` would not wait. */
  get writable(): boolean {
    return !this.isClosed && this.sendWaiters.length === 0 && this.xhasOut()
  }

  /** The socket's event observer, created on first use. */
  get events(): Observer {
    this.observer ??= new Observer()
    return this.observer
  }

  /**
   * Binds to an endpoint: `tcp://127.0.0.1:*` picks a free port (read it back
   * from `lastEndpoint`), `ipc:///tmp/name.sock` a Unix socket. While it is
   * under way, other bind, unbind, connect and disconnect calls throw EBUSY.
   */
  bind(address: string): Promise<void> {
    this.assertAvailable(address)
    return this.blockWhile(this.endpoints.bind(address).then(() => void this.endpointCount++))
  }

  /** Stops listening on an endpoint and drops the connections accepted through it. */
  unbind(address: string): Promise<void> {
    this.assertAvailable(address)
    return this.blockWhile(this.endpoints.unbind(address).then(() => void this.endpointCount--))
  }

  /**
   * Connects to an endpoint. Returns at once: the connection is made, and
   * remade after a loss, in the background. Messages sent meanwhile queue
   * for this peer up to `sendHighWaterMark`.
   */
  connect(address: string): void {
    this.dial(address, undefined)
  }

  /** connect() with ZMQ_CONNECT_ROUTING_ID, the name this socket gives the peer (ROUTER, STREAM). */
  protected dialNamed(address: string, routingId: string | Buffer | undefined): void {
    if (routingId !== undefined) checkOption("routingId", "routingId", routingId)
    this.dial(address, routingId === undefined ? undefined : Buffer.from(routingId))
  }

  /** connect() with an already checked ZMQ_CONNECT_ROUTING_ID, or none. */
  protected dial(address: string, connectRoutingId: Buffer | undefined): void {
    this.assertAvailable(address)
    this.endpoints.connect(address, connectRoutingId)
    this.endpointCount++
  }

  /** Stops connecting to an endpoint; pending output is delivered within `linger`. */
  disconnect(address: string): void {
    this.assertAvailable(address)
    this.endpoints.disconnect(address)
    this.endpointCount--
  }

  /**
   * Closes the socket at once; pending output is still delivered within
   * `linger` ms (for ever with -1, the default). Pending `send()` and
   * `receive()` calls reject with EAGAIN. During a bind or unbind the socket
   * closes as soon as that settles (`closed` is false until then).
   */
  close(): void {
    if (this.isClosed) return
    if (this.blocked) {
      this.closeRequested = true
      return
    }
    this.isClosed = true
    // As zeromq.js, a closed socket lets go of its context.
    this.currentContext?.release()
    this.currentContext = undefined
    this.endpoints.close()
    const closedError = () => error("EAGAIN", "the socket was closed while the call waited")
    for (const w of this.sendWaiters.drain()) settle(w.timer, () => w.reject(closedError()))
    for (const w of this.receiveWaiters.drain()) settle(w.timer, () => w.reject(closedError()))
    this.updateHold()
    closedLinger(this)
    this.emit({ type: "end" })
    this.observer?.close()
    for (const hook of this.closeHooks?.splice(0) ?? []) hook()
  }

  /** @internal True once the socket has been bound or connected (and not unbound/disconnected since). */
  get hasEndpoints(): boolean {
    return this.endpointCount > 0
  }

  /** @internal Runs `hook` when the socket closes (Proxy ends its run). */
  whenClosed(hook: () => void): void {
    if (this.isClosed) hook()
    else (this.closeHooks ??= []).push(hook)
  }

  /** @internal Called by every option setter: zeromq.js warns when an option set now applies only later. */
  optionSet(name: string): void {
    if (name === "sendHighWaterMark" || name === "receiveHighWaterMark") this.endpoints?.applyHighWaterMarks()
    if ((this.endpointCount > 0 || this.blocked) && !immediateOptions.has(name)) {
      process.emitWarning("Socket option will not take effect until next connect/bind.")
    }
  }

  // ---- for socket types ----------------------------------------------------

  /** Queues or sends a message, in call order; concurrent calls never fail with EBUSY. */
  protected sendMessage(message: MessageLike | readonly MessageLike[]): Promise<void> {
    if (message === undefined) throw new TypeError("Message must be present")
    if (this.isClosed) return Promise.reject(error("EBADF", "Socket is closed"))
    let frames: Message
    try {
      frames = toMessage(message)
      if (!this.waitingIn(this.xlane(frames)) && this.xsend(frames)) return this.completedAtOnce(undefined, frames)
    } catch (err) {
      return Promise.reject(err)
    }
    const timeout = this.options.sendTimeout
    if (timeout === 0) return Promise.reject(error("EAGAIN", "Socket temporarily unavailable"))
    return new Promise((resolve, reject) => {
      this.enqueue(this.sendWaiters, { message: frames, lane: this.xlane(frames), resolve, reject, timer: undefined }, timeout)
    })
  }

  /**
   * Queues a waiting call; it rejects with EAGAIN once `timeout` ms have
   * passed (-1: never), libzmq's ZMQ_SNDTIMEO / ZMQ_RCVTIMEO.
   */
  private enqueue<W extends SendWaiter | ReceiveWaiter>(queue: Queue<W>, waiter: W, timeout: number): void {
    if (timeout > 0) {
      waiter.timer = setTimeout(() => {
        queue.removeWhere((w) => w === waiter)
        this.updateHold()
        waiter.reject(error("EAGAIN", "Socket temporarily unavailable"))
      }, timeout)
    }
    queue.push(waiter)
    this.updateHold()
  }

  /**
   * A promise for a call that completed at once with `message`: resolved
   * now, or on the next turn once the budget of calls or bytes is spent.
   */
  private completedAtOnce<T>(value: T, message: Message): Promise<T> {
    let bytes = this.syncBytes
    for (let i = 0; i < message.length; i++) bytes += message[i]!.length
    if (++this.syncOperations < SYNC_BUDGET && bytes < SYNC_BYTES) {
      this.syncBytes = bytes
      return value === undefined ? (RESOLVED as Promise<T>) : Promise.resolve(value)
    }
    this.syncOperations = 0
    this.syncBytes = 0
    return new Promise((resolve) => setImmediate(resolve, value))
  }

  /** Sends at once if the socket can take the message now; false otherwise (nothing is queued). */
  protected trySendMessage(message: MessageLike | readonly MessageLike[]): boolean {
    if (this.isClosed) throw error("EBADF", "Socket is closed")
    const frames = toMessage(message)
    return !this.waitingIn(this.xlane(frames)) && this.xsend(frames)
  }

  /** True when a send of this lane must queue behind an earlier one. */
  private waitingIn(lane: unknown): boolean {
    if (this.sendWaiters.length === 0) return false
    if (lane === undefined) return true
    let found = false
    this.sendWaiters.forEach((waiter) => {
      if (waiter.lane === lane) found = true
    })
    return found
  }

  /** The next message if one waits now and no receive() is pending before it; else undefined. */
  protected tryReceiveMessage(): Message | undefined {
    if (this.isClosed) throw error("EBADF", "Socket is closed")
    return this.receiveWaiters.length === 0 ? this.xrecv() : undefined
  }

  protected receiveMessage(): Promise<Message> {
    if (this.isClosed) return Promise.reject(error("EBADF", "Socket is closed"))
    if (this.receiveWaiters.length === 0) {
      let message: Message | undefined
      try {
        message = this.xrecv()
      } catch (err) {
        return Promise.reject(err)
      }
      if (message !== undefined) return this.completedAtOnce(message, message)
    }
    const timeout = this.options.receiveTimeout
    if (timeout === 0) return Promise.reject(error("EAGAIN", "Socket temporarily unavailable"))
    return new Promise((resolve, reject) => this.enqueue(this.receiveWaiters, { resolve, reject, timer: undefined }, timeout))
  }

  /**
   * @internal For Proxy: a receive that can be withdrawn without losing a
   * message; `cancel()` resolves it with undefined if nothing came yet.
   */
  receiveOrCancel(): { promise: Promise<Message | undefined>; cancel(): void } {
    let waiter: ReceiveWaiter | undefined
    const promise = new Promise<Message | undefined>((resolve, reject) => {
      if (this.isClosed) return reject(error("EBADF", "Socket is closed"))
      const message = this.receiveWaiters.length === 0 ? this.xrecv() : undefined
      if (message !== undefined) return resolve(message)
      waiter = { resolve, reject, timer: undefined }
      this.enqueue(this.receiveWaiters, waiter, -1)
    })
    const cancel = () => {
      if (waiter === undefined) return
      const pending = waiter
      this.receiveWaiters.removeWhere((w) => w === pending)
      this.updateHold()
      pending.resolve(undefined as never)
    }
    return { promise, cancel }
  }

  /** Async iteration over received messages; ends when the socket closes. */
  protected iterate(): AsyncIterator<Message, undefined> {
    return { next: () => this.iterateNext() }
  }

  /**
   * One step of async iteration. A message already queued costs one
   * promise, already resolved (within the SYNC_BUDGET), instead of an async
   * function's and receive()'s.
   */
  private iterateNext(): Promise<IteratorResult<Message, undefined>> {
    if (this.isClosed) return Promise.resolve({ value: undefined, done: true })
    if (this.receiveWaiters.length === 0) {
      let message: Message | undefined
      try {
        message = this.xrecv()
      } catch (err) {
        return Promise.reject(err)
      }
      if (message !== undefined) return this.completedAtOnce<IteratorResult<Message, undefined>>({ value: message, done: false }, message)
    }
    return this.receiveMessage().then(
      (value) => ({ value, done: false }),
      (err: unknown) => {
        if (this.isClosed && (err as ZmeshError).code === "EAGAIN") return { value: undefined, done: true }
        throw err
      },
    )
  }

  /** A new peer's pipe; false refuses the connection (PAIR's second peer). */
  protected abstract xattach(pipe: Pipe, peer: PeerInfo | undefined): boolean
  /**
   * A handshake completed on this pipe (a new one, or a dialed one after each
   * reconnect); false refuses the connection. Runs before queued output moves.
   */
  protected xready(_pipe: Pipe, _peer: PeerInfo): boolean {
    return true
  }
  /**
   * A command after the handshake other than PING/PONG/ERROR (SUBSCRIBE,
   * CANCEL); ignored by default. False pauses reading from that peer until
   * `pipe.engine.resume()`.
   */
  protected xcommand(_pipe: Pipe, _name: string, _data: Buffer): boolean | void {}
  /** A pipe is gone for good. */
  protected abstract xdetach(pipe: Pipe): void
  /** A pipe's inbound queue became non-empty. */
  protected abstract xreadable(pipe: Pipe): void
  /** Routes an outbound message; false when it must wait. May throw (EFSM, EHOSTUNREACH). */
  protected abstract xsend(message: Message): boolean
  /** The next inbound message for the application, if any. */
  protected abstract xrecv(): Message | undefined
  protected abstract xhasIn(): boolean
  protected abstract xhasOut(): boolean

  /** @internal PipeOwner */
  pipeReadable(pipe: Pipe): void {
    this.xreadable(pipe)
    if (this.receiveWaiters.length > 0) this.serveReceivers()
  }

  /** @internal PipeOwner */
  pipeWritable(_pipe: Pipe): void {
    if (this.sendWaiters.length > 0) this.serveSenders()
  }

  /** Hands waiting messages to waiting `receive()` calls (also after a socket type's state change). */
  protected serveReceivers(): void {
    this.serveReceiversNow()
    this.updateHold()
  }

  private serveReceiversNow(): void {
    while (this.receiveWaiters.length > 0) {
      let message: Message | undefined
      try {
        message = this.xrecv()
      } catch (err) {
        const waiter = this.receiveWaiters.shift()!
        settle(waiter.timer, () => waiter.reject(err as Error))
        continue
      }
      if (message === undefined) return
      const waiter = this.receiveWaiters.shift()!
      settle(waiter.timer, () => waiter.resolve(message))
    }
  }

  protected serveSenders(): void {
    this.serveSendersNow()
    this.updateHold()
  }

  private serveSendersNow(): void {
    if (this.sendWaiters.peek()?.lane !== undefined) return this.serveLanes()
    while (this.sendWaiters.length > 0) {
      const waiter = this.sendWaiters.peek()!
      try {
        if (!this.xsend(waiter.message)) return
      } catch (err) {
        this.sendWaiters.shift()
        settle(waiter.timer, () => waiter.reject(err as Error))
        continue
      }
      this.sendWaiters.shift()
      settle(waiter.timer, () => waiter.resolve())
    }
  }

  /** Each lane in order; a lane whose head cannot go yet does not hold up the others. */
  private serveLanes(): void {
    const blocked = new Set<unknown>()
    for (const waiter of this.sendWaiters.drain()) {
      if (blocked.has(waiter.lane)) {
        this.sendWaiters.push(waiter)
        continue
      }
      let sent: boolean
      try {
        sent = this.xsend(waiter.message)
      } catch (err) {
        settle(waiter.timer, () => waiter.reject(err as Error))
        continue
      }
      if (sent) settle(waiter.timer, () => waiter.resolve())
      else {
        blocked.add(waiter.lane)
        this.sendWaiters.push(waiter)
      }
    }
  }

  /**
   * The lane of an outbound message: sends that must wait queue behind the
   * earlier sends of their lane only. One lane by default (every send in
   * call order); ROUTER with `mandatory` has one per peer.
   */
  protected xlane(_message: Message): unknown {
    return undefined
  }

  protected emit(event: Event): void {
    this.observer?.emit(event)
  }

  /** Drops a peer's connection and pipe now (ROUTER handover); `reason` goes in the disconnect event. */
  protected dropPipe(pipe: Pipe, reason?: ZmeshError): void {
    this.endpoints.dropPipe(pipe, reason)
  }

  /** A socket keeps the process alive while a send() or receive() waits on it (keep-alive.ts). */
  private updateHold(): void {
    const waiting = this.sendWaiters.length > 0 || this.receiveWaiters.length > 0
    if (waiting === this.holding) return
    this.holding = waiting
    if (waiting) hold()
    else release()
  }

  /** @internal For the exit-time wait of keep-alive.ts: output still waits to be sent. */
  get hasPendingOutput(): boolean {
    return this.endpoints.hasPendingOutput
  }

  /** Endpoint calls: the address must be a string, the socket open and not busy binding. */
  private assertAvailable(address: unknown): void {
    if (typeof address !== "string") throw new TypeError("Address must be a string")
    if (this.isClosed) throw error("EBADF", `cannot use ${address}: the socket is closed`, { address })
    if (this.blocked) {
      throw error("EBUSY", `cannot use ${address} while a bind or unbind is under way`, {
        message: "Socket is blocked by a bind or unbind operation",
        address,
      })
    }
  }

  private async blockWhile(operation: Promise<void>): Promise<void> {
    this.blocked = true
    try {
      await operation
    } finally {
      this.blocked = false
      if (this.closeRequested) this.close()
    }
  }
}

defineOptions(Socket.prototype, socketOptionChecks)
LowLevelOptions.install(Socket.prototype)
disallowByDefault(Socket.prototype)

function settle(timer: NodeJS.Timeout | undefined, fn: () => void): void {
  if (timer !== undefined) clearTimeout(timer)
  fn()
}
