/**
 * Port of libzmq's tests/test_xpub_welcome_msg.cpp: with `welcomeMessage`
 * (ZMQ_XPUB_WELCOME_MSG) an XPUB sends that message to each new subscriber
 * as it attaches, ahead of anything published.
 */
import { afterEach, describe, expect, it } from "vitest"
import { Subscriber, XPublisher } from "../../src/index.js"
import { allTransports, cleanupIpc } from "../helpers/endpoints.js"
import { closeAll } from "../helpers/sockets.js"
import { subscription } from "./pubsub-helpers.js"

const text = (frames: readonly Buffer[]): string[] => frames.map((f) => f.toString())

const sockets: Array<XPublisher | Subscriber> = []

afterEach(() => {
  closeAll(...sockets.splice(0))
  cleanupIpc()
})

describe.each(allTransports)("29/PUBSUB XPUB welcome message over $name (test_xpub_welcome_msg)", ({ bindAddress }) => {
  async function welcomingXpub(): Promise<XPublisher> {
    const xpub = new XPublisher({ welcomeMessage: "W" })
    sockets.push(xpub)
    await xpub.bind(bindAddress())
    return xpub
  }

  function subscriber(): Subscriber {
    const sub = new Subscriber()
    sockets.push(sub)
    return sub
  }

  it("sends the welcome message to a subscriber that subscribed to it before connecting", async () => {
    const xpub = await welcomingXpub()
    const sub = subscriber()
    sub.subscribe("W")
    sub.connect(xpub.lastEndpoint!)
    expect(await xpub.receive()).toEqual([subscription("W")])
    expect(text(await sub.receive())).toEqual(["W"])
  })

  it("welcomes each new subscriber once, ahead of what is published", async () => {
    const xpub = await welcomingXpub()
    xpub.verbosity = "allSubs"
    const subs = [subscriber(), subscriber()]
    for (const sub of subs) {
      sub.subscribe("W")
      sub.connect(xpub.lastEndpoint!)
      expect(await xpub.receive()).toEqual([subscription("W")])
    }
    await xpub.send("W-news")
    for (const sub of subs) {
      expect(text(await sub.receive())).toEqual(["W"])
      expect(text(await sub.receive())).toEqual(["W-news"])
    }
  })

  // libzmq writes the welcome message straight into the new pipe, and its SUB filters locally.
  it("is filtered out by a SUB that did not subscribe to it", async () => {
    const xpub = await welcomingXpub()
    const sub = subscriber()
    sub.subscribe("A")
    sub.connect(xpub.lastEndpoint!)
    expect(await xpub.receive()).toEqual([subscription("A")])
    await xpub.send("A1")
    // The welcome message went first on the same connection: A1 arriving first shows it was dropped.
    expect(text(await sub.receive())).toEqual(["A1"])
  })
})
