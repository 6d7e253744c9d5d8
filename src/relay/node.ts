/**
 * RelayNode: a durable relay, an ordinary zmesh peer (a ROUTER) that stores
 * before it forwards. Producers get a confirm only once their message is
 * fsync'd; consumers get every message of their group, with leases,
 * redelivery, dead-lettering and delays. See docs/relay.md.
 */
import { ZmeshError } from "../errors.js"
import { NodeCore, type LogLevel } from "./node/core.js"
import { LogStore } from "./store/log/log-store.js"
import type { QueueInfo, Recovery, RelayStore, StoreStats } from "./store/store.js"

export interface RelayNodeOptions {
  /** Any zmesh endpoint; `tcp://127.0.0.1:*` picks a free port (read it from `endpoint`). */
  bind: string
  /** The data folder of the default store, created if missing. */
  dataDir: string
  /** Default: the embedded log in `dataDir`. */
  store?: RelayStore
  /** ms; a longer delay is refused (default 30 days). */
  maxDelay?: number
  /** Bytes of body plus headers; a larger message is refused (default 1 MiB). */
  maxMessageSize?: number
  /** ms a message id stays known: a send with an id stored within it is confirmed as a duplicate, not stored (default 120000; 0 = off). */
  dedupWindow?: number
  /** ms a half message may stay undecided before the relay asks its producer, and between asks (default 60000). */
  checkAfter?: number
  /** Check-backs without a decision before a half message is rolled back (default 5). */
  maxChecks?: number
  /** ms without a word from a client before its session ends and its unacked messages go back (default 10000). */
  sessionTimeout?: number
  /** Receives the node's log lines (start, recovery, errors); silent by default. */
  log?: (level: LogLevel, message: string) => void
}

export interface RelayNodeStats {
  readonly sessions: number
  readonly consumers: number
  readonly leases: number
  readonly queues: readonly QueueInfo[]
  readonly store: StoreStats
  /** Totals since start. */
  readonly counters: Readonly<NodeCore["counters"]>
}

const DAY = 24 * 3600 * 1000

/**
 * A durable relay node.
 *
 * @example
 * ```ts
 * const node = await RelayNode.start({ bind: "tcp://127.0.0.1:*", dataDir: "./zmesh-data" })
 * console.log(node.endpoint)   // tcp://127.0.0.1:40123
 * await node.close()
 * ```
 */
export class RelayNode {
  private readonly core: NodeCore
  /** The resolved endpoint, e.g. "tcp://127.0.0.1:40123". */
  readonly endpoint: string
  /** What the store found when it opened (torn tail truncated, corruption, timings). */
  readonly recovery: Recovery
  private closing: Promise<void> | undefined

  private constructor(core: NodeCore, endpoint: string, recovery: Recovery) {
    this.core = core
    this.endpoint = endpoint
    this.recovery = recovery
  }

  /** Opens the store (recovering it), binds, and starts serving. */
  static async start(options: RelayNodeOptions): Promise<RelayNode> {
    const maxDelay = checkLimit("maxDelay", options.maxDelay, 30 * DAY)
    const maxMessageSize = checkLimit("maxMessageSize", options.maxMessageSize, 1024 * 1024)
    const sessionTimeout = checkLimit("sessionTimeout", options.sessionTimeout, 10_000)
    const dedupWindow = options.dedupWindow === 0 ? 0 : checkLimit("dedupWindow", options.dedupWindow, 120_000)
    const checkAfter = checkLimit("checkAfter", options.checkAfter, 60_000)
    const maxChecks = checkLimit("maxChecks", options.maxChecks, 5)
    if (typeof options.bind !== "string") throw new ZmeshError("EINVAL", "RelayNode.start: bind must be an endpoint string")
    if (options.store === undefined && typeof options.dataDir !== "string") throw new ZmeshError("EINVAL", "RelayNode.start: dataDir is required")
    const log = options.log ?? (() => undefined)
    const store = options.store ?? new LogStore({ dir: options.dataDir })
    const recovery = await store.open()
    const core = new NodeCore({ store, maxDelay, maxMessageSize, sessionTimeout, dedupWindow, checkAfter, maxChecks, log })
    try {
      await core.router.bind(options.bind)
    } catch (err) {
      core.router.close()
      await store.close()
      throw err
    }
    for (const q of recovery.queues) {
      for (const g of q.groups) core.group(q.name, g.name, g.settings, true)
    }
    core.start()
    await core.delays.rearm()
    return new RelayNode(core, core.router.lastEndpoint!, recovery)
  }

  /** Counts and depths, for monitoring. */
  stats(): RelayNodeStats {
    const core = this.core
    let consumers = 0
    for (const s of core.sessions.values()) consumers += s.consumers.size
    return {
      sessions: core.sessions.size,
      consumers,
      leases: core.leases.size,
      queues: core.store.queues(),
      store: core.store.stats(),
      counters: { ...core.counters },
    }
  }

  /** Stops taking commands, finishes the group commit in flight and answers it, then closes the socket and the store. */
  close(): Promise<void> {
    this.closing ??= this.core.close()
    return this.closing
  }
}

function checkLimit(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback
  if (typeof value !== "number" || !Number.isInteger(value) || value <= 0) {
    throw new ZmeshError("EINVAL", `RelayNode.start: ${name} must be a positive integer, not ${String(value)}`)
  }
  return value
}

export type { LogLevel }
