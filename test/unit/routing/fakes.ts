/** In-memory stand-ins for a pipe's engine and owner. */
import type { Message, Pipe, PipeEngine, PipeOwner } from "../../../src/routing/pipe.js"

export class FakeEngine implements PipeEngine {
  blocked = false
  readonly sent: string[][] = []
  /** Subscriptions sent, as "sub:" / "cancel:" + the topic, also in `log` with the messages. */
  readonly commands: string[] = []
  /** Messages and commands in the order they reached the engine. */
  readonly log: string[] = []
  resumes = 0
  /** Block after this many more sends (undefined: never). */
  blockAfter: number | undefined

  send(frames: readonly Buffer[]): void {
    this.sent.push(frames.map((f) => f.toString()))
    this.log.push(frames.map((f) => f.toString()).join("+"))
    if (this.blockAfter !== undefined && --this.blockAfter <= 0) {
      this.blocked = true
      this.blockAfter = undefined
    }
  }

  sendSubscription(subscribe: boolean, topic: Buffer): void {
    const entry = `${subscribe ? "sub" : "cancel"}:${topic.toString()}`
    this.commands.push(entry)
    this.log.push(entry)
  }

  resume(): void {
    this.resumes++
  }
}

export class FakeOwner implements PipeOwner {
  readonly readable: Pipe[] = []
  readonly writable: Pipe[] = []
  onReadable: ((pipe: Pipe) => void) | undefined

  pipeReadable(pipe: Pipe): void {
    this.readable.push(pipe)
    this.onReadable?.(pipe)
  }

  pipeWritable(pipe: Pipe): void {
    this.writable.push(pipe)
  }
}

export function msg(...parts: string[]): Message {
  return parts.map((p) => Buffer.from(p))
}

export function str(message: Message | undefined): string[] | undefined {
  return message?.map((f) => f.toString())
}
