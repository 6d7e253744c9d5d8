/**
 * Kill -9 against idempotency and transactions: the CLI relay (dist/) is
 * SIGKILLed at random moments while idempotent producers keep sending and
 * their clients resend whatever was unconfirmed when the relay died; after
 * every round each confirmed message must be stored exactly once. And half
 * messages prepared before a kill are decided after it, as decided.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest"
import { RelayClient, type RelayConsumer, type Transaction } from "../../src/relay/index.js"
import { type CliRelay, ensureBuilt, killIfAlive, startCli } from "./cli-helpers.js"
import { removeTempDirs, take, tempDir, texts } from "./helpers.js"

const ROUNDS = Number(process.env.ZMESH_EXACTLY_ONCE_ROUNDS ?? 6)

/** Everything stored in `queue`, read by a fresh group (it starts at the oldest message): id -> times stored. */
async function storedIds(consumer: RelayConsumer, expected: number): Promise<Map<string, number>> {
  const counts = new Map<string, number>()
  for (const m of await take(consumer, expected, 20_000)) counts.set(m.id, (counts.get(m.id) ?? 0) + 1)
  return counts
}

describe("the CLI relay killed with SIGKILL under idempotent producers", () => {
  let relay: CliRelay | undefined
  const clients: RelayClient[] = []
  beforeAll(() => ensureBuilt(), 120_000)
  afterEach(async () => {
    for (const c of clients.splice(0)) await c.close()
    killIfAlive(relay)
  })
  afterAll(() => removeTempDirs())

  async function restart(dir: string, endpoint: string): Promise<CliRelay> {
    relay = await startCli(["--bind", endpoint, "--data", dir, "--stats-interval", "0"])
    expect(relay.endpoint, relay.stderr()).not.toBe("")
    return relay
  }

  it(`stores every confirmed message exactly once over ${ROUNDS} kills while producers resend what was unconfirmed`, async () => {
    const dir = tempDir()
    let r = await restart(dir, "tcp://127.0.0.1:*")
    const endpoint = r.endpoint
    // Resends ride through the kills: nothing is given up within this long.
    // Two idempotent producers with ids of their own, and a plain client whose ids are made up per send
    // (its resends are caught by the id window alone).
    const producers = ["a", "b"].map((name) => new RelayClient({ relay: endpoint, producerId: `svc-${name}`, sendTimeout: 60_000 }))
    const plain = new RelayClient({ relay: endpoint, sendTimeout: 60_000 })
    clients.push(...producers, plain)
    const confirmed = new Map<string, number>()
    let duplicates = 0
    let stopped = false
    const loops = [...producers, plain].flatMap((p, k) =>
      Array.from({ length: 8 }, async (_, j) => {
        for (let n = 0; !stopped; n++) {
          const id = p === plain ? undefined : `p${k}-${j}-${n}`
          const receipt = await p.send("exactly-once", `message ${k}-${j}-${n}`, { id })
          if (receipt.duplicate) duplicates++
          expect(confirmed.has(receipt.id), `${receipt.id} confirmed twice`).toBe(false)
          confirmed.set(receipt.id, receipt.seq)
        }
      }),
    )
    for (let round = 0; round < ROUNDS; round++) {
      const before = confirmed.size
      // Let some sends through, then kill at a random moment among those in flight.
      while (confirmed.size < before + 200) await new Promise((resolve) => setImmediate(resolve))
      await new Promise((resolve) => setTimeout(resolve, Math.floor(Math.random() * 50)))
      r.proc.kill("SIGKILL")
      await r.exited
      r = await restart(dir, endpoint)
    }
    stopped = true
    await Promise.all(loops)
    const reader = new RelayClient({ relay: endpoint })
    clients.push(reader)
    const counts = await storedIds(reader.consume("exactly-once", { group: `verify`, prefetch: 5000 }), confirmed.size)
    if (process.env.ZMESH_CRASH_DEBUG) console.log(`${confirmed.size} confirmed, ${duplicates} resends answered as duplicates`)
    const twice = [...counts].filter(([, n]) => n > 1).map(([id]) => id)
    expect(twice, `stored more than once (${duplicates} resends were answered as duplicates)`).toEqual([])
    expect([...confirmed.keys()].filter((id) => !counts.has(id))).toEqual([])
    // Nothing beyond the confirmed ones: every send was eventually confirmed.
    expect(counts.size).toBe(confirmed.size)
  }, 120_000)

  it("honours decisions made after a kill -9 between prepare and commit", async () => {
    const dir = tempDir()
    let r = await restart(dir, "tcp://127.0.0.1:*")
    const endpoint = r.endpoint
    const producer = new RelayClient({ relay: endpoint, producerId: "orders-svc", sendTimeout: 30_000 })
    clients.push(producer)
    const txs: Transaction[] = []
    for (let i = 0; i < 20; i++) txs.push(await producer.prepare("orders", `order ${i}`, { id: `order-${i}` }))
    r.proc.kill("SIGKILL")
    await r.exited
    r = await restart(dir, endpoint)
    // Commit the even ones, roll back the odd ones, with the handles from before the kill.
    await Promise.all(txs.map((tx, i) => (i % 2 === 0 ? tx.commit() : tx.rollback())))
    r.proc.kill("SIGKILL")
    await r.exited
    r = await restart(dir, endpoint)
    const reader = new RelayClient({ relay: endpoint })
    clients.push(reader)
    const got = await take(reader.consume("orders"), 10)
    expect(texts(got).sort()).toEqual(
      Array.from({ length: 10 }, (_, i) => `order ${2 * i}`).sort(),
    )
    // The decisions are durable: deciding again agrees, the opposite is refused.
    await txs[0]!.commit()
    await expect(txs[1]!.commit()).rejects.toMatchObject({ code: "ERR_RELAY_TX_ROLLED_BACK" })
  }, 60_000)
})
