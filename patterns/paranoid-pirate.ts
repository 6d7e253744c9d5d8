/**
 * Paranoid Pirate (the ZeroMQ guide, chapter 4; 6/PPP): the load-balancing
 * queue with heartbeats both ways. The queue purges workers that go silent
 * and requeues the request a purged worker held; workers that lose the queue
 * reconnect on a new socket after a doubling backoff.
 */
import { Dealer, type Message } from "../src/index.js"
import { ZmeshError } from "../src/extras.js"
import { PatternEvents } from "./events.js"
import { isByte, splitEnvelope } from "./frames.js"
import { replyFrames, type RequestHandler } from "./handler.js"
import { Backoff, Heartbeat, heartbeatSettings, pause, type HeartbeatOptions, type ReconnectingWorkerOptions } from "./heartbeat.js"
import { HEARTBEAT, PPP, READY, WorkerQueue, type WorkerQueueOptions } from "./worker-queue.js"

export type ParanoidPirateQueueOptions = WorkerQueueOptions & HeartbeatOptions

/**
 * The Paranoid Pirate queue: clients (REQ, or Lazy Pirate) connect to the
 * frontend, {@link ParanoidPirateWorker}s to the backend. It sends each
 * worker HEARTBEAT every `heartbeatInterval` and forgets a worker silent for
 * `heartbeatLiveness` intervals; the request that worker held goes back to
 * the head of the queue for the next free worker (up to `maxDeliveries`).
 * A late reply from a worker written off is dropped, so the client gets one reply.
 *
 * @example
 * ```ts
 * const queue = new ParanoidPirateQueue({ heartbeatInterval: 1000, heartbeatLiveness: 3 })
 * await queue.bind("tcp://127.0.0.1:5555", "tcp://127.0.0.1:5556")
 * queue.events.on("worker:lost", (e) => console.log(`worker ${e.worker} lost (${e.reason})`))
 * ```
 */
export class ParanoidPirateQueue extends WorkerQueue {
  protected readonly workerPrefix = []
  readonly heartbeatInterval: number
  private timer: NodeJS.Timeout | undefined

  constructor(options: ParanoidPirateQueueOptions = {}) {
    const { interval, liveness } = heartbeatSettings(options)
    super(options, liveness)
    this.heartbeatInterval = interval
  }

  protected override started(): void {
    this.timer = setInterval(() => this.tick(), this.heartbeatInterval)
  }

  protected override stopped(): void {
    clearInterval(this.timer)
  }

  private tick(): void {
    for (const worker of this.knownWorkers()) {
      try {
        this.backend.trySend([worker.id, HEARTBEAT])
      } catch {
        // Unreachable now: its silence will expire it.
      }
    }
    for (const key of this.liveness!.tick()) this.lose(key, "expired")
  }
}

/** See {@link ReconnectingWorkerOptions}. */
export type ParanoidPirateWorkerOptions = ReconnectingWorkerOptions

export type ParanoidPirateWorkerEvent =
  /** A new socket connected and sent READY (connection counts from 1). */
  | { type: "ready"; connection: number }
  /** No message from the queue for `heartbeatLiveness` intervals: the socket was closed. */
  | { type: "queue:lost" }
  /** A new socket will be opened after `delay` ms (the backoff). */
  | { type: "reconnect"; delay: number }
  /** The handler threw: that request got no reply; the worker said READY again, so the queue requeues it. */
  | { type: "error"; error: unknown }
  /** The queue sent something that is neither HEARTBEAT nor a request: dropped. */
  | { type: "protocol:error"; error: ZmeshError }

/**
 * A Paranoid Pirate worker: a DEALER that says READY, heartbeats the queue,
 * serves requests one at a time with `handler`, and when the queue goes
 * silent closes its socket and reconnects on a new one after a backoff
 * doubling from `reconnectInterval` to `reconnectMaxInterval`.
 *
 * @example
 * ```ts
 * const worker = new ParanoidPirateWorker("tcp://127.0.0.1:5556", ([n]) => String(Number(n) * 2))
 * worker.events.on("reconnect", (e) => console.log(`queue lost, retrying in ${e.delay} ms`))
 * worker.start()
 * ```
 */
export class ParanoidPirateWorker {
  readonly events = new PatternEvents<ParanoidPirateWorkerEvent>()
  private socket: Dealer | undefined
  private readonly heartbeat: Heartbeat
  private readonly backoff: Backoff
  private readonly stop = new AbortController()
  private connections = 0
  /** Requests are served one at a time, in order, while reading goes on (heartbeats keep arriving). */
  private work: Promise<void> = Promise.resolve()

  readonly endpoint: string
  private readonly handler: RequestHandler
  private readonly options: ParanoidPirateWorkerOptions

  constructor(endpoint: string, handler: RequestHandler, options: ParanoidPirateWorkerOptions = {}) {
    this.endpoint = endpoint
    this.handler = handler
    this.options = options
    this.heartbeat = new Heartbeat(options, {
      beat: () => this.beat(),
      dead: () => void this.reconnect(),
    })
    this.backoff = new Backoff(options.reconnectInterval ?? 1000, options.reconnectMaxInterval ?? 32000)
  }

  /** Connects and starts serving. */
  start(): void {
    if (this.connections === 0 && !this.stop.signal.aborted) this.open()
  }

  /** Closes the socket and stops reconnecting; a request in progress gets no reply. */
  close(): void {
    this.stop.abort()
    this.heartbeat.stop()
    this.socket?.close()
    this.socket = undefined
  }

  private open(): void {
    const socket = new Dealer({ linger: 0, ...this.options.socketOptions })
    socket.connect(this.endpoint)
    this.socket = socket
    this.connections++
    // send(), not trySend(): with `immediate` set there is no pipe until the connection is up.
    socket.send(READY).catch(() => undefined)
    this.heartbeat.start()
    this.events.emit({ type: "ready", connection: this.connections })
    void this.read(socket)
  }

  private beat(): void {
    try {
      this.socket?.trySend(HEARTBEAT)
    } catch {
      // Closed under us: reconnect() is on its way.
    }
  }

  private async reconnect(): Promise<void> {
    this.events.emit({ type: "queue:lost" })
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
        this.heartbeat.alive()
        this.backoff.reset()
        if (message.length === 1 && isByte(message[0], PPP.HEARTBEAT)) continue
        const { envelope, body } = splitEnvelope(message)
        if (envelope.length === 0 || body.length === 0) {
          const error = new ZmeshError("ERR_PATTERN_PROTOCOL", "dropped a message from the queue: neither HEARTBEAT nor a request with an envelope")
          this.events.emit({ type: "protocol:error", error })
          continue
        }
        this.work = this.work.then(() => this.serve(socket, envelope, body))
      }
    } catch {
      // Closed: reconnect() or close() took over.
    }
  }

  private async serve(socket: Dealer, envelope: Buffer[], body: Message): Promise<void> {
    let reply
    try {
      reply = replyFrames(await this.handler(body))
    } catch (error) {
      this.events.emit({ type: "error", error })
      // READY again tells the queue this worker is free and the request failed here: the queue requeues it.
      if (socket === this.socket) socket.trySend(READY)
      return
    }
    // After a reconnect the queue has requeued this request: the reply would be dropped there anyway.
    if (socket !== this.socket) return
    try {
      await socket.send([...envelope, ...reply])
    } catch {
      // Closed meanwhile.
    }
  }
}
