/**
 * Binds a node:net socket to a ZMTP Session: reads into the session, writes
 * its output once per tick (writev), pauses reading when the receiver is
 * full, and runs the handshake and heartbeat timers.
 */
import type net from "node:net"
import { ZmeshError } from "../errors.js"
import { encodeCancel, encodeSubscribe, subscriptionFrame } from "../zmtp/command.js"
import type { Mechanism } from "../zmtp/mechanisms/mechanism.js"
import { type PeerInfo, Session, type SessionFailure, type SessionOptions } from "../zmtp/session.js"
import type { SocketType } from "../zmtp/socket-type.js"
import type { ReadSink, SocketReader } from "./socket-reader.js"

/** Output above this many bytes is written at once instead of at the end of the tick. */
const FLUSH_THRESHOLD = 256 * 1024
/**
 * Bytes node:net may hold for the kernel before the engine stops taking
 * messages, and the pipe's high-water mark starts to count. write() says
 * "full" past 16 KiB; waiting for "drain" there left the connection idle
 * between bursts of large messages, so keep a deeper backlog (libzmq keeps
 * the kernel buffer full the same way), but a bounded one: a peer that
 * does not read costs at most this plus FLUSH_THRESHOLD beyond its HWM
 * (docs/options.md).
 */
export const WRITE_BACKLOG = 256 * 1024

export interface EngineOptions {
  readonly socketType: SocketType
  readonly routingId: Buffer | undefined
  readonly mechanism: Mechanism
  readonly maxMessageSize: number
  /** See SessionOptions.maxSubscriptionSize. */
  readonly maxSubscriptionSize?: number | undefined
  /** ZMQ_HANDSHAKE_IVL in ms; 0 disables. */
  readonly handshakeInterval: number
  /** ZMQ_HEARTBEAT_IVL in ms; 0 disables. */
  readonly heartbeatInterval: number
  /** ZMQ_HEARTBEAT_TIMEOUT in ms; -1 means the interval. */
  readonly heartbeatTimeout: number
  /** ZMQ_HEARTBEAT_TTL in ms, sent in our PINGs. */
  readonly heartbeatTimeToLive: number
  /** Asks the ZAP handler about the peer (see SessionOptions.zap). */
  readonly zap?: SessionOptions["zap"]
}

export interface EngineHandler {
  ready(engine: StreamEngine, peer: PeerInfo): void
  /** A message arrived; false pauses reading until `resume()`. */
  message(frames: Buffer[]): boolean
  /** A command other than PING/PONG/ERROR; false pauses reading until `resume()`. */
  command?(name: string, data: Buffer): boolean | void
  /** The kernel took our backlog: more may be sent. */
  drained(): void
  /** The connection is gone. `failure` is undefined for a plain close by either side. */
  closed(engine: StreamEngine, failure: SessionFailure | undefined): void
}

export class StreamEngine {
  readonly session: Session
  /** The kernel buffer is full; wait for `drained()`. */
  blocked = false
  private readonly socket: net.Socket
  private readonly options: EngineOptions
  private readonly handler: EngineHandler
  private flushScheduled = false
  private resumeScheduled = false
  private closed = false
  /** Counts inbound chunks; heartbeat timers compare it instead of being reset per chunk. */
  private inputCount = 0
  private handshakeTimer: NodeJS.Timeout | undefined
  private pingTimer: NodeJS.Timeout | undefined
  private timeoutTimer: NodeJS.Timeout | undefined
  private ttlTimer: NodeJS.Timeout | undefined
  private readonly flushNow = () => this.flush()

