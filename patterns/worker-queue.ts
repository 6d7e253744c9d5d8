/**
 * @internal The load-balancing queue under Simple and Paranoid Pirate: clients
 * on a ROUTER frontend, workers on a ROUTER backend, each request to the least
 * recently used idle worker, and a request whose worker is lost requeued.
 */
import { Router, type Message, type SocketOptionValues } from "../src/index.js"
import { ZmeshError } from "../src/extras.js"
import { PatternEvents } from "./events.js"
import { idKey, idName, isByte, Signal } from "./frames.js"
import { LivenessTable } from "./heartbeat.js"

/** 6/PPP command bytes (Simple Pirate uses READY alone). */
export const PPP = { READY: 0x01, HEARTBEAT: 0x02 } as const
export const READY = Buffer.from([PPP.READY])
export const HEARTBEAT = Buffer.from([PPP.HEARTBEAT])
const EMPTY = Buffer.alloc(0)

export interface WorkerQueueOptions {
  /** Deliveries of one request (to workers that were then lost) before it is dropped. Default 3. */
  maxDeliveries?: number
  /** Options for the frontend ROUTER (clients). `linger` is 0 unless set. */
  frontendOptions?: Partial<SocketOptionValues>
  /** Options for the backend ROUTER (workers). `linger` is 0 unless set; `mandatory` is always on. */
  backendOptions?: Partial<SocketOptionValues>
}

export type WorkerQueueEvent =
  /** A worker said READY and joined the idle list. */
  | { type: "worker:ready"; worker: string }
  /** A worker was removed: it went silent (`expired`), said READY again while busy (`restarted`), or its connection is gone (`unreachable`). */
  | { type: "worker:lost"; worker: string; reason: "expired" | "restarted" | "unreachable" }
  /** The request a lost worker held went back to the head of the queue. */
  | { type: "request:requeued"; worker: string; deliveries: number }
  /** A request reached `maxDeliveries` and was dropped; the client's retry is its last chance. */
  | { type: "request:dropped"; deliveries: number }
  /** A reply came for a request already requeued (from a worker thought lost): dropped so the client gets one reply. */
  | { type: "reply:dropped"; worker: string }
  /** A message that breaks the protocol was dropped. */
  | { type: "protocol:error"; worker: string; error: ZmeshError }

interface Job {
  /** The client's message as the frontend received it: routing id, envelope, body. */
  readonly message: Message
  deliveries: number
}

interface Worker {
  readonly id: Buffer
  readonly name: string
  job: Job | undefined
}

export abstract class WorkerQueue {
  readonly events = new PatternEvents<WorkerQueueEvent>()
  readonly maxDeliveries: number
  /** The ROUTER clients connect to. */
  readonly frontend: Router
  /** The ROUTER workers connect to. */
  readonly backend: Router
  /** Frames between a worker's routing id and its command: [""] for REQ workers, none for DEALER ones. */
  protected abstract readonly workerPrefix: readonly Buffer[]
  private readonly workers = new Map<string, Worker>()
  /** Idle workers, least recently used first (Map keeps insertion order). */
  private readonly idle = new Map<string, Worker>()
  private readonly pending: Job[] = []
  private readonly capacity = new Signal()
  protected readonly liveness: LivenessTable<string> | undefined
  private closed = false

  protected constructor(options: WorkerQueueOptions, liveness?: number) {
    this.maxDeliveries = options.maxDeliveries ?? 3
    if (!Number.isInteger(this.maxDeliveries) || this.maxDeliveries < 1) {
      throw new TypeError(`maxDeliveries must be a positive integer, got ${this.maxDeliveries}`)
    }
    this.frontend = new Router({ linger: 0, ...options.frontendOptions })
    this.backend = new Router({ linger: 0, ...options.backendOptions, mandatory: true })
    this.liveness = liveness === undefined ? undefined : new LivenessTable(liveness)
  }

  /** Binds the frontend (clients) and backend (workers) and starts routing. Read the real endpoints from `frontend.lastEndpoint` and `backend.lastEndpoint`. */
  async bind(frontend: string, backend: string): Promise<void> {
    await this.frontend.bind(frontend)
    await this.backend.bind(backend)
    void this.readWorkers()
    void this.readClients()
    this.started()
  }

  /** Idle workers, for monitoring. */
  get idleWorkers(): number {
    return this.idle.size
  }

  /** Requests waiting for a worker. */
  get pendingRequests(): number {
    return this.pending.length
  }

  /** Closes both sockets; requests in the queue are dropped (clients retry). */
  close(): void {
    this.closed = true
    this.stopped()
    this.frontend.close()
    this.backend.close()
    this.capacity.notify()
  }

