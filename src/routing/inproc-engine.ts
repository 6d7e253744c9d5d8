/**
 * The two ends of an inproc:// connection. A message sent on one end is put
 * straight into the other end's pipe (no bytes, no copy of the frames); when
 * that pipe is full the sender's own pipe queues, so a connection holds the
 * sender's SNDHWM plus the receiver's RCVHWM, as in libzmq.
 */
import type { Message, PipeEngine } from "./pipe.js"

export interface InprocHandler {
  /** A message for this end's pipe; false when its queue is full. */
  message(frames: Message): boolean
  command(name: string, data: Buffer): void
  /** This end may send again. */
  drained(): void
  closed(): void
}

export class InprocEngine implements PipeEngine {
  /** Starts blocked: nothing moves until both ends have their pipes (`open()`). */
  blocked = true
  isClosed = false
  handler: InprocHandler | undefined
  private peer: InprocEngine | undefined
  private resumeScheduled = false

  static pair(): [InprocEngine, InprocEngine] {
    const a = new InprocEngine()
    const b = new InprocEngine()
    a.peer = b
    b.peer = a
    return [a, b]
  }

  /** Both ends are attached: let queued output flow. */
  open(): void {
    if (this.isClosed) return
    this.blocked = false
    this.handler?.drained()
  }

  send(frames: readonly Buffer[]): void {
    const peer = this.peer!
    if (peer.isClosed) return
    // A fresh array: a publisher hands the same message to many peers, and a receiver may change its array.
    if (!peer.handler!.message(frames.slice())) this.blocked = true
  }

  sendSubscription(subscribe: boolean, topic: Buffer): void {
    const peer = this.peer!
    if (!peer.isClosed) peer.handler!.command(subscribe ? "SUBSCRIBE" : "CANCEL", topic)
  }

  /** This end's pipe has room again: the other end may send. Deferred, as it is called mid-read. */
  resume(): void {
    if (this.resumeScheduled) return
    this.resumeScheduled = true
    process.nextTick(() => {
      this.resumeScheduled = false
      const peer = this.peer!
      if (peer.isClosed || !peer.blocked) return
      peer.blocked = false
      peer.handler?.drained()
    })
  }

  /** The socket layer flushed this end's pipe into the peer already: close both ends. */
  end(): void {
    this.destroy()
  }

  destroy(): void {
    if (this.isClosed) return
    const peer = this.peer!
    this.isClosed = true
    peer.isClosed = true
    this.handler?.closed()
    peer.handler?.closed()
  }
}
