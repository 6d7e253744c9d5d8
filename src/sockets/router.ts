/**
 * ROUTER (RFC 28 and libzmq's router.cpp): every received message is
 * prefixed with the routing id of the peer it came from; every sent message
 * is routed by its first frame.
 */
import type { SocketOptions } from "./socket-options.js"
import { error } from "../errors.js"
import type { MessageLike } from "../message.js"
import { defineOptions } from "../options.js"
import { FairQueue } from "../routing/fair-queue.js"
import type { Message, Pipe } from "../routing/pipe.js"
import { RoutingIds } from "../routing/routing-ids.js"
import type { PeerInfo } from "../zmtp/session.js"
import { probe } from "./dealer.js"
import { Socket } from "./socket-base.js"
import { allow, type Readable, type Writable } from "./capabilities.js"

export interface RouterOptionValues {
  /** ZMQ_ROUTER_MANDATORY: sending to an unknown peer rejects with EHOSTUNREACH, and to a full one waits, instead of dropping. */
  mandatory: boolean
  /** ZMQ_ROUTER_HANDOVER: a new peer with a routing id already in use takes it over; otherwise it is ignored. */
  handover: boolean
  /** ZMQ_PROBE_ROUTER: send an empty message to each new peer. */
  probeRouter: boolean
}

export interface RouterConnectOptions {
  /** ZMQ_CONNECT_ROUTING_ID: the routing id to give the peer of this connection. */
  routingId?: string | Buffer
}

/**
 * Routes replies by routing id, for brokers and asynchronous servers.
 *
 * @example
 * ```ts
 * const router = new Router()
 * await router.bind("tcp://127.0.0.1:*")
 * const [id, empty, request] = await router.receive()
 * await router.send([id, empty, "reply"])
 * ```
 */
export class Router extends Socket {
  private readonly in = new FairQueue()
  /** Identified pipes by routing id (latin1 keys are byte-exact). */
  private readonly byId = new Map<string, Pipe>()
  /** Pipes without a routing id yet, or whose id is taken (their input waits). */
  private readonly anonymous = new Set<Pipe>()
  private readonly generatedIds = new RoutingIds()

  constructor(options?: SocketOptions<Router>) {
    super("ROUTER", options, { mandatory: false, handover: false, probeRouter: false })
    // As zeromq.js: an option name that does not exist is an error, not a new property.
    if (new.target === Router) Object.seal(this)
  }

  /** Connects; `options.routingId` names the peer of this connection (ZMQ_CONNECT_ROUTING_ID). */
  override connect(address: string, options?: RouterConnectOptions): void {
    this.dialNamed(address, options?.routingId)
  }

  protected xattach(pipe: Pipe, peer: PeerInfo | undefined): boolean {
    // A dialed pipe exists before its handshake: it is named then, unless connect() named it.
    if (peer === undefined && pipe.connectRoutingId === undefined) this.anonymous.add(pipe)
    else if (!this.identify(pipe)) this.anonymous.add(pipe)
    return true
  }

  protected override xready(pipe: Pipe): boolean {
    if (this.anonymous.has(pipe) && this.identify(pipe) && pipe.readable) this.in.activate(pipe)
    if (this.probeRouter) probe(pipe)
    return true
  }

  protected xdetach(pipe: Pipe): void {
    this.anonymous.delete(pipe)
    const key = pipe.routingId.toString("latin1")
    if (this.byId.get(key) === pipe) this.byId.delete(key)
  }

  protected xreadable(pipe: Pipe): void {
    // An anonymous pipe's input waits until it can be named (libzmq retries on each activation).
    if (this.anonymous.has(pipe) && !this.identify(pipe)) return
    this.in.activate(pipe)
  }

  protected xsend(message: Message): boolean {
    // A message that is only a routing id carries nothing to deliver: libzmq drops it.
    if (message.length < 2) return true
    const pipe = this.byId.get(message[0]!.toString("latin1"))
    if (pipe === undefined) {
      if (this.mandatory) {
        throw error("EHOSTUNREACH", `no peer with routing id 0x${message[0]!.toString("hex")}`)
      }
      return true
    }
    if (!pipe.writable) return !this.mandatory
    message.shift()
    pipe.write(message)
    return true
  }

  /** ZMQ_ROUTER_MANDATORY: a send waiting for a full peer holds up only the later sends to that peer. */
  protected override xlane(message: Message): unknown {
    return this.mandatory && message.length > 0 ? message[0]!.toString("latin1") : undefined
  }

  protected xrecv(): Message | undefined {
    return this.in.receiveWithRoutingId()
  }

  protected xhasIn(): boolean {
    return this.in.hasMessages
  }

  protected xhasOut(): boolean {
    if (!this.mandatory) return true
    for (const pipe of this.byId.values()) if (pipe.writable) return true
    return false
  }

  /** Names a pipe: the connect()-given id, else the peer's Identity, else a generated one. */
  private identify(pipe: Pipe): boolean {
    let id = pipe.connectRoutingId ?? (pipe.peerIdentity.length > 0 ? pipe.peerIdentity : undefined)
    id ??= this.generatedIds.next()
    const key = id.toString("latin1")
    const existing = this.byId.get(key)
    if (existing !== undefined && existing !== pipe) {
      if (!this.handover) return false
      // ZMQ_ROUTER_HANDOVER: the old peer loses the id and its connection.
      this.byId.delete(key)
      this.dropPipe(existing)
    }
    pipe.routingId = id
    this.byId.set(key, pipe)
    this.anonymous.delete(pipe)
    return true
  }
}

export interface Router extends Readable, Writable<readonly MessageLike[]>, RouterOptionValues {}
allow(Router.prototype, "read", "write")
defineOptions(Router.prototype, { mandatory: "bool", handover: "bool", probeRouter: "bool" })
