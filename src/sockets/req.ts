/**
 * REQ (RFC 28 and libzmq's req.cpp): strict send/receive alternation, an
 * empty delimiter frame added on send and removed on receive, and replies
 * taken only from the peer the request went to.
 */
import type { SocketOptions } from "./socket-options.js"
import { randomInt } from "node:crypto"
import { error } from "../errors.js"
import { defineOptions } from "../options.js"
import { LoadBalancer } from "../routing/load-balancer.js"
import type { Message, Pipe } from "../routing/pipe.js"
import { probe } from "./dealer.js"
import { Socket } from "./socket-base.js"
import { allow, type Readable, type Writable } from "./capabilities.js"

export interface RequestOptionValues {
  /** ZMQ_REQ_CORRELATE: prefix each request with a 4-byte id and drop replies that do not carry it. */
  correlate: boolean
  /** ZMQ_REQ_RELAXED: allow a new request before the reply; a late reply to the old one is dropped. */
  relaxed: boolean
  /** ZMQ_PROBE_ROUTER: send an empty message to each new peer. */
  probeRouter: boolean
}

const EMPTY = Buffer.alloc(0)

/**
 * A synchronous client: send a request, receive its reply, repeat.
 *
 * @example
 * ```ts
 * const req = new Request()
 * req.connect("tcp://127.0.0.1:5555")
 * await req.send("ping")
 * const [reply] = await req.receive()
 * ```
 */
export class Request extends Socket {
  private readonly out = new LoadBalancer()
  /** The pipe the current request went to; replies come only from it. */
  private replyPipe: Pipe | undefined
  private expectingReply = false
  /** The id of the current request (ZMQ_REQ_CORRELATE). */
  private requestId = randomInt(0x100000000)

  constructor(options?: SocketOptions<Request>) {
    super("REQ", options, { correlate: false, relaxed: false, probeRouter: false })
    // As zeromq.js: an option name that does not exist is an error, not a new property.
    if (new.target === Request) Object.seal(this)
  }

  protected xattach(pipe: Pipe): boolean {
    this.out.add(pipe)
    return true
  }

  protected override xready(pipe: Pipe): boolean {
    if (this.probeRouter) probe(pipe)
    return true
  }

  protected xdetach(pipe: Pipe): void {
    this.out.remove(pipe)
    if (this.replyPipe === pipe) this.replyPipe = undefined
  }

  protected xreadable(pipe: Pipe): void {
    // Anything from a peer we are not waiting on is stale: drop it (libzmq reads and discards it).
    if (pipe !== this.replyPipe) while (pipe.read() !== undefined);
  }

  protected xsend(message: Message): boolean {
    if (this.expectingReply) {
      if (!this.relaxed) throw error("EFSM", "a REQ socket must receive the reply before sending another request")
    }
    if (!this.out.writable) return false
    const previous = this.replyPipe
    this.requestId = (this.requestId + 1) >>> 0
    if (this.correlate) {
      // libzmq writes the request id in host byte order.
      const id = Buffer.allocUnsafe(4)
      id.writeUInt32LE(this.requestId, 0)
      message.unshift(id, EMPTY)
    } else {
      message.unshift(EMPTY)
    }
    const pipe = this.out.send(message)!
    // A new request: replies still queued from any earlier one are stale.
    if (previous !== undefined) while (previous.read() !== undefined);
    if (pipe !== previous) while (pipe.read() !== undefined);
    this.replyPipe = pipe
    this.expectingReply = true
    return true
  }

  protected xrecv(): Message | undefined {
    if (!this.expectingReply) throw error("EFSM", "a REQ socket must send a request before receiving")
    const pipe = this.replyPipe
    if (pipe === undefined) return undefined
    for (let message = pipe.read(); message !== undefined; message = pipe.read()) {
      const body = this.unwrap(message)
      if (body === undefined) continue
      this.expectingReply = false
      return body
    }
    return undefined
  }

  /** The reply without its envelope, or undefined for a malformed or mismatched one (dropped). */
  private unwrap(message: Message): Message | undefined {
    let start = 0
    if (this.correlate) {
      const id = message[0]
      if (id === undefined || id.length !== 4 || id.readUInt32LE(0) !== this.requestId) return undefined
      start = 1
    }
    if (message.length <= start || message[start]!.length !== 0) return undefined
    return message.slice(start + 1)
  }

  protected xhasIn(): boolean {
    return this.expectingReply && this.replyPipe?.readable === true
  }

  protected xhasOut(): boolean {
    return (!this.expectingReply || this.relaxed) && this.out.writable
  }
}

export interface Request extends Readable, Writable, RequestOptionValues {}
allow(Request.prototype, "read", "write")
defineOptions(Request.prototype, { correlate: "bool", relaxed: "bool", probeRouter: "bool" })
