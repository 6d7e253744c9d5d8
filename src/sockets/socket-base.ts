/**
 * The socket base: endpoints (bind/unbind/connect/disconnect), one pipe per
 * peer, the queues of waiting `send()` and `receive()` calls, timeouts,
 * linger and close, and events. Socket types implement the routing hooks.
 */
import type net from "node:net"
import { ZmeshError, error } from "../errors.js"
import { Observer, type Event } from "../events.js"
import { toMessage, type MessageLike } from "../message.js"
import { assignOptions, defineOptions, socketDefaults, socketOptionChecks, type SocketOptionValues } from "../options.js"
import type { Message, Pipe, PipeOwner } from "../routing/pipe.js"
import { Pipe as PipeImpl } from "../routing/pipe.js"
import { Queue } from "../routing/queue.js"
import { Connector } from "../transport/connector.js"
import { type Endpoint, parseEndpoint } from "../transport/endpoint.js"
import { type Listener, listen } from "../transport/listener.js"
import { StreamEngine } from "../transport/stream-engine.js"
import { NullMechanism } from "../zmtp/mechanisms/null.js"
import type { PeerInfo, SessionFailure } from "../zmtp/session.js"
import type { SocketType } from "../zmtp/socket-type.js"

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

/** One connection: its engine and, once the handshake is done, its pipe. */
interface Link {
  readonly address: string
  engine: StreamEngine | undefined
  pipe: Pipe | undefined
  /** Set for connections we dialed. */
  readonly dial: Dial | undefined
  /** Set for connections we accepted. */
  readonly bound: Bound | undefined
}

interface Dial {
  readonly address: string
  readonly connectRoutingId: Buffer | undefined
  readonly connector: Connector
  /** Exists from connect() on unless `immediate`, and survives reconnects. */
  pipe: Pipe | undefined
  link: Link | undefined
  stopped: boolean
  lingerTimer: NodeJS.Timeout | undefined
}

interface Bound {
  readonly address: string
  readonly listener: Listener
  readonly links: Set<Link>
}

const RESOLVED = Promise.resolve()

export interface Socket extends SocketOptionValues {}

export abstract class Socket implements PipeOwner {
  /** @internal Option values; read and set them through the properties. */
  readonly options: Record<string, unknown> & SocketOptionValues
  /** @internal The ZMTP socket type name. */
  readonly socketType: SocketType
  private endpoint: string | null = null
  private isClosed = false
  private observer: Observer | undefined
  private readonly bounds = new Map<string, Bound>()
  private readonly dials = new Map<string, Dial[]>()
  private readonly links = new Set<Link>()
  private readonly sendWaiters = new Queue<SendWaiter>()
  private readonly receiveWaiters = new Queue<ReceiveWaiter>()

  protected constructor(type: SocketType, options: object | undefined, extraDefaults: object = {}) {
    this.socketType = type
    this.options = { ...socketDefaults, ...extraDefaults } as Record<string, unknown> & SocketOptionValues
    assignOptions(this, options)
  }

  /** The socket type as libzmq numbers it (ZMQ_PAIR = 0 ... ZMQ_XSUB = 10). */
  get type(): number {
    return typeNumbers[this.socketType]
  }

  /** ZMQ_LAST_ENDPOINT: the endpoint of the last bind, with the real port for `:*`. */
  get lastEndpoint(): string | null {
    return this.endpoint
  }

  /** ZMQ_MECHANISM: null for the NULL mechanism. */
  get securityMechanism(): null | "plain" | "curve" {
    return null
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
    const endpoint = this.parse(address, true)
    const bound: { value?: Bound } = {}
    let listener: Listener
    try {
      listener = await listen(
        endpoint,
        { backlog: this.options.backlog, ipv6: this.options.ipv6 },
        (socket) => this.accept(socket, bound.value!),
      )
    } catch (err) {
      const failure = err instanceof ZmeshError ? err : error("EINVAL", `could not bind ${address}`, { cause: err })
      this.emit({ type: "bind:error", address, error: failure })
      throw failure
    }
    const entry: Bound = { address: listener.endpoint, listener, links: new Set() }
    bound.value = entry
    if (this.isClosed) {
      await listener.close()
      throw error("EBADF", `socket closed while binding ${address}`, { address })
    }
    this.bounds.set(listener.endpoint, entry)
    if (address !== listener.endpoint) this.bounds.set(address, entry)
    this.endpoint = listener.endpoint
    this.emit({ type: "bind", address: listener.endpoint })
  }

