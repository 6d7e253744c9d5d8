/**
 * One peer that stops reading holds up nobody else. A ROUTER with
 * `mandatory` waits for a full peer per peer: sends to the others complete
 * at once, and the waiting ones complete in order once that peer reads. A
 * PUB with a stuck subscriber neither waits nor yields per send: a tight
 * `await pub.send()` loop finishes, timers fire meanwhile, and a subscriber
 * that keeps up gets every message in order.
 */
import { describe, expect, it } from "vitest"
import { Dealer, Publisher, Router, Subscriber } from "../../src/index.js"
import { closeAll } from "../helpers/sockets.js"
import { sendUntilFull, within } from "./fixtures/probes.js"

/** True when `promise` settled before the event loop's next turn: the send did not wait. */
async function completesAtOnce(promise: Promise<unknown>): Promise<boolean> {
  let settled = false
  promise.then(
    () => (settled = true),
    () => (settled = true),
  )
  await new Promise((resolve) => setImmediate(resolve))
  return settled
}

describe("ROUTER with mandatory and a peer that reads nothing", () => {
  it("waits for that peer only; its waiting sends complete in order once it reads", async () => {
    const router = new Router({ mandatory: true, sendHighWaterMark: 1, sendTimeout: 500 })
    const stuck = new Dealer({ routingId: "stuck", receiveHighWaterMark: 1 })
    const reader = new Dealer({ routingId: "reader" })
    try {
      await router.bind("tcp://127.0.0.1:*")
      stuck.connect(router.lastEndpoint!)
      reader.connect(router.lastEndpoint!)
      // Each says hello, so the router knows both by name.
      await stuck.send("hello")
      await reader.send("hello")
      const names = [String((await router.receive())[0]), String((await router.receive())[0])]
      expect(names.sort()).toEqual(["reader", "stuck"])

      // Fill the stuck peer's lane: its pipe, node's backlog and the kernel buffers.
      const body = Buffer.alloc(1 << 20, 0x73)
      let label = 0
      const delivered: string[] = []
      const lane = {
        send: async (frame: Buffer) => {
          const name = `s${label++}`
          await router.send(["stuck", name, frame])
          delivered.push(name)
        },
      }
      await sendUntilFull(lane, body)
      router.sendTimeout = -1
      const waiting = [router.send(["stuck", "w0", body]), router.send(["stuck", "w1", "last"])]
      delivered.push("w0", "w1")
      const waitingDone = waiting.map(() => false)
      waiting.forEach(
        (send, i) =>
          void send.then(
            () => (waitingDone[i] = true),
            () => undefined,
          ),
      )
      expect(await completesAtOnce(waiting[0]!)).toBe(false)

      // Meanwhile the other peer is served at once, every time.
      for (let i = 0; i < 50; i++) expect(await completesAtOnce(router.send(["reader", `r${i}`])), `send r${i}`).toBe(true)
      for (let i = 0; i < 50; i++) expect(String((await reader.receive())[0])).toBe(`r${i}`)
      expect(waitingDone).toEqual([false, false])

      // The stuck peer reads: everything sent to it arrives, in order, and the waiting sends complete.
      const got: string[] = []
      while (got.length < delivered.length) got.push(String((await stuck.receive())[0]))
      expect(got).toEqual(delivered)
      await within("the waiting sends completing", Promise.all(waiting))
    } finally {
      closeAll(router, stuck, reader)
    }
  })
})

describe("PUB with one subscriber that never reads and one that does", () => {
  it("runs a tight loop of 100,000 sends to the end, lets timers fire, and loses nothing for the reader", async () => {
    const pub = new Publisher({ sendHighWaterMark: 10_000 })
    const stuck = new Subscriber({ receiveHighWaterMark: 1 })
    const reader = new Subscriber({ receiveHighWaterMark: 10_000 })
    const COUNT = 100_000
    let interval: NodeJS.Timeout | undefined
    let turning = true
    try {
      await pub.bind("tcp://127.0.0.1:*")
      for (const sub of [stuck, reader]) {
        sub.subscribe()
        sub.connect(pub.lastEndpoint!)
      }
      // Both subscriptions are in once each subscriber has a greeting.
      const greeted = Promise.all([stuck.receive(), reader.receive()])
      let both = false
      void greeted.then(() => (both = true))
      while (!both) {
        await pub.send("greeting")
        await new Promise((resolve) => setTimeout(resolve, 1))
      }

      // The reader keeps reading; greetings still queued are skipped.
      const received: number[] = []
      const reading = (async () => {
        while (received.length < COUNT) {
          const [frame] = await reader.receive()
          if (frame!.length === 4) received.push(frame!.readUInt32BE(0))
        }
      })()

      let ticks = 0
      interval = setInterval(() => ticks++, 0)
      let turns = 0
      const turn = () => {
        turns++
        if (turning) setImmediate(turn)
      }
      setImmediate(turn)
      for (let i = 0; i < COUNT; i++) {
        const frame = Buffer.allocUnsafe(4)
        frame.writeUInt32BE(i, 0)
        await pub.send(frame)
      }
      turning = false
      clearInterval(interval)

      expect(ticks, "setInterval(..., 0) callbacks during the loop").toBeGreaterThanOrEqual(3)
      // Sends that complete at once do not each wait for the event loop: many go per turn.
      expect(turns, "event-loop turns during the loop").toBeLessThan(COUNT / 10)
      await within("the reader getting every message", reading, 15_000)
      let gaps = 0
      received.forEach((seq, i) => void (seq !== i && gaps++))
      expect(gaps, "messages out of place for the reader").toBe(0)
    } finally {
      turning = false
      clearInterval(interval)
      closeAll(pub, stuck, reader)
    }
  })
})