  /** Hook: routing started (Paranoid starts its heartbeat). */
  protected started(): void {}
  /** Hook: close() was called. */
  protected stopped(): void {}

  /** The workers known now. */
  protected knownWorkers(): IterableIterator<Worker> {
    return this.workers.values()
  }

  /** Removes a worker; its request, if any, is requeued. */
  protected lose(key: string, reason: "expired" | "restarted" | "unreachable"): void {
    const worker = this.workers.get(key)
    if (worker === undefined) return
    this.workers.delete(key)
    this.idle.delete(key)
    this.liveness?.delete(key)
    this.events.emit({ type: "worker:lost", worker: worker.name, reason })
    if (worker.job !== undefined) this.requeue(worker.job, worker.name)
  }

  private async readClients(): Promise<void> {
    while (!this.closed) {
      // Take a request only when a worker can have it at once: the frontend's HWM holds the rest.
      if (this.idle.size === 0 || this.pending.length > 0) {
        await this.capacity.wait()
        continue
      }
      let message: Message
      try {
        message = await this.frontend.receive()
      } catch {
        return // closed
      }
      this.pending.push({ message, deliveries: 0 })
      this.dispatch()
    }
  }

  private async readWorkers(): Promise<void> {
    for await (const message of this.backend) this.fromWorker(message)
  }

  private fromWorker(message: Message): void {
    const id = message[0]!
    const key = idKey(id)
    const prefix = this.workerPrefix.length
    if (message.length < 2 + prefix || (prefix === 1 && message[1]!.length !== 0)) {
      return this.protocolError(id, `a worker message needs ${prefix === 1 ? "an empty delimiter and " : ""}a command or reply`)
    }
    const rest = message.slice(1 + prefix)
    let worker = this.workers.get(key)
    if (worker !== undefined) this.liveness?.touch(key)
    if (rest.length === 1 && isByte(rest[0], PPP.READY)) {
      // READY from a busy worker: it restarted and lost the request it held.
      if (worker !== undefined) this.lose(key, "restarted")
      this.ready(id)
      return
    }
    if (rest.length === 1 && isByte(rest[0], PPP.HEARTBEAT)) return
    if (rest.length < 3 || rest.findIndex((frame) => frame.length === 0) < 1) {
      return this.protocolError(id, "a reply needs the client's envelope (routing id, empty delimiter) and a body")
    }
    // A reply shows the worker alive and free, even one we had written off.
    worker ??= this.ready(id)
    const job = worker.job
    worker.job = undefined
    this.makeIdle(worker)
    if (job === undefined) {
      this.events.emit({ type: "reply:dropped", worker: worker.name })
    } else {
      this.frontend.send(rest).catch(() => undefined) // an unreachable client is gone: ROUTER drops, as libzmq
    }
    this.dispatch()
  }

  private ready(id: Buffer): Worker {
    const worker: Worker = { id, name: idName(id), job: undefined }
    const key = idKey(id)
    this.workers.set(key, worker)
    this.liveness?.touch(key)
    this.makeIdle(worker)
    this.events.emit({ type: "worker:ready", worker: worker.name })
    this.dispatch()
    return worker
  }

  private makeIdle(worker: Worker): void {
    const key = idKey(worker.id)
    this.idle.delete(key)
    this.idle.set(key, worker)
    this.capacity.notify()
  }

  private requeue(job: Job, worker: string): void {
    if (job.deliveries >= this.maxDeliveries) {
      this.events.emit({ type: "request:dropped", deliveries: job.deliveries })
      return
    }
    this.pending.unshift(job)
    this.events.emit({ type: "request:requeued", worker, deliveries: job.deliveries })
    this.dispatch()
  }

  private dispatch(): void {
    while (!this.closed && this.pending.length > 0 && this.idle.size > 0) {
      const [key, worker] = this.idle.entries().next().value as [string, Worker]
      this.idle.delete(key)
      const job = this.pending.shift()!
      job.deliveries++
      worker.job = job
      this.backend.send([worker.id, ...this.workerPrefix, ...job.message]).catch((err: ZmeshError) => {
        if (this.closed || err.code !== "EHOSTUNREACH") return
        // The connection went before we could deliver: not a delivery, and not the worker's fault.
        job.deliveries--
        this.lose(key, "unreachable")
      })
    }
    if (this.idle.size > 0 && this.pending.length === 0) this.capacity.notify()
  }

  private protocolError(id: Buffer, reason: string): void {
    const error = new ZmeshError("ERR_PATTERN_PROTOCOL", `dropped a message from worker ${idName(id)}: ${reason}`)
    this.events.emit({ type: "protocol:error", worker: idName(id), error })
  }
}

export { EMPTY }
