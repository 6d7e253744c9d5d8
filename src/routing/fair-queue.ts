/** Fair-queuing (RFC 28/30): round-robin over the pipes that have messages, whole messages at a time. */
import type { Message, Pipe } from "./pipe.js"
import { Queue } from "./queue.js"

/**
 * The pipes with inbound messages wait in a ring in turn order: the one at
 * the front gives one message and goes to the back while it has more. So
 * activating a pipe and taking a message cost the same with 1 or 10,000
 * peers (an `includes()` and a `splice()` per message did not).
 */
export class FairQueue {
  /** Pipes with inbound messages, in turn order. */
  private readonly turns = new Queue<Pipe>()
  /** The pipes in `turns`, for a constant-time check that a pipe is already there. */
  private readonly active = new Set<Pipe>()

  /** A pipe's queue went from empty to non-empty. */
  activate(pipe: Pipe): void {
    if (this.active.has(pipe)) return
    this.active.add(pipe)
    this.turns.push(pipe)
  }

  /** Forgets a pipe (its queue is empty or it is gone). */
  remove(pipe: Pipe): void {
    if (!this.active.delete(pipe)) return
    this.turns.removeWhere((p) => p === pipe)
  }

  get hasMessages(): boolean {
    return this.turns.length > 0
  }

  /** The pipe the last `receive()` took its message from. */
  lastPipe: Pipe | undefined

  /** The next message in fair order; `lastPipe` tells where it came from. */
  receive(): Message | undefined {
    const turns = this.turns
    for (let pipe = turns.shift(); pipe !== undefined; pipe = turns.shift()) {
      const message = pipe.read()
      if (pipe.readable) turns.push(pipe)
      else this.active.delete(pipe)
      if (message !== undefined) {
        this.lastPipe = pipe
        return message
      }
    }
    return undefined
  }

  /** The next message with the routing id of the pipe it came from in front (ROUTER, STREAM). */
  receiveWithRoutingId(): Message | undefined {
    const message = this.receive()
    if (message !== undefined) message.unshift(this.lastPipe!.routingId)
    return message
  }
}
