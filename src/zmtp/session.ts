/**
 * One ZMTP connection, sans-IO: greeting -> mechanism handshake -> traffic,
 * with PING answered here so that no command ever reaches socket logic.
 * Bytes come in through `push()`; bytes to send collect in `encoder`, and the
 * owner flushes them when `handler.flush()` asks.
 */
import { ZmeshError } from "../errors.js"
import { encodePing, encodePong, parseCommand, parseErrorReason, parsePing } from "./command.js"
import { FLAG_COMMAND, FLAG_MORE } from "./frame.js"
import { FrameDecoder } from "./frame-decoder.js"
import { FrameEncoder } from "./frame-encoder.js"
import { GREETING_SIZE, checkGreetingPrefix, encodeGreeting, parseGreeting } from "./greeting.js"
import type { HandshakeFailure, Mechanism, MechanismHost } from "./mechanisms/mechanism.js"
import { PROPERTY_IDENTITY, PROPERTY_SOCKET_TYPE, type Metadata } from "./metadata.js"
import { type SocketType, isCompatible, sendsIdentity } from "./socket-type.js"
import type { ZapReply } from "./zap.js"

export interface SessionOptions {
  readonly socketType: SocketType
  readonly mechanism: Mechanism
  /** Our routing id, sent as `Identity` by REQ, DEALER and ROUTER. */
  readonly routingId?: Buffer | undefined
  /** Largest inbound message in bytes, all frames together (-1: no limit). */
  readonly maxMessageSize: number
  /**
   * The longest topic a peer's SUBSCRIBE or CANCEL may carry (a publisher's
   * `maxSubscriptionSize`): such a command is accepted even past
   * `maxMessageSize` and the 64 KiB command floor.
   */
  readonly maxSubscriptionSize?: number | undefined
  /** Asks the ZAP handler about a peer (servers); absent or undefined: no handler. */
  readonly zap?: ((mechanism: "NULL" | "PLAIN" | "CURVE", credentials: readonly Buffer[]) => Promise<ZapReply | undefined>) | undefined
}

/** What the session learned about its peer once the handshake is done. */
export interface PeerInfo {
  readonly socketType: string
  /** The peer's `Identity` property; empty when it sent none. */
  readonly routingId: Buffer
  readonly minor: number
  readonly metadata: Metadata
}

/** Why a session ended from the peer's side. */
export interface SessionFailure {
  /** During the handshake: the kind of libzmq's HANDSHAKE_FAILED_* event; afterwards undefined. */
  readonly handshake: HandshakeFailure | undefined
  readonly error: ZmeshError
}

export interface SessionHandler {
  /** Bytes wait in `session.encoder`. */
  flush(): void
  ready(peer: PeerInfo): void
  /** A complete message; return false when the receiver is full, which pauses decoding. */
  message(frames: Buffer[]): boolean
  /**
   * A command other than PING/PONG/ERROR after the handshake (SUBSCRIBE,
   * CANCEL, ...); return false to pause decoding, as `message()` may.
   */
  command?(name: string, data: Buffer): boolean | void
  /** The peer sent a PING announcing a TTL in milliseconds (0: none). */
  pinged(ttl: number): void
  failed(failure: SessionFailure): void
}

const State = { Greeting: 0, Handshake: 1, Ready: 2, Closed: 3 } as const
type State = (typeof State)[keyof typeof State]

export class Session {
  readonly encoder = new FrameEncoder()
  private readonly decoder: FrameDecoder
  private state: State = State.Greeting
  private paused = false
  /** The frames so far of a message whose last frame has not come yet. */
  private partial: Buffer[] | undefined
  private partialSize = 0
  private peerMinor = 0
  private readonly maxMessageSize: number
  private readonly frameOverhead: number
  private readonly options: SessionOptions
  private readonly handler: SessionHandler
  private readonly host: MechanismHost

