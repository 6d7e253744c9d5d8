/**
 * The Majordomo broker (18/MDP, MDP/0.2, with 8/MMI): one ROUTER socket for
 * clients and workers, a queue of requests and a list of waiting workers per
 * service, heartbeats to every worker, and recovery from dead workers by
 * resending their request to another worker of the service.
 */
import { Router, type Message, type SocketOptionValues } from "../../src/index.js"
import { ZmeshError } from "../../src/extras.js"
import { PatternEvents } from "../events.js"
import { idKey, idName } from "../frames.js"
import { LivenessTable, heartbeatSettings, type HeartbeatOptions } from "../heartbeat.js"
import { MdpClientCommand as C, MdpWorkerCommand as W, Mmi, commandOf, frames, isHeader } from "./protocol.js"

export interface MajordomoBrokerOptions extends HeartbeatOptions {
  /** ms a request may wait for a worker of its service before it is dropped (18/MDP: "SHOULD expire"). Default 30000. */
  requestTimeout?: number
  /** Deliveries of one request (to workers that then died) before it is dropped. Default 3. */
  maxDeliveries?: number
  /** Requests waiting for workers, all services together, before new ones are dropped. Default 10000. */
  maxPending?: number
  /** Options for the ROUTER socket. `linger` is 0 unless set. */
  socketOptions?: Partial<SocketOptionValues>
}

export type MajordomoBrokerEvent =
  | { type: "worker:ready"; worker: string; service: string }
  /** A worker was removed: silent for `heartbeatLiveness` intervals, said DISCONNECT, or sent an unexpected command (and got DISCONNECT). */
  | { type: "worker:lost"; worker: string; service: string; reason: "expired" | "disconnected" | "unexpected" }
  /** The request a lost worker held went back to the head of its service's queue. */
  | { type: "request:requeued"; service: string; worker: string; deliveries: number }
  | { type: "request:dropped"; service: string; reason: "max-deliveries" | "expired" | "full" }
  /** A message that is not MDP/0.2, or a command from an unknown worker, was dropped. */
  | { type: "protocol:error"; peer: string; error: ZmeshError }

interface Job {
  readonly client: Buffer
  readonly body: Buffer[]
  readonly deadline: number
  deliveries: number
}

interface Service {
  readonly name: string
  readonly requests: Job[]
  /** Waiting workers, least recently used first. */
  readonly waiting: Map<string, Worker>
  workers: number
}

interface Worker {
  readonly id: Buffer
  readonly name: string
  readonly service: Service
  job: Job | undefined
}

/**
 * A Majordomo broker that any MDP/0.2 client or worker can use, in any
 * language. Bind it, and point clients and workers at the endpoint.
 *
 * @example
 * ```ts
 * const broker = new MajordomoBroker({ heartbeatInterval: 2500 })
 * await broker.bind("tcp://127.0.0.1:5555")
 * broker.events.on("worker:ready", (e) => console.log(`${e.service}: worker ${e.worker}`))
 * ```
 */
export class MajordomoBroker {
  readonly events = new PatternEvents<MajordomoBrokerEvent>()
  readonly socket: Router
  readonly heartbeatInterval: number
  readonly requestTimeout: number
  readonly maxDeliveries: number
  readonly maxPending: number
  private readonly services = new Map<string, Service>()
  private readonly workers = new Map<string, Worker>()
  private readonly liveness: LivenessTable<string>
  private pending = 0
  private timer: NodeJS.Timeout | undefined
  private reading = false

  constructor(options: MajordomoBrokerOptions = {}) {
    const { interval, liveness } = heartbeatSettings(options)
    this.heartbeatInterval = interval
    this.liveness = new LivenessTable(liveness)
    this.requestTimeout = options.requestTimeout ?? 30_000
    this.maxDeliveries = options.maxDeliveries ?? 3
    this.maxPending = options.maxPending ?? 10_000
    this.socket = new Router({ linger: 0, ...options.socketOptions })
  }

  /** The endpoint of the last bind, with the real port for `:*`. */
  get endpoint(): string | null {
    return this.socket.lastEndpoint
  }

