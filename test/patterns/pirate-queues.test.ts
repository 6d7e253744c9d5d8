/**
 * Simple and Paranoid Pirate: requests reach the least recently used worker
 * and replies their client; a worker killed mid request has its request
 * requeued (Paranoid) to another worker; a worker that loses the queue
 * reconnects with a doubling backoff and serves again once a queue is back;
 * dead workers are purged; a late reply from a written-off worker is dropped.
 */
import { afterEach, describe, expect, it } from "vitest"
import { Dealer, Request } from "../../src/index.js"
import {
  LazyPirateClient,
  ParanoidPirateQueue,
  ParanoidPirateWorker,
  SimplePirateQueue,
  SimplePirateWorker,
} from "../../patterns/index.js"
import { cleanupIpc, ipcEndpoint } from "../helpers/endpoints.js"
import { closeAll } from "../helpers/sockets.js"

const open: Array<{ close(): void }> = []
const timers: NodeJS.Timeout[] = []
afterEach(() => {
  for (const timer of timers.splice(0)) clearInterval(timer)
  closeAll(...open.splice(0))
  cleanupIpc()
})

function track<T extends { close(): void }>(thing: T): T {
  open.push(thing)
  return thing
}

const fast = { heartbeatInterval: 20, heartbeatLiveness: 3 }

async function request(endpoint: string, body: string): Promise<string> {
  const req = track(new Request())
  req.connect(endpoint)
  await req.send(body)
  const [reply] = await req.receive()
  return String(reply)
}

describe("SimplePirateQueue and SimplePirateWorker", () => {
  it("routes each request to the worker idle longest and the reply back", async () => {
    const queue = track(new SimplePirateQueue())
    await queue.bind("tcp://127.0.0.1:*", "tcp://127.0.0.1:*")
    for (const name of ["w1", "w2"]) {
      const ready = queue.events.next("worker:ready")
      track(new SimplePirateWorker(queue.backend.lastEndpoint!, ([body]) => `${name}: ${body}`, { socketOptions: { routingId: name } })).start()
      expect((await ready).worker).toBe(name)
    }
    const client = track(new LazyPirateClient(queue.frontend.lastEndpoint!, { timeout: 5000, retries: 1 }))
    expect(String((await client.request("a"))[0])).toBe("w1: a")
    expect(String((await client.request("b"))[0])).toBe("w2: b")
    expect(String((await client.request("c"))[0])).toBe("w1: c")
  })

  it("holds requests until a worker is ready", async () => {
    const queue = track(new SimplePirateQueue())
    await queue.bind("tcp://127.0.0.1:*", "tcp://127.0.0.1:*")
    const reply = request(queue.frontend.lastEndpoint!, "early")
    track(new SimplePirateWorker(queue.backend.lastEndpoint!, ([body]) => `late worker: ${body}`)).start()
    expect(await reply).toBe("late worker: early")
  })

  it("requeues the request of a worker whose handler threw to the next worker", async () => {
    const queue = track(new SimplePirateQueue())
    await queue.bind("tcp://127.0.0.1:*", "tcp://127.0.0.1:*")
    const bad = track(new SimplePirateWorker(queue.backend.lastEndpoint!, () => {
      throw new Error("boom")
    }, { socketOptions: { routingId: "bad" } }))
    let ready = queue.events.next("worker:ready")
    bad.start()
    await ready
    ready = queue.events.next("worker:ready")
    track(new SimplePirateWorker(queue.backend.lastEndpoint!, ([body]) => `good: ${body}`, { socketOptions: { routingId: "good" } })).start()
    await ready
    const failed = bad.events.next("error")
    const requeued = queue.events.next("request:requeued")
    const reply = request(queue.frontend.lastEndpoint!, "x") // LRU: "bad" gets it first
    expect(((await failed).error as Error).message).toBe("boom")
    expect(await requeued).toEqual({ type: "request:requeued", worker: "bad", deliveries: 1 })
    expect(await reply).toBe("good: x")
  })
})

