/**
 * Majordomo against libzmq (the `zeromq` package): an MDP/0.2 worker and
 * client written here with zeromq work through the zmesh broker, and the zmesh
 * worker and client work through an MDP/0.2 broker written here with zeromq.
 * Each side is written from 18/MDP alone, so agreement means the wire matches.
 */
import * as zmq from "zeromq"
import { afterEach, describe, expect, it } from "vitest"
import { MajordomoBroker, MajordomoClient, MajordomoWorker } from "../../patterns/index.js"
import { closeAll } from "../helpers/sockets.js"

const open: Array<{ close(): void }> = []
const timers: NodeJS.Timeout[] = []
afterEach(() => {
  for (const timer of timers.splice(0)) clearInterval(timer)
  closeAll(...open.splice(0))
})

const fast = { heartbeatInterval: 20, heartbeatLiveness: 5 }
const cmd = (code: number) => Buffer.from([code])

/** An MDP/0.2 worker on a libzmq DEALER: READY, heartbeats, and FINAL = the request upper-cased. */
function libzmqWorker(broker: string, service: string): void {
  const dealer = new zmq.Dealer({ linger: 0 })
  open.push(dealer)
  dealer.connect(broker)
  void dealer.send(["MDPW02", cmd(0x01), service])
  timers.push(setInterval(() => void dealer.send(["MDPW02", cmd(0x05)]).catch(() => undefined), fast.heartbeatInterval))
  void (async () => {
    for await (const [header, command, client, empty, ...body] of dealer) {
      if (String(header) !== "MDPW02" || command![0] !== 0x02) continue
      await dealer.send(["MDPW02", cmd(0x03), client!, empty!, "working"])
      await dealer.send(["MDPW02", cmd(0x04), client!, empty!, ...body.map((f) => String(f).toUpperCase())])
    }
  })().catch(() => undefined)
}

/** One MDP/0.2 request from a libzmq DEALER client; resolves with every reply, PARTIALs and FINAL. */
async function libzmqRequest(broker: string, service: string, body: string): Promise<string[][]> {
  const dealer = new zmq.Dealer({ linger: 0, receiveTimeout: 5000 })
  open.push(dealer)
  dealer.connect(broker)
  await dealer.send(["MDPC02", cmd(0x01), service, body])
  const replies: string[][] = []
  for (;;) {
    const reply = await dealer.receive()
    replies.push(reply.map((frame, i) => (i === 1 ? `0x0${frame[0]}` : String(frame))))
    if (reply[1]![0] === 0x03) return replies
  }
}

/** A small MDP/0.2 broker on a libzmq ROUTER: one waiting list per service, heartbeats to workers. */
async function libzmqBroker(): Promise<string> {
  const router = new zmq.Router({ linger: 0 })
  open.push(router)
  await router.bind("tcp://127.0.0.1:*")
  const waiting = new Map<string, Buffer[]>()
  const queued = new Map<string, Buffer[][]>()
  const serviceOf = new Map<string, string>()
  const workers: Buffer[] = []
  timers.push(setInterval(() => {
    for (const worker of workers) void router.send([worker, "MDPW02", cmd(0x05)]).catch(() => undefined)
  }, fast.heartbeatInterval))
  const dispatch = (service: string) => {
    const idle = waiting.get(service) ?? []
    const requests = queued.get(service) ?? []
    while (idle.length > 0 && requests.length > 0) {
      const [client, ...body] = requests.shift()!
      void router.send([idle.shift()!, "MDPW02", cmd(0x02), client!, "", ...body])
    }
  }
  void (async () => {
    for await (const [sender, header, command, ...rest] of router) {
      const code = command![0]
      if (String(header) === "MDPC02" && code === 0x01) {
        const [service, ...body] = rest
        const list = queued.get(String(service)) ?? []
        list.push([sender!, ...body])
        queued.set(String(service), list)
        dispatch(String(service))
      } else if (String(header) === "MDPW02" && code === 0x01) {
        const service = String(rest[0])
        workers.push(sender!)
        serviceOf.set(sender!.toString("hex"), service)
        waiting.set(service, [...(waiting.get(service) ?? []), sender!])
        dispatch(service)
      } else if (String(header) === "MDPW02" && (code === 0x03 || code === 0x04)) {
        const service = serviceOf.get(sender!.toString("hex"))!
        const [client, , ...body] = rest
        await router.send([client!, "MDPC02", cmd(code === 0x03 ? 0x02 : 0x03), service, ...body])
        if (code === 0x04) {
          waiting.get(service)!.push(sender!)
          dispatch(service)
        }
      }
    }
  })().catch(() => undefined)
  return router.lastEndpoint!
}

describe("Majordomo interop with libzmq", () => {
  it("a libzmq worker and a libzmq client work through the zmesh broker", async () => {
    const broker = new MajordomoBroker(fast)
    open.push(broker)
    await broker.bind("tcp://127.0.0.1:*")
    const ready = broker.events.next("worker:ready")
    libzmqWorker(broker.endpoint!, "shout")
    expect(await ready).toMatchObject({ service: "shout" })
    expect(await libzmqRequest(broker.endpoint!, "shout", "hello")).toEqual([
      ["MDPC02", "0x02", "shout", "working"],
      ["MDPC02", "0x03", "shout", "HELLO"],
    ])
    expect(await libzmqRequest(broker.endpoint!, "mmi.service", "shout")).toEqual([["MDPC02", "0x03", "mmi.service", "200"]])
    // And a zmesh client beside it, on the same libzmq worker.
    const client = new MajordomoClient(broker.endpoint!, { timeout: 5000, retries: 1 })
    open.push(client)
    const partials: string[] = []
    expect((await client.request("shout", "zmesh", { onPartial: ([p]) => partials.push(String(p)) })).map(String)).toEqual(["ZMESH"])
    expect(partials).toEqual(["working"])
  })

  it("a zmesh worker and a zmesh client work through a libzmq broker", async () => {
    const endpoint = await libzmqBroker()
    const worker = new MajordomoWorker(endpoint, "sum", async (numbers, partial) => {
      await partial(`adding ${numbers.length} numbers`)
      return String(numbers.reduce((total, n) => total + Number(n), 0))
    }, fast)
    open.push(worker)
    worker.start()
    const client = new MajordomoClient(endpoint, { timeout: 5000, retries: 1 })
    open.push(client)
    const partials: string[] = []
    const reply = await client.request("sum", ["1", "2", "39"], { onPartial: ([p]) => partials.push(String(p)) })
    expect(reply.map(String)).toEqual(["42"])
    expect(partials).toEqual(["adding 3 numbers"])
    // A libzmq client through the same libzmq broker, served by the zmesh worker.
    expect(await libzmqRequest(endpoint, "sum", "5")).toEqual([
      ["MDPC02", "0x02", "sum", "adding 1 numbers"],
      ["MDPC02", "0x03", "sum", "5"],
    ])
  })
})
