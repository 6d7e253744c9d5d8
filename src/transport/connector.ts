/**
 * Dials tcp:// or ipc:// and redials after a refused or lost connection with
 * libzmq 4.3.5's intervals (stream_connecter_base.cpp): with no maximum each
 * wait is `ivl + rand() % ivl`; with a maximum the wait doubles up to it.
 */
import net from "node:net"
import type { Endpoint } from "./endpoint.js"
import { SocketReader } from "./socket-reader.js"

export interface ConnectorOptions {
  /** ZMQ_RECONNECT_IVL in ms; -1 disables reconnection. */
  readonly reconnectInterval: number
  /** ZMQ_RECONNECT_IVL_MAX in ms; 0 keeps the jittered base interval. */
  readonly reconnectMaxInterval: number
  /** ZMQ_CONNECT_TIMEOUT in ms; 0 leaves it to the OS. */
  readonly connectTimeout: number
}

export interface ConnectorEvents {
  /** A connection attempt is under way (connect:delay). */
  delayed(): void
  /** The connection is up (connect); `reader` reads it when the connector was made with `readers`. */
  connected(socket: net.Socket, reader: SocketReader | undefined): void
  /** An attempt failed and its socket is closed (close, as libzmq reports it). */
  failed(): void
  /** A new attempt is scheduled after `interval` ms (connect:retry). */
  retrying(interval: number): void
}

export class Connector {
  private timer: NodeJS.Timeout | undefined
  private socket: net.Socket | undefined
  /** libzmq's _current_reconnect_ivl; -1 until the first retry. */
  private currentInterval = -1
  private stopped = false
  private readonly endpoint: Endpoint
  private readonly options: ConnectorOptions
  private readonly events: ConnectorEvents
  private readonly readers: boolean

  /** @param readers read each connection through a SocketReader (`onread`) instead of 'data' events. */
  constructor(endpoint: Endpoint, options: ConnectorOptions, events: ConnectorEvents, readers = false) {
    this.endpoint = endpoint
    this.options = options
    this.events = events
    this.readers = readers
  }

  start(): void {
    this.attempt()
  }

  /** The established connection ended; dial again after the interval. */
  reconnect(): void {
    this.socket = undefined
    this.scheduleRetry()
  }

  /** The handshake on the current connection succeeded: the backoff starts over. */
  resetBackoff(): void {
    this.currentInterval = -1
  }

  /** Stops dialing; a connection in progress is abandoned, an established one is left to its owner. */
  stop(): void {
    this.stopped = true
    if (this.timer !== undefined) clearTimeout(this.timer)
    this.timer = undefined
    const pending = this.socket
    if (pending !== undefined && pending.connecting) pending.destroy()
    this.socket = undefined
  }

  private attempt(): void {
    this.timer = undefined
    if (this.stopped) return
    const endpoint = this.endpoint
    const reader = this.readers ? new SocketReader() : undefined
    const onread = reader?.onread
    const socket =
      endpoint.transport === "tcp"
        ? net.connect({ host: endpoint.host, port: endpoint.port, noDelay: true, onread })
        : net.connect({ path: endpoint.transport === "ipc" ? endpoint.path : "", onread })
    this.socket = socket
    reader?.watch(socket)
    // Dialing alone does not keep the process alive (see sockets/keep-alive.ts).
    socket.unref()
    let timeout: NodeJS.Timeout | undefined
    if (this.options.connectTimeout > 0) {
      timeout = setTimeout(() => socket.destroy(new Error("connect timeout")), this.options.connectTimeout)
      timeout.unref()
    }
    const onError = () => {
      if (timeout !== undefined) clearTimeout(timeout)
      socket.destroy()
      if (this.socket !== socket) return
      this.socket = undefined
      this.events.failed()
      this.scheduleRetry()
    }
    socket.once("error", onError)
    socket.once("close", onError)
    socket.once("connect", () => {
      if (timeout !== undefined) clearTimeout(timeout)
      socket.off("error", onError)
      socket.off("close", onError)
      if (this.stopped) return socket.destroy()
      this.events.connected(socket, reader)
    })
    this.events.delayed()
  }

  private scheduleRetry(): void {
    if (this.stopped || this.options.reconnectInterval < 0) return
    const interval = this.nextInterval()
    this.events.retrying(interval)
    this.timer = setTimeout(() => this.attempt(), interval)
    this.timer.unref()
  }

  private nextInterval(): number {
    const { reconnectInterval: ivl, reconnectMaxInterval: max } = this.options
    if (max > 0) {
      const candidate = this.currentInterval < 0 ? ivl : this.currentInterval * 2
      this.currentInterval = Math.min(candidate, max)
      return this.currentInterval
    }
    if (this.currentInterval < 0) this.currentInterval = ivl
    return this.currentInterval + (ivl > 0 ? Math.floor(Math.random() * ivl) : 0)
  }
}
