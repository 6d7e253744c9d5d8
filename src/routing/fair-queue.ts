/** Fair-queuing (RFC 28/30): round-robin over the pipes that have messages, whole messages at a time. */
import type { Message, Pipe } from "./pipe.js"

export class FairQueue {
  /** Pipes with inbound messages, in turn order. */
  private active: Pipe[] = []
  private current = 0

  /** A pipe's queue went from empty to non-empty. */
  activate(pipe: Pipe): void {
    if (!this.active.includes(pipe)) this.active.push(pipe)
  }

  /** Forgets a pipe (its queue is empty or it is gone). */
  remove(pipe: Pipe): void {
    const index = this.active.indexOf(pipe)
    if (index < 0) return
    this.active.splice(index, 1)
    if (index < this.current) this.current--
    if (this.current >= this.active.length) this.current = 0
  }

  get hasMessages(): boolean {
    return this.active.length > 0
  }

  /** The pipe the last `receive()` took its message from. */
  lastPipe: Pipe | undefined

  /** The next message in fair order; `lastPipe` tells where it came from. */
  receive(): Message | undefined {
    while (this.active.length > 0) {
      const pipe = this.active[this.current]!
      const message = pipe.read()
      if (!pipe.readable) {
        this.active.splice(this.current, 1)
        if (this.current >= this.active.length) this.current = 0
      } else {
        this.current = (this.current + 1) % this.active.length
      }
      if (message !== undefined) {
        this.lastPipe = pipe
        return message
      }
    }
    return undefined
  }
}
