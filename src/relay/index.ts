/**
 * zmesh/relay: durable relay nodes. A producer hands a message to a relay,
 * the relay confirms once it is on disk, and forwards it to consumers now or
 * at a requested time, with acks, redelivery, dead-lettering and delays.
 *
 * @example
 * ```ts
 * import { RelayNode, RelayClient } from "zmesh/relay"
 * const node = await RelayNode.start({ bind: "tcp://127.0.0.1:*", dataDir: "./zmesh-data" })
 * const client = new RelayClient({ relay: node.endpoint })
 * await client.send("orders", "hello", { delay: 1000 })
 * for await (const m of client.consume("orders")) { console.log(m.body.toString()); await m.ack(); break }
 * ```
 */
export { RelayNode, type RelayNodeOptions, type RelayNodeStats, type LogLevel } from "./node.js"
export { RelayClient, type RelayClientOptions, type SendOptions, type SendResult } from "./client.js"
export { RelayConsumer, RelayMessage, type ConsumeOptions } from "./consumer.js"
export { processOnce, messageKey, MemoryProcessedStore, type ProcessedStore, type MemoryProcessedStoreOptions } from "./idempotent-consumer.js"
export { Transaction, type PrepareOptions, type HalfMessage, type CheckResolver, type Decision } from "./transaction.js"
export { LogStore, type LogStoreOptions } from "./store/log/log-store.js"
export type { LogFs } from "./store/log/log-fs.js"
export type {
  RelayStore,
  StoreOp,
  MessageOp,
  GroupOp,
  AckOp,
  RetryOp,
  ReleaseOp,
  CancelOp,
  CommitOp,
  RollbackOp,
  CheckOp,
  StoredMessage,
  PendingMessage,
  DueMessage,
  GroupSettings,
  GroupInfo,
  QueueInfo,
  Recovery,
  StoreCorruption,
  StoreStats,
  Headers,
} from "./store/store.js"
export { PRODUCER_RECEIPTS, Decided, isDuplicate } from "./store/store.js"
export { PROTOCOL_VERSION, type NodeInfo } from "./protocol.js"
export { PostgresStore, type PostgresStoreOptions } from "./store/postgres/postgres-store.js"
