/** PAIR (RFC 31): exactly one peer; a second connection is refused while the first exists. */
import type { SocketOptions } from "./socket-options.js"
import type { Message, Pipe } from "../routing/pipe.js"
import type { PeerInfo } from "../zmtp/session.js"
import { Socket } from "./socket-base.js"
import { allow, type Readable, type Writable } from "./capabilities.js"

/**
 * Talks to exactly one other {@link Pair}; sends wait while the peer is full
 * or not connected yet.
 *
 * @example
 * ```ts
 * const a = new Pair(); await a.bind("ipc:///tmp/pair.sock")
 * const b = new Pair(); b.connect("ipc:///tmp/pair.sock")
 * await b.send("hi"); const [msg] = await a.receive()
 * ```
 */
export class Pair extends Socket {
  private pipe: Pipe | undefined
  /** A pipe that went away with messages still queued. */
  private drained: Pipe | undefined

  constructor(options?: SocketOptions<Pair>) {
    super("PAIR", options)
    // As zeromq.js: an option name that does not exist is an error, not a new property.
    if (new.target === Pair) Object.seal(this)
  }

  protected xattach(pipe: Pipe, _peer: PeerInfo | undefined): boolean {
    if (this.pipe !== undefined) return false
    this.pipe = pipe
    return true
  }

  protected xdetach(pipe: Pipe): void {
    if (this.pipe === pipe) this.pipe = undefined
    this.drained = pipe.readable ? pipe : this.drained
  }

  protected xreadable(_pipe: Pipe): void {}

  protected xsend(message: Message): boolean {
    const pipe = this.pipe
    if (pipe === undefined || !pipe.writable) return false
    pipe.write(message)
    return true
  }

  protected xrecv(): Message | undefined {
    // Messages left on a pipe that just went away are still delivered first.
    if (this.drained !== undefined) {
      const message = this.drained.read()
      if (!this.drained.readable) this.drained = undefined
      if (message !== undefined) return message
    }
    return this.pipe?.read()
  }

  protected xhasIn(): boolean {
    return this.drained?.readable === true || this.pipe?.readable === true
  }

  protected xhasOut(): boolean {
    return this.pipe?.writable === true
  }
}

export interface Pair extends Readable, Writable {}
allow(Pair.prototype, "read", "write")
