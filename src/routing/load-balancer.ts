/** Load-balancing (RFC 28/30): round-robin over the pipes that have room, in attach order. */
import type { Message, Pipe } from "./pipe.js"

export class LoadBalancer {
  private pipes: Pipe[] = []
  private current = 0

  add(pipe: Pipe): void {
    this.pipes.push(pipe)
  }

  remove(pipe: Pipe): void {
    const index = this.pipes.indexOf(pipe)
    if (index < 0) return
    this.pipes.splice(index, 1)
    if (index < this.current) this.current--
    if (this.current >= this.pipes.length) this.current = 0
  }

  get size(): number {
    return this.pipes.length
  }

  /** True when some pipe has room. */
  get writable(): boolean {
    return this.pipes.some((pipe) => pipe.writable)
  }

  /** Sends to the next pipe with room; returns the pipe, or undefined when all are full. */
  send(message: Message): Pipe | undefined {
    const count = this.pipes.length
    for (let tried = 0; tried < count; tried++) {
      const pipe = this.pipes[this.current]!
      this.current = this.current + 1 === count ? 0 : this.current + 1
      if (pipe.writable) {
        pipe.write(message)
        return pipe
      }
    }
    return undefined
  }
}
