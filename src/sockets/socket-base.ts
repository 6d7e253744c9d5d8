/**
 * The socket base: endpoints (bind/unbind/connect/disconnect), one pipe per
 * peer, the queues of waiting `send()` and `receive()` calls, timeouts,
 * linger and close, and events. Socket types implement the routing hooks.
 */
import { ZmeshError, error } from "../errors.js"
import { Observer, type Event } from "../events.js"
import { toMessage, type MessageLike } from "../message.js"
import { assignOptions, defineOptions, socketDefaults, socketOptionChecks, type SocketOptionValues } from "../options.js"
import type { Message, Pipe, PipeOwner } from "../routing/pipe.js"
import { Queue } from "../routing/queue.js"
import type { PeerInfo } from "../zmtp/session.js"
import type { SocketType } from "../zmtp/socket-type.js"
import { grantCapabilities } from "./capabilities.js"
import { Endpoints } from "./endpoints.js"
import { type SecurityMechanism, securityOf } from "./security.js"

/** libzmq's numeric socket types, which zeromq.js exposes as `type`. */
const typeNumbers: Record<SocketType, number> = {
  PAIR: 0, PUB: 1, SUB: 2, REQ: 3, REP: 4, DEALER: 5, ROUTER: 6, PULL: 7, PUSH: 8, XPUB: 9, XSUB: 10,
}

interface SendWaiter {
  message: Message
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

export interface Socket extends SocketOptionValues {}

/** The ZMQ_CONFLATE option of the socket types libzmq allows it on. */
export interface ConflateOptionValues {
  /** ZMQ_CONFLATE: keep only the newest message per peer, in and out; the high-water marks do not apply. */
  conflate: boolean
}

export abstract class Socket implements PipeOwner {
  /** @internal Option values; read and set them through the properties. */
  readonly options: Record<string, unknown> & SocketOptionValues
  /** @internal The ZMTP socket type name. */
  readonly socketType: SocketType
  private isClosed = false
  private observer: Observer | undefined
  private readonly endpoints: Endpoints
  private readonly sendWaiters = new Queue<SendWaiter>()
  private readonly receiveWaiters = new Queue<ReceiveWaiter>()
  /** Set by xsend when a peer was too full to take the message at once. */
  protected congested = false

  static {
    grantCapabilities({
      send: (socket, message) => socket.sendMessage(message),
      trySend: (socket, message) => socket.trySendMessage(message),
      receive: (socket) => socket.receiveMessage(),
      iterate: (socket) => socket.iterate(),
    })
  }

  protected constructor(type: SocketType, options: object | undefined, extraDefaults: object = {}) {
    this.socketType = type
    this.options = { ...socketDefaults, ...extraDefaults } as Record<string, unknown> & SocketOptionValues
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
   * from `lastEndpoint`), `ipc:///tmp/name.sock` a Unix socket.
   */
  async bind(address: string): Promise<void> {
    this.assertOpen()
    await this.endpoints.bind(address)
  }

  /** Stops listening on an endpoint and drops the connections accepted through it. */
  async unbind(address: string): Promise<void> {
    this.assertOpen()
    await this.endpoints.unbind(address)
  }

  /**
   * Connects to an endpoint. Returns at once: the connection is made, and
   * remade after a loss, in the background. Messages sent meanwhile queue
   * for this peer up to `sendHighWaterMark`.
   */
  connect(address: string): void {
    this.dial(address, undefined)
  }

  /** connect() with ZMQ_CONNECT_ROUTING_ID, the name a ROUTER gives this peer. */
  protected dial(address: string, connectRoutingId: Buffer | undefined): void {
    this.assertOpen()
    this.endpoints.connect(address, connectRoutingId)
  }

  /** Stops connecting to an endpoint; pending output is delivered within `linger`. */
  disconnect(address: string): void {
    this.assertOpen()
    this.endpoints.disconnect(address)
  }