  constructor(options: SessionOptions, handler: SessionHandler) {
    this.options = options
    this.handler = handler
    this.maxMessageSize = options.maxMessageSize
    // Commands (READY, SUBSCRIBE, ...) may exceed a small message limit, within reason, and are
    // bounded even without one: nothing but a long topic needs more than 64 KiB.
    const subscribe = options.maxSubscriptionSize === undefined ? 0 : SUBSCRIBE_OVERHEAD + options.maxSubscriptionSize
    const maxCommand = Math.max(options.maxMessageSize, COMMAND_SIZE_FLOOR, subscribe)
    // A CURVE box adds "\x07MESSAGE", a nonce, a MAC and a flags byte to each frame.
    this.frameOverhead = options.mechanism.name === "CURVE" ? 33 : 0
    this.decoder = new FrameDecoder(this.frameLimit(0), maxCommand)
    this.host = this.createHost()
  }

  get isReady(): boolean {
    return this.state === State.Ready
  }

  get isClosed(): boolean {
    return this.state === State.Closed
  }

  /** Queues our greeting; call once when the connection opens. */
  start(): void {
    const mechanism = this.options.mechanism
    this.encoder.raw(encodeGreeting(mechanism.name, mechanism.asServer))
    this.handler.flush()
  }

  /** Feeds received bytes. */
  push(chunk: Buffer): void {
    if (this.state === State.Closed) return
    this.decoder.push(chunk)
    if (!this.paused) this.process()
  }

  /**
   * Lets reads land in large bodies directly (see SocketReader): bodies up
   * to `eagerBodyMax` bytes get their buffer at their header; with
   * `earned`, only up to twice the bytes the peer has sent so far.
   */
  readInPlace(eagerBodyMax: number, earned = false): void {
    this.decoder.eagerBodyMax = eagerBodyMax
    this.decoder.eagerEarned = earned
  }

  /** The missing rest of a large body, for the next read to land in; undefined when there is none. */
  directReadRegion(): Buffer | undefined {
    return this.state === State.Closed ? undefined : this.decoder.directRegion(DIRECT_READ_MIN)
  }

  /** `n` bytes were read straight into `region`, which directReadRegion() gave. */
  pushDirect(region: Buffer, n: number): void {
    if (this.state === State.Closed || !this.decoder.filledDirect(region, n)) return
    if (!this.paused) this.process()
  }

  /** The last frame was large: the next reads should be small, to leave most of a next large body to a direct read. */
  get prefersSmallReads(): boolean {
    return this.decoder.lastFrameSize >= LARGE_FRAME
  }

  /** Continues decoding after `handler.message()` returned false. */
  resume(): void {
    if (!this.paused) return
    this.paused = false
    this.process()
  }

  get isPaused(): boolean {
    return this.paused
  }

  /** Encodes a data message; the caller flushes. */
  send(frames: readonly Buffer[]): void {
    const wrap = this.options.mechanism.wrap
    if (wrap === undefined) return this.encoder.message(frames)
    // Boxes travel as plain frames without MORE, as libzmq sends them; MORE is inside the box.
    const last = frames.length - 1
    for (let i = 0; i <= last; i++) this.encoder.frame(0, wrap.encode(i < last ? FLAG_MORE : 0, frames[i]!))
  }

  /** Encodes a command frame (already encoded by the command helpers); the caller flushes. */
  sendCommand(frame: Buffer): void {
    const wrap = this.options.mechanism.wrap
    if (wrap === undefined || this.state !== State.Ready) return this.encoder.raw(frame)
    // Inside CURVE, commands travel boxed with the command flag (RFC 26).
    const body = frame.subarray((frame[0]! & 0x02) !== 0 ? 9 : 2)
    this.encoder.frame(0, wrap.encode(FLAG_COMMAND, body))
  }

  ping(ttlMs: number, context?: Buffer): void {
    this.sendCommand(encodePing(Math.floor(ttlMs / 100), context))
    this.handler.flush()
  }

  /** The ZMTP minor version the peer announced (0 for 3.0, 1 for 3.1). */
  get peerMinorVersion(): number {
    return this.peerMinor
  }

  /** Stops all processing; nothing more is reported. */
  close(): void {
    this.state = State.Closed
    this.decoder.clear()
    this.partial = undefined
  }