describe("ParanoidPirateQueue and ParanoidPirateWorker", () => {
  it("serves requests through heartbeating workers", async () => {
    const queue = track(new ParanoidPirateQueue(fast))
    await queue.bind("tcp://127.0.0.1:*", "tcp://127.0.0.1:*")
    const ready = queue.events.next("worker:ready")
    track(new ParanoidPirateWorker(queue.backend.lastEndpoint!, ([n]) => String(Number(n) * 2), fast)).start()
    await ready
    const client = track(new LazyPirateClient(queue.frontend.lastEndpoint!, { timeout: 5000, retries: 1 }))
    for (let n = 1; n <= 5; n++) expect(String((await client.request(String(n)))[0])).toBe(String(n * 2))
  })

  it("requeues the request of a worker killed mid request to another worker", async () => {
    const queue = track(new ParanoidPirateQueue(fast))
    await queue.bind("tcp://127.0.0.1:*", "tcp://127.0.0.1:*")
    const backend = queue.backend.lastEndpoint!
    let gotIt!: () => void
    const doomedGotIt = new Promise<void>((resolve) => (gotIt = resolve))
    const doomed = track(new ParanoidPirateWorker(backend, () => {
      gotIt()
      return new Promise<string>(() => {}) // never replies: it is killed first
    }, { ...fast, socketOptions: { routingId: "doomed" } }))
    let ready = queue.events.next("worker:ready")
    doomed.start()
    await ready
    ready = queue.events.next("worker:ready")
    track(new ParanoidPirateWorker(backend, ([body]) => `survivor did ${body}`, { ...fast, socketOptions: { routingId: "survivor" } })).start()
    await ready

    const lost = queue.events.next("worker:lost")
    const requeued = queue.events.next("request:requeued")
    const reply = request(queue.frontend.lastEndpoint!, "the job") // LRU: "doomed" gets it
    await doomedGotIt
    doomed.close() // killed mid request: no reply, no more heartbeats
    expect(await lost).toEqual({ type: "worker:lost", worker: "doomed", reason: "expired" })
    expect(await requeued).toEqual({ type: "request:requeued", worker: "doomed", deliveries: 1 })
    expect(await reply).toBe("survivor did the job")
  })

  it("drops a late reply from a worker it wrote off, so the client gets one reply", async () => {
    const queue = track(new ParanoidPirateQueue({ ...fast, maxDeliveries: 1 }))
    await queue.bind("tcp://127.0.0.1:*", "tcp://127.0.0.1:*")
    // A hand-made worker that says READY and heartbeats, goes silent once it has the request, then answers.
    const worker = track(new Dealer({ routingId: "slow" }))
    const ready = queue.events.next("worker:ready")
    worker.connect(queue.backend.lastEndpoint!)
    await worker.send("\x01")
    const heartbeats = setInterval(() => void worker.send("\x02").catch(() => undefined), fast.heartbeatInterval)
    timers.push(heartbeats)
    await ready
    const dropped = queue.events.next("request:dropped")
    const req = track(new Request())
    req.connect(queue.frontend.lastEndpoint!)
    await req.send("job")
    let request = await worker.receive()
    while (request.length === 1) request = await worker.receive() // skip the queue's heartbeats
    clearInterval(heartbeats)
    expect((await dropped).deliveries).toBe(1) // expired with the job, and maxDeliveries is 1
    const late = queue.events.next("reply:dropped")
    await worker.send([...request.slice(0, 2), "late reply"])
    expect((await late).worker).toBe("slow")
  })

  it("a worker that loses the queue reconnects with a doubling backoff, then serves the new queue", async () => {
    const endpoint = ipcEndpoint()
    const worker = track(new ParanoidPirateWorker(endpoint, ([body]) => `back: ${body}`, {
      ...fast,
      reconnectInterval: 10,
      reconnectMaxInterval: 40,
    }))
    const delays: number[] = []
    const fourth = new Promise<void>((resolve) =>
      worker.events.on("reconnect", (e) => {
        delays.push(e.delay)
        if (delays.length === 4) resolve()
      }),
    )
    worker.start() // nothing listens there yet: the queue is "down"
    await fourth
    expect(delays).toEqual([10, 20, 40, 40])

    const queue = track(new ParanoidPirateQueue(fast))
    const ready = queue.events.next("worker:ready")
    await queue.bind(ipcEndpoint(), endpoint)
    await ready
    expect(await request(queue.frontend.lastEndpoint!, "again")).toBe("back: again")
  })

  it("purges a worker that goes silent while idle", async () => {
    const queue = track(new ParanoidPirateQueue(fast))
    await queue.bind("tcp://127.0.0.1:*", "tcp://127.0.0.1:*")
    const worker = track(new ParanoidPirateWorker(queue.backend.lastEndpoint!, () => "x", { ...fast, socketOptions: { routingId: "idle" } }))
    const ready = queue.events.next("worker:ready")
    worker.start()
    await ready
    expect(queue.idleWorkers).toBe(1)
    const lost = queue.events.next("worker:lost")
    worker.close()
    expect((await lost).worker).toBe("idle")
    expect(queue.idleWorkers).toBe(0)
  })

  it("reports a malformed worker message and keeps serving", async () => {
    const queue = track(new ParanoidPirateQueue(fast))
    await queue.bind("tcp://127.0.0.1:*", "tcp://127.0.0.1:*")
    const rogue = track(new Dealer())
    rogue.connect(queue.backend.lastEndpoint!)
    const error = queue.events.next("protocol:error")
    await rogue.send(["no", "envelope"])
    expect((await error).error.code).toBe("ERR_PATTERN_PROTOCOL")
  })
})
