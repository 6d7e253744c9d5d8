/** PULL (RFC 30): fair-queued input from every connected pusher. */
import type { SocketOptions } from "./socket-options.js"
import { FairQueue } from "../routing/fair-queue.js"
import type { Message, Pipe } from "../routing/pipe.js"
import { defineOptions } from "../options.js"
import { type ConflateOptionValues, Socket } from "./socket-base.js"
import { allow, type Readable } from "./capabilities.js"

/**
 * Receives messages fair-queued from its {@link Push} peers.
 *
 * @example
 * ```ts
 * const pull = new Pull()
 * await pull.bind("tcp://127.0.0.1:*")
 * for await (const [job] of pull) console.log(job.toString())
 * ```
 */
export class Pull extends Socket {
  private readonly in = new FairQueue()

  constructor(options?: SocketOptions<Pull>) {
    super("PULL", options, { conflate: false })
    // As zeromq.js: an option name that does not exist is an error, not a new property.
    if (new.target === Pull) Object.seal(this)
  }

  protected xattach(_pipe: Pipe): boolean {
    return true
  }

  protected xdetach(_pipe: Pipe): void {
    // Messages already queued on the pipe stay readable; the fair-queue drops it once empty.
  }

  protected xreadable(pipe: Pipe): void {
    this.in.activate(pipe)
  }

  protected xsend(_message: Message): boolean {
    return false
  }

  protected xrecv(): Message | undefined {
    return this.in.receive()
  }

  protected xhasIn(): boolean {
    return this.in.hasMessages
  }

  protected xhasOut(): boolean {
    return false
  }
}

export interface Pull extends Readable, ConflateOptionValues {}
allow(Pull.prototype, "read")
defineOptions(Pull.prototype, { conflate: "bool" })