  /** Binds an endpoint (call again for more) and starts brokering. */
  async bind(endpoint: string): Promise<void> {
    await this.socket.bind(endpoint)
    if (this.reading) return
    this.reading = true
    this.timer = setInterval(() => this.tick(), this.heartbeatInterval)
    void this.read()
  }

  /** Names of the services with at least one worker. */
  get serviceNames(): string[] {
    return [...this.services.values()].filter((s) => s.workers > 0).map((s) => s.name)
  }

  /** Closes the socket. Workers notice by heartbeat and re-register with the next broker. */
  close(): void {
    clearInterval(this.timer)
    this.socket.close()
  }

  private async read(): Promise<void> {
    for await (const message of this.socket) {
      const sender = message[0]!
      if (isHeader(message[1], frames.client)) this.fromClient(sender, message)
      else if (isHeader(message[1], frames.worker)) this.fromWorker(sender, message)
      else this.invalid(sender, "not an MDP/0.2 message (frame 0 is neither MDPC02 nor MDPW02)")
    }
  }

  private fromClient(client: Buffer, message: Message): void {
    // 18/MDP: a REQUEST "consists of a multipart message of 4 or more frames".
    if (commandOf(message[2]) !== C.REQUEST || message.length < 5) {
      return this.invalid(client, "a client may only send REQUEST with a service name and a body")
    }
    const name = message[3]!.toString()
    const body = message.slice(4)
    if (name.startsWith(Mmi.PREFIX)) return this.mmi(client, name, body)
    if (this.pending >= this.maxPending) {
      this.events.emit({ type: "request:dropped", service: name, reason: "full" })
      return
    }
    const service = this.service(name)
    service.requests.push({ client, body, deadline: Date.now() + this.requestTimeout, deliveries: 0 })
    this.pending++
    this.dispatch(service)
  }

  /** 8/MMI: mmi.service answers 200 or 404; any other mmi. service 501. */
  private mmi(client: Buffer, name: string, body: Buffer[]): void {
    let code: string = Mmi.NOT_IMPLEMENTED
    if (name === Mmi.SERVICE) {
      const asked = this.services.get(body[0]!.toString())
      code = asked !== undefined && asked.workers > 0 ? Mmi.FOUND : Mmi.NOT_FOUND
    }
    this.toClient(client, C.FINAL, name, [Buffer.from(code)])
  }

  private fromWorker(id: Buffer, message: Message): void {
    const key = idKey(id)
    const worker = this.workers.get(key)
    const command = commandOf(message[2])
    if (worker !== undefined) this.liveness.touch(key)
    switch (command) {
      case W.READY: {
        if (message.length !== 4) return this.invalid(id, "READY needs exactly a service name")
        const name = message[3]!.toString()
        // "The worker MUST NOT send a further READY"; 8/MMI: "MUST disconnect any workers that attempt to register services in this namespace".
        if (worker !== undefined) return this.remove(worker, "unexpected")
        if (name.startsWith(Mmi.PREFIX)) return this.disconnect(id)
        return this.register(id, name)
      }
      case W.PARTIAL:
      case W.FINAL: {
        if (message.length < 6 || message[4]!.length !== 0) {
          return this.invalid(id, "PARTIAL and FINAL need a client address, an empty frame and a body")
        }
        if (worker === undefined) return this.unexpected(id, "a reply from a worker that is not registered")
        const job = worker.job
        if (job === undefined || !job.client.equals(message[3]!)) return this.remove(worker, "unexpected")
        this.toClient(job.client, command === W.FINAL ? C.FINAL : C.PARTIAL, worker.service.name, message.slice(5))
        if (command === W.FINAL) {
          worker.job = undefined
          this.wait(worker)
        }
        return
      }
      case W.HEARTBEAT:
        if (message.length !== 3) return this.invalid(id, "HEARTBEAT has two frames")
        // "HEARTBEAT commands are valid at any time, after a READY command": from a stranger it is unexpected.
        if (worker === undefined) return this.unexpected(id, "HEARTBEAT from a worker that is not registered")
        return
      case W.DISCONNECT:
        if (worker !== undefined) this.remove(worker, "disconnected", false)
        return
      default:
        if (worker !== undefined) return this.remove(worker, "unexpected")
        return this.invalid(id, `unknown or unexpected worker command ${command}`)
    }
  }

