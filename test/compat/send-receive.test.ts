/**
 * zeromq.js compatibility: send() and receive(): what a message part may be,
 * timeouts, send()/receive() on types that cannot, queued concurrent sends,
 * and tight await loops that must not starve the event loop.
 */
import { afterEach, describe, expect, it } from "vitest"
import { Publisher, Pull, Push, Subscriber } from "../../src/index.js"
import { cleanupIpc, inprocEndpoint, ipcEndpoint } from "../helpers/endpoints.js"
import { failure, libraries, socketTracker, thrown } from "./helpers.js"

const track = socketTracker()
afterEach(cleanupIpc)

describe.each(libraries)("send/receive ($name)", ({ zmq }) => {
  it("each kind of part arrives as zeromq.js sends it: null empty, the rest as bytes or String()", async () => {
    const a = track(new zmq.Pair({ linger: 0 }))
    const b = track(new zmq.Pair({ linger: 0 }))
    await a.bind(inprocEndpoint())
    b.connect(a.lastEndpoint!)
    const fn = function named() {
      return 1
    }
    const parts: unknown[] = [null, 42, 1.5, true, {}, fn, "text", Buffer.from("buf"), new Uint8Array([65, 66]), new Uint8Array([67]).buffer]
    await a.send(parts as never)
    const received = await b.receive()
    expect(received.map((frame) => frame.toString())).toEqual(["", "42", "1.5", "true", "[object Object]", String(fn), "text", "buf", "AB", "C"])
    expect(received[0]!.length).toBe(0)
  })

  it("send() without a message is a TypeError, even on a Subscriber", () => {
    const sub = track(new zmq.Subscriber({ linger: 0 })) as unknown as { send(message?: unknown): Promise<void> }
    expect(typeof sub.send).toBe("function")
    const err = thrown(() => sub.send())
    expect(err).toBeInstanceOf(TypeError)
    expect(err.message).toBe("Message must be present")
  })

  it("sendTimeout: a send() that cannot complete rejects with EAGAIN", async () => {
    const dealer = track(new zmq.Dealer({ linger: 0, sendTimeout: 10 }))
    expect(await failure(() => dealer.send("nobody"))).toMatchObject({ code: "EAGAIN", errno: 11, message: "Operation was not possible or timed out" })
  })

  it("receiveTimeout: a receive() with nothing to read rejects with EAGAIN", async () => {
    const dealer = track(new zmq.Dealer({ linger: 0, receiveTimeout: 10 }))
    expect(await failure(() => dealer.receive())).toMatchObject({ code: "EAGAIN", errno: 11, message: "Operation was not possible or timed out" })
  })

  it("a message sent before the connection is made is delivered with it (tcp)", async () => {
    const pull = track(new zmq.Pull({ linger: 0 }))
    const push = track(new zmq.Push({ linger: 0 }))
    await pull.bind("tcp://127.0.0.1:*")
    push.connect(pull.lastEndpoint!)
    await push.send(["multi", "part"])
    expect((await pull.receive()).map(String)).toEqual(["multi", "part"])
  })
})

describe("send/receive on types that cannot, in zmesh", () => {
  // zeromq.js's promises never settle here; zmesh rejects, so the mistake shows.
  it("Subscriber.send(message) rejects with ENOTSUP", async () => {
    const sub = track(new Subscriber({ linger: 0 })) as unknown as { send(message: unknown): Promise<void> }
    expect(await failure(() => sub.send("x"))).toMatchObject({ code: "ENOTSUP", message: "Operation not supported" })
  })

  it("Publisher.receive() rejects with ENOTSUP", async () => {
    const pub = track(new Publisher({ linger: 0 })) as unknown as { receive(): Promise<unknown> }
    expect(await failure(() => pub.receive())).toMatchObject({ code: "ENOTSUP", message: "Operation not supported" })
  })
})

