/**
 * Port of libzmq's tests/test_sub_forward.cpp: an XPUB/XSUB pair forwarding
 * by hand, as a proxy does. The SUB's subscription goes up through the XPUB
 * and the XSUB to the PUB, and a published (empty) message comes back down.
 */
import { afterEach, describe, expect, it } from "vitest"
import { Publisher, Subscriber, XPublisher, XSubscriber, type Socket } from "../../src/index.js"
import { allTransports, cleanupIpc } from "../helpers/endpoints.js"
import { closeAll } from "../helpers/sockets.js"
import { cancel, publishUntilReceived, subscription } from "./pubsub-helpers.js"

const sockets: Socket[] = []

afterEach(() => {
  closeAll(...sockets.splice(0))
  cleanupIpc()
})

describe.each(allTransports)("29/PUBSUB forwarding through XPUB/XSUB over $name (test_sub_forward)", ({ bindAddress }) => {
  /** libzmq's intermediate device: XPUB and XSUB bound, a PUB on the XSUB, a SUB on the XPUB. */
  async function device(): Promise<{ xpub: XPublisher; xsub: XSubscriber; pub: Publisher; sub: Subscriber }> {
    const xpub = new XPublisher()
    const xsub = new XSubscriber()
    const pub = new Publisher()
    const sub = new Subscriber()
    sockets.push(xpub, xsub, pub, sub)
    await xpub.bind(bindAddress())
    await xsub.bind(bindAddress())
    pub.connect(xsub.lastEndpoint!)
    sub.connect(xpub.lastEndpoint!)
    return { xpub, xsub, pub, sub }
  }

  it("forwards the subscription upstream and an empty message downstream", async () => {
    const { xpub, xsub, pub, sub } = await device()
    sub.subscribe()

    // Pass the subscription upstream through the device.
    const request = await xpub.receive()
    expect(request).toEqual([subscription("")])
    await xsub.send(request)
    // Instead of libzmq's sleep: publish until the XSUB gets something.
    await publishUntilReceived(pub, xsub)

    await pub.send(Buffer.alloc(0))
    // Pass the message downstream through the device.
    const message = await xsub.receive()
    expect(message).toEqual([Buffer.alloc(0)])
    await xpub.send(message)
    expect(await sub.receive()).toEqual([Buffer.alloc(0)])
  })

  it("forwards a cancel upstream, after which the publisher sends nothing on that topic", async () => {
    const { xpub, xsub, pub, sub } = await device()
    sub.subscribe("A")
    const request = await xpub.receive()
    await xsub.send(request)
    await publishUntilReceived(pub, xsub, "A")

    await pub.send(["A", "1"])
    const forwarded = await xsub.receive()
    await xpub.send(forwarded)
    expect(await sub.receive()).toEqual([Buffer.from("A"), Buffer.from("1")])

    sub.unsubscribe("A")
    const cancelled = await xpub.receive()
    expect(cancelled).toEqual([cancel("A")])
    await xsub.send(cancelled)
    // A subscription sent after the cancel shows when the publisher has it.
    await xsub.send(subscription("B"))
    await publishUntilReceived(pub, xsub, "B")
    await pub.send(["A", "2"])
    await pub.send(["B", "end"])
    expect(await xsub.receive()).toEqual([Buffer.from("B"), Buffer.from("end")])
  })
})
