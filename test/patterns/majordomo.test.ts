/**
 * Majordomo (18/MDP, MDP/0.2, 8/MMI): requests by service name with PARTIAL
 * and FINAL replies, the exact frames on the wire, MMI service discovery,
 * queued requests that wait for a worker or expire, a worker killed mid
 * request (requeued), a broker restart (workers re-register), and the broker's
 * answers to unexpected and invalid commands.
 */
import { afterEach, describe, expect, it } from "vitest"
import { Dealer, type Message } from "../../src/index.js"
import { MajordomoBroker, MajordomoClient, MajordomoWorker, type MajordomoHandler } from "../../patterns/index.js"
import { cleanupIpc, ipcEndpoint } from "../helpers/endpoints.js"
import { closeAll } from "../helpers/sockets.js"

const open: Array<{ close(): void }> = []
afterEach(() => {
  closeAll(...open.splice(0))
  cleanupIpc()
})

function track<T extends { close(): void }>(thing: T): T {
  open.push(thing)
  return thing
}

const fast = { heartbeatInterval: 20, heartbeatLiveness: 3 }

async function startBroker(options = {}, endpoint = "tcp://127.0.0.1:*"): Promise<MajordomoBroker> {
  const broker = track(new MajordomoBroker({ ...fast, ...options }))
  await broker.bind(endpoint)
  return broker
}

async function startWorker(broker: MajordomoBroker, service: string, handler: MajordomoHandler, routingId?: string) {
  const ready = broker.events.next("worker:ready", (e) => e.service === service)
  const worker = track(new MajordomoWorker(broker.endpoint!, service, handler, {
    ...fast,
    reconnectInterval: 10,
    socketOptions: routingId === undefined ? {} : { routingId },
  }))
  worker.start()
  await ready
  return worker
}

const text = (message: Message) => message.map(String)

const timers: NodeJS.Timeout[] = []
afterEach(() => {
  for (const timer of timers.splice(0)) clearInterval(timer)
})

/**
 * A hand-made MDP/0.2 worker on a DEALER: READY, then HEARTBEAT each interval
 * until `silence()` (so the broker cannot expire it before the test wants).
 * `request()` skips heartbeats and returns the next REQUEST.
 */
async function handMadeWorker(broker: MajordomoBroker, service: string, routingId?: string) {
  const dealer = track(new Dealer(routingId === undefined ? {} : { routingId }))
  const ready = broker.events.next("worker:ready", (e) => e.service === service)
  dealer.connect(broker.endpoint!)
  await dealer.send(["MDPW02", Buffer.from([0x01]), service])
  const timer = setInterval(() => void dealer.send(["MDPW02", Buffer.from([0x05])]).catch(() => undefined), fast.heartbeatInterval)
  timers.push(timer)
  await ready
  return {
    dealer,
    silence: () => clearInterval(timer),
    async request(): Promise<Message> {
      for (;;) {
        const message = await dealer.receive()
        if (message[1]![0] !== 0x05) return message
      }
    },
  }
}