  /**
   * @param reader For a connection read through `onread` (SocketReader: one
   * we dialed, or one a server accepted and adoptSocket() re-wrapped): reads
   * come through it instead of 'data' events.
   */
  constructor(socket: net.Socket, options: EngineOptions, handler: EngineHandler, reader?: SocketReader) {
    this.socket = socket
    this.options = options
    this.handler = handler
    this.session = new Session(
      {
        socketType: options.socketType,
        mechanism: options.mechanism,
        routingId: options.routingId,
        maxMessageSize: options.maxMessageSize,
        maxSubscriptionSize: options.maxSubscriptionSize,
        zap: options.zap,
      },
      {
        flush: () => this.scheduleFlush(),
        ready: (peer) => this.onReady(peer),
        message: (frames) => handler.message(frames),
        command: handler.command === undefined ? undefined : (name, data) => handler.command!(name, data),
        pinged: (ttl) => this.onPinged(ttl),
        failed: (failure) => this.destroy(failure),
      },
    )
    socket.setNoDelay(true)
    // A connection alone does not keep the process alive (see sockets/keep-alive.ts).
    socket.unref()
    if (reader === undefined) {
      socket.on("data", (chunk: Buffer) => this.onData(chunk))
    } else {
      this.session.readInPlace(reader.eagerBodyMax, reader.eagerEarned)
      reader.attach(this.readSink())
    }
    socket.on("drain", () => {
      this.blocked = false
      this.handler.drained()
    })
    socket.on("error", () => {
      // "close" follows; a reset or broken pipe is a plain disconnect.
    })
    socket.on("close", () => this.destroy(this.session.isReady ? undefined : closedDuringHandshake()))
    if (options.handshakeInterval > 0) {
      this.handshakeTimer = setTimeout(
        () => this.destroy({ handshake: "other", error: timeout("handshake", options.handshakeInterval) }),
        options.handshakeInterval,
      )
      this.handshakeTimer.unref()
    }
    this.session.start()
  }

  get isClosed(): boolean {
    return this.closed
  }

  /** Bytes encoded but not yet handed to the kernel, plus the kernel-side backlog node:net holds. */
  get pendingBytes(): number {
    return this.session.encoder.pending + this.socket.writableLength
  }

  /** Encodes a message; it is written at the end of the tick. */
  send(frames: readonly Buffer[]): void {
    this.session.send(frames)
    if (this.session.encoder.pending >= FLUSH_THRESHOLD) this.flush()
    else this.scheduleFlush()
  }

  /** 37/ZMTP: SUBSCRIBE/CANCEL commands to 3.1 peers; 23/ZMTP: `\x01`/`\x00` data frames to 3.0 peers. */
  sendSubscription(subscribe: boolean, topic: Buffer): void {
    if (this.session.peerMinorVersion >= 1) this.session.sendCommand(subscribe ? encodeSubscribe(topic) : encodeCancel(topic))
    else this.session.send([subscriptionFrame(subscribe, topic)])
    this.scheduleFlush()
  }

  /**
   * The receiver has room again: continue decoding and reading. Deferred to
   * the next tick, because it is called from inside a read and decoding
   * delivers messages into the same queue.
   */
  resume(): void {
    if (this.closed || this.resumeScheduled) return
    this.resumeScheduled = true
    process.nextTick(this.resumeNow)
  }

  private readonly resumeNow = () => {
    this.resumeScheduled = false
    if (this.closed) return
    this.session.resume()
    if (!this.session.isPaused) this.socket.resume()
  }

  /** Writes what is pending now (used before a lingering close). */
  flush(): void {
    this.flushScheduled = false
    if (this.closed) return
    const parts = this.session.encoder.flush()
    if (parts.length === 0) return
    let ok: boolean
    if (parts.length === 1) {
      ok = this.socket.write(parts[0]!)
    } else {
      this.socket.cork()
      ok = true
      for (const part of parts) ok = this.socket.write(part)
      this.socket.uncork()
    }
    if (!ok && this.socket.writableLength >= WRITE_BACKLOG) this.blocked = true
  }

  /**
   * Flushes, then closes once everything is written. The socket is destroyed
   * when our output is out, whatever the peer does: a peer that neither
   * reads (its input paused) nor hangs up must not keep the descriptor.
   */
  end(): void {
    if (this.closed) return
    this.flush()
    this.socket.once("finish", () => this.socket.destroy())
    this.socket.end()
  }