  private register(id: Buffer, name: string): void {
    const service = this.service(name)
    const worker: Worker = { id, name: idName(id), service, job: undefined }
    this.workers.set(idKey(id), worker)
    this.liveness.touch(idKey(id))
    service.workers++
    this.events.emit({ type: "worker:ready", worker: worker.name, service: name })
    this.wait(worker)
  }

  private wait(worker: Worker): void {
    const key = idKey(worker.id)
    worker.service.waiting.delete(key)
    worker.service.waiting.set(key, worker)
    this.dispatch(worker.service)
  }

  private dispatch(service: Service): void {
    while (service.requests.length > 0 && service.waiting.size > 0) {
      const [key, worker] = service.waiting.entries().next().value as [string, Worker]
      service.waiting.delete(key)
      const job = service.requests.shift()!
      this.pending--
      job.deliveries++
      worker.job = job
      this.toWorker(worker.id, W.REQUEST, [job.client, frames.empty, ...job.body])
    }
  }

  /** Removes a worker, telling it DISCONNECT unless it said so itself; its request goes back to the queue. */
  private remove(worker: Worker, reason: "expired" | "disconnected" | "unexpected", tell = true): void {
    const key = idKey(worker.id)
    if (tell) this.disconnect(worker.id)
    this.workers.delete(key)
    this.liveness.delete(key)
    const service = worker.service
    service.waiting.delete(key)
    service.workers--
    this.events.emit({ type: "worker:lost", worker: worker.name, service: service.name, reason })
    const job = worker.job
    if (job === undefined) return
    if (job.deliveries >= this.maxDeliveries) {
      this.events.emit({ type: "request:dropped", service: service.name, reason: "max-deliveries" })
      return
    }
    service.requests.unshift(job)
    this.pending++
    this.events.emit({ type: "request:requeued", service: service.name, worker: worker.name, deliveries: job.deliveries })
    this.dispatch(service)
  }

  private tick(): void {
    for (const worker of this.workers.values()) this.toWorker(worker.id, W.HEARTBEAT, [])
    for (const key of this.liveness.tick()) {
      const worker = this.workers.get(key)
      if (worker !== undefined) this.remove(worker, "expired", false)
    }
    const now = Date.now()
    for (const service of this.services.values()) {
      while (service.requests.length > 0 && service.requests[0]!.deadline <= now) {
        service.requests.shift()
        this.pending--
        this.events.emit({ type: "request:dropped", service: service.name, reason: "expired" })
      }
      if (service.workers === 0 && service.requests.length === 0) this.services.delete(service.name)
    }
  }

  private service(name: string): Service {
    let service = this.services.get(name)
    if (service === undefined) {
      service = { name, requests: [], waiting: new Map(), workers: 0 }
      this.services.set(name, service)
    }
    return service
  }

  private toClient(client: Buffer, command: number, service: string, body: Buffer[]): void {
    // A ROUTER drops messages to clients that are gone, as 18/MDP expects: the client retries.
    this.socket.send([client, frames.client, frames.command(command), service, ...body]).catch(() => undefined)
  }

  private toWorker(worker: Buffer, command: number, rest: Buffer[]): void {
    this.socket.send([worker, frames.worker, frames.command(command), ...rest]).catch(() => undefined)
  }

  private disconnect(worker: Buffer): void {
    this.toWorker(worker, W.DISCONNECT, [])
  }

  /** "The broker MUST respond to any valid but unexpected command by sending DISCONNECT." */
  private unexpected(peer: Buffer, reason: string): void {
    this.disconnect(peer)
    this.report(peer, reason)
  }

  /** "The broker SHOULD respond to invalid messages by dropping them and treating that peer as invalid." */
  private invalid(peer: Buffer, reason: string): void {
    const worker = this.workers.get(idKey(peer))
    if (worker !== undefined) this.remove(worker, "unexpected")
    this.report(peer, reason)
  }

  private report(peer: Buffer, reason: string): void {
    const error = new ZmeshError("ERR_PATTERN_PROTOCOL", `dropped a message from ${idName(peer)}: ${reason}`)
    this.events.emit({ type: "protocol:error", peer: idName(peer), error })
  }
}
