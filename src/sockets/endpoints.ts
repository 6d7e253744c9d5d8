/**
 * A socket's endpoints and connections: binding and dialing over tcp and ipc
 * (inproc in inproc-links.ts), the engine and pipe of each connection,
 * reconnects, and the linger rules of close, unbind and disconnect.
 */
import type net from "node:net"
import { ZmeshError, error } from "../errors.js"
import type { SubscriptionLimitOptionValues } from "../options.js"
import { Pipe, type PipeEngine } from "../routing/pipe.js"
import { Connector } from "../transport/connector.js"
import { type Endpoint, parseEndpoint } from "../transport/endpoint.js"
import { isInprocBound } from "../transport/inproc.js"
import { type Listener, listen } from "../transport/listener.js"
import { RawEngine } from "../transport/raw-engine.js"
import type { SocketReader } from "../transport/socket-reader.js"
import { StreamEngine } from "../transport/stream-engine.js"
import type { PeerInfo, SessionFailure } from "../zmtp/session.js"
import { ZAP_ENDPOINT, type ZapReply, type ZapRequest } from "../zmtp/zap.js"
import { InprocLinks } from "./inproc-links.js"
import type { Bound, Dial, Dialer, EndpointHost, Link, LinkEngine } from "./links.js"
import { createMechanism } from "./security.js"
import type { ZapClient } from "./zap-client.js"

export class Endpoints {
  /** ZMQ_LAST_ENDPOINT. */
  lastEndpoint: string | null = null
  readonly host: EndpointHost
  private readonly bounds = new Map<string, Bound>()
  private readonly dials = new Map<string, Dial[]>()
  private readonly links = new Set<Link>()
  /** Dials stopped by disconnect() or close() that still deliver queued output within linger. */
  private readonly lingeringDials = new Set<Dial>()
  private zapClient: Promise<ZapClient> | undefined
  private readonly inproc: InprocLinks

  constructor(host: EndpointHost) {
    this.host = host
    this.inproc = new InprocLinks({
      host,
      record: (address, entry) => this.record(address, entry),
      track: (link) => this.links.add(link),
      linkReady: (link, engine, peer) => this.linkReady(link, engine, peer),
      linkClosed: (link, failure) => this.linkClosed(link, failure),
    })
  }

  async bind(address: string): Promise<void> {
    const endpoint = this.parse(address, true)
    if (endpoint.transport === "inproc") return this.inproc.bind(endpoint.name, address)
    const bound: { value?: Bound } = {}
    let listener: Listener
    try {
      const { backlog, ipv6 } = this.host.options
      // STREAM's raw engine reads 'data' events; ZMTP engines read through a SocketReader.
      const readers = this.host.socketType !== "STREAM"
      listener = await listen(endpoint, { backlog, ipv6, readers }, (socket, reader) => this.accept(socket, bound.value!, reader))
    } catch (err) {
      const failure = err instanceof ZmeshError ? err : error("EINVAL", `could not bind ${address}`, { cause: err })
      // libzmq reports a failed tcp bind by its address without the transport prefix.
      const reported = endpoint.transport === "tcp" ? address.slice("tcp://".length) : address
      this.host.emit({ type: "bind:error", address: reported, error: failure })
      throw failure
    }
    const entry: Bound = { address: listener.endpoint, listener, links: new Set() }
    bound.value = entry
    if (this.host.closed) {
      await listener.close()
      throw error("EBADF", `socket closed while binding ${address}`, { address })
    }
    this.record(address, entry)
  }

  private record(address: string, entry: Bound): void {
    this.bounds.set(entry.address, entry)
    if (address !== entry.address) this.bounds.set(address, entry)
    this.lastEndpoint = entry.address
    this.emitFor(entry, "bind")
  }

  async unbind(address: string): Promise<void> {
    this.parse(address, true)
    const entry = this.bounds.get(address)
    if (entry === undefined) throw error("ENOENT", `not bound to ${address}`, { address })
    for (const [key, value] of this.bounds) if (value === entry) this.bounds.delete(key)
    for (const link of entry.links) this.closeLink(link)
    await entry.listener.close()
    this.emitFor(entry, "close")
  }

  /** A listener's bind or close event; libzmq reports none for inproc. */
  private emitFor(entry: Bound, type: "bind" | "close"): void {
    if (!entry.address.startsWith("inproc://")) this.host.emit({ type, address: entry.address })
  }

