/**
 * What SUB and XSUB share (RFC 29 and libzmq's xsub.cpp): a reference-counted
 * table of our topics, sent to each publisher in the form its ZMTP version
 * expects and resent after every reconnect, and fair-queued input.
 */
import { FairQueue } from "../routing/fair-queue.js"
import type { Message, Pipe } from "../routing/pipe.js"
import { TopicCounts } from "../routing/subscriptions.js"
import { Socket } from "./socket-base.js"

export abstract class SubscriberBase extends Socket {
  protected readonly topics = new TopicCounts()
  private readonly in = new FairQueue()
  private readonly pipes = new Set<Pipe>()
  /** SUB drops messages no subscription matches; XSUB passes everything. */
  protected abstract readonly filters: boolean

  /** A new pipe (a dialed one from connect() on) queues every topic we hold, as libzmq's xattach_pipe. */
  protected xattach(pipe: Pipe): boolean {
    this.pipes.add(pipe)
    for (const topic of this.topics.topics()) sendSubscription(pipe, true, topic)
    return true
  }

  /** After a reconnect the publisher has forgotten us: send every topic again, once (libzmq's hiccup). */
  protected override xready(pipe: Pipe): boolean {
    if (pipe.attachCount > 0) for (const topic of this.topics.topics()) sendSubscription(pipe, true, topic)
    return true
  }

  protected xdetach(pipe: Pipe): void {
    this.pipes.delete(pipe)
  }

  protected xreadable(pipe: Pipe): void {
    this.in.activate(pipe)
  }

  /** A subscription (`\x01topic`) or cancel (`\x00topic`) from the application; true if it was one. */
  protected subscription(message: Message): boolean {
    const first = message[0]!
    if (first.length === 0 || (first[0] !== 0 && first[0] !== 1)) return false
    const subscribe = first[0] === 1
    const topic = first.subarray(1)
    // Every subscribe goes upstream; a cancel only when its last reference goes.
    if (subscribe) this.topics.add(topic)
    else if (!this.topics.remove(topic)) return true
    for (const pipe of this.pipes) {
      // Queued in order until the first connection; a pipe between two connections
      // skips it and gets every topic again at its next handshake.
      if (pipe.engine !== undefined || pipe.attachCount === 0) sendSubscription(pipe, subscribe, topic)
    }
    return true
  }

  /** Sends a message to every publisher (XSUB's upstream messages). */
  protected sendToAll(message: Message): void {
    for (const pipe of this.pipes) if (pipe.writable) pipe.write(message)
  }

  protected xrecv(): Message | undefined {
    for (let message = this.in.receive(); message !== undefined; message = this.in.receive()) {
      // libzmq's SUB filters too: a 3.0 publisher may have sent what nobody asked for.
      // ZMQ_INVERT_MATCHING: keep what no subscription matches instead.
      if (!this.filters || this.topics.matches(message[0]!) !== (this.options as { invertMatching?: boolean }).invertMatching) {
        return message
      }
    }
    return undefined
  }

  protected xhasIn(): boolean {
    return this.in.hasMessages
  }
}

function sendSubscription(pipe: Pipe, subscribe: boolean, topic: Buffer): void {
  pipe.writeSubscription(subscribe, topic)
}
