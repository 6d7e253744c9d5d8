/**
 * Ports of libzmq's tests/test_hwm_pubsub.cpp: a publisher's SNDHWM counts
 * whole messages per subscriber; at it PUB and XPUB drop for that subscriber
 * and never make the sender wait, unless `noDrop` is set. `trySend()` is
 * libzmq's `zmq_send(..., ZMQ_DONTWAIT)`.
 *
 * Over inproc the counts are exact: a connection holds the publisher's SNDHWM
 * plus the subscriber's RCVHWM. Over tcp and ipc the connection also takes
 * what fits into one engine flush (about 256 kB) before the queue counts, so
 * those tests assert bounds, order and completeness instead of exact counts.
 */
import { afterEach, describe, expect, it } from "vitest"
import { Publisher, Subscriber, XPublisher, type Message } from "../../src/index.js"
import { allTransports, cleanupIpc } from "../helpers/endpoints.js"
import { closeAll } from "../helpers/sockets.js"
import { publishUntilReceived, range, receiveN, seq, seqs, subscription } from "./pubsub-helpers.js"

const sockets: Array<Publisher | XPublisher | Subscriber> = []

afterEach(() => {
  closeAll(...sockets.splice(0))
  cleanupIpc()
})

describe.each(allTransports)("29/PUBSUB high-water marks over $name (test_hwm_pubsub)", ({ name, bindAddress }) => {
  const inproc = name === "inproc"

  async function xpubAndSub(
    xpubOptions: ConstructorParameters<typeof XPublisher>[0],
    subOptions: ConstructorParameters<typeof Subscriber>[0] = {},
    prefix = "",
  ): Promise<[XPublisher, Subscriber]> {
    const xpub = new XPublisher(xpubOptions)
    const sub = new Subscriber(subOptions)
    sockets.push(xpub, sub)
    await xpub.bind(bindAddress())
    sub.connect(xpub.lastEndpoint!)
    sub.subscribe(prefix)
    // Wait until the publisher has the subscription before sending.
    expect(await xpub.receive()).toEqual([subscription(prefix)])
    return [xpub, sub]
  }

  for (const hwm of [1000, 100]) {
    it(`accepts ${hwm} messages without waiting at SNDHWM ${hwm} and delivers all ${hwm} (test_defaults)`, async () => {
      const [xpub, sub] = await xpubAndSub({ sendHighWaterMark: hwm })
      let sent = 0
      while (sent < hwm && xpub.trySend([seq(sent), "test message"])) sent++
      expect(sent).toBe(hwm)
      expect(seqs(await receiveN(sub, hwm))).toEqual(range(hwm))
      // Nothing else is queued: the next message is one sent now.
      await xpub.send("end")
      expect(await sub.receive()).toEqual([Buffer.from("end")])
    })
  }

  it("drops at the HWM instead of waiting, keeping a gapless prefix of what was sent", async () => {
    const sendHwm = 100
    const receiveHwm = 50
    // Over tcp and ipc one engine flush (about 256 kB) goes out before the queue counts; 10 MB is far beyond.
    const total = inproc ? 1000 : 10_000
    const payload = Buffer.alloc(1024, 0x2e)
    const [xpub, sub] = await xpubAndSub({ sendHighWaterMark: sendHwm }, { receiveHighWaterMark: receiveHwm })
    // The subscriber reads nothing meanwhile; a PUB never refuses, so every send succeeds at once.
    let accepted = 0
    for (let i = 0; i < total; i++) if (xpub.trySend([seq(i), payload])) accepted++
    expect(accepted).toBe(total)

    const received = seqs(await drain(xpub, sub))
    if (inproc) {
      expect(received).toEqual(range(sendHwm + receiveHwm))
    } else {
      // The receive side never drops (it stops reading), so what arrives is the prefix the publisher kept.
      expect(received).toEqual(range(received.length))
      expect(received.length).toBeGreaterThan(sendHwm)
      expect(received.length).toBeLessThan(total)
    }
  })

  it("drops only for the subscriber at its HWM; another one keeping up receives everything", async () => {
    const sendHwm = 100
    // Sent over many turns of the event loop, so the kernel buffers of a tcp connection whose
    // reader has stopped fill too (a few MB here): 16 MB is well beyond them.
    const total = 4000
    const batch = 50
    const payload = Buffer.alloc(4096, 0x2e)
    // `slow` takes everything (including the drain probes), `fast` only the data, and reads as it goes.
    const [xpub, slow] = await xpubAndSub({ sendHighWaterMark: sendHwm }, { receiveHighWaterMark: 50 })
    const fast = new Subscriber()
    sockets.push(fast)
    fast.connect(xpub.lastEndpoint!)
    fast.subscribe("d")
    expect(await xpub.receive()).toEqual([subscription("d")])

    const fastReceived: number[] = []
    let accepted = 0
    for (let i = 0; i < total; i += batch) {
      for (let j = i; j < i + batch; j++) if (xpub.trySend([Buffer.concat([Buffer.from("d"), seq(j)]), payload])) accepted++
      // Wait for each batch, so the fast subscriber's queue never fills.
      for (const [topic] of await receiveN(fast, batch)) fastReceived.push(topic!.readUInt32BE(1))
    }
    expect(accepted).toBe(total)
    expect(fastReceived).toEqual(range(total))

    const slowReceived = (await drain(xpub, slow)).map(([topic]) => topic!.readUInt32BE(1))
    expect(slowReceived).toEqual(range(slowReceived.length))
    expect(slowReceived.length).toBeGreaterThan(sendHwm)
    expect(slowReceived.length).toBeLessThan(total)
  })

  it("with noDrop fails with EAGAIN at the HWM and loses nothing when the subscriber drains between sends (test_blocking)", async () => {
    const hwm = 2000
    const total = 6000
    // 16 kB messages make the HWM, not the kernel buffers and the engine's 1 MB write backlog,
    // the limit over tcp and ipc.
    const payload = Buffer.alloc(inproc ? 0 : 16 * 1024, 0x2e)
    const [xpub, sub] = await xpubAndSub({ sendHighWaterMark: hwm, noDrop: true })
    const received: Message[] = []
    let sent = 0
    let blocked = 0
    while (sent < total) {
      if (xpub.trySend([seq(sent), payload])) {
        sent++
        continue
      }
      blocked++
      // Dequeue: wait for one message, then take whatever else is there.
      received.push(await sub.receive())
      while (sub.readable) received.push(await sub.receive())
    }
    // With SNDHWM below the number of messages, the sender must have been refused at least once.
    expect(blocked).toBeGreaterThan(0)

    // The termination message waits for room if needed while the rest is read.
    const ended = xpub.send("end")
    for (let message = await sub.receive(); message[0]!.toString() !== "end"; message = await sub.receive()) {
      received.push(message)
    }
    await ended
    expect(seqs(received)).toEqual(range(total))
  })

  // HWM should apply to the messages queued now, not to all those ever sent:
  // with HWM 11024, send 9999 and receive them, then send 1100 and receive them.
  it("counts the HWM against the queue, not against all messages ever sent (test_reset_hwm)", async () => {
    const hwm = 11024
    const pub = new Publisher({ sendHighWaterMark: hwm })
    const sub = new Subscriber({ receiveHighWaterMark: hwm })
    sockets.push(pub, sub)
    await pub.bind(bindAddress())
    sub.connect(pub.lastEndpoint!)
    sub.subscribe()
    await publishUntilReceived(pub, sub)

    let next = 0
    for (const count of [9999, 1100]) {
      const first = next
      let accepted = 0
      for (let i = 0; i < count; i++) if (pub.trySend(seq(next++))) accepted++
      expect(accepted).toBe(count)
      expect(seqs(await receiveN(sub, count))).toEqual(range(count).map((i) => first + i))
    }
    await pub.send("end")
    expect(await sub.receive()).toEqual([Buffer.from("end")])
  })
})

/**
 * Reads everything `sub` gets until the publisher can reach it again: a
 * probe published every few ms is dropped while the queue is full, and the
 * first one to arrive comes after everything that was kept.
 */
function drain(xpub: XPublisher, sub: Subscriber): Promise<Message[]> {
  return publishUntilReceived(xpub, sub, "")
}
