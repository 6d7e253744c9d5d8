/**
 * STREAM (libzmq's ZMQ_STREAM): talks to plain TCP peers that speak no ZMTP,
 * such as HTTP clients. Every message is `[routingId, bytes]`; an empty
 * `bytes` announces a connection or a disconnection (with `notify`), and
 * sending one closes that connection.
 */
import { error } from "../errors.js"
import type { MessageLike } from "../message.js"
import { defineOptions } from "../options.js"
import { FairQueue } from "../routing/fair-queue.js"
import type { Message, Pipe } from "../routing/pipe.js"
import { RoutingIds } from "../routing/routing-ids.js"
import { allow, type Readable, type Writable } from "./capabilities.js"
import type { RouterConnectOptions } from "./router.js"
import { Socket } from "./socket-base.js"
import type { SocketOptions } from "./socket-options.js"

export interface StreamOptionValues {
  /** ZMQ_STREAM_NOTIFY: deliver `[routingId, ""]` when a peer connects and when it disconnects. */
  notify: boolean
}

/** As for ROUTER: `routingId` names the peer of this connection (ZMQ_CONNECT_ROUTING_ID). */
export type StreamConnectOptions = RouterConnectOptions

/**
 * A socket for raw TCP peers.
 *
 * @example
 * ```ts
 * const stream = new Stream()
 * await stream.bind("tcp://127.0.0.1:8080")
 * for await (const [id, data] of stream) {
 *   if (data.length > 0) await stream.send([id, "HTTP/1.0 200 OK\r\n\r\nhello"])
 *   if (data.length > 0) await stream.send([id, ""]) // close it
 * }
 * ```
 */
export class Stream extends Socket {
  private readonly in = new FairQueue()
  /** Connected peers by routing id (latin1 keys are byte-exact). */
  private readonly byId = new Map<string, Pipe>()
  private readonly generatedIds = new RoutingIds()

  constructor(options?: SocketOptions<Stream>) {
    super("STREAM", options, { notify: true })
    if (new.target === Stream) Object.seal(this)
  }

  /** Connects; `options.routingId` names the peer of this connection (ZMQ_CONNECT_ROUTING_ID). */
  override connect(address: string, options?: StreamConnectOptions): void {
    this.dialNamed(address, options?.routingId)
  }

  protected xattach(pipe: Pipe): boolean {
    // A pipe exists only while its connection does (see Endpoints.pipePerConnection).
    pipe.routingId = pipe.connectRoutingId ?? this.generatedIds.next()
    this.byId.set(pipe.routingId.toString("latin1"), pipe)
    return true
  }

  protected xdetach(pipe: Pipe): void {
    // What the peer sent, and the disconnect notification, stay readable.
    const key = pipe.routingId.toString("latin1")
    if (this.byId.get(key) === pipe) this.byId.delete(key)
  }

  protected xreadable(pipe: Pipe): void {
    this.in.activate(pipe)
  }

  protected xsend(message: Message): boolean {
    if (message.length < 2) throw error("EINVAL", "a STREAM message is [routingId, data]")
    const pipe = this.byId.get(message[0]!.toString("latin1"))
    if (pipe === undefined) throw error("EHOSTUNREACH", `no peer with routing id 0x${message[0]!.toString("hex")}`)
    if (!pipe.writable) return false
    pipe.write(message.slice(1))
    return true
  }

  protected xrecv(): Message | undefined {
    return this.in.receiveWithRoutingId()
  }

  protected xhasIn(): boolean {
    return this.in.hasMessages
  }

  /** As libzmq's: a STREAM socket is always ready to send; whether a send waits depends on its peer. */
  protected xhasOut(): boolean {
    return true
  }
}

export interface Stream extends Readable, Writable<readonly [MessageLike, MessageLike]>, StreamOptionValues {}
allow(Stream.prototype, "read", "write")
defineOptions(Stream.prototype, { notify: "bool" })
