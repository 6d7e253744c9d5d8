/** Several relays: rendezvous ranking of queues, sends to the preferred relay, failover when one is unreachable, consumers on all. */
import fc from "fast-check"
import { afterAll, afterEach, describe, expect, it } from "vitest"
import { LogStore } from "../../src/relay/index.js"
import { rank } from "../../src/relay/rendezvous.js"
import { Harness, removeTempDirs, take, tempDir, texts, waitFor } from "./helpers.js"

describe("rendezvous ranking", () => {
  it("spreads queues evenly and, when a relay goes, moves only that relay's queues", () => {
    const relays = ["tcp://10.0.0.1:7400", "tcp://10.0.0.2:7400", "tcp://10.0.0.3:7400"]
    const counts = [0, 0, 0]
    for (let i = 0; i < 3000; i++) counts[rank(relays, `queue-${i}`)[0]!]!++
    for (const n of counts) expect(n).toBeGreaterThan(850)
    fc.assert(
      fc.property(fc.string({ minLength: 1 }), fc.integer({ min: 0, max: 2 }), (queue, gone) => {
        const full = rank(relays, queue).map((i) => relays[i])
        const rest = relays.filter((_, i) => i !== gone)
        // The survivors keep their order: a queue moves only if its first choice went.
        expect(rank(rest, queue).map((i) => rest[i])).toEqual(full.filter((r) => r !== relays[gone]))
      }),
    )
  })
})

describe("a client of several relays", () => {
  const h = new Harness({ name: "the embedded log", make: (dir) => new LogStore({ dir }) })
  afterEach(() => h.close())
  afterAll(() => removeTempDirs())

  it("sends each queue to its preferred relay and consumes a queue from all of them", async () => {
    const a = await h.node(tempDir())
    const b = await h.node(tempDir())
    const client = h.client("", { relay: undefined, relays: [a.endpoint, b.endpoint] })
    const queues = Array.from({ length: 20 }, (_, i) => `q${i}`)
    for (const q of queues) await client.send(q, q)
    const on = (node: typeof a) => node.stats().queues.map((q) => q.name)
    const preferred = (q: string) => (rank([a.endpoint, b.endpoint], q)[0] === 0 ? "a" : "b")
    expect(on(a).sort()).toEqual(queues.filter((q) => preferred(q) === "a").sort())
    expect(on(b).sort()).toEqual(queues.filter((q) => preferred(q) === "b").sort())
    expect(on(a).length).toBeGreaterThan(0)
    expect(on(b).length).toBeGreaterThan(0)
    for (const q of queues) expect(texts(await take(client.consume(q), 1))).toEqual([q])
  })

  it("fails over to the next relay when the preferred one is unreachable, and takes the queue from both once it is back", async () => {
    const dirA = tempDir()
    let a = await h.node(dirA)
    const b = await h.node(tempDir())
    const endpointA = a.endpoint
    // A queue whose first choice is a.
    const queue = Array.from({ length: 50 }, (_, i) => `orders-${i}`).find((q) => rank([endpointA, b.endpoint], q)[0] === 0)!
    await h.stop(a)
    const client = h.client("", { relay: undefined, relays: [endpointA, b.endpoint], sendTimeout: 5000 })
    const sent = []
    for (let i = 0; i < 10; i++) sent.push(await client.send(queue, `m${i}`))
    expect(b.stats().queues.find((q) => q.name === queue)?.depth).toBe(10)
    // a comes back: the next sends go to it again, and one consumer gets the queue from both relays.
    a = await h.node(dirA, { bind: endpointA })
    const consumer = client.consume(queue)
    const first = await take(consumer, 10)
    expect(texts(first).sort()).toEqual(sent.map((_, i) => `m${i}`).sort())
    // Once the client is connected to a again (its session is there), a is the queue's relay again.
    await waitFor(() => a.stats().sessions > 0, "the client back on a")
    await client.send(queue, "after")
    expect(texts(await take(consumer, 1))).toEqual(["after"])
    expect(a.stats().queues.find((q) => q.name === queue)?.depth).toBe(1)
    for (const m of first) await m.ack()
  })
})