  connect(address: string, connectRoutingId: Buffer | undefined): void {
    const endpoint = this.parse(address, false)
    const dial: Dial = {
      connectRoutingId,
      address,
      pipe: undefined,
      link: undefined,
      stopped: false,
      lingerTimer: undefined,
      dialer: undefined as unknown as Dialer,
    }
    dial.dialer = endpoint.transport === "inproc" ? this.inproc.dialer(endpoint.name, dial) : this.streamDialer(endpoint, dial)
    if (!this.pipePerConnection(connectRoutingId)) {
      const pipe = this.createPipe(address, connectRoutingId)
      if (this.host.attach(pipe, undefined)) dial.pipe = pipe
    }
    const list = this.dials.get(address)
    if (list === undefined) this.dials.set(address, [dial])
    else list.push(dial)
    dial.dialer.start()
  }

  disconnect(address: string): void {
    this.parse(address, false)
    const list = this.dials.get(address)
    if (list === undefined) throw error("ENOENT", `not connected to ${address}`, { address })
    this.dials.delete(address)
    for (const dial of list) this.stopDial(dial)
  }

  /** Stops everything; pending output still goes out within linger. */
  close(): void {
    for (const entry of new Set(this.bounds.values())) {
      void entry.listener.close()
      this.emitFor(entry, "close")
    }
    this.bounds.clear()
    for (const list of this.dials.values()) for (const dial of list) this.stopDial(dial)
    this.dials.clear()
    // Every connection, accepted or dialed, once.
    for (const link of this.links) this.closeLink(link)
    void this.zapClient?.then((client) => client.close())
  }

  /** Applies the socket's current high-water marks to every pipe it has. */
  applyHighWaterMarks(): void {
    const { sendHighWaterMark, receiveHighWaterMark } = this.host.options
    for (const pipe of this.allPipes()) pipe.setHighWaterMarks(sendHighWaterMark, receiveHighWaterMark)
  }

  /** True while output waits to be sent: in a pipe, or in a connection's buffers. */
  get hasPendingOutput(): boolean {
    for (const link of this.links) if ((link.engine?.pendingBytes ?? 0) > 0) return true
    for (const pipe of this.allPipes()) if (pipe.queuedOut > 0) return true
    return false
  }

  /** Every pipe of the socket, once: its connections', and its dials' (waiting, connected or lingering). */
  private allPipes(): Set<Pipe> {
    const pipes = new Set<Pipe>()
    for (const link of this.links) if (link.pipe !== undefined) pipes.add(link.pipe)
    for (const list of this.dials.values()) for (const dial of list) if (dial.pipe !== undefined) pipes.add(dial.pipe)
    for (const dial of this.lingeringDials) if (dial.pipe !== undefined) pipes.add(dial.pipe)
    return pipes
  }

  /** Drops a peer's connection and pipe now (ROUTER handover; `reason` goes in the disconnect event). */
  dropPipe(pipe: Pipe, reason?: ZmeshError): void {
    for (const link of this.links) {
      if (link.pipe !== pipe) continue
      link.pipe = undefined
      if (link.dial !== undefined && link.dial.pipe === pipe) link.dial.pipe = undefined
      link.engine?.destroy(reason === undefined ? undefined : { handshake: undefined, error: reason })
    }
    this.terminatePipe(pipe)
  }

  // ---- tcp and ipc ------------------------------------------------------------

  private streamDialer(endpoint: Endpoint, dial: Dial): Dialer {
    const { address } = dial
    return new Connector(endpoint, this.host.options, {
      delayed: () => this.host.emit({ type: "connect:delay", address }),
      failed: () => this.host.emit({ type: "close", address }),
      retrying: (interval) => this.host.emit({ type: "connect:retry", address, interval }),
      connected: (socket, reader) => {
        this.host.emit({ type: "connect", address })
        dial.link = this.startLink(socket, address, dial, undefined, reader)
      },
      // STREAM's raw engine reads 'data' events; ZMTP engines read through a SocketReader.
    }, this.host.socketType !== "STREAM")
  }

  private accept(socket: net.Socket, bound: Bound, reader: SocketReader | undefined): void {
    if (this.host.closed) {
      socket.destroy()
      return
    }
    this.host.emit({ type: "accept", address: bound.address })
    bound.links.add(this.startLink(socket, bound.address, undefined, bound, reader))
  }

