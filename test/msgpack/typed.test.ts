/**
 * zmesh/msgpack: values round-trip through sockets as one MessagePack frame
 * each (records on, structured clone off), envelopes pass through, and a frame
 * that is not MessagePack rejects with ERR_DECODE instead of crashing.
 */
import { Packr } from "msgpackr"
import { afterEach, describe, expect, it } from "vitest"
import { Dealer, Pull, Push, Router, Subscriber, XPublisher } from "../../src/index.js"
import { MsgpackCodec, typed } from "../../src/msgpack/index.js"
import { closeAll } from "../helpers/sockets.js"

const open: Array<{ close(): void }> = []
afterEach(() => closeAll(...open.splice(0)))

function track<T extends { close(): void }>(socket: T): T {
  open.push(socket)
  return socket
}

interface Job {
  id: number
  tags: string[]
  at: Date
  meta: Map<string, number>
  big: bigint
  bytes: Uint8Array
}

const job: Job = { id: 7, tags: ["a", "b"], at: new Date(1_700_000_000_000), meta: new Map([["tries", 2]]), big: 2n ** 60n, bytes: new Uint8Array([1, 2, 3]) }

describe("MsgpackCodec", () => {
  it("round-trips values of many types", () => {
    const codec = new MsgpackCodec<Job>()
    const back = codec.decode(codec.encode(job))
    expect(back).toEqual({ ...job, bytes: Buffer.from([1, 2, 3]) })
    expect(back.at).toBeInstanceOf(Date)
    expect(back.meta).toBeInstanceOf(Map)
  })

  it("writes self-contained records that a plain msgpackr decoder reads", () => {
    const codec = new MsgpackCodec<{ x: number; y: number }>()
    codec.encode({ x: 1, y: 2 }) // a first message of the shape
    const second = codec.encode({ x: 3, y: 4 }) // must still carry its record definition
    expect(new Packr().unpack(second)).toEqual({ x: 3, y: 4 })
  })

  it("keeps structured clone off by default: a cycle cannot be sent", () => {
    const codec = new MsgpackCodec<{ self?: unknown }>()
    const cyclic: { self?: unknown } = {}
    cyclic.self = cyclic
    expect(() => codec.encode(cyclic)).toThrow(expect.objectContaining({ code: "EINVAL" }))
    const cloning = new MsgpackCodec<{ self?: unknown }>({ structuredClone: true })
    const back = cloning.decode(cloning.encode(cyclic))
    expect(back.self).toBe(back)
  })

  it("rejects frames that are not exactly one MessagePack value with ERR_DECODE", () => {
    const codec = new MsgpackCodec()
    for (const hex of ["", "ddffffffff", "c7ff00", "d4720001", "dbffffffff41"]) {
      expect(() => codec.decode(Buffer.from(hex, "hex")), hex).toThrow(expect.objectContaining({ code: "ERR_DECODE" }))
    }
  })

  it("refuses a value MessagePack cannot hold with EINVAL", () => {
    expect(() => new MsgpackCodec<bigint>().encode(2n ** 70n)).toThrow(expect.objectContaining({ code: "EINVAL" }))
  })
})

describe("typed sockets", () => {
  it("PUSH/PULL carry values", async () => {
    const asJobs = typed<Job>()
    const pull = asJobs(track(new Pull()))
    await pull.socket.bind("tcp://127.0.0.1:*")
    const push = asJobs(track(new Push()))
    push.socket.connect(pull.socket.lastEndpoint!)
    await push.send(job)
    await push.send({ ...job, id: 8 })
    expect((await pull.receive()).id).toBe(7)
    for await (const next of pull) {
      expect(next.id).toBe(8)
      break
    }
  })

  it("PUB/SUB keeps the topic frame, and ROUTER the routing id, as the envelope", async () => {
    const codec = new MsgpackCodec<{ celsius: number }>()
    const pub = codec.wrap(track(new XPublisher()))
    await pub.socket.bind("tcp://127.0.0.1:*")
    const sub = codec.wrap(track(new Subscriber()))
    sub.socket.connect(pub.socket.lastEndpoint!)
    sub.socket.subscribe("paris")
    await pub.socket.receive() // the subscription is in place
    await pub.send({ celsius: 12 }, ["paris"])
    const { envelope, value } = await sub.receiveWithEnvelope()
    expect(String(envelope[0])).toBe("paris")
    expect(value).toEqual({ celsius: 12 })

    const router = codec.wrap(track(new Router()))
    await router.socket.bind("tcp://127.0.0.1:*")
    const dealer = codec.wrap(track(new Dealer()))
    dealer.socket.connect(router.socket.lastEndpoint!)
    await dealer.send({ celsius: 1 })
    const request = await router.receiveWithEnvelope()
    await router.send({ celsius: request.value.celsius + 1 }, request.envelope)
    expect(await dealer.receive()).toEqual({ celsius: 2 })
  })

  it("a garbage frame from a peer rejects receive() with ERR_DECODE, and the next value still arrives", async () => {
    const pull = typed<number>()(track(new Pull()))
    await pull.socket.bind("tcp://127.0.0.1:*")
    const raw = track(new Push())
    raw.connect(pull.socket.lastEndpoint!)
    await raw.send(Buffer.from("c7ff00", "hex"))
    await raw.send(new MsgpackCodec<number>().encode(42))
    await expect(pull.receive()).rejects.toMatchObject({ code: "ERR_DECODE" })
    expect(await pull.receive()).toBe(42)
  })
})
