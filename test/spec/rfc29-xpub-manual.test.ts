/**
 * Ports of libzmq's tests/test_xpub_manual.cpp: an XPUB with `manual` reports
 * every subscription and cancel but applies none; the application applies
 * its own with `subscribe()` / `unsubscribe()` to the peer whose subscription
 * it received last. Also the user-message cases of that file: what an XSUB
 * sends that is not a subscription reaches the XPUB's application.
 */
import { afterEach, describe, expect, it } from "vitest"
import { Publisher, Subscriber, XPublisher, XSubscriber, type Socket } from "../../src/index.js"
import { allTransports, cleanupIpc } from "../helpers/endpoints.js"
import { closeAll, nextEvent } from "../helpers/sockets.js"
import { cancel, expectNoReport, publishUntilReceived, subscription } from "./pubsub-helpers.js"

const text = (frames: readonly Buffer[]): string[] => frames.map((f) => f.toString())

const sockets: Socket[] = []
function track<T extends Socket>(socket: T): T {
  sockets.push(socket)
  return socket
}

afterEach(() => {
  closeAll(...sockets.splice(0))
  cleanupIpc()
})

describe.each(allTransports)("29/PUBSUB manual XPUB over $name (test_xpub_manual)", ({ name, bindAddress }) => {
  async function manualXpubWithXsub(): Promise<[XPublisher, XSubscriber]> {
    const xpub = track(new XPublisher({ manual: true }))
    await xpub.bind(bindAddress())
    const xsub = track(new XSubscriber())
    xsub.connect(xpub.lastEndpoint!)
    return [xpub, xsub]
  }

  /** Closes `socket` and waits until `binder` has dropped its pipe (at once for inproc, which has no events). */
  async function closeAndWaitForDetach(binder: Socket, socket: Socket): Promise<void> {
    const gone = name === "inproc" ? Promise.resolve() : nextEvent(binder.events, "disconnect").then(() => undefined)
    closeAll(socket)
    await gone
  }

  it("applies the subscription the application chose instead of the one received (test_basic)", async () => {
    const [xpub, xsub] = await manualXpubWithXsub()
    await xsub.send(subscription("A"))
    expect(await xpub.receive()).toEqual([subscription("A")])
    xpub.subscribe("B")

    await xpub.send("A")
    await xpub.send("B")
    // A went first on the same connection, so receiving B first shows A was not sent.
    expect(text(await xsub.receive())).toEqual(["B"])
  })

  it("applies subscribe() and unsubscribe() to the peer of the subscription received last (test_unsubscribe_manual)", async () => {
    const [xpub, xsub] = await manualXpubWithXsub()
    // Sent before the connection is up, zmesh would not keep their order (see rfc29-xsub-verbose).
    await expectNoReport(xpub, xsub)
    await xsub.send(subscription("A"))
    await xsub.send(subscription("B"))

    expect(await xpub.receive()).toEqual([subscription("A")])
    xpub.subscribe("XA")
    expect(await xpub.receive()).toEqual([subscription("B")])
    xpub.subscribe("XB")

    await xsub.send(cancel("A"))
    expect(await xpub.receive()).toEqual([cancel("A")])
    xpub.unsubscribe("XA")

    await xpub.send("XA")
    await xpub.send("XB")
    expect(text(await xsub.receive())).toEqual(["XB"])

    // The XSUB still held B; its departure reports that cancel.
    await closeAndWaitForDetach(xpub, xsub)
    expect(await xpub.receive()).toEqual([cancel("B")])
    expect(xpub.readable).toBe(false)
    // The peer is gone: nothing to apply this to, and nothing fails.
    xpub.unsubscribe("XB")
    await xpub.send("XB")
  })

  it("removes a departed peer's manual subscriptions, and applies a new peer's own (test_unsubscribe_cleanup)", async () => {
    const [xpub, first] = await manualXpubWithXsub()
    await first.send(subscription("A"))
    expect(await xpub.receive()).toEqual([subscription("A")])
    xpub.subscribe("XA")

    await xpub.send("XA")
    await xpub.send("XB")
    expect(text(await first.receive())).toEqual(["XA"])
    // Nothing else queued: a later message is the next one.
    await xpub.send("XA-end")
    expect(text(await first.receive())).toEqual(["XA-end"])

    await closeAndWaitForDetach(xpub, first)
    expect(await xpub.receive()).toEqual([cancel("A")])
    // libzmq: "there is no last_pipe set, it will just fail silently".
    xpub.unsubscribe("XA")

    const second = track(new XSubscriber())
    second.connect(xpub.lastEndpoint!)
    await second.send(subscription("B"))
    expect(await xpub.receive()).toEqual([subscription("B")])
    xpub.subscribe("XB")

    await xpub.send("XA")
    await xpub.send("XB")
    // The first peer's XA is gone with it: the new peer receives only its XB.
    expect(text(await second.receive())).toEqual(["XB"])
  })

  it("passes a message that is not a subscription to the application (test_user_message)", async () => {
    const xpub = track(new XPublisher())
    await xpub.bind(bindAddress())
    const xsub = track(new XSubscriber())
    xsub.connect(xpub.lastEndpoint!)
    const message = Buffer.from([2, 0x41, 0])
    await xsub.send(message)
    expect(await xpub.receive()).toEqual([message])
  })

  it("treats a multipart message as a user message even if a later frame starts with 0 or 1 (test_user_message_multi)", async () => {
    const xpub = track(new XPublisher())
    await xpub.bind(bindAddress())
    const xsub = track(new XSubscriber())
    xsub.connect(xpub.lastEndpoint!)
    const common = Buffer.from("ABC")
    const zero = Buffer.from([0, 0x42, 0x43])
    const one = Buffer.from([1, 0x42, 0x43])

    await xsub.send([common, zero])
    expect(await xpub.receive()).toEqual([common, zero])
    await xsub.send([common, one])
    expect(await xpub.receive()).toEqual([common, one])

    // Alone, `\0BC` is a cancel of a topic the XSUB does not hold: filtered.
    await xsub.send(zero)
    await expectNoReport(xpub, xsub)
    // Alone, `\1BC` is a subscription.
    await xsub.send(one)
    expect(await xpub.receive()).toEqual([one])
  })
})