  /**
   * ZMQ_IMMEDIATE, and a STREAM connect without a routing id: a dialed
   * connection's pipe exists only while it is connected, instead of queueing
   * output across reconnects. A STREAM connect named by `routingId` has its
   * pipe at once, as in libzmq, so messages sent to it wait for the peer.
   */
  private pipePerConnection(connectRoutingId: Buffer | undefined): boolean {
    if (this.host.options.immediate) return true
    return this.host.socketType === "STREAM" && connectRoutingId === undefined
  }

  private parse(address: string, forBind: boolean): Endpoint {
    const endpoint = parse(address, forBind)
    // Raw bytes mean nothing in-process: libzmq's STREAM engine is for stream transports only.
    if (endpoint.transport === "inproc" && this.host.socketType === "STREAM") {
      throw error("ENOCOMPATPROTO", `a STREAM socket cannot use ${address}`, { address })
    }
    return endpoint
  }

  private startLink(
    socket: net.Socket, address: string, dial: Dial | undefined, bound: Bound | undefined, reader?: SocketReader,
  ): Link {
    const link: Link = { address, inproc: false, engine: undefined, pipe: undefined, ending: false, dial, bound }
    this.links.add(link)
    if (this.host.socketType === "STREAM") return this.startRawLink(socket, link)
    const options = this.host.options
    const routingId = options.routingId === null ? undefined : Buffer.from(options.routingId)
    // ZMQ_TCP_KEEPALIVE(_IDLE); Node cannot set the probe count and interval (docs/options.md).
    if (options.tcpKeepalive >= 0) {
      socket.setKeepAlive(options.tcpKeepalive === 1, options.tcpKeepaliveIdle > 0 ? options.tcpKeepaliveIdle * 1000 : 0)
    }
    // Withdraws this connection's ZAP request, if any, when the connection ends first.
    const zapRequests = new AbortController()
    link.engine = new StreamEngine(
      socket,
      {
        socketType: this.host.socketType,
        routingId,
        mechanism: createMechanism(options),
        zap: (mechanism, credentials) =>
          this.askZap(
            {
              domain: options.zapDomain ?? "",
              address: socket.remoteAddress ?? "",
              identity: routingId ?? Buffer.alloc(0),
              mechanism,
              credentials,
            },
            zapRequests.signal,
          ),
        maxMessageSize: options.maxMessageSize,
        maxSubscriptionSize: (options as Partial<SubscriptionLimitOptionValues>).maxSubscriptionSize,
        handshakeInterval: options.handshakeInterval,
        heartbeatInterval: options.heartbeatInterval,
        heartbeatTimeout: options.heartbeatTimeout,
        heartbeatTimeToLive: options.heartbeatTimeToLive,
      },
      {
        ready: (engine, peer) => {
          this.host.emit({ type: "handshake", address: link.address })
          this.linkReady(link, engine, peer)
        },
        message: (frames) => link.pipe!.deliver(frames),
        command: (name, data) => this.host.command(link.pipe!, name, data),
        drained: () => link.pipe?.flush(),
        closed: (_engine, failure) => {
          zapRequests.abort()
          this.linkClosed(link, failure)
        },
      },
      reader,
    )
    return link
  }

  /** ZMQ_STREAM: no handshake, so the connection is ready at once. */
  private startRawLink(socket: net.Socket, link: Link): Link {
    const notify = (this.host.options as { notify?: boolean }).notify !== false
    const engine = new RawEngine(socket, notify, {
      message: (frames) => link.pipe?.deliver(frames) ?? true,
      drained: () => link.pipe?.flush(),
      closed: (_engine, failure) => this.linkClosed(link, failure),
    })
    link.engine = engine
    const peer: PeerInfo = { socketType: "STREAM", routingId: Buffer.alloc(0), minor: 1, metadata: new Map() }
    if (this.linkReady(link, engine, peer)) engine.start()
    return link
  }

  /** RFC 27: asks the handler bound at inproc://zeromq.zap.01; undefined when there is none. */
  private async askZap(request: ZapRequest, signal: AbortSignal): Promise<ZapReply | undefined> {
    if (!isInprocBound(ZAP_ENDPOINT.slice("inproc://".length))) return undefined
    // Loaded on first use: the client is a Dealer, and sockets depend on this module.
    this.zapClient ??= import("./zap-client.js").then(({ ZapClient }) => new ZapClient())
    const client = await this.zapClient
    return this.host.closed || signal.aborted ? undefined : client.request(request, signal)
  }

  // ---- connection lifecycle ---------------------------------------------------------

