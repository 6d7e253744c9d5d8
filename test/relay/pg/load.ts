/**
 * Load for the multi-node tests: producers sending to several relay nodes
 * and consumers acking on several, with a ledger of what was confirmed,
 * delivered and durably acked, and a check that everything confirmed came.
 */
import { RelayClient } from "../../../src/relay/index.js"

export interface Ledger {
  /** Confirmed sends, by id. */
  readonly confirmed: Set<string>
  /** Sends that failed (the client saw an error). */
  readonly failed: string[]
  /** Ids delivered to any consumer (any number of times). */
  readonly delivered: Set<string>
  /** Ids delivered through more than one node. */
  readonly crossed: Set<string>
  /** Acks that resolved: durable, so these must never come back. */
  readonly acked: Set<string>
  /** A message that came back after its ack was durable (must stay empty). */
  readonly cameBack: string[]
}

export function newLedger(): Ledger {
  return { confirmed: new Set(), failed: [], delivered: new Set(), crossed: new Set(), acked: new Set(), cameBack: [] }
}

export interface Load {
  /** Stops sending and waits for the send loops to end. */
  stopSending(): Promise<void>
  /** Stops everything and closes every client. */
  close(): Promise<void>
}

/** Sends from `loops` concurrent loops per endpoint, and consumes (acking everything) on every endpoint. */
export function startLoad(endpoints: readonly string[], queue: string, ledger: Ledger, loops = 8): Load {
  let sending = true
  let consuming = true
  let next = 0
  const clients: RelayClient[] = []
  const sends: Promise<void>[] = []
  const receives: Promise<void>[] = []
  const through = new Map<string, string>()
  for (const endpoint of endpoints) {
    const producer = new RelayClient({ relay: endpoint, sendTimeout: 2000 })
    const consumerClient = new RelayClient({ relay: endpoint, sendTimeout: 2000 })
    clients.push(producer, consumerClient)
    for (let k = 0; k < loops; k++) {
      sends.push(
        (async () => {
          while (sending) {
            const id = `m-${next++}`
            try {
              await producer.send(queue, id, { id })
              ledger.confirmed.add(id)
            } catch {
              ledger.failed.push(id)
              // The node or the database is away: a failed send is allowed, a lost confirm is not.
              await new Promise((resolve) => setTimeout(resolve, 50))
            }
          }
        })(),
      )
    }
    const consumer = consumerClient.consume(queue, { prefetch: 50, ackTimeout: 2000, maxDeliveries: 1000 })
    receives.push(
      (async () => {
        while (consuming) {
          let m
          try {
            m = await consumer.receive()
          } catch {
            return
          }
          if (m === undefined) return
          if (ledger.acked.has(m.id)) ledger.cameBack.push(m.id)
          ledger.delivered.add(m.id)
          const first = through.get(m.id)
          if (first === undefined) through.set(m.id, endpoint)
          else if (first !== endpoint) ledger.crossed.add(m.id)
          const id = m.id
          m.ack().then(
            () => void ledger.acked.add(id),
            () => undefined, // not durable: it comes again
          )
        }
      })(),
    )
  }
  return {
    async stopSending() {
      sending = false
      await Promise.all(sends)
    },
    async close() {
      sending = false
      consuming = false
      // Closing a client ends its consumers and rejects what is pending (a dead node's client too, at once).
      await Promise.all(clients.map((c) => c.close()))
      await Promise.all([...sends, ...receives])
    },
  }
}

/** Waits until every confirmed id was delivered; the error lists some that were not. */
export async function allDelivered(ledger: Ledger, ms: number): Promise<void> {
  const deadline = Date.now() + ms
  for (;;) {
    const missing = [...ledger.confirmed].filter((id) => !ledger.delivered.has(id))
    if (missing.length === 0) return
    if (Date.now() > deadline) throw new Error(`${missing.length} of ${ledger.confirmed.size} confirmed messages never delivered, e.g. ${missing.slice(0, 5).join(", ")}`)
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}