describe.each(allTransports)("29/PUBSUB manual XPUB proxy over $name (test_xpub_manual)", ({ name, bindAddress }) => {
  /** libzmq's proxy of XSUB (frontend) and manual XPUB (backend), with a PUB on the frontend. */
  async function manualProxy(): Promise<{ frontend: XSubscriber; backend: XPublisher; pub: Publisher }> {
    const frontend = track(new XSubscriber())
    await frontend.bind(bindAddress())
    const backend = track(new XPublisher({ manual: true }))
    await backend.bind(bindAddress())
    const pub = track(new Publisher())
    pub.connect(frontend.lastEndpoint!)
    return { frontend, backend, pub }
  }

  /** The proxy's confirmation of a subscription it received: apply it downstream and forward it upstream. */
  async function confirm(frontend: XSubscriber, backend: XPublisher, report: Buffer[]): Promise<void> {
    const topic = report[0]!.subarray(1)
    if (report[0]![0] === 1) backend.subscribe(topic)
    else backend.unsubscribe(topic)
    await frontend.send(report)
  }

  it("forwards each departed subscriber's cancel, and the publisher stops once both are gone (test_xpub_proxy_unsubscribe_on_disconnect)", async () => {
    const { frontend, backend, pub } = await manualProxy()
    const subs = [track(new Subscriber()), track(new Subscriber())]
    for (const sub of subs) {
      sub.connect(backend.lastEndpoint!)
      sub.subscribe("1")
      const report = await backend.receive()
      expect(report).toEqual([subscription("1")])
      await confirm(frontend, backend, report)
    }
    await publishUntilReceived(pub, frontend, "1")

    await pub.send(["1", "X"])
    const data = await frontend.receive()
    expect(text(data)).toEqual(["1", "X"])
    await backend.send(data)
    for (const sub of subs) expect(text(await sub.receive())).toEqual(["1", "X"])

    // Each departure reports that subscriber's cancel; the XSUB forwards the second (its count reaches 0).
    for (const sub of subs) {
      const gone = name === "inproc" ? Promise.resolve() : nextEvent(backend.events, "disconnect")
      closeAll(sub)
      await gone
      const report = await backend.receive()
      expect(report).toEqual([cancel("1")])
      await confirm(frontend, backend, report)
    }

    // A subscription sent after the cancels shows when the publisher has them all.
    await frontend.send(subscription("2"))
    await publishUntilReceived(pub, frontend, "2")
    await pub.send(["1", "X"])
    await pub.send(["2", "end"])
    expect(text(await frontend.receive())).toEqual(["2", "end"])
  })

  it("loses no subscription when two arrive before the proxy confirms the first (test_missing_subscriptions)", async () => {
    const { frontend, backend, pub } = await manualProxy()
    const sub1 = track(new Subscriber())
    const sub2 = track(new Subscriber())
    sub1.connect(backend.lastEndpoint!)
    sub1.subscribe("1")
    sub2.connect(backend.lastEndpoint!)
    sub2.subscribe("2")

    // Over tcp and ipc the two may come in either order; each is confirmed right after it is read.
    const topics: string[] = []
    for (let i = 0; i < 2; i++) {
      const report = await backend.receive()
      topics.push(report[0]!.toString("latin1"))
      await confirm(frontend, backend, report)
    }
    expect(topics.sort()).toEqual(["\u00011", "\u00012"])
    await publishUntilReceived(pub, frontend, "1")
    await publishUntilReceived(pub, frontend, "2")

    await pub.send(["1", "X"])
    await pub.send(["2", "X"])
    for (let i = 0; i < 2; i++) await backend.send(await frontend.receive())

    expect(text(await sub2.receive())).toEqual(["2", "X"])
    expect(text(await sub1.receive())).toEqual(["1", "X"])
  })
})
