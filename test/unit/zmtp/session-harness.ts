/**
 * Drives Session objects in memory: records what the handler hears and moves
 * encoder output between two sessions in a loop, never re-entrantly (as the
 * stream engine does once per tick).
 */
import { NullMechanism } from "../../../src/zmtp/mechanisms/null.js"
import type { Mechanism } from "../../../src/zmtp/mechanisms/mechanism.js"
import { Session } from "../../../src/zmtp/session.js"
import type { PeerInfo, SessionFailure } from "../../../src/zmtp/session.js"
import type { SocketType } from "../../../src/zmtp/socket-type.js"

export interface EndOptions {
  socketType: SocketType
  routingId?: Buffer
  maxMessageSize?: number
  mechanism?: Mechanism
}

/** One side of a connection and everything its handler was told. */
export class End {
  readonly session: Session
  peer: PeerInfo | undefined
  readonly messages: string[][] = []
  readonly commands: Array<{ name: string; data: string }> = []
  readonly pings: number[] = []
  readonly failures: SessionFailure[] = []
  /** Every byte flushed so far, copied. */
  readonly sent: Buffer[] = []
  flushCalls = 0
  /** What `message()` returns; a function sees the message count so far. */
  accept: (count: number) => boolean = () => true

  constructor(options: EndOptions) {
    this.session = new Session(
      {
        socketType: options.socketType,
        mechanism: options.mechanism ?? new NullMechanism(),
        routingId: options.routingId,
        maxMessageSize: options.maxMessageSize ?? -1,
      },
      {
        flush: () => {
          this.flushCalls++
        },
        ready: (peer) => {
          if (this.peer !== undefined) throw new Error("ready reported twice")
          this.peer = peer
        },
        message: (frames) => {
          this.messages.push(frames.map((f) => f.toString("hex")))
          return this.accept(this.messages.length)
        },
        command: (name, data) => {
          this.commands.push({ name, data: data.toString("hex") })
        },
        pinged: (ttl) => {
          this.pings.push(ttl)
        },
        failed: (failure) => {
          this.failures.push(failure)
        },
      },
    )
  }

  /** Takes what the session encoded since the last call, as one copied buffer. */
  output(): Buffer {
    const bytes = Buffer.from(Buffer.concat(this.session.encoder.flush()))
    if (bytes.length > 0) this.sent.push(bytes)
    return bytes
  }

  /** Everything sent so far plus anything still pending. */
  allSent(): Buffer {
    this.output()
    return Buffer.concat(this.sent)
  }

  /** The single failure, or undefined; throws if there were several. */
  get failure(): SessionFailure | undefined {
    if (this.failures.length > 1) throw new Error(`failed ${this.failures.length} times`)
    return this.failures[0]
  }
}

/** Moves bytes both ways until neither side has output left. */
export function pump(a: End, b: End): void {
  for (let rounds = 0; rounds < 1000; rounds++) {
    const fromA = a.output()
    const fromB = b.output()
    if (fromA.length === 0 && fromB.length === 0) return
    if (fromA.length > 0) b.session.push(fromA)
    if (fromB.length > 0) a.session.push(fromB)
  }
  throw new Error("sessions kept talking for 1000 rounds")
}

/** Two started sessions, pumped until quiet. */
export function connect(a: EndOptions, b: EndOptions): [End, End] {
  const left = new End(a)
  const right = new End(b)
  left.session.start()
  right.session.start()
  pump(left, right)
  return [left, right]
}

/** Feeds chunks to a fresh started session and returns it (for forEveryFeed). */
export function feedSession(options: EndOptions, setup?: (end: End) => void): (chunks: Buffer[]) => End {
  return (chunks) => {
    const end = new End(options)
    setup?.(end)
    end.session.start()
    for (const chunk of chunks) end.session.push(chunk)
    end.output()
    return end
  }
}

export const text = (s: string): string => Buffer.from(s).toString("hex")
