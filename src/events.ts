/**
 * Socket events with zeromq.js v6's names and shapes, read through
 * `sock.events` either by `receive()` / async iteration or by `on()`.
 *
 * @example
 * ```ts
 * sock.events.on("connect:retry", (e) => console.log(`retry in ${e.interval} ms`))
 * ```
 */
import { EventEmitter } from "node:events"
import { ZmeshError } from "./errors.js"
import { Queue } from "./routing/queue.js"
import { hold, release } from "./sockets/keep-alive.js"

type Expand<T> = T extends infer O ? { [K in keyof O]: O[K] } : never
export type EventFor<T extends string, D = object> = Expand<{ type: T } & D>

interface EventAddress {
  /** The endpoint concerned. */
  address: string
}
interface EventError {
  error: ZmeshError
}
interface EventInterval {
  /** The wait in ms before the next attempt. */
  interval: number
}

export type Event =
  | EventFor<"accept", EventAddress>
  | EventFor<"accept:error", EventAddress & EventError>
  | EventFor<"bind", EventAddress>
  | EventFor<"bind:error", EventAddress & EventError>
  | EventFor<"connect", EventAddress>
  | EventFor<"connect:delay", EventAddress>
  | EventFor<"connect:retry", EventAddress & EventInterval>
  | EventFor<"close", EventAddress>
  | EventFor<"close:error", EventAddress & EventError>
  | EventFor<"disconnect", EventAddress & Partial<EventError>>
  | EventFor<"end">
  | EventFor<"handshake", EventAddress>
  | EventFor<"handshake:error:protocol", EventAddress & EventError>
  | EventFor<"handshake:error:auth", EventAddress & EventError>
  | EventFor<"handshake:error:other", EventAddress & EventError>
  | EventFor<"unknown">

export type EventType = Event["type"]
export type EventOfType<E extends EventType = EventType> = Expand<Extract<Event, { type: E }>>

/** Events kept for `receive()` before new ones are dropped, like libzmq's monitor HWM. */
const MAX_QUEUED = 1000

export class Observer {
  private readonly queue = new Queue<Event>()
  private readonly waiters = new Queue<{ resolve: (e: Event) => void; reject: (e: Error) => void }>()
  private emitter: EventEmitter | undefined
  private isClosed = false

  get closed(): boolean {
    return this.isClosed
  }

  /** Adds a listener; from then on events go to listeners and `receive()` is not available. */
  on<E extends EventType>(type: E, listener: (event: EventOfType<E>) => void): this {
    if (this.emitter === undefined && !this.isClosed) {
      // zeromq.js's emitter mode reads events in a loop: it keeps the process alive until the socket closes.
      hold()
    }
    this.emitter ??= new EventEmitter()
    this.emitter.on(type, listener)
    return this
  }

  off<E extends EventType>(type: E, listener: (event: EventOfType<E>) => void): this {
    this.emitter?.off(type, listener)
    return this
  }

  /**
   * The next event; rejects with EAGAIN once the observer is closed. Throws
   * (as zeromq.js does) once `on()` has put the observer in emitter mode.
   */
  receive(): Promise<Event> {
    if (this.emitter !== undefined) {
      throw new Error(
        "Observer is in event emitter mode. After a call to events.on() it is not possible to read events with events.receive().",
      )
    }
    const event = this.queue.shift()
    if (event !== undefined) return Promise.resolve(event)
    if (this.isClosed) return Promise.reject(new ZmeshError("EBADF", "the observer is closed: its socket was closed"))
    // A pending events.receive() keeps the process alive, as in zeromq.js.
    if (this.waiters.length === 0) hold()
    return new Promise<Event>((resolve, reject) => this.waiters.push({ resolve, reject })).finally(() => {
      if (this.waiters.length === 0) release()
    })
  }

  close(): void {
    if (this.isClosed) return
    this.isClosed = true
    if (this.emitter !== undefined) release()
    for (const waiter of this.waiters.drain()) waiter.reject(new ZmeshError("EAGAIN", "Observer is closed"))
  }

  [Symbol.asyncIterator](): AsyncIterator<Event, undefined> {
    return {
      next: async () => {
        try {
          return { value: await this.receive(), done: false }
        } catch (err) {
          // Iteration ends once the socket is closed (its last event is `end`).
          const code = (err as ZmeshError).code
          if (this.isClosed && (code === "EAGAIN" || code === "EBADF")) return { value: undefined, done: true }
          throw err
        }
      },
    }
  }

  /** @internal Called by the socket. */
  emit(event: Event): void {
    if (this.isClosed) return
    if (this.emitter !== undefined) {
      try {
        this.emitter.emit(event.type, event)
      } catch (err) {
        // A listener's throw is the application's error, not the connection's: it must
        // not unwind through zmesh's state changes. It reaches the process as any
        // throwing listener's would, as an uncaught exception, a microtask later.
        // Not from process.nextTick: a tick that throws inside node:net's read
        // callback makes node drop the next read buffer an `onread` reader hands
        // it (see transport/socket-reader.ts); a throwing microtask is reported
        // without unwinding that callback.
        queueMicrotask(() => {
          throw err
        })
      }
      return
    }
    const waiter = this.waiters.shift()
    if (waiter !== undefined) waiter.resolve(event)
    else if (this.queue.length < MAX_QUEUED) this.queue.push(event)
  }
}

/** Something events can be subscribed to with `on()` and `off()`, as zeromq.js's EventSubscriber. */
export interface EventSubscriber {
  on<E extends EventType>(type: E, listener: (event: EventOfType<E>) => void): EventSubscriber
  off<E extends EventType>(type: E, listener: (event: EventOfType<E>) => void): EventSubscriber
}