  /**
   * Closes the socket at once; pending output is still delivered within
   * `linger` ms (for ever with -1, the default). Pending `send()` and
   * `receive()` calls reject with EAGAIN.
   */
  close(): void {
    if (this.isClosed) return
    this.isClosed = true
    this.endpoints.close()
    const closedError = () => error("EAGAIN", "Socket was closed")
    for (const w of this.sendWaiters.drain()) settle(w.timer, () => w.reject(closedError()))
    for (const w of this.receiveWaiters.drain()) settle(w.timer, () => w.reject(closedError()))
    this.emit({ type: "end" })
    this.observer?.close()
  }

  // ---- for socket types ----------------------------------------------------

  /** Queues or sends a message, in call order; concurrent calls never fail with EBUSY. */
  protected sendMessage(message: MessageLike | readonly MessageLike[]): Promise<void> {
    if (this.isClosed) return Promise.reject(error("EBADF", "Socket is closed"))
    let frames: Message
    try {
      frames = toMessage(message)
      if (this.sendWaiters.length === 0 && this.xsend(frames)) {
        if (!this.congested) return RESOLVED
        // A socket that drops instead of waiting (PUB, ROUTER) saw a full peer: yield one
        // turn so the connections can drain, or a tight send loop would starve all I/O.
        this.congested = false
        return new Promise((resolve) => setImmediate(resolve))
      }
    } catch (err) {
      return Promise.reject(err)
    }
    const timeout = this.options.sendTimeout
    if (timeout === 0) return Promise.reject(error("EAGAIN", "Socket temporarily unavailable"))
    return new Promise((resolve, reject) => {
      const waiter: SendWaiter = { message: frames, resolve, reject, timer: undefined }
      if (timeout > 0) {
        waiter.timer = setTimeout(() => {
          this.sendWaiters.removeWhere((w) => w === waiter)
          reject(error("EAGAIN", "Socket temporarily unavailable"))
        }, timeout)
      }
      this.sendWaiters.push(waiter)
    })
  }

  /** Sends at once if the socket can take the message now; false otherwise (nothing is queued). */
  protected trySendMessage(message: MessageLike | readonly MessageLike[]): boolean {
    if (this.isClosed) throw error("EBADF", "Socket is closed")
    return this.sendWaiters.length === 0 && this.xsend(toMessage(message))
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
      if (message !== undefined) return Promise.resolve(message)
    }
    const timeout = this.options.receiveTimeout
    if (timeout === 0) return Promise.reject(error("EAGAIN", "Socket temporarily unavailable"))
    return new Promise((resolve, reject) => {
      const waiter: ReceiveWaiter = { resolve, reject, timer: undefined }
      if (timeout > 0) {
        waiter.timer = setTimeout(() => {
          this.receiveWaiters.removeWhere((w) => w === waiter)
          reject(error("EAGAIN", "Socket temporarily unavailable"))
        }, timeout)
      }
      this.receiveWaiters.push(waiter)
    })
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
      this.receiveWaiters.push(waiter)
    })
    const cancel = () => {
      if (waiter === undefined) return
      const pending = waiter
      this.receiveWaiters.removeWhere((w) => w === pending)
      pending.resolve(undefined as never)
    }
    return { promise, cancel }
  }

  /** Async iteration over received messages; ends when the socket closes. */
  protected iterate(): AsyncIterator<Message, undefined> {
    return {
      next: async () => {
        if (this.isClosed) return { value: undefined, done: true }
        try {
          return { value: await this.receiveMessage(), done: false }
        } catch (err) {
          if (this.isClosed && (err as ZmeshError).code === "EAGAIN") return { value: undefined, done: true }
          throw err
        }
      },
    }
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

  protected emit(event: Event): void {
    this.observer?.emit(event)
  }

  /** Drops a peer's connection and pipe now (ROUTER handover); `reason` goes in the disconnect event. */
  protected dropPipe(pipe: Pipe, reason?: ZmeshError): void {
    this.endpoints.dropPipe(pipe, reason)
  }

  private assertOpen(): void {
    if (this.isClosed) throw error("EBADF", "Socket is closed")
  }
}

defineOptions(Socket.prototype, socketOptionChecks)

function settle(timer: NodeJS.Timeout | undefined, fn: () => void): void {
  if (timer !== undefined) clearTimeout(timer)
  fn()
}
