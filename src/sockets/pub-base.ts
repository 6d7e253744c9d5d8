/**
 * What PUB and XPUB share (RFC 29 and libzmq's xpub.cpp): a table of which
 * peer wants which topics, fan-out of each message to the matching peers
 * with a bounded queue per peer, and the handling of their subscriptions.
 */
import type { Message, Pipe } from "../routing/pipe.js"
import { Queue } from "../routing/queue.js"
import { TopicPipes } from "../routing/subscriptions.js"
import { Socket } from "./socket-base.js"

/** XPUB's ZMQ_XPUB_VERBOSE / ZMQ_XPUB_VERBOSER as zeromq.js names them. */
export type Verbosity = null | "allSubs" | "allSubsUnsubs"

export abstract class PublisherBase extends Socket {
  protected readonly subscriptions = new TopicPipes()
  /** XPUB: subscriptions received in manual mode, to report their cancels when a peer leaves. */
  protected readonly manualSubscriptions = new TopicPipes()
  /** XPUB: messages for the application, with the pipe each came from. */
  protected readonly pending = new Queue<Message>()
  protected readonly pendingPipes = new Queue<Pipe>()
  /** XPUB manual mode: the pipe of the subscription the application read last. */
  protected lastPipe: Pipe | undefined
  private readonly pipes = new Set<Pipe>()
  private readonly matched: Pipe[] = []
  private generation = 0

  /** XPUB reports subscriptions and passes upstream messages to the application; PUB drops them. */
  protected abstract readonly reportsToApp: boolean
  protected abstract readonly isManual: boolean
  protected abstract readonly verbosityLevel: Verbosity
  protected abstract readonly dropsNever: boolean

  protected xattach(pipe: Pipe): boolean {
    this.pipes.add(pipe)
    return true
  }

  protected xdetach(pipe: Pipe): void {
    this.pipes.delete(pipe)
    if (this.lastPipe === pipe) this.lastPipe = undefined
    const report = (topic: Buffer, last: boolean) => {
      // Cancels generated for a departed peer: libzmq reports those it held alone, or all with VERBOSER.
      if (last || this.verbosityLevel === "allSubsUnsubs") this.report(pipe, false, topic)
    }
    if (this.isManual) {
      this.manualSubscriptions.removePipe(pipe, (topic) => this.report(pipe, false, topic))
      this.subscriptions.removePipe(pipe, () => undefined)
    } else {
      this.subscriptions.removePipe(pipe, report)
    }
  }

  protected xreadable(pipe: Pipe): void {
    // Subscriptions are handled as they arrive, so peers are never stalled by an idle application.
    for (let message = pipe.read(); message !== undefined; message = pipe.read()) {
      const first = message[0]!
      if (message.length === 1 && first.length > 0 && (first[0] === 0 || first[0] === 1)) {
        this.subscription(pipe, first[0] === 1, first.subarray(1))
      } else if (this.reportsToApp) {
        this.pending.push(message)
        this.pendingPipes.push(pipe)
      }
    }
  }

  protected override xcommand(pipe: Pipe, name: string, data: Buffer): void {
    if (name === "SUBSCRIBE") this.subscription(pipe, true, data)
    else if (name === "CANCEL") this.subscription(pipe, false, data)
  }

  protected xsend(message: Message): boolean {
    const matched = this.matched
    this.subscriptions.match(message[0]!, ++this.generation, matched)
    if (this.dropsNever) {
      // ZMQ_XPUB_NODROP: wait (or EAGAIN) while any matching peer is full.
      for (const pipe of matched) {
        if (!pipe.writable) {
          matched.length = 0
          return false
        }
      }
    }
    // Each peer has its own queue: a full one drops this message, the others do not wait.
    for (const pipe of matched) if (pipe.writable) pipe.write(message)
    matched.length = 0
    return true
  }

  protected xrecv(): Message | undefined {
    const message = this.pending.shift()
    if (message !== undefined) this.lastPipe = this.pendingPipes.shift()
    return message
  }

  protected xhasIn(): boolean {
    return this.pending.length > 0
  }

  protected xhasOut(): boolean {
    return true
  }

  /** Manual mode: applies a subscription to the peer whose subscription was read last. */
  protected applyManual(subscribe: boolean, topic: Buffer): void {
    const pipe = this.lastPipe
    if (pipe === undefined) return
    if (subscribe) this.subscriptions.add(topic, pipe)
    else this.subscriptions.remove(topic, pipe)
  }

  private subscription(pipe: Pipe, subscribe: boolean, topic: Buffer): void {
    if (this.isManual) {
      if (subscribe) this.manualSubscriptions.add(topic, pipe)
      else this.manualSubscriptions.remove(topic, pipe)
      this.report(pipe, subscribe, topic)
      return
    }
    let notify: boolean
    if (subscribe) {
      notify = this.subscriptions.add(topic, pipe) || this.verbosityLevel !== null
    } else {
      notify = this.subscriptions.remove(topic, pipe) !== "remain" || this.verbosityLevel === "allSubsUnsubs"
    }
    if (notify) this.report(pipe, subscribe, topic)
  }

  /** Queues `\x01topic` / `\x00topic` for the application (XPUB only), whatever the wire form was. */
  private report(pipe: Pipe, subscribe: boolean, topic: Buffer): void {
    if (!this.reportsToApp) return
    const frame = Buffer.allocUnsafe(topic.length + 1)
    frame[0] = subscribe ? 1 : 0
    topic.copy(frame, 1)
    this.pending.push([frame])
    this.pendingPipes.push(pipe)
    this.serveReceivers()
  }
}
