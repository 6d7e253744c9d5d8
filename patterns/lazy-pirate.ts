/**
 * Lazy Pirate (the ZeroMQ guide, chapter 4): reliable request-reply from the
 * client side alone. A REQ socket that got no reply in time is stuck (it
 * must receive before it may send again), so the client closes it, opens a
 * new one, and resends; after `retries` tries it gives up.
 */
import { Request, type Message, type MessageLike, type SocketOptionValues } from "../src/index.js"
import { ZmeshError } from "../src/extras.js"
import { PatternEvents } from "./events.js"

export interface LazyPirateOptions {
  /** ms to wait for each reply before retrying. Default 2500. */
  timeout?: number
  /** Tries in all (the first send included) before `request()` rejects. Default 3. */
  retries?: number
  /** Options for each REQ socket, e.g. CURVE keys. `linger` is 0 unless set: a retried request is not worth keeping. */
  socketOptions?: Partial<SocketOptionValues>
}

export type LazyPirateEvent =
  /** No reply within `timeout`: the socket was replaced and the request resent (attempt counts from 2). */
  | { type: "retry"; attempt: number; endpoint: string }
  /** `retries` tries got no reply: the request was abandoned. */
  | { type: "failed"; attempts: number; endpoint: string }

/**
 * A request-reply client that survives lost requests, lost replies and
 * servers that restart: each request waits `timeout` ms, is resent on a new
 * socket, and is abandoned after `retries` tries with an `EAGAIN` error.
 * Requests may be resent, so the server must be idempotent (or detect
 * repeats). Concurrent `request()` calls are served one after another.
 *
 * @example
 * ```ts
 * const client = new LazyPirateClient("tcp://127.0.0.1:5555", { timeout: 1000, retries: 3 })
 * try {
 *   const [reply] = await client.request("hello")
 * } catch (err) {
 *   if ((err as ZmeshError).code === "EAGAIN") console.log("server seems to be offline")
 * }
 * client.close()
 * ```
 */
export class LazyPirateClient {
  readonly events = new PatternEvents<LazyPirateEvent>()
  readonly timeout: number
  readonly retries: number
  private socket: Request | undefined
  private chain: Promise<unknown> = Promise.resolve()
  private closed = false
  readonly endpoint: string
  private readonly options: LazyPirateOptions

  constructor(endpoint: string, options: LazyPirateOptions = {}) {
    this.endpoint = endpoint
    this.options = options
    this.timeout = options.timeout ?? 2500
    this.retries = options.retries ?? 3
    if (!(this.timeout > 0)) throw new TypeError(`timeout must be a positive number of ms, got ${this.timeout}`)
    if (!Number.isInteger(this.retries) || this.retries < 1) throw new TypeError(`retries must be a positive integer, got ${this.retries}`)
  }

  /**
   * Sends a request and resolves with its reply. Rejects with `EAGAIN` when
   * `retries` tries got no reply, and with `EBADF` if the client is closed.
   */
  request(message: MessageLike | readonly MessageLike[]): Promise<Message> {
    const run = this.chain.then(() => this.attempt(message))
    this.chain = run.catch(() => undefined)
    return run
  }

  /** Closes the socket; a pending `request()` rejects with `EBADF`. */
  close(): void {
    this.closed = true
    this.socket?.close()
    this.socket = undefined
  }

  private async attempt(message: MessageLike | readonly MessageLike[]): Promise<Message> {
    for (let attempt = 1; attempt <= this.retries; attempt++) {
      if (this.closed) throw closedError()
      if (attempt > 1) this.events.emit({ type: "retry", attempt, endpoint: this.endpoint })
      const socket = (this.socket ??= this.open())
      try {
        await socket.send(message)
        return await socket.receive()
      } catch (err) {
        if (this.closed) throw closedError()
        if ((err as ZmeshError).code !== "EAGAIN") throw err
        // The REQ socket now waits for a reply that may never come: only a new socket can send again.
        socket.close()
        this.socket = undefined
      }
    }
    this.events.emit({ type: "failed", attempts: this.retries, endpoint: this.endpoint })
    throw new ZmeshError("EAGAIN", `no reply from ${this.endpoint} after ${this.retries} tries of ${this.timeout} ms`, {
      address: this.endpoint,
    })
  }

  private open(): Request {
    const socket = new Request({ linger: 0, ...this.options.socketOptions, receiveTimeout: this.timeout, sendTimeout: this.timeout })
    socket.connect(this.endpoint)
    return socket
  }
}

function closedError(): ZmeshError {
  return new ZmeshError("EBADF", "the Lazy Pirate client was closed")
}
