/** PUSH (RFC 30): round-robin to connected pullers; waits when all are at their high-water mark. */
import type { SocketOptions } from "./socket-options.js"
import { LoadBalancer } from "../routing/load-balancer.js"
import type { Message, Pipe } from "../routing/pipe.js"
import { defineOptions } from "../options.js"
import { type ConflateOptionValues, Socket } from "./socket-base.js"
import { allow, type Writable } from "./capabilities.js"

/**
 * Sends messages round-robin to its {@link Pull} peers.
 *
 * @example
 * ```ts
 * const push = new Push()
 * push.connect("tcp://127.0.0.1:5555")
 * await push.send(["job", "42"])
 * ```
 */
export class Push extends Socket {
  private readonly out = new LoadBalancer()

  constructor(options?: SocketOptions<Push>) {
    super("PUSH", options, { conflate: false })
    // As zeromq.js: an option name that does not exist is an error, not a new property.
    if (new.target === Push) Object.seal(this)
  }

  protected xattach(pipe: Pipe): boolean {
    this.out.add(pipe)
    return true
  }

  protected xdetach(pipe: Pipe): void {
    this.out.remove(pipe)
  }

  protected xreadable(_pipe: Pipe): void {
    // 30/PIPELINE: PUSH discards anything a peer sends it; its pipes have no reader.
  }

  protected xsend(message: Message): boolean {
    return this.out.send(message) !== undefined
  }

  protected xrecv(): Message | undefined {
    return undefined
  }

  protected xhasIn(): boolean {
    return false
  }

  protected xhasOut(): boolean {
    return this.out.writable
  }
}

export interface Push extends Writable, ConflateOptionValues {}
allow(Push.prototype, "write")
defineOptions(Push.prototype, { conflate: "bool" })
