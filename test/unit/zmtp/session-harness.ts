/**
 * Drives Session objects in memory: records what the handler hears and moves
 * encoder output between two sessions in a loop, never re-entrantly (as the
 * stream engine does once per tick); `settle` also lets a ZAP step run.
 */
import { NullMechanism } from "../../../src/zmtp/mechanisms/null.js"
import type { Mechanism } from "../../../src/zmtp/mechanisms/mechanism.js"
import { Session } from "../../../src/zmtp/session.js"
import type { PeerInfo, SessionFailure } from "../../../src/zmtp/session.js"
import type { SocketType } from "../../../src/zmtp/socket-type.js"
import type { ZapReply } from "../../../src/zmtp/zap.js"

/** SessionOptions.zap: asks a ZAP handler about a client's credentials. */
export type Zap = (mechanism: "NULL" | "PLAIN" | "CURVE", credentials: readonly Buffer[]) => Promise<ZapReply | undefined>

export interface EndOptions {
  socketType: SocketType
  routingId?: Buffer
  maxMessageSize?: number
  maxSubscriptionSize?: number
  mechanism?: Mechanism
  zap?: Zap
}

/** One ZMTP frame as sent: its flags byte and its body. */
export interface Frame {
  readonly flags: number
  readonly body: Buffer
}

/** Splits ZMTP frames (after the greeting) into flags and body. */
function parseFrames(bytes: Buffer): Frame[] {
  const frames: Frame[] = []
  let at = 0
  while (at < bytes.length) {
    const flags = bytes[at]!
    const long = (flags & 0x02) !== 0
    const size = long ? Number(bytes.readBigUInt64BE(at + 1)) : bytes[at + 1]!
    const header = long ? 9 : 2
    frames.push({ flags, body: bytes.subarray(at + header, at + header + size) })
    at += header + size
  }
  if (at !== bytes.length) throw new Error("trailing partial frame")
  return frames
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
  /** What `command()` returns; a function sees the command count so far. */
  acceptCommand: (count: number) => boolean = () => true

  constructor(options: EndOptions) {
    this.session = new Session(
      {
        socketType: options.socketType,
        mechanism: options.mechanism ?? new NullMechanism(),
        routingId: options.routingId,
        maxMessageSize: options.maxMessageSize ?? -1,
        maxSubscriptionSize: options.maxSubscriptionSize,
        zap: options.zap,
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
          return this.acceptCommand(this.commands.length)
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

  /** The frames sent after the 64-byte greeting. */
  frames(): Frame[] {
    return parseFrames(this.allSent().subarray(64))
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

/** Lets pending promise callbacks (the mechanisms' ZAP step) run; no timer involved. */
export const macrotask = (): Promise<void> => new Promise<void>((resolve) => setImmediate(resolve))

/**
 * Moves bytes both ways, letting asynchronous steps (a ZAP request) run once
 * per quiet round via one setImmediate, until neither side has anything to say.
 */
export async function settle(a: End, b: End): Promise<void> {
  for (let rounds = 0; rounds < 100; rounds++) {
    const fromA = a.output()
    const fromB = b.output()
    if (fromA.length > 0) b.session.push(fromA)
    if (fromB.length > 0) a.session.push(fromB)
    if (fromA.length === 0 && fromB.length === 0) {
      await macrotask()
      if (a.session.encoder.pending === 0 && b.session.encoder.pending === 0) return
    }
  }
  throw new Error("sessions kept talking for 100 rounds")
}

/** A ZAP handler's answer, for a fake `zap` option. */
export function zapReply(status: string, text = "", userId = ""): ZapReply {
  return { status, text, userId: Buffer.from(userId), metadata: Buffer.alloc(0) }
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