describe("Majordomo broker, worker and client", () => {
  it("routes requests by service name, with PARTIAL replies before the FINAL", async () => {
    const broker = await startBroker()
    await startWorker(broker, "echo", (request) => request)
    await startWorker(broker, "count", async ([n], partial) => {
      for (let i = 1; i < Number(n); i++) await partial(String(i))
      return [String(n), "done"]
    })
    const client = track(new MajordomoClient(broker.endpoint!, { timeout: 5000, retries: 1 }))
    expect(text(await client.request("echo", ["a", "b"]))).toEqual(["a", "b"])
    const partials: string[] = []
    const final = await client.request("count", "3", { onPartial: (reply) => partials.push(String(reply[0])) })
    expect(partials).toEqual(["1", "2"])
    expect(text(final)).toEqual(["3", "done"])
    expect(broker.serviceNames.sort()).toEqual(["count", "echo"])
  })

  it("answers 8/MMI: mmi.service 200 or 404, other mmi. services 501", async () => {
    const broker = await startBroker()
    await startWorker(broker, "echo", (request) => request)
    const client = track(new MajordomoClient(broker.endpoint!, { timeout: 5000, retries: 1 }))
    expect(text(await client.request("mmi.service", "echo"))).toEqual(["200"])
    expect(text(await client.request("mmi.service", "nobody"))).toEqual(["404"])
    expect(text(await client.request("mmi.version", "x"))).toEqual(["501"])
    expect(await client.hasService("echo")).toBe(true)
    expect(await client.hasService("nobody")).toBe(false)
  })

  it("puts MDP/0.2 frames on the wire exactly as 18/MDP specifies", async () => {
    const broker = await startBroker()
    // A hand-made worker: READY is ["MDPW02", 0x01, service], with no empty frame first (unlike 7/MDP).
    const { dealer: worker, request: nextRequest } = await handMadeWorker(broker, "raw")
    const client = track(new Dealer())
    client.connect(broker.endpoint!)
    await client.send(["MDPC02", Buffer.from([0x01]), "raw", "body"])
    const request = await nextRequest()
    expect(request).toHaveLength(5)
    expect(String(request[0])).toBe("MDPW02")
    expect(request[1]).toEqual(Buffer.from([0x02]))
    const address = request[2]!
    expect(request[3]).toEqual(Buffer.alloc(0))
    expect(String(request[4])).toBe("body")
    await worker.send(["MDPW02", Buffer.from([0x03]), address, "", "part"])
    await worker.send(["MDPW02", Buffer.from([0x04]), address, "", "end"])
    expect(text(await client.receive())).toEqual(["MDPC02", "\x02", "raw", "part"])
    expect(text(await client.receive())).toEqual(["MDPC02", "\x03", "raw", "end"])
  })

  it("queues a request until a worker for its service registers", async () => {
    const broker = await startBroker()
    const client = track(new MajordomoClient(broker.endpoint!, { timeout: 5000, retries: 1 }))
    const reply = client.request("late", "hello")
    await startWorker(broker, "late", ([body]) => `late says ${body}`)
    expect(text(await reply)).toEqual(["late says hello"])
  })

  it("expires a request no worker came for, and the client gives up with EAGAIN", async () => {
    const broker = await startBroker({ requestTimeout: 30 })
    const client = track(new MajordomoClient(broker.endpoint!, { timeout: 100, retries: 1 }))
    const expired = broker.events.next("request:dropped")
    await expect(client.request("nobody", "hello")).rejects.toMatchObject({ code: "EAGAIN" })
    expect(await expired).toEqual({ type: "request:dropped", service: "nobody", reason: "expired" })
  })

  it("resends the request of a worker killed mid request to another worker", async () => {
    const broker = await startBroker()
    // The doomed worker is hand-made so it can die without a word (MajordomoWorker.close() says DISCONNECT).
    const doomed = await handMadeWorker(broker, "job", "doomed")
    await startWorker(broker, "job", ([body]) => `survivor did ${body}`, "survivor")
    const client = track(new MajordomoClient(broker.endpoint!, { timeout: 5000, retries: 1 }))
    const lost = broker.events.next("worker:lost")
    const requeued = broker.events.next("request:requeued")
    const reply = client.request("job", "the work") // LRU: "doomed" gets it
    expect(String((await doomed.request())[4])).toBe("the work")
    doomed.silence()
    doomed.dealer.close() // killed mid request: no reply, no DISCONNECT, no more heartbeats
    expect(await lost).toEqual({ type: "worker:lost", worker: "doomed", service: "job", reason: "expired" })
    expect(await requeued).toEqual({ type: "request:requeued", service: "job", worker: "doomed", deliveries: 1 })
    expect(text(await reply)).toEqual(["survivor did the work"])
  })

  it("after a broker restart, workers register again and requests flow", async () => {
    const endpoint = ipcEndpoint()
    const first = await startBroker({}, endpoint)
    const worker = await startWorker(first, "echo", (request) => request)
    const lost = worker.events.next("broker:lost")
    first.close()
    await lost // silent broker: the worker closed its socket and will reconnect
    const second = track(new MajordomoBroker(fast))
    const registered = second.events.next("worker:ready")
    await second.bind(endpoint)
    expect(await registered).toMatchObject({ service: "echo" })
    const client = track(new MajordomoClient(endpoint, { timeout: 5000, retries: 1 }))
    expect(text(await client.request("echo", "again"))).toEqual(["again"])
  })

  it("a worker whose handler throws says DISCONNECT, registers again, and the request is resent", async () => {
    const broker = await startBroker()
    let calls = 0
    const worker = await startWorker(broker, "flaky", ([body]) => {
      if (++calls === 1) throw new Error("first call fails")
      return `second call: ${body}`
    })
    const failed = worker.events.next("error")
    const lost = broker.events.next("worker:lost")
    const client = track(new MajordomoClient(broker.endpoint!, { timeout: 5000, retries: 1 }))
    const reply = client.request("flaky", "x")
    expect(((await failed).error as Error).message).toBe("first call fails")
    expect(await lost).toMatchObject({ service: "flaky", reason: "disconnected" })
    expect(text(await reply)).toEqual(["second call: x"])
  })

  it("tells a worker DISCONNECT for an mmi. service, a second READY, or a HEARTBEAT before READY", async () => {
    const broker = await startBroker()
    const disconnectOf = async (...commands: Array<Array<string | Buffer>>) => {
      const peer = track(new Dealer())
      peer.connect(broker.endpoint!)
      for (const command of commands) await peer.send(command)
      for (;;) {
        const [header, command] = await peer.receive()
        expect(String(header)).toBe("MDPW02")
        if (command![0] === 0x06) return true
      }
    }
    const ready = (service: string) => ["MDPW02", Buffer.from([0x01]), service]
    expect(await disconnectOf(ready("mmi.mine"))).toBe(true)
    const lost = broker.events.next("worker:lost")
    expect(await disconnectOf(ready("twice"), ready("twice"))).toBe(true)
    expect(await lost).toMatchObject({ service: "twice", reason: "unexpected" })
    expect(await disconnectOf(["MDPW02", Buffer.from([0x05])])).toBe(true)
  })

  it("drops invalid messages and reports them, and keeps serving", async () => {
    const broker = await startBroker()
    await startWorker(broker, "echo", (request) => request)
    const peer = track(new Dealer())
    peer.connect(broker.endpoint!)
    const errors: string[] = []
    broker.events.on("protocol:error", (e) => errors.push(e.error.code))
    const third = broker.events.next("protocol:error", () => errors.length === 3)
    await peer.send(["MDPC01", "\x01", "echo", "old protocol"])
    await peer.send(["MDPC02", "\x01", "echo"]) // no body
    await peer.send(["MDPW02", "\x04", "nobody", "", "reply from a stranger"])
    await third
    expect(errors).toEqual(["ERR_PATTERN_PROTOCOL", "ERR_PATTERN_PROTOCOL", "ERR_PATTERN_PROTOCOL"])
    const client = track(new MajordomoClient(broker.endpoint!, { timeout: 5000, retries: 1 }))
    expect(text(await client.request("echo", "still here"))).toEqual(["still here"])
  })

  it("refuses a worker for an mmi. service or no service at construction", () => {
    expect(() => new MajordomoWorker("tcp://127.0.0.1:1", "mmi.service", (r) => r)).toThrow(TypeError)
    expect(() => new MajordomoWorker("tcp://127.0.0.1:1", "", (r) => r)).toThrow(TypeError)
  })
})
