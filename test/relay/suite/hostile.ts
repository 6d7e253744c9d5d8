/** Bad input and a failing or full store: a clear error to the client, nothing confirmed lost, consumers still served. */
import { afterEach, describe, expect, it } from "vitest"
import { Op, encodeFrame } from "../../../src/relay/protocol.js"
import type { RelayStore, StoreOp } from "../../../src/relay/index.js"
import { Harness, type StoreFactory, take, tempDir, texts } from "../helpers.js"

/** Wraps a store; while `failing`, commits reject as a broken disk would. */
class FaultyStore {
  failing: Error | undefined
  readonly inner: RelayStore

  constructor(inner: RelayStore) {
    this.inner = inner
  }

  wrap(): RelayStore {
    return new Proxy(this.inner, {
      get: (target, key, receiver) => {
        if (key === "commit") {
          return (ops: readonly StoreOp[]) => (this.failing !== undefined ? Promise.reject(this.failing) : target.commit(ops))
        }
        const value = Reflect.get(target, key, receiver)
        return typeof value === "function" ? value.bind(target) : value
      },
    })
  }
}

export function hostileTests(factory: StoreFactory): void {
  describe("bad input and store failures", () => {
    const h = new Harness(factory)
    afterEach(() => h.close())

    it("refuses bad names, oversized messages and bad arguments with clear codes, client-side and node-side", async () => {
      const node = await h.node(tempDir(), { maxMessageSize: 1000 })
      const client = h.client(node.endpoint)
      await client.send("ok", "x")
      await expect(client.send("bad name!", "x")).rejects.toMatchObject({ code: "ERR_RELAY_INVALID_QUEUE" })
      await expect(client.send("", "x")).rejects.toMatchObject({ code: "ERR_RELAY_INVALID_QUEUE" })
      await expect(client.send("big", Buffer.alloc(1001))).rejects.toMatchObject({ code: "ERR_RELAY_MESSAGE_TOO_LARGE" })
      await expect(client.send("big", Buffer.alloc(990), { headers: { pad: "0123456789ab" } })).rejects.toMatchObject({ code: "ERR_RELAY_MESSAGE_TOO_LARGE" })
      const bad = client.consume("q", { prefetch: 0 })
      await expect(bad.receive()).rejects.toMatchObject({ code: "EINVAL" })
      // The same checks on the node, for clients in other languages.
      const raw = h.raw(node.endpoint)
      await raw.hello()
      const cases: Array<[unknown[], string]> = [
        [[Op.SEND, raw.nextRid(), "bad name!", "id", Buffer.from("x"), null, null, null], "ERR_RELAY_INVALID_QUEUE"],
        [[Op.SEND, raw.nextRid(), "q", "id", Buffer.alloc(1001), null, null, null], "ERR_RELAY_MESSAGE_TOO_LARGE"],
        [[Op.SEND, raw.nextRid(), "q", "id", Buffer.from("x"), null, 10, Date.now()], "ERR_RELAY_DELAY_CONFLICT"],
        [[Op.SEND, raw.nextRid(), "q", "id", Buffer.from("x"), null, 40 * 86_400_000, null], "ERR_RELAY_DELAY_TOO_LONG"],
        [[Op.SEND, raw.nextRid(), "q", "id", "not binary", null, null, null], "ERR_RELAY_PROTOCOL"],
        [[Op.SEND, raw.nextRid(), "q", "", Buffer.from("x"), null, null, null], "ERR_RELAY_PROTOCOL"],
        [[Op.SEND, raw.nextRid(), "q", "id", Buffer.from("x"), { n: 1 }, null, null], "ERR_RELAY_PROTOCOL"],
        [[Op.SEND, raw.nextRid(), "q", "id", Buffer.from("x"), null, -5, null], "ERR_RELAY_PROTOCOL"],
        [[Op.CONSUME, raw.nextRid(), 1, "q", "g", 0, 1000, 5, "q.dlq"], "ERR_RELAY_PROTOCOL"],
        [[Op.CONSUME, raw.nextRid(), 2, "q", "g", 10, 1000, 5, "q"], "ERR_RELAY_INVALID_QUEUE"],
        [[Op.ACK, raw.nextRid(), 12345], "ERR_RELAY_LEASE_EXPIRED"],
        [[Op.NACK, raw.nextRid(), "token?", 0], "ERR_RELAY_LEASE_EXPIRED"],
        [[99, raw.nextRid()], "ERR_RELAY_UNKNOWN_COMMAND"],
        [[Op.SEND, raw.nextRid(), "q", "id", Buffer.from("x"), null, null, null, "bad producer!", "e", 1], "ERR_RELAY_PROTOCOL"],
        [[Op.SEND, raw.nextRid(), "q", "id", Buffer.from("x"), null, null, null, "p", "e", 0], "ERR_RELAY_PROTOCOL"],
        [[Op.PREPARE, raw.nextRid(), "q", "id", Buffer.from("x"), null, null, null, null], "ERR_RELAY_PROTOCOL"],
        [[Op.PREPARE, raw.nextRid(), "q", "id", Buffer.alloc(1001), null, "p", "e", 1], "ERR_RELAY_MESSAGE_TOO_LARGE"],
        [[Op.DECIDE, raw.nextRid(), "q", "id", "maybe"], "ERR_RELAY_PROTOCOL"],
        [[Op.DECIDE, raw.nextRid(), "q", "never-prepared", "commit"], "ERR_RELAY_TX_UNKNOWN"],
        [[Op.RESOLVER, raw.nextRid(), ""], "ERR_RELAY_PROTOCOL"],
        [[Op.HELLO, raw.nextRid(), 999], "ERR_RELAY_VERSION"],
      ]
      for (const [command, code] of cases) {
        await raw.send(command)
        const answer = await raw.answer(command[1] as number)
        expect([answer[0], answer[2]], JSON.stringify(command).slice(0, 80)).toEqual([Op.ERROR, code])
      }
      expect(node.stats().queues.map((q) => q.name)).toEqual(["ok"])
    })

    it("answers malformed frames and commands with ERR_RELAY_PROTOCOL and keeps serving", async () => {
      const node = await h.node(tempDir())
      const raw = h.raw(node.endpoint)
      const errorOf = (c: unknown[]) => c[0] === Op.ERROR && c[1] === 0
      const frames: Array<Buffer | Buffer[]> = [
        Buffer.from([0xc1]), // never valid MessagePack
        Buffer.from("not msgpack at all"),
        encodeFrame([]).subarray(0, 0),
        Buffer.from([0x92, 0x01]), // truncated array
        Buffer.from([0xa3, 0x61, 0x62, 0x63]), // a string, not an array of commands
        encodeFrame([["not a command"]]),
        encodeFrame([[]]),
        encodeFrame([[Op.SEND]]), // no request id
        encodeFrame([[Op.SEND, -1]]),
        [Buffer.from("two"), Buffer.from("frames")],
      ]
      for (const frame of frames) {
        await raw.sendFrame(frame)
        const error = await raw.expect(errorOf)
        expect(error[2]).toMatch(/^ERR_RELAY_(PROTOCOL|UNKNOWN_COMMAND)$/)
      }
      const client = h.client(node.endpoint)
      await client.send("still", "fine")
      expect(texts(await take(client.consume("still"), 1))).toEqual(["fine"])
    })

    it("stores ids and headers with any characters (NUL, control characters, quotes, backslashes) and gives them back as sent", async () => {
      const node = await h.node(tempDir())
      const client = h.client(node.endpoint)
      const odd = ["nul\u0000inside", "\u0001leading", "\u0001\u0002\u0000", 'quote" back\\slash', "emoji \u{1F600} and \u00e9"]
      const headers = { "k\u0000ey": "v\u0000al\u0001ue", 'q"': "\\" }
      // Sent together with an ordinary message, in one batch: neither may harm the other.
      const sent = await Promise.all([...odd.map((id) => client.send("odd", `body of ${JSON.stringify(id)}`, { id, headers })), client.send("odd", "plain", { id: "plain" })])
      expect(sent.map((r) => r.duplicate)).toEqual(odd.map(() => false).concat([false]))
      const again = await client.send("odd", "repeat", { id: odd[0]! })
      expect(again).toMatchObject({ seq: sent[0]!.seq, duplicate: true })
      await client.send("odd", "later", { id: odd[2]!, delay: 60_000 })
      expect(await client.cancel("odd", odd[2]!)).toBe(false) // stored within the window already: the repeat was a duplicate, not delayed
      const got = await take(client.consume("odd"), odd.length + 1)
      expect(got.map((m) => m.id)).toEqual([...odd, "plain"])
      expect(got.slice(0, odd.length).map((m) => m.headers)).toEqual(odd.map(() => headers))
      await client.send("odd-delayed", "x", { id: "d\u0000elayed", delay: 60_000 })
      expect(await client.cancel("odd-delayed", "d\u0000elayed")).toBe(true)
    })

    it("refuses sends with ERR_RELAY_STORE_FAILED while the store fails, keeps delivering what it has, and loses nothing confirmed", async () => {
      const dir = tempDir()
      const faulty = new FaultyStore(factory.make(dir))
      const node = await h.node(dir, { store: faulty.wrap() })
      const client = h.client(node.endpoint)
      await Promise.all(["s1", "s2", "s3"].map((x) => client.send("q", x)))
      const c = client.consume("q", { prefetch: 1 })
      const [first] = await take(c, 1)
      faulty.failing = Object.assign(new Error("EIO: i/o error, fdatasync"), { code: "ERR_RELAY_STORE_FAILED" })
      await expect(client.send("q", "lost?")).rejects.toMatchObject({ code: "ERR_RELAY_STORE_FAILED" })
      await expect(first!.ack()).rejects.toMatchObject({ code: "ERR_RELAY_STORE_FAILED" })
      faulty.failing = undefined
      await first!.ack()
      // Still serving: the rest arrives, and new sends work again.
      await client.send("q", "s4")
      const rest = []
      for (let i = 0; i < 3; i++) {
        const [m] = await take(c, 1)
        rest.push(m!)
        await m!.ack()
      }
      expect(texts([first!, ...rest])).toEqual(["s1", "s2", "s3", "s4"])
    })

    it("refuses sends with ERR_RELAY_STORE_FULL when the store is full and keeps serving consumers", async () => {
      const dir = tempDir()
      const inner = factory.make(dir)
      let full = false
      const store = new Proxy(inner, {
        get: (target, key, receiver) => {
          if (key === "admit") return (bytes: number) => !full && target.admit(bytes)
          const value = Reflect.get(target, key, receiver)
          return typeof value === "function" ? value.bind(target) : value
        },
      })
      const node = await h.node(dir, { store })
      const client = h.client(node.endpoint)
      await client.send("q", "kept")
      full = true
      await expect(client.send("q", "refused")).rejects.toMatchObject({ code: "ERR_RELAY_STORE_FULL" })
      const [m] = await take(client.consume("q"), 1)
      expect(m!.body.toString()).toBe("kept")
      await m!.ack()
      full = false
      await client.send("q", "accepted")
    })
  })
}