  /**
   * Drops the connection now. Output already encoded (an ERROR telling a
   * refused client why) is still written, then the socket is ended.
   */
  destroy(failure: SessionFailure | undefined): void {
    if (this.closed) return
    this.closed = true
    this.clearTimers()
    const last = this.session.encoder.flush()
    this.session.close()
    if (last.length > 0 && failure !== undefined && !this.socket.destroyed) {
      for (const part of last) this.socket.write(part)
      this.socket.end()
      // A peer that never reads must not keep the socket open.
      setTimeout(() => this.socket.destroy(), 1000).unref()
    } else {
      this.socket.destroy()
    }
    this.handler.closed(this, failure)
  }

  private scheduleFlush(): void {
    if (this.flushScheduled) return
    this.flushScheduled = true
    process.nextTick(this.flushNow)
  }

  private onData(chunk: Buffer): void {
    this.inputCount++
    this.session.push(chunk)
    if (this.session.isPaused && !this.closed) this.socket.pause()
  }

  /** How a SocketReader feeds this engine: as onData(), and reads that landed in a body directly. */
  private readSink(): ReadSink {
    const session = this.session
    return {
      directRegion: () => (this.closed ? undefined : session.directReadRegion()),
      get smallReads() {
        return session.prefersSmallReads
      },
      data: (chunk) => {
        this.inputCount++
        session.push(chunk)
        return this.closed || !session.isPaused
      },
      direct: (region, n) => {
        this.inputCount++
        session.pushDirect(region, n)
        return this.closed || !session.isPaused
      },
    }
  }

  private onReady(peer: PeerInfo): void {
    if (this.handshakeTimer !== undefined) clearTimeout(this.handshakeTimer)
    this.handshakeTimer = undefined
    const ivl = this.options.heartbeatInterval
    if (ivl > 0) {
      this.pingTimer = setInterval(() => this.sendPing(), ivl)
      this.pingTimer.unref()
    }
    this.handler.ready(this, peer)
  }

  private sendPing(): void {
    this.session.ping(this.options.heartbeatTimeToLive)
    if (this.timeoutTimer !== undefined) return
    const wait = this.options.heartbeatTimeout >= 0 ? this.options.heartbeatTimeout : this.options.heartbeatInterval
    const seen = this.inputCount
    this.timeoutTimer = setTimeout(() => {
      this.timeoutTimer = undefined
      if (this.inputCount === seen) this.destroy({ handshake: undefined, error: timeout("heartbeat", wait) })
    }, wait)
    this.timeoutTimer.unref()
  }

  /** The peer asked us to drop the connection if it goes silent for `ttl` ms. */
  private onPinged(ttl: number): void {
    if (ttl <= 0) return
    if (this.ttlTimer !== undefined) clearTimeout(this.ttlTimer)
    const seen = this.inputCount
    this.ttlTimer = setTimeout(() => {
      this.ttlTimer = undefined
      if (this.inputCount === seen) this.destroy({ handshake: undefined, error: timeout("heartbeat TTL", ttl) })
    }, ttl)
    this.ttlTimer.unref()
  }

  private clearTimers(): void {
    for (const timer of [this.handshakeTimer, this.pingTimer, this.timeoutTimer, this.ttlTimer]) {
      if (timer !== undefined) clearTimeout(timer)
    }
  }
}

/** libzmq reports a connection lost mid-handshake as HANDSHAKE_FAILED_NO_DETAIL. */
function closedDuringHandshake(): SessionFailure {
  return {
    handshake: "other",
    error: new ZmeshError("ERR_CONNECTION_CLOSED", "the peer closed the connection before the handshake completed"),
  }
}

function timeout(what: string, ms: number): ZmeshError {
  return new ZmeshError("ERR_TIMEOUT", `${what} timed out after ${ms} ms`)
}
