/**
 * Simple Pirate (the ZeroMQ guide, chapter 4): a load-balancing queue
 * between Lazy Pirate clients and REQ workers. Workers say READY once, then
 * each reply tells the queue they are free again. There is no heartbeating:
 * a worker that dies while idle is found when a request cannot reach it.
 */
import { Request, type SocketOptionValues } from "../src/index.js"
import { PatternEvents } from "./events.js"
import { splitEnvelope } from "./frames.js"
import { replyFrames, type RequestHandler } from "./handler.js"
import { EMPTY, READY, WorkerQueue, type WorkerQueueOptions } from "./worker-queue.js"

/**
 * The Simple Pirate queue: clients (REQ, or Lazy Pirate) connect to the
 * frontend, {@link SimplePirateWorker}s to the backend. Each request goes to
 * the worker idle longest. A request whose worker restarts (says READY while
 * busy) or whose connection is gone is requeued, up to `maxDeliveries`.
 *
 * @example
 * ```ts
 * const queue = new SimplePirateQueue()
 * await queue.bind("tcp://127.0.0.1:5555", "tcp://127.0.0.1:5556")
 * queue.events.on("worker:ready", (e) => console.log(`worker ${e.worker} ready`))
 * ```
 */
export class SimplePirateQueue extends WorkerQueue {
  protected readonly workerPrefix = [EMPTY]

  constructor(options: WorkerQueueOptions = {}) {
    super(options)
  }
}

export interface SimplePirateWorkerOptions {
  /** Options for the worker's REQ socket. `linger` is 0 unless set. */
  socketOptions?: Partial<SocketOptionValues>
}

export type SimplePirateWorkerEvent =
  /** READY was sent: the worker is in the queue's idle list once it arrives. */
  | { type: "ready" }
  /** The handler threw: no reply was sent for that request; the worker said READY again. */
  | { type: "error"; error: unknown }

/**
 * A Simple Pirate worker: a REQ socket that says READY, then serves one
 * request at a time with `handler`. Call `start()`, and `close()` to stop.
 *
 * @example
 * ```ts
 * const worker = new SimplePirateWorker("tcp://127.0.0.1:5556", ([name]) => `hello ${name}`)
 * worker.start()
 * ```
 */
export class SimplePirateWorker {
  readonly events = new PatternEvents<SimplePirateWorkerEvent>()
  private socket: Request | undefined

  readonly endpoint: string
  private readonly handler: RequestHandler
  private readonly options: SimplePirateWorkerOptions

  constructor(endpoint: string, handler: RequestHandler, options: SimplePirateWorkerOptions = {}) {
    this.endpoint = endpoint
    this.handler = handler
    this.options = options
  }

  /** Connects and starts serving. */
  start(): void {
    if (this.socket !== undefined) return
    const socket = new Request({ linger: 0, ...this.options.socketOptions })
    socket.connect(this.endpoint)
    this.socket = socket
    void this.serve(socket)
  }

  close(): void {
    this.socket?.close()
  }

  private async serve(socket: Request): Promise<void> {
    try {
      await socket.send(READY)
      this.events.emit({ type: "ready" })
      for (;;) {
        const { envelope, body } = splitEnvelope(await socket.receive())
        let reply
        try {
          if (envelope.length === 0) throw new TypeError("a request without a client envelope")
          reply = replyFrames(await this.handler(body))
        } catch (error) {
          this.events.emit({ type: "error", error })
          // REQ must send next: READY tells the queue we are free, and that this request failed here.
          await socket.send(READY)
          continue
        }
        await socket.send([...envelope, ...reply])
      }
    } catch {
      // The socket was closed: the worker stops.
    }
  }
}
