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
  /** Deliveries left unacked on purpose (LoadOptions.holdBack). */
  readonly heldBack: Set<string>
  /** Acks that resolved: durable, so these must never come back. */
  readonly acked: Set<string>
  /** A message that came back after its ack was durable (must stay empty). */
  readonly cameBack: string[]
}

export function newLedger(): Ledger {
  return { confirmed: new Set(), failed: [], delivered: new Set(), crossed: new Set(), heldBack: new Set(), acked: new Set(), cameBack: [] }
}

export interface Load {
  /** Stops sending and waits for the send loops to end. */
  stopSending(): Promise<void>
  /** Stops everything and closes every client. */
  close(): Promise<void>
}

export interface LoadOptions {
  /** Send loops per endpoint (default 8). */
  readonly loops?: number
  /** The consumer on this endpoint leaves every `every`-th message unacked (leased for a minute): what a node that dies holds. */
  readonly holdBack?: { readonly endpoint: string; readonly every: number }
}

/** Sends from concurrent loops per endpoint, and consumes (acking everything, unless told) on every endpoint. */
export function startLoad(endpoints: readonly string[], queue: string, ledger: Ledger, options: LoadOptions = {}): Load {
  const loops = options.loops ?? 8
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
    const holdBack = options.holdBack?.endpoint === endpoint ? options.holdBack.every : 0
    const consumer = consumerClient.consume(queue, { prefetch: 50, ackTimeout: holdBack > 0 ? 60_000 : 2000, maxDeliveries: 1000 })
    let received = 0
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
          if (holdBack > 0 && ++received % holdBack === 0) {
            ledger.heldBack.add(m.id)
            continue
          }
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

/** Waits until every confirmed id was delivered, and every held-back one through another node too; the error lists some that were not. */
export async function allDelivered(ledger: Ledger, ms: number): Promise<void> {
  const deadline = Date.now() + ms
  for (;;) {
    const missing = [...ledger.confirmed].filter((id) => !ledger.delivered.has(id) || (ledger.heldBack.has(id) && !ledger.crossed.has(id)))
    if (missing.length === 0) return
    if (Date.now() > deadline) throw new Error(`${missing.length} of ${ledger.confirmed.size} confirmed messages never delivered, e.g. ${missing.slice(0, 5).join(", ")}`)
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}
