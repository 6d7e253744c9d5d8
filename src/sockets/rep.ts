/**
 * REP (RFC 28 and libzmq's rep.cpp): receive a request, reply through the
 * envelope it came with (everything up to and including the first empty
 * frame), to the peer it came from.
 */
import type { SocketOptions } from "./socket-options.js"
import { error } from "../errors.js"
import { FairQueue } from "../routing/fair-queue.js"
import type { Message, Pipe } from "../routing/pipe.js"
import { Socket } from "./socket-base.js"
import { allow, type Readable, type Writable } from "./capabilities.js"

/**
 * A synchronous server: receive a request, send its reply, repeat.
 *
 * @example
 * ```ts
 * const rep = new Reply()
 * await rep.bind("tcp://127.0.0.1:5555")
 * for await (const [request] of rep) await rep.send(`echo ${request}`)
 * ```
 */
export class Reply extends Socket {
  private readonly in = new FairQueue()
  /** The saved envelope and the pipe of the request being answered. */
  private envelope: Buffer[] | undefined
  private replyPipe: Pipe | undefined

  constructor(options?: SocketOptions<Reply>) {
    super("REP", options)
    // As zeromq.js: an option name that does not exist is an error, not a new property.
    if (new.target === Reply) Object.seal(this)
  }

  protected xattach(_pipe: Pipe): boolean {
    return true
  }

  protected xdetach(pipe: Pipe): void {
    if (this.replyPipe === pipe) this.replyPipe = undefined
  }

  protected xreadable(pipe: Pipe): void {
    this.in.activate(pipe)
  }

  protected xsend(message: Message): boolean {
    const envelope = this.envelope
    if (envelope === undefined) throw error("EFSM", "a REP socket must receive a request before sending a reply")
    const pipe = this.replyPipe
    this.envelope = undefined
    this.replyPipe = undefined
    // The requester is gone or full: libzmq drops the reply rather than block.
    if (pipe !== undefined && pipe.writable) pipe.write(envelope.concat(message))
    return true
  }

  protected xrecv(): Message | undefined {
    if (this.envelope !== undefined) throw error("EFSM", "a REP socket must send the reply before receiving again")
    for (let message = this.in.receive(); message !== undefined; message = this.in.receive()) {
      let delimiter = 0
      while (delimiter < message.length && message[delimiter]!.length !== 0) delimiter++
      // A request without an envelope delimiter is malformed: discard it.
      if (delimiter === message.length) continue
      this.envelope = message.slice(0, delimiter + 1)
      this.replyPipe = this.in.lastPipe
      return message.slice(delimiter + 1)
    }
    return undefined
  }

  protected xhasIn(): boolean {
    return this.envelope === undefined && this.in.hasMessages
  }

  protected xhasOut(): boolean {
    return this.envelope !== undefined
  }
}

export interface Reply extends Readable, Writable {}
allow(Reply.prototype, "read", "write")