  /** Stops listening on an endpoint and drops the connections accepted through it. */
  async unbind(address: string): Promise<void> {
    this.assertOpen()
    const entry = this.bounds.get(address)
    if (entry === undefined) throw error("ENOENT", `not bound to ${address}`, { address })
    for (const [key, value] of this.bounds) if (value === entry) this.bounds.delete(key)
    for (const link of entry.links) this.closeLink(link)
    await entry.listener.close()
    this.emit({ type: "close", address: entry.address })
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
    const endpoint = this.parse(address, false)
    const dial: Dial = {
      connectRoutingId,
      address,
      pipe: undefined,
      link: undefined,
      stopped: false,
      lingerTimer: undefined,
      connector: new Connector(endpoint, this.options, {
        delayed: () => this.emit({ type: "connect:delay", address }),
        failed: () => this.emit({ type: "close", address }),
        retrying: (interval) => this.emit({ type: "connect:retry", address, interval }),
        connected: (socket) => {
          this.emit({ type: "connect", address })
          dial.link = this.startLink(socket, address, dial, undefined)
        },
      }),
    }
    if (!this.options.immediate) {
      const pipe = this.createPipe(address, connectRoutingId)
      if (this.attachPipe(pipe)) dial.pipe = pipe
    }
    const list = this.dials.get(address)
    if (list === undefined) this.dials.set(address, [dial])
    else list.push(dial)
    dial.connector.start()
  }

  /** Stops connecting to an endpoint; pending output is delivered within `linger`. */
  disconnect(address: string): void {
    this.assertOpen()
    const list = this.dials.get(address)
    if (list === undefined) throw error("ENOENT", `not connected to ${address}`, { address })
    this.dials.delete(address)
    for (const dial of list) this.stopDial(dial)
  }

