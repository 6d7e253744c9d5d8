/** DEALER (RFC 28): round-robin out, fair-queued in, no envelope rules. */
import type { SocketOptions } from "./socket-options.js"
import { defineOptions } from "../options.js"
import { FairQueue } from "../routing/fair-queue.js"
import { LoadBalancer } from "../routing/load-balancer.js"
import type { Message, Pipe } from "../routing/pipe.js"
import { Socket } from "./socket-base.js"
import { allow, type Readable, type Writable } from "./capabilities.js"

export interface DealerOptionValues {
  /** ZMQ_PROBE_ROUTER: send an empty message to each new peer, so a ROUTER learns of us. */
  probeRouter: boolean
  /** ZMQ_CONFLATE: keep only the newest message per peer, in and out; the high-water marks do not apply. */
  conflate: boolean
}

/**
 * An asynchronous requester: messages go round-robin to its peers and replies
 * come fair-queued from all of them, with no envelope added or removed.
 *
 * @example
 * ```ts
 * const dealer = new Dealer({ routingId: "worker-1" })
 * dealer.connect("tcp://127.0.0.1:5555")
 * await dealer.send(["", "request"])
 * const [empty, reply] = await dealer.receive()
 * ```
 */
export class Dealer extends Socket {
  private readonly out = new LoadBalancer()
  private readonly in = new FairQueue()

  constructor(options?: SocketOptions<Dealer>) {
    super("DEALER", options, { probeRouter: false, conflate: false })
    // As zeromq.js: an option name that does not exist is an error, not a new property.
    if (new.target === Dealer) Object.seal(this)
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
  }

  protected xreadable(pipe: Pipe): void {
    this.in.activate(pipe)
  }

  protected xsend(message: Message): boolean {
    return this.out.send(message) !== undefined
  }

  protected xrecv(): Message | undefined {
    return this.in.receive()
  }

  protected xhasIn(): boolean {
    return this.in.hasMessages
  }

  protected xhasOut(): boolean {
    return this.out.writable
  }
}

export interface Dealer extends Readable, Writable, DealerOptionValues {}
allow(Dealer.prototype, "read", "write")
defineOptions(Dealer.prototype, { probeRouter: "bool", conflate: "bool" })

/** ZMQ_PROBE_ROUTER: an empty message ahead of anything queued for the new peer. */
export function probe(pipe: Pipe): void {
  pipe.write([Buffer.alloc(0)])
}