  private process(): void {
    try {
      while (!this.paused && this.state !== State.Closed) {
        if (this.state === State.Greeting) {
          if (!this.readGreeting()) return
          continue
        }
        const wrap = this.options.mechanism.wrap
        if (this.state === State.Ready && wrap === undefined) {
          if (!this.readTraffic()) return
          continue
        }
        if (!this.decoder.next()) return
        const { flags, body } = this.decoder
        if (wrap !== undefined && this.state === State.Ready) this.onWrappedFrame(wrap, body)
        else if ((flags & FLAG_COMMAND) !== 0) this.onCommandFrame(body)
        else if (this.state !== State.Ready) throw protocol("data frame received before the handshake completed")
        else this.onDataFrame(flags, body)
      }
    } catch (err) {
      this.fail(this.state === State.Ready ? undefined : "protocol", toZmeshError(err))
    }
  }

  /**
   * The hot loop once the handshake is done (without CURVE): frames straight
   * into messages until the input runs out (false) or decoding must stop or
   * be looked at again (true: paused, closed, or a command came).
   */
  private readTraffic(): boolean {
    const decoder = this.decoder
    while (decoder.next()) {
      const flags = decoder.flags
      if ((flags & FLAG_COMMAND) !== 0) {
        this.onCommandFrame(decoder.body)
        return true
      }
      this.onDataFrame(flags, decoder.body)
      if (this.paused) return true
    }
    return false
  }
  private readGreeting(): boolean {
    const input = this.decoder.input
    const seen = Math.min(input.length, 11)
    if (seen > 0) {
      const prefix = Buffer.allocUnsafe(seen)
      for (let i = 0; i < seen; i++) prefix[i] = input.byteAt(i)
      const bad = checkGreetingPrefix(prefix, seen)
      if (bad !== undefined) throw protocol(`could not read greeting: ${bad}`)
    }
    if (input.length < GREETING_SIZE) return false
    const greeting = parseGreeting(input.take(GREETING_SIZE))
    if (typeof greeting === "string") throw protocol(`could not read greeting: ${greeting}`)
    const mechanism = this.options.mechanism
    if (greeting.mechanism !== mechanism.name) {
      throw new ZmeshError(
        "ERR_ZMTP_MECHANISM_MISMATCH",
        `security mechanism mismatch: we use ${mechanism.name}, the peer ${JSON.stringify(greeting.mechanism)}`,
      )
    }
    this.peerMinor = greeting.minor
    this.state = State.Handshake
    mechanism.start(this.host)
    return true
  }

  /**
   * After a CURVE handshake every frame is a MESSAGE box, whatever its outer
   * flags (libzmq sends them as data frames); MORE and COMMAND are inside.
   */
  private onWrappedFrame(wrap: NonNullable<Mechanism["wrap"]>, body: Buffer): void {
    const inner = wrap.decode(body)
    if ((inner.flags & FLAG_COMMAND) !== 0) {
      // A boxed command's size shows only once opened; the limit is the same as in the clear.
      const max = this.decoder.maxCommandSize
      if (inner.body.length > max) {
        throw new ZmeshError("ERR_MESSAGE_TOO_LARGE", `peer sent a ${inner.body.length} byte command, over the limit of ${max}`)
      }
      this.onCommandFrame(inner.body)
    }
    else this.onDataFrame(inner.flags, inner.body)
  }

  private onCommandFrame(body: Buffer): void {
    if (this.state === State.Handshake) {
      const { name, data } = parseHandshakeCommand(body)
      this.options.mechanism.onCommand(name, data)
      return
    }
    const { name, data } = parseCommand(body)
    switch (name) {
      case "PING": {
        const ping = parsePing(data)
        this.sendCommand(encodePong(ping.context))
        this.handler.flush()
        this.handler.pinged(ping.ttl)
        return
      }
      case "PONG":
        return // Any input already reset the heartbeat timers.
      case "ERROR":
        throw new ZmeshError("ERR_PEER_ERROR", `peer sent ERROR: ${parseErrorReason(data)}`)
      default:
        if (this.handler.command?.(name, data) === false) this.paused = true
    }
  }

  private onDataFrame(flags: number, body: Buffer): void {
    let frames = this.partial
    if ((flags & FLAG_MORE) !== 0) {
      if (frames === undefined) this.partial = [body]
      else frames.push(body)
      this.partialSize += body.length
      // The limit covers the whole message: shrink what the next frame may claim.
      this.decoder.maxFrameSize = this.frameLimit(this.partialSize)
      return
    }
    if (frames === undefined) {
      frames = [body]
    } else {
      frames.push(body)
      this.partial = undefined
      this.partialSize = 0
      this.decoder.maxFrameSize = this.frameLimit(0)
    }
    if (!this.handler.message(frames)) this.paused = true
  }

