/**
 * A Majordomo worker (18/MDP, MDP/0.2): a DEALER that registers one service
 * with READY, serves REQUESTs one at a time with zero or more PARTIAL replies
 * and one FINAL, heartbeats the broker, and opens a new socket and registers
 * again when the broker says DISCONNECT or goes silent (a broker restart).
 */
import { Dealer, type Message, type MessageLike } from "../../src/index.js"
import { ZmeshError } from "../../src/extras.js"
import { PatternEvents } from "../events.js"
import { replyFrames, type Reply } from "../handler.js"
import { Backoff, Heartbeat, pause, type ReconnectingWorkerOptions } from "../heartbeat.js"
import { MdpWorkerCommand as W, Mmi, commandOf, frames, isHeader } from "./protocol.js"

/**
 * Serves one request: return (or resolve) the FINAL reply; call `partial`
 * for each PARTIAL reply before it. A handler that throws sends no reply.
 */
export type MajordomoHandler = (request: Message, partial: (reply: Reply) => Promise<void>) => Reply | Promise<Reply>

/** See {@link ReconnectingWorkerOptions}. */
export type MajordomoWorkerOptions = ReconnectingWorkerOptions

export type MajordomoWorkerEvent =
  /** A new socket connected and sent READY (connection counts from 1). */
  | { type: "ready"; connection: number }
  /** The broker said DISCONNECT (`disconnect`) or went silent for `heartbeatLiveness` intervals (`silent`): the socket was closed. */
  | { type: "broker:lost"; reason: "disconnect" | "silent" }
  /** A new socket will be opened after `delay` ms. */
  | { type: "reconnect"; delay: number }
  /** The handler threw: the worker said DISCONNECT (the broker requeues the request) and registered again on a new socket. */
  | { type: "error"; error: unknown }
  /** The broker sent something that is not a valid MDP/0.2 worker command: dropped. */
  | { type: "protocol:error"; error: ZmeshError }

/**
 * @example
 * ```ts
 * const worker = new MajordomoWorker("tcp://127.0.0.1:5555", "echo", (request) => request)
 * worker.start()
 * ```
 */
export class MajordomoWorker {
  readonly events = new PatternEvents<MajordomoWorkerEvent>()
  readonly broker: string
  readonly service: string
  private readonly handler: MajordomoHandler
  private readonly options: MajordomoWorkerOptions
  private socket: Dealer | undefined
  private readonly heartbeat: Heartbeat
  private readonly backoff: Backoff
  private readonly stop = new AbortController()
  private connections = 0
  private work: Promise<void> = Promise.resolve()

  constructor(broker: string, service: string, handler: MajordomoHandler, options: MajordomoWorkerOptions = {}) {
    if (service.length === 0) throw new TypeError("a Majordomo worker needs a service name")
    if (service.startsWith(Mmi.PREFIX)) throw new TypeError(`service names starting with "${Mmi.PREFIX}" belong to the broker (8/MMI)`)
    this.broker = broker
    this.service = service
    this.handler = handler
    this.options = options
    this.heartbeat = new Heartbeat(options, {
      beat: () => this.send(W.HEARTBEAT, []),
      dead: () => void this.reconnect("silent"),
    })
    this.backoff = new Backoff(options.reconnectInterval ?? 1000, options.reconnectMaxInterval ?? 32000)
  }

  /** Connects, registers the service, and starts serving. */
  start(): void {
    if (this.connections === 0 && !this.stop.signal.aborted) this.open()
  }

  /** Says DISCONNECT to the broker and closes; a request in progress gets no reply. */
  close(): void {
    if (this.stop.signal.aborted) return
    this.stop.abort()
    this.heartbeat.stop()
    if (this.socket !== undefined) this.closeSaying(this.socket, W.DISCONNECT)
    this.socket = undefined
  }

  /** Closes a socket after a last command, which gets up to one heartbeat interval to leave. */
  private closeSaying(socket: Dealer, command: number): void {
    this.send(command, [], socket)
    socket.linger = this.heartbeat.interval
    socket.close()
  }

  private open(): void {
    const socket = new Dealer({ linger: 0, ...this.options.socketOptions })
    socket.connect(this.broker)
    this.socket = socket
    this.connections++
    // send(), not trySend(): with `immediate` set there is no pipe until the connection is up.
    socket.send([frames.worker, frames.command(W.READY), this.service]).catch(() => undefined)
    this.heartbeat.start()
    this.events.emit({ type: "ready", connection: this.connections })
    void this.read(socket)
  }

  /** Sends a command now if the socket can take it (heartbeats and handshakes are not worth waiting for). */
  private send(command: number, rest: MessageLike[], socket = this.socket): void {
    try {
      socket?.trySend([frames.worker, frames.command(command), ...rest])
    } catch {
      // Closed under us: a reconnect or close() is under way.
    }
  }

  private async reconnect(reason: "disconnect" | "silent"): Promise<void> {
    this.heartbeat.stop()
    this.events.emit({ type: "broker:lost", reason })
    this.socket?.close()
    this.socket = undefined
    const delay = this.backoff.next()
    this.events.emit({ type: "reconnect", delay })
    await pause(delay, this.stop.signal)
    if (!this.stop.signal.aborted) this.open()
  }

  private async read(socket: Dealer): Promise<void> {
    try {
      for await (const message of socket) {
        if (!isHeader(message[0], frames.worker)) {
          this.protocolError("not an MDP/0.2 worker command")
          continue
        }
        this.heartbeat.alive()
        const command = commandOf(message[1])
        if (command === W.HEARTBEAT) {
          this.backoff.reset()
        } else if (command === W.DISCONNECT) {
          // "When the worker receives DISCONNECT ... it MUST close its socket, and reconnect to the broker on a new socket."
          void this.reconnect("disconnect")
          return
        } else if (command === W.REQUEST && message.length >= 5 && message[3]!.length === 0) {
          this.backoff.reset()
          const client = message[2]!
          const body = message.slice(4)
          this.work = this.work.then(() => this.serve(socket, client, body))
        } else {
          this.protocolError(`unexpected worker command ${command} of ${message.length} frames`)
        }
      }
    } catch {
      // Closed: reconnect() or close() took over.
    }
  }

  private async serve(socket: Dealer, client: Buffer, body: Message): Promise<void> {
    const reply = async (command: number, parts: Reply) => {
      // A reply on a socket we have since replaced would reach a broker that no longer knows us.
      if (socket !== this.socket) return
      await socket.send([frames.worker, frames.command(command), client, frames.empty, ...replyFrames(parts)])
    }
    try {
      const final = await this.handler(body, (partial) => reply(W.PARTIAL, partial))
      await reply(W.FINAL, final)
    } catch (error) {
      if (this.stop.signal.aborted || socket !== this.socket) return
      this.events.emit({ type: "error", error })
      // MDP has no "failed" reply and forbids a second READY: DISCONNECT makes the broker requeue
      // the request, and a new socket registers again at once.
      this.closeSaying(socket, W.DISCONNECT)
      this.open()
    }
  }

  private protocolError(reason: string): void {
    this.events.emit({ type: "protocol:error", error: new ZmeshError("ERR_PATTERN_PROTOCOL", `dropped a message from the broker: ${reason}`) })
  }
}