describe("concurrent sends in zmesh", () => {
  it("queue and all complete in call order (zeromq.js would fail the second with EBUSY)", async () => {
    const push = track(new Push({ linger: 0 }))
    const pull = track(new Pull({ linger: 0 }))
    const sends = ["a", "b", "c", "d", "e"].map((m) => push.send(m))
    const settled: string[] = []
    sends.forEach((p, i) => void p.then(() => settled.push(String(i))))
    await pull.bind(inprocEndpoint())
    push.connect(pull.lastEndpoint!)
    await Promise.all(sends)
    expect(settled).toEqual(["0", "1", "2", "3", "4"])
    const got: string[] = []
    for (let i = 0; i < 5; i++) got.push(String((await pull.receive())[0]))
    expect(got).toEqual(["a", "b", "c", "d", "e"])
  })
})

/**
 * Turns of the event loop while `run` goes on: a setImmediate chain ticks once
 * per turn. A loop of awaits that never yields to the event loop (every
 * promise already settled) completes in one turn and counts none.
 */
async function loopTurnsDuring(run: () => Promise<void>): Promise<number> {
  let turns = 0
  let running = true
  const tick = () => {
    if (!running) return
    turns++
    setImmediate(tick)
  }
  setImmediate(tick)
  try {
    await run()
  } finally {
    running = false
  }
  return turns
}

const MESSAGES = 2500

describe("tight await loops in zmesh do not starve the event loop (zeromq.js yields every 512 operations)", () => {
  it.each([
    { name: "tcp", address: () => "tcp://127.0.0.1:*" },
    { name: "ipc", address: ipcEndpoint },
    { name: "inproc", address: inprocEndpoint },
  ])("await send() x $MESSAGES over $name lets the loop turn", async ({ address }) => {
    const push = track(new Push({ linger: 0, sendHighWaterMark: 2 * MESSAGES }))
    const pull = track(new Pull({ linger: 0, receiveHighWaterMark: 2 * MESSAGES }))
    await pull.bind(address())
    push.connect(pull.lastEndpoint!)
    await push.send("hello")
    await pull.receive()
    const turns = await loopTurnsDuring(async () => {
      for (let i = 0; i < MESSAGES; i++) await push.send("x")
    })
    expect(turns).toBeGreaterThanOrEqual(3)
  })

  it(`await receive() x ${MESSAGES} over queued messages lets the loop turn`, async () => {
    const push = track(new Push({ linger: 0, sendHighWaterMark: 2 * MESSAGES }))
    const pull = track(new Pull({ linger: 0, receiveHighWaterMark: 2 * MESSAGES }))
    await pull.bind(inprocEndpoint())
    push.connect(pull.lastEndpoint!)
    for (let i = 0; i < MESSAGES; i++) await push.send("x")
    // With no wait allowed, each receive() below must find its message already queued.
    pull.receiveTimeout = 0
    const turns = await loopTurnsDuring(async () => {
      for (let i = 0; i < MESSAGES; i++) await pull.receive()
    })
    expect(turns).toBeGreaterThanOrEqual(3)
  })

  it("large messages: await send() and for-await yield every 256 KiB, long before 512 calls", async () => {
    const count = 64
    const big = Buffer.alloc(64 * 1024, 7)
    const push = track(new Push({ linger: 0, sendHighWaterMark: 2 * count }))
    const pull = track(new Pull({ linger: 0, receiveHighWaterMark: 2 * count }))
    await pull.bind(inprocEndpoint())
    push.connect(pull.lastEndpoint!)
    await push.send("hello")
    await pull.receive()
    // 64 x 64 KiB = 4 MiB: a yield every 256 KiB is 16 turns; the call budget alone would give none.
    const sendTurns = await loopTurnsDuring(async () => {
      for (let i = 0; i < count; i++) await push.send(big)
    })
    expect(sendTurns).toBeGreaterThanOrEqual(8)
    let received = 0
    const receiveTurns = await loopTurnsDuring(async () => {
      for await (const [msg] of pull) {
        expect(msg!.length).toBe(big.length)
        if (++received === count) break
      }
    })
    expect(receiveTurns).toBeGreaterThanOrEqual(8)
  })
})
