/**
 * Heartbeating as the ZeroMQ guide does it (chapter 4): liveness is counted in
 * heartbeat intervals, not wall-clock time, so a process that stalls for a
 * while (GC, a busy event loop) loses one tick, not its peers.
 */
import type { SocketOptionValues } from "../src/index.js"

/** Timing shared by every heartbeating pattern. */
export interface HeartbeatOptions {
  /** ms between heartbeats, in both directions. Default 1000. */
  heartbeatInterval?: number
  /** Intervals without any message from the peer before it counts as dead (the guide's HEARTBEAT_LIVENESS). Default 3. */
  heartbeatLiveness?: number
}

/** Options of a worker that heartbeats its broker or queue and reconnects with a backoff (Paranoid Pirate, Majordomo). */
export interface ReconnectingWorkerOptions extends HeartbeatOptions {
  /** ms before the first reconnect after losing the broker or queue; doubles on each failure. Default 1000. */
  reconnectInterval?: number
  /** The longest wait between reconnects, in ms. Default 32000. */
  reconnectMaxInterval?: number
  /** Options for each DEALER socket. `linger` is 0 unless set. */
  socketOptions?: Partial<SocketOptionValues>
}

/** The defaults of {@link HeartbeatOptions}. */
export const heartbeatDefaults = { heartbeatInterval: 1000, heartbeatLiveness: 3 } as const

/** @internal Reads and checks heartbeat options. */
export function heartbeatSettings(options: HeartbeatOptions): { interval: number; liveness: number } {
  const interval = options.heartbeatInterval ?? heartbeatDefaults.heartbeatInterval
  const liveness = options.heartbeatLiveness ?? heartbeatDefaults.heartbeatLiveness
  if (!Number.isFinite(interval) || interval <= 0) throw new TypeError(`heartbeatInterval must be a positive number of ms, got ${interval}`)
  if (!Number.isInteger(liveness) || liveness < 1) throw new TypeError(`heartbeatLiveness must be a positive integer, got ${liveness}`)
  return { interval, liveness }
}

/**
 * The liveness of one peer, with its own timer: every interval it calls
 * `beat` (send your heartbeat) and counts one missed interval; `alive()`
 * (call it on any message from the peer) resets the count. When `liveness`
 * intervals pass in silence, the timer stops and `dead` is called once.
 *
 * @example
 * ```ts
 * const heartbeat = new Heartbeat({ heartbeatInterval: 1000, heartbeatLiveness: 3 }, {
 *   beat: () => void dealer.send(HEARTBEAT),
 *   dead: () => reconnect(),
 * })
 * heartbeat.start()
 * for await (const message of dealer) { heartbeat.alive(); ... }
 * ```
 */
export class Heartbeat {
  readonly interval: number
  readonly liveness: number
  private remaining: number
  private timer: NodeJS.Timeout | undefined
  private readonly handlers: { beat(): void; dead(): void }

  constructor(options: HeartbeatOptions, handlers: { beat(): void; dead(): void }) {
    this.handlers = handlers
    const { interval, liveness } = heartbeatSettings(options)
    this.interval = interval
    this.liveness = liveness
    this.remaining = liveness
  }

  /** True while the timer runs. */
  get running(): boolean {
    return this.timer !== undefined
  }

  /** Starts (or restarts) the timer with full liveness. */
  start(): void {
    this.stop()
    this.remaining = this.liveness
    this.timer = setInterval(() => this.tick(), this.interval)
  }

  /** The peer showed life: any message counts as a heartbeat. */
  alive(): void {
    this.remaining = this.liveness
  }

  stop(): void {
    if (this.timer !== undefined) clearInterval(this.timer)
    this.timer = undefined
  }

  private tick(): void {
    this.remaining--
    if (this.remaining <= 0) {
      this.stop()
      this.handlers.dead()
      return
    }
    this.handlers.beat()
  }
}

/**
 * The liveness of many peers, for a broker or queue: `touch()` a peer on each
 * of its messages, call `tick()` once per heartbeat interval, and it returns
 * (and forgets) the peers that stayed silent for `liveness` ticks.
 *
 * @example
 * ```ts
 * const peers = new LivenessTable<string>(3)
 * peers.touch("worker-1")
 * setInterval(() => { for (const dead of peers.tick()) purge(dead) }, 1000)
 * ```
 */
export class LivenessTable<K> {
  private readonly remaining = new Map<K, number>()
  readonly liveness: number

  constructor(liveness: number) {
    this.liveness = liveness
  }

  /** Resets a peer's count, adding the peer if new. */
  touch(key: K): void {
    this.remaining.set(key, this.liveness)
  }

  has(key: K): boolean {
    return this.remaining.has(key)
  }

  delete(key: K): void {
    this.remaining.delete(key)
  }

  get size(): number {
    return this.remaining.size
  }

  /** Counts one interval for every peer; returns the peers whose liveness ran out, now forgotten. */
  tick(): K[] {
    const dead: K[] = []
    for (const [key, left] of this.remaining) {
      if (left <= 1) {
        dead.push(key)
        this.remaining.delete(key)
      } else {
        this.remaining.set(key, left - 1)
      }
    }
    return dead
  }
}

/**
 * Reconnect delays that double from `initial` up to `max` (the guide's
 * INTERVAL_INIT / INTERVAL_MAX), reset after a success.
 */
export class Backoff {
  private current: number
  readonly initial: number
  readonly max: number

  constructor(initial: number, max: number) {
    this.initial = initial
    this.max = max
    if (!(initial > 0) || !(max >= initial)) throw new TypeError(`backoff needs 0 < initial <= max, got ${initial} and ${max}`)
    this.current = initial
  }

  /** The delay to wait now; the next call returns twice as much, up to `max`. */
  next(): number {
    const delay = this.current
    this.current = Math.min(this.current * 2, this.max)
    return delay
  }

  reset(): void {
    this.current = this.initial
  }
}

/** @internal A promise that resolves after `ms`, or at once when `signal` aborts. */
export function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve()
    const done = () => {
      clearTimeout(timer)
      signal.removeEventListener("abort", done)
      resolve()
    }
    const timer = setTimeout(done, ms)
    signal.addEventListener("abort", done)
  })
}
