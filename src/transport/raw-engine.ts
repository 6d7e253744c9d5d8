/**
 * A connection without ZMTP, for ZMQ_STREAM: bytes read are delivered as
 * they come, one message per read; each message part sent is written as it
 * is. An empty message is libzmq's connect and disconnect notification.
 */
import type net from "node:net"
import type { SessionFailure } from "../zmtp/session.js"

/** Bytes node:net may hold before the engine reports itself blocked (as StreamEngine). */
const WRITE_BACKLOG = 1024 * 1024

export interface RawEngineHandler {
  /** Bytes arrived, or an empty message when `notify`; false pauses reading until `resume()`. */
  message(frames: Buffer[]): boolean
  drained(): void
  closed(engine: RawEngine, failure: SessionFailure | undefined): void
}

const EMPTY = Buffer.alloc(0)

export class RawEngine {
  blocked = false
  private closed = false
  private readonly socket: net.Socket
  private readonly notify: boolean
  private readonly handler: RawEngineHandler

  /** @param notify ZMQ_STREAM_NOTIFY: deliver an empty message on connect and on disconnect. */
  constructor(socket: net.Socket, notify: boolean, handler: RawEngineHandler) {
    this.socket = socket
    this.notify = notify
    this.handler = handler
    socket.setNoDelay(true)
    // A connection alone does not keep the process alive (see keep-alive.ts).
    socket.unref()
    socket.pause()
  }

  /** Starts reading, after the socket has attached the connection's pipe. */
  start(): void {
    const socket = this.socket
    if (this.notify) this.deliver(EMPTY)
    socket.on("data", (chunk: Buffer) => this.deliver(chunk))
    socket.on("drain", () => {
      this.blocked = false
      this.handler.drained()
    })
    socket.on("error", () => {
      // "close" follows: for a raw peer a reset is a plain disconnect.
    })
    socket.on("close", () => this.destroy(undefined))
    if (!socket.destroyed) socket.resume()
  }

  get isClosed(): boolean {
    return this.closed
  }

  get pendingBytes(): number {
    return this.socket.writableLength
  }

  /** Writes each part raw; an empty message closes the connection once what was sent before is out. */
  send(frames: readonly Buffer[]): void {
    if (this.closed) return
    if (frames.length === 1 && frames[0]!.length === 0) {
      this.end()
      return
    }
    let ok = true
    for (const frame of frames) ok = this.socket.write(frame)
    if (!ok && this.socket.writableLength >= WRITE_BACKLOG) this.blocked = true
  }

  sendSubscription(): void {
    // A STREAM socket has no subscriptions.
  }

  resume(): void {
    if (!this.closed) this.socket.resume()
  }

  /** Closes once what was sent is out, whatever the peer does. */
  end(): void {
    if (this.closed) return
    this.socket.once("finish", () => this.socket.destroy())
    this.socket.end()
  }

  destroy(failure: SessionFailure | undefined): void {
    if (this.closed) return
    this.closed = true
    this.socket.destroy()
    // libzmq's raw engine tells the application with a last empty message (ZMQ_STREAM_NOTIFY).
    if (this.notify) this.handler.message([EMPTY])
    this.handler.closed(this, failure)
  }

  private deliver(chunk: Buffer): void {
    if (!this.handler.message([chunk]) && !this.closed) this.socket.pause()
  }
}
