/**
 * Port of libzmq's tests/test_xpub_topic.cpp: a SUBSCRIBE or CANCEL command
 * whose name and topic exceed 255 bytes needs ZMTP's LONG frame form
 * (libzmq bug #4564). A 245-byte topic makes a 255-byte SUBSCRIBE body
 * (`09 SUBSCRIBE` + topic), a 246-byte one 256 bytes; CANCEL is 3 bytes
 * shorter. XPUB must report both byte-exactly.
 */
import { afterEach, describe, expect, it } from "vitest"
import { Subscriber, XPublisher, XSubscriber } from "../../src/index.js"
import { allTransports, cleanupIpc } from "../helpers/endpoints.js"
import { closeAll } from "../helpers/sockets.js"
import { cancel, subscription } from "./pubsub-helpers.js"

/** libzmq's topics: "ABCDEFGHIJKLMNOP" repeated and cut to length. */
function topicOf(length: number): Buffer {
  return Buffer.from("ABCDEFGHIJKLMNOP".repeat(Math.ceil(length / 16)).slice(0, length))
}

const sockets: Array<XPublisher | Subscriber | XSubscriber> = []

afterEach(() => {
  closeAll(...sockets.splice(0))
  cleanupIpc()
})

describe.each(allTransports)("29/PUBSUB long topics over $name (test_xpub_topic)", ({ bindAddress }) => {
  async function xpubWith<T extends Subscriber | XSubscriber>(peer: T): Promise<XPublisher> {
    const xpub = new XPublisher()
    sockets.push(xpub, peer)
    await xpub.bind(bindAddress())
    peer.connect(xpub.lastEndpoint!)
    return xpub
  }

  it("reports the subscription and cancel of a 245-byte topic, then of a 246-byte one, byte-exactly", async () => {
    const sub = new Subscriber()
    const xpub = await xpubWith(sub)
    for (const length of [245, 246]) {
      const topic = topicOf(length)
      sub.subscribe(topic)
      const [subscribed, ...rest] = await xpub.receive()
      expect(rest).toEqual([])
      expect(subscribed!.length).toBe(length + 1)
      expect(subscribed).toEqual(subscription(topic))

      sub.unsubscribe(topic)
      const [cancelled] = await xpub.receive()
      expect(cancelled!.length).toBe(length + 1)
      expect(cancelled).toEqual(cancel(topic))
    }
  })

  it("carries topics on both sides of the boundary for the CANCEL command and far beyond it", async () => {
    const sub = new Subscriber()
    const xpub = await xpubWith(sub)
    // CANCEL's body is `06 CANCEL` + topic: 248 + 7 = 255, 249 + 7 = 256.
    for (const length of [248, 249, 255, 256, 1000]) {
      const topic = topicOf(length)
      sub.subscribe(topic)
      expect(await xpub.receive()).toEqual([subscription(topic)])
      sub.unsubscribe(topic)
      expect(await xpub.receive()).toEqual([cancel(topic)])
    }
  })

  it("delivers messages published on a 246-byte topic to its subscriber", async () => {
    const sub = new Subscriber()
    const xpub = await xpubWith(sub)
    const topic = topicOf(246)
    sub.subscribe(topic)
    expect(await xpub.receive()).toEqual([subscription(topic)])
    // One byte short of the topic does not match; the topic and longer do.
    await xpub.send(topic.subarray(0, 245))
    await xpub.send([topic, Buffer.from("body")])
    await xpub.send(Buffer.concat([topic, Buffer.from("+")]))
    expect(await sub.receive()).toEqual([topic, Buffer.from("body")])
    expect(await sub.receive()).toEqual([Buffer.concat([topic, Buffer.from("+")])])
  })

  it("reports an XSUB's 246-byte subscription and cancel byte-exactly", async () => {
    const xsub = new XSubscriber()
    const xpub = await xpubWith(xsub)
    const topic = topicOf(246)
    await xsub.send(subscription(topic))
    expect(await xpub.receive()).toEqual([subscription(topic)])
    await xsub.send(cancel(topic))
    expect(await xpub.receive()).toEqual([cancel(topic)])
  })
})
