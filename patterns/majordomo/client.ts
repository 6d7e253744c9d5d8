/**
 * A Majordomo client (18/MDP, MDP/0.2): a DEALER that sends REQUEST for a
 * service and reads zero or more PARTIAL replies and one FINAL. With no reply
 * in time it closes the socket, opens a new one and resends (the strategy
 * 18/MDP recommends), and gives up after `retries` tries.
 */
import { Dealer, type Message, type MessageLike, type SocketOptionValues } from "../../src/index.js"
import { ZmeshError } from "../../src/extras.js"
import { PatternEvents } from "../events.js"
import { MdpClientCommand as C, Mmi, commandOf, frames, isHeader } from "./protocol.js"

export interface MajordomoClientOptions {
  /** ms to wait for each reply (PARTIAL or FINAL) before retrying. Default 2500. */
  timeout?: number
  /** Tries in all before `request()` rejects with EAGAIN. Default 3. */
  retries?: number
  /** Options for each DEALER socket. `linger` is 0 unless set. */
  socketOptions?: Partial<SocketOptionValues>
}

export interface MajordomoRequestOptions {
  /** Called with the body of each PARTIAL reply, in order, before the FINAL one. */
  onPartial?: (reply: Message) => void
}

export type MajordomoClientEvent =
  /** No reply within `timeout`: a new socket resends the request (attempt counts from 2). */
  | { type: "retry"; service: string; attempt: number }
  | { type: "failed"; service: string; attempts: number }
  /** A message that is not a reply to the current request was dropped. */
  | { type: "protocol:error"; error: ZmeshError }

/**
 * @example
 * ```ts
 * const client = new MajordomoClient("tcp://127.0.0.1:5555", { timeout: 2500, retries: 3 })
 * const [reply] = await client.request("echo", "hello")
 * if (await client.hasService("echo")) console.log("echo has workers")
 * client.close()
 * ```
 */
export class MajordomoClient {
  readonly events = new PatternEvents<MajordomoClientEvent>()
  readonly broker: string
  readonly timeout: number
  readonly retries: number
  private readonly options: MajordomoClientOptions
  private socket: Dealer | undefined
  private chain: Promise<unknown> = Promise.resolve()
  private closed = false

  constructor(broker: string, options: MajordomoClientOptions = {}) {
    this.broker = broker
    this.options = options
    this.timeout = options.timeout ?? 2500
    this.retries = options.retries ?? 3
    if (!(this.timeout > 0)) throw new TypeError(`timeout must be a positive number of ms, got ${this.timeout}`)
    if (!Number.isInteger(this.retries) || this.retries < 1) throw new TypeError(`retries must be a positive integer, got ${this.retries}`)
  }

  /**
   * Sends `body` to `service` and resolves with the FINAL reply's body.
   * MDP/Client is synchronous: concurrent calls are served one after another.
   * Rejects with EAGAIN after `retries` tries without a reply, EBADF when closed.
   */
  request(service: string, body: MessageLike | readonly MessageLike[], options: MajordomoRequestOptions = {}): Promise<Message> {
    const parts = Array.isArray(body) ? [...(body as readonly MessageLike[])] : [body as MessageLike]
    if (parts.length === 0) return Promise.reject(new TypeError("a request needs at least one body frame"))
    const run = this.chain.then(() => this.attempt(service, parts, options))
    this.chain = run.catch(() => undefined)
    return run
  }

  /** 8/MMI `mmi.service`: true when the broker has at least one worker for `service`. */
  async hasService(service: string): Promise<boolean> {
    const [code] = await this.request(Mmi.SERVICE, service)
    return String(code) === Mmi.FOUND
  }

  close(): void {
    this.closed = true
    this.socket?.close()
    this.socket = undefined
  }

  private async attempt(service: string, body: MessageLike[], options: MajordomoRequestOptions): Promise<Message> {
    const request = [frames.client, frames.command(C.REQUEST), service, ...body]
    for (let attempt = 1; attempt <= this.retries; attempt++) {
      if (this.closed) throw closedError()
      if (attempt > 1) this.events.emit({ type: "retry", service, attempt })
      const socket = (this.socket ??= this.open())
      try {
        await socket.send(request)
        for (;;) {
          const reply = await socket.receive()
          const command = commandOf(reply[1])
          if (!isHeader(reply[0], frames.client) || (command !== C.PARTIAL && command !== C.FINAL) || reply.length < 4) {
            this.protocolError("not an MDP/0.2 PARTIAL or FINAL")
          } else if (String(reply[2]) !== service) {
            this.protocolError(`a reply from service "${reply[2]}" while waiting for "${service}"`)
          } else if (command === C.FINAL) {
            return reply.slice(3)
          } else {
            options.onPartial?.(reply.slice(3))
          }
        }
      } catch (err) {
        if (this.closed) throw closedError()
        if ((err as ZmeshError).code !== "EAGAIN") throw err
        // Replies to this request may still come on the old socket: a new one never sees them.
        socket.close()
        this.socket = undefined
      }
    }
    this.events.emit({ type: "failed", service, attempts: this.retries })
    throw new ZmeshError("EAGAIN", `no reply from service "${service}" at ${this.broker} after ${this.retries} tries of ${this.timeout} ms`, {
      address: this.broker,
    })
  }

  private open(): Dealer {
    const socket = new Dealer({ linger: 0, ...this.options.socketOptions, receiveTimeout: this.timeout, sendTimeout: this.timeout })
    socket.connect(this.broker)
    return socket
  }

  private protocolError(reason: string): void {
    this.events.emit({ type: "protocol:error", error: new ZmeshError("ERR_PATTERN_PROTOCOL", `dropped a message from the broker: ${reason}`) })
  }
}

function closedError(): ZmeshError {
  return new ZmeshError("EBADF", "the Majordomo client was closed")
}
