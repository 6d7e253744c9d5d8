/**
 * zmesh/patterns: the reliability patterns of the ZeroMQ guide as classes,
 * built on zmesh's public API only. docs/patterns.md describes each one.
 *
 * @example
 * ```ts
 * import { LazyPirateClient } from "zmesh/patterns"
 * const client = new LazyPirateClient("tcp://127.0.0.1:5555", { timeout: 1000, retries: 3 })
 * const [reply] = await client.request("hello")
 * ```
 */
export { PatternEvents, type PatternEvent } from "./events.js"
export { Heartbeat, LivenessTable, Backoff, heartbeatDefaults, type HeartbeatOptions, type ReconnectingWorkerOptions } from "./heartbeat.js"
export type { Reply, RequestHandler } from "./handler.js"
export { LazyPirateClient, type LazyPirateOptions, type LazyPirateEvent } from "./lazy-pirate.js"
export { PPP, type WorkerQueueOptions, type WorkerQueueEvent } from "./worker-queue.js"
export {
  SimplePirateQueue,
  SimplePirateWorker,
  type SimplePirateWorkerOptions,
  type SimplePirateWorkerEvent,
} from "./simple-pirate.js"
export {
  ParanoidPirateQueue,
  ParanoidPirateWorker,
  type ParanoidPirateQueueOptions,
  type ParanoidPirateWorkerOptions,
  type ParanoidPirateWorkerEvent,
} from "./paranoid-pirate.js"
export * from "./majordomo/index.js"
export * from "./clone/index.js"
