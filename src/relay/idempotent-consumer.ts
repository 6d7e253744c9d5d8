/**
 * Effectively-once processing on top of at-least-once delivery: a consumer
 * records the ids it has processed in a store of its own, in the same
 * transaction as the processing's effects where the store allows, and skips
 * a message whose id is there (a redelivery after a lost ack, a consumer
 * crash before its ack, or a duplicate the relay's window did not cover).
 */
import type { RelayMessage } from "./consumer.js"

/**
 * Where processed message keys are recorded. `Tx` is what the work gets to
 * make its effects part of the same transaction (a database client, say).
 */
export interface ProcessedStore<Tx = void> {
  /**
   * Runs `work` unless `key` was processed, and records `key` as processed
   * atomically with the work's effects: resolves true if the work ran now,
   * false if the key was processed before. If the work throws, nothing is
   * recorded and the error propagates.
   */
  runOnce(key: string, work: (tx: Tx) => Promise<void>): Promise<boolean>
}

/** The key under which a message is recorded: its queue and id (a message keeps its id across redeliveries and dead-lettering). */
export function messageKey(message: Pick<RelayMessage, "queue" | "id">): string {
  return `${message.queue}/${message.id}`
}

/**
 * Processes a message at most once in effect, then acks it (also when it was
 * processed before, so that the relay stops redelivering it).
 *
 * @example
 * ```ts
 * const processed = new MemoryProcessedStore()
 * for await (const m of client.consume("orders")) {
 *   await processOnce(m, processed, async () => { await ship(m.body) })
 * }
 * ```
 */
export async function processOnce<Tx>(message: RelayMessage, store: ProcessedStore<Tx>, work: (message: RelayMessage, tx: Tx) => Promise<void>): Promise<boolean> {
  const ran = await store.runOnce(messageKey(message), (tx) => work(message, tx))
  await message.ack()
  return ran
}

export interface MemoryProcessedStoreOptions {
  /** Keys remembered, oldest forgotten first (default 100000). */
  readonly max?: number
}

/**
 * The in-memory ProcessedStore: for effects that live in the same process,
 * or for tests. It forgets on restart; use a database-backed store (see
 * examples/relay-outbox.js) when the effects are durable.
 */
export class MemoryProcessedStore implements ProcessedStore<void> {
  private readonly done = new Set<string>()
  private readonly running = new Map<string, Promise<boolean>>()
  private readonly max: number

  constructor(options: MemoryProcessedStoreOptions = {}) {
    this.max = options.max ?? 100_000
  }

  has(key: string): boolean {
    return this.done.has(key)
  }

  async runOnce(key: string, work: () => Promise<void>): Promise<boolean> {
    if (this.done.has(key)) return false
    // The same key in progress (two deliveries at once): wait for that one, then decide.
    const current = this.running.get(key)
    if (current !== undefined) {
      await current.catch(() => undefined)
      return this.runOnce(key, work)
    }
    const run = (async () => {
      await work()
      this.done.add(key)
      if (this.done.size > this.max) this.done.delete(this.done.values().next().value!)
      return true
    })()
    this.running.set(key, run)
    try {
      return await run
    } finally {
      this.running.delete(key)
    }
  }
}