  /** The largest next frame once `used` bytes of the message have arrived. */
  private frameLimit(used: number): number {
    return this.maxMessageSize < 0 ? -1 : this.maxMessageSize - used + this.frameOverhead
  }

  private fail(handshake: HandshakeFailure | undefined, error: ZmeshError): void {
    if (this.state === State.Closed) return
    this.close()
    this.handler.failed({ handshake, error })
  }

  private createHost(): MechanismHost {
    const session = this
    return {
    localMetadata: localMetadata(this.options),
    sendCommand: (frame) => {
      this.encoder.raw(frame)
      this.handler.flush()
    },
    checkPeer: (metadata) => {
      const type = metadata.get(PROPERTY_SOCKET_TYPE)
      if (type === undefined) return new ZmeshError("ERR_ZMTP_PROTOCOL", "peer sent no Socket-Type property")
      const theirs = type.toString("latin1")
      if (!isCompatible(this.options.socketType, theirs)) {
        return new ZmeshError("ERR_SOCKET_TYPE", `socket type ${this.options.socketType} cannot talk to a ${theirs} peer`)
      }
      return undefined
    },
    ready: (metadata) => {
      if (this.state !== State.Handshake) return
      this.state = State.Ready
      // A boxed frame's body is copied into the box area at once: the decoder may reuse its buffer.
      if (this.options.mechanism.wrap !== undefined) this.decoder.reuseBodies = true
      this.handler.ready({
        socketType: metadata.get(PROPERTY_SOCKET_TYPE)!.toString("latin1"),
        routingId: metadata.get(PROPERTY_IDENTITY) ?? EMPTY,
        minor: this.peerMinor,
        metadata,
      })
    },
    fail: (kind, error) => this.fail(kind, error),
    zap: (mechanism, credentials) => this.options.zap?.(mechanism, credentials) ?? Promise.resolve(undefined),
    get open() {
      return session.state !== State.Closed
    },
    }
  }
}

function localMetadata(options: SessionOptions): Array<readonly [string, Buffer | string]> {
  const props: Array<readonly [string, Buffer | string]> = [[PROPERTY_SOCKET_TYPE, options.socketType]]
  if (sendsIdentity(options.socketType)) props.push([PROPERTY_IDENTITY, options.routingId ?? EMPTY])
  return props
}

/**
 * libzmq 4.3.5 writes the ERROR it sends after a ZAP refusal one byte short,
 * with a corrupt name length: `04 09 5e "RROR" 03 "400"` (seen against the
 * zeromq package). Read that form as the ERROR it means, so the reason
 * reaches the application instead of a protocol error.
 */
function parseHandshakeCommand(body: Buffer): { name: string; data: Buffer } {
  if (body.length >= 6 && body[0] !== 5 && body.toString("latin1", 1, 5) === "RROR") {
    return { name: "ERROR", data: body.subarray(5) }
  }
  return parseCommand(body)
}

function protocol(message: string): ZmeshError {
  return new ZmeshError("ERR_ZMTP_PROTOCOL", message)
}

function toZmeshError(err: unknown): ZmeshError {
  if (err instanceof ZmeshError) return err
  return new ZmeshError("ERR_ZMTP_PROTOCOL", `internal error while decoding: ${String(err)}`, { cause: err })
}

/** A body missing less than this is left to an ordinary read (with whatever follows it), not read alone. */
const DIRECT_READ_MIN = 8 * 1024
/** Frames from this size on make the next reads small (SocketReader). */
const LARGE_FRAME = 32 * 1024

/** Commands may always be this large (a long topic, a CURVE INITIATE), whatever `maxMessageSize` says. */
const COMMAND_SIZE_FLOOR = 64 * 1024
/** `\x09SUBSCRIBE` before the topic in a SUBSCRIBE command's body. */
const SUBSCRIBE_OVERHEAD = 1 + "SUBSCRIBE".length

const EMPTY = Buffer.alloc(0)