  private createPipe(address: string, connectRoutingId?: Buffer): Pipe {
    const { sendHighWaterMark, receiveHighWaterMark } = this.host.options
    const pipe = new Pipe(this.host, address, sendHighWaterMark, receiveHighWaterMark)
    pipe.connectRoutingId = connectRoutingId
    pipe.conflate = (this.host.options as { conflate?: boolean }).conflate === true
    return pipe
  }

  /** Gives a connection its pipe; false when the socket refused it (the engine is destroyed). */
  private linkReady(link: Link, engine: LinkEngine & PipeEngine, peer: PeerInfo): boolean {
    const dial = link.dial
    let pipe = dial?.pipe
    const created = pipe === undefined
    if (pipe === undefined) {
      pipe = this.createPipe(link.address, dial?.connectRoutingId)
      pipe.peerIdentity = peer.routingId
      pipe.peerMinor = peer.minor
      if (!this.host.attach(pipe, peer)) {
        engine.destroy(undefined)
        return false
      }
      if (dial !== undefined) dial.pipe = pipe
    }
    pipe.peerIdentity = peer.routingId
    pipe.peerMinor = peer.minor
    link.pipe = pipe
    if (!this.host.ready(pipe, peer)) {
      link.pipe = undefined
      if (created) {
        if (dial !== undefined) dial.pipe = undefined
        this.terminatePipe(pipe)
      }
      engine.destroy(undefined)
      return false
    }
    pipe.attach(engine)
    dial?.dialer.resetBackoff()
    if (this.host.closed || dial?.stopped === true) this.closeLink(link)
    return true
  }

  private linkClosed(link: Link, failure: SessionFailure | undefined): void {
    this.links.delete(link)
    link.bound?.links.delete(link)
    const pipe = link.pipe
    link.pipe = undefined
    // libzmq reports no connection events for inproc.
    if (!this.host.closed && !link.inproc) {
      if (failure?.handshake !== undefined) {
        this.host.emit({ type: `handshake:error:${failure.handshake}`, address: link.address, error: failure.error })
      }
      this.host.emit(
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
      if (this.lingerDial(dial)) dial.dialer.reconnect()
      else this.endDial(dial)
    } else if (pipe !== undefined && this.pipePerConnection(dial.connectRoutingId)) {
      dial.pipe = undefined
      this.terminatePipe(pipe)
      dial.dialer.reconnect()
    } else {
      // The pipe outlives the connection: output queues for the next one.
      pipe?.detach()
      dial.dialer.reconnect()
    }
  }

  private terminatePipe(pipe: Pipe): void {
    pipe.detach()
    pipe.discardOutput()
    this.host.detach(pipe)
  }

  /** Stops a dial; output already queued is still delivered within `linger` if a connection comes. */
  private stopDial(dial: Dial): void {
    dial.stopped = true
    if (dial.link !== undefined) this.closeLink(dial.link)
    else if (!this.lingerDial(dial)) this.endDial(dial)
  }

  /** True when a stopped dial keeps dialing because output waits and linger allows it. */
  private lingerDial(dial: Dial): boolean {
    const linger = this.host.options.linger
    if (dial.pipe === undefined || dial.pipe.queuedOut === 0 || linger === 0) return false
    if (linger > 0 && dial.lingerTimer === undefined) {
      dial.lingerTimer = setTimeout(() => this.endDial(dial), linger)
      dial.lingerTimer.unref()
    }
    this.lingeringDials.add(dial)
    return true
  }

  private endDial(dial: Dial): void {
    this.lingeringDials.delete(dial)
    dial.dialer.stop()
    if (dial.lingerTimer !== undefined) clearTimeout(dial.lingerTimer)
    dial.link?.engine?.destroy(undefined)
    const pipe = dial.pipe
    dial.pipe = undefined
    if (pipe !== undefined) this.terminatePipe(pipe)
  }

  /** Ends one connection, delivering pending output within `linger`. */
  private closeLink(link: Link): void {
    const engine = link.engine
    if (engine === undefined || engine.isClosed || link.ending) return
    link.ending = true
    const pipe = link.pipe
    const linger = this.host.options.linger
    if (pipe === undefined || linger === 0) {
      engine.destroy(undefined)
      return
    }
    pipe.flushAll()
    engine.end()
    if (linger > 0) setTimeout(() => engine.destroy(undefined), linger).unref()
  }
}

function parse(address: string, forBind: boolean): Endpoint {
  if (typeof address !== "string") throw error("EINVAL", `endpoint must be a string, not ${typeof address}`)
  return parseEndpoint(address, forBind)
}