  /**
   * Closes the socket at once; pending output is still delivered within
   * `linger` ms (for ever with -1, the default). Pending `send()` and
   * `receive()` calls reject with EAGAIN.
   */
  close(): void {
    if (this.isClosed) return
    this.isClosed = true
    for (const entry of new Set(this.bounds.values())) {
      for (const link of entry.links) this.closeLink(link)
      void entry.listener.close()
    }
    this.bounds.clear()
    for (const list of this.dials.values()) for (const dial of list) this.stopDial(dial)
    this.dials.clear()
    for (const link of this.links) this.closeLink(link)
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
      if (this.sendWaiters.length === 0 && this.xsend(frames)) return RESOLVED
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
  /** A command after the handshake other than PING/PONG/ERROR (SUBSCRIBE, CANCEL); ignored by default. */
  protected xcommand(_pipe: Pipe, _name: string, _data: Buffer): void {}
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

  // ---- connections ----------------------------------------------------------

  private parse(address: string, forBind: boolean): Endpoint {
    if (typeof address !== "string") throw error("EINVAL", `endpoint must be a string, not ${typeof address}`)
    const endpoint = parseEndpoint(address, forBind)
    if (endpoint.transport === "inproc") {
      throw error("EPROTONOSUPPORT", `inproc:// is not supported yet: ${address}`, { address })
    }
    return endpoint
  }

  private accept(socket: net.Socket, bound: Bound): void {
    if (this.isClosed) {
      socket.destroy()
      return
    }
    this.emit({ type: "accept", address: bound.address })
    const link = this.startLink(socket, bound.address, undefined, bound)
    bound.links.add(link)
  }

  private createPipe(address: string, connectRoutingId?: Buffer): Pipe {
    const pipe = new PipeImpl(this, address, this.options.sendHighWaterMark, this.options.receiveHighWaterMark)
    pipe.connectRoutingId = connectRoutingId
    return pipe
  }

  private attachPipe(pipe: Pipe, peer?: PeerInfo): boolean {
    if (!this.xattach(pipe, peer)) return false
    if (this.sendWaiters.length > 0) this.serveSenders()
    return true
  }

  private startLink(socket: net.Socket, address: string, dial: Dial | undefined, bound: Bound | undefined): Link {
    const link: Link = { address, engine: undefined, pipe: undefined, dial, bound }
    this.links.add(link)
    const { routingId } = this.options
    link.engine = new StreamEngine(
      socket,
      {
        socketType: this.socketType,
        routingId: routingId === null ? undefined : Buffer.from(routingId),
        mechanism: new NullMechanism(),
        maxMessageSize: this.options.maxMessageSize,
        handshakeInterval: this.options.handshakeInterval,
        heartbeatInterval: this.options.heartbeatInterval,
        heartbeatTimeout: this.options.heartbeatTimeout,
        heartbeatTimeToLive: this.options.heartbeatTimeToLive,
      },
      {
        ready: (engine, peer) => this.linkReady(link, engine, peer),
        message: (frames) => link.pipe!.deliver(frames),
        command: (name, data) => this.xcommand(link.pipe!, name, data),
        drained: () => link.pipe?.flush(),
        closed: (_engine, failure) => this.linkClosed(link, failure),
      },
    )
    return link
  }

  private linkReady(link: Link, engine: StreamEngine, peer: PeerInfo): void {
    this.emit({ type: "handshake", address: link.address })
    const dial = link.dial
    let pipe = dial?.pipe
    const created = pipe === undefined
    if (pipe === undefined) {
      pipe = this.createPipe(link.address, dial?.connectRoutingId)
      pipe.peerIdentity = peer.routingId
      pipe.peerMinor = peer.minor
      if (!this.attachPipe(pipe, peer)) {
        engine.destroy(undefined)
        return
      }
      if (dial !== undefined) dial.pipe = pipe
    }
    pipe.peerIdentity = peer.routingId
    pipe.peerMinor = peer.minor
    link.pipe = pipe
    if (!this.xready(pipe, peer)) {
      link.pipe = undefined
      if (created) {
        if (dial !== undefined) dial.pipe = undefined
        this.terminatePipe(pipe)
      }
      engine.destroy(undefined)
      return
    }
    pipe.attach(engine)
    dial?.connector.resetBackoff()
    if (this.isClosed || dial?.stopped === true) this.closeLink(link)
  }

  private linkClosed(link: Link, failure: SessionFailure | undefined): void {
    this.links.delete(link)
    link.bound?.links.delete(link)
    const pipe = link.pipe
    link.pipe = undefined
    if (!this.isClosed) {
      if (failure?.handshake !== undefined) {
        this.emit({ type: `handshake:error:${failure.handshake}`, address: link.address, error: failure.error })
      }
      this.emit(
        failure === undefined
          ? { type: "disconnect", address: link.address }
          : { type: "disconnect", address: link.address, error: failure.error },
      )
    }
    const dial = link.dial
    if (dial === undefined) {
      if (pipe !== undefined) this.terminatePipe(pipe)
      return
    }
    if (dial.link === link) dial.link = undefined
    if (dial.stopped) {
      if (this.lingerDial(dial)) dial.connector.reconnect()
      else this.endDial(dial)
    } else if (pipe !== undefined && this.options.immediate) {
      dial.pipe = undefined
      this.terminatePipe(pipe)
      dial.connector.reconnect()
    } else {
      // The pipe outlives the connection: output queues for the next one.
      pipe?.detach()
      dial.connector.reconnect()
    }
  }

  /** Drops a peer's connection and pipe now (ROUTER handover). */
  protected dropPipe(pipe: Pipe): void {
    for (const link of this.links) {
      if (link.pipe !== pipe) continue
      link.pipe = undefined
      if (link.dial !== undefined && link.dial.pipe === pipe) link.dial.pipe = undefined
      link.engine?.destroy(undefined)
    }
    this.terminatePipe(pipe)
  }

  private terminatePipe(pipe: Pipe): void {
    pipe.detach()
    pipe.discardOutput()
    this.xdetach(pipe)
  }

  /** Stops a dial; output already queued is still delivered within `linger` if a connection comes. */
  private stopDial(dial: Dial): void {
    dial.stopped = true
    if (dial.link !== undefined) this.closeLink(dial.link)
    else if (!this.lingerDial(dial)) this.endDial(dial)
  }

  /** True when a stopped dial keeps dialing because output waits and linger allows it. */
  private lingerDial(dial: Dial): boolean {
    const linger = this.options.linger
    if (dial.pipe === undefined || dial.pipe.queuedOut === 0 || linger === 0) return false
    if (linger > 0 && dial.lingerTimer === undefined) dial.lingerTimer = setTimeout(() => this.endDial(dial), linger)
    return true
  }

  private endDial(dial: Dial): void {
    dial.connector.stop()
    if (dial.lingerTimer !== undefined) clearTimeout(dial.lingerTimer)
    dial.link?.engine?.destroy(undefined)
    const pipe = dial.pipe
    dial.pipe = undefined
    if (pipe !== undefined) this.terminatePipe(pipe)
  }

  /** Ends one connection, delivering pending output within `linger`. */
  private closeLink(link: Link): void {
    const engine = link.engine
    if (engine === undefined || engine.isClosed) return
    const pipe = link.pipe
    const linger = this.options.linger
    if (pipe === undefined || linger === 0) {
      engine.destroy(undefined)
      return
    }
    pipe.flushAll()
    engine.end()
    if (linger > 0) setTimeout(() => engine.destroy(undefined), linger).unref()
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
