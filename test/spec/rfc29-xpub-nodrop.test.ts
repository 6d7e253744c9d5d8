/**
 * Port of libzmq's tests/test_xpub_nodrop.cpp: with `noDrop`
 * (ZMQ_XPUB_NODROP) an XPUB at its high-water mark makes the sender wait, or
 * fail with EAGAIN when it may not wait, instead of dropping, so a
 * subscriber receives everything that was sent.
 */
import { afterEach, describe, expect, it } from "vitest"
import { Subscriber, XPublisher } from "../../src/index.js"
import { allTransports, cleanupIpc } from "../helpers/endpoints.js"
import { closeAll } from "../helpers/sockets.js"
import { range, receiveN, seq, seqs, subscription } from "./pubsub-helpers.js"

const HWM = 2000

const sockets: Array<XPublisher | Subscriber> = []

afterEach(() => {
  closeAll(...sockets.splice(0))
  cleanupIpc()
})

describe.each(allTransports)("29/PUBSUB XPUB noDrop over $name (test_xpub_nodrop)", ({ name, bindAddress }) => {
  // Over tcp and ipc the connection takes about 256 kB before the queue counts
  // (the engine flushes at that size): 1 kB messages make the HWM the limit.
  const payload = Buffer.alloc(name === "inproc" ? 0 : 1024, 0x2e)

  async function connected(): Promise<[XPublisher, Subscriber]> {
    const xpub = new XPublisher({ sendHighWaterMark: HWM, noDrop: true })
    const sub = new Subscriber()
    sockets.push(xpub, sub)
    await xpub.bind(bindAddress())
    sub.connect(xpub.lastEndpoint!)
    sub.subscribe()
    // Wait for the subscription, or some or all published messages might be lost.
    expect(await xpub.receive()).toEqual([subscription("")])
    return [xpub, sub]
  }

  it("delivers every one of HWM - 1 messages sent with waiting sends", async () => {
    const [xpub, sub] = await connected()
    for (let i = 0; i < HWM - 1; i++) await xpub.send([seq(i), payload])
    expect(seqs(await receiveN(sub, HWM - 1))).toEqual(range(HWM - 1))
    await xpub.send("end")
    expect(await sub.receive()).toEqual([Buffer.from("end")])
  })

  it("fails with EAGAIN at the HWM when it may not wait, and the subscriber receives everything sent before", async () => {
    const [xpub, sub] = await connected()
    let sent = 0
    // libzmq's `while (zmq_send (pub, "", 0, 0) == 0)` with ZMQ_SNDTIMEO 0.
    for (; sent < 100_000; sent++) if (!xpub.trySend([seq(sent), payload])) break
    if (name === "inproc") {
      // An inproc pipe holds the sender's SNDHWM plus the receiver's RCVHWM (1000 by default).
      expect(sent).toBe(HWM + 1000)
    } else {
      expect(sent).toBeGreaterThanOrEqual(HWM)
      expect(sent).toBeLessThan(100_000)
    }
    // The same limit for a send with sendTimeout 0.
    xpub.sendTimeout = 0
    await expect(xpub.send([seq(sent), payload])).rejects.toMatchObject({ code: "EAGAIN" })

    expect(seqs(await receiveN(sub, sent))).toEqual(range(sent))
    // Nothing was dropped and nothing more is queued: the next message is one sent now.
    xpub.sendTimeout = -1
    await xpub.send("end")
    expect(await sub.receive()).toEqual([Buffer.from("end")])
  })

  it("holds a waiting send until the subscriber has made room, then delivers it in order", async () => {
    const [xpub, sub] = await connected()
    let sent = 0
    while (sent < 100_000 && xpub.trySend([seq(sent), payload])) sent++
    expect(sent).toBeLessThan(100_000)
    let delivered = false
    const waiting = xpub.send([seq(sent), payload]).then(() => {
      delivered = true
    })
    await Promise.resolve()
    expect(delivered).toBe(false)
    expect(seqs(await receiveN(sub, sent + 1))).toEqual(range(sent + 1))
    await waiting
    expect(delivered).toBe(true)
  })
})
