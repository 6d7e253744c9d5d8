/**
 * Ports of libzmq's tests/test_xpub_verbose.cpp: which subscriptions and
 * cancels an XPUB reports to its application with verbosity null (the
 * default), "allSubs" (ZMQ_XPUB_VERBOSE) and "allSubsUnsubs" (ZMQ_XPUB_VERBOSER).
 */
import { afterEach, describe, expect, it } from "vitest"
import { Subscriber, XPublisher } from "../../src/index.js"
import { allTransports, cleanupIpc } from "../helpers/endpoints.js"
import { closeAll, nextEvent } from "../helpers/sockets.js"
import { cancel, expectNoReport, subscription } from "./pubsub-helpers.js"

const text = (frames: readonly Buffer[]): string[] => frames.map((f) => f.toString())

const sockets: Array<XPublisher | Subscriber> = []
function track<T extends XPublisher | Subscriber>(socket: T): T {
  sockets.push(socket)
  return socket
}

afterEach(() => {
  closeAll(...sockets.splice(0))
  cleanupIpc()
})

describe.each(allTransports)("29/PUBSUB XPUB verbosity over $name (test_xpub_verbose)", ({ name, bindAddress }) => {
  async function xpubWithSubs(count: number): Promise<[XPublisher, ...Subscriber[]]> {
    const xpub = track(new XPublisher())
    await xpub.bind(bindAddress())
    const subs = Array.from({ length: count }, () => {
      const sub = track(new Subscriber())
      sub.connect(xpub.lastEndpoint!)
      return sub
    })
    return [xpub, ...subs]
  }

  it("reports a repeated subscription from one SUB only once, unless verbosity is allSubs", async () => {
    const [xpub, sub] = await xpubWithSubs(1)
    sub!.subscribe("A")
    expect(await xpub.receive()).toEqual([subscription("A")])
    sub!.subscribe("B")
    expect(await xpub.receive()).toEqual([subscription("B")])

    // Duplicated, so XPUB filters it out.
    sub!.subscribe("A")
    await expectNoReport(xpub, sub!)

    xpub.verbosity = "allSubs"
    sub!.subscribe("A")
    expect(await xpub.receive()).toEqual([subscription("A")])

    await xpub.send("A")
    await xpub.send("B")
    expect(text(await sub!.receive())).toEqual(["A"])
    expect(text(await sub!.receive())).toEqual(["B"])
  })

  it("reports a topic a second SUB also subscribes to only with verbosity allSubs", async () => {
    const [xpub, sub0, sub1] = await xpubWithSubs(2)
    sub0!.subscribe("A")
    expect(await xpub.receive()).toEqual([subscription("A")])
    // Another peer holds A already: filtered out.
    sub1!.subscribe("A")
    await expectNoReport(xpub, sub1!)

    sub0!.subscribe("B")
    expect(await xpub.receive()).toEqual([subscription("B")])

    xpub.verbosity = "allSubs"
    sub1!.subscribe("A")
    expect(await xpub.receive()).toEqual([subscription("A")])

    await xpub.send("A")
    await xpub.send("B")
    expect(text(await sub0!.receive())).toEqual(["A"])
    expect(text(await sub1!.receive())).toEqual(["A"])
    expect(text(await sub0!.receive())).toEqual(["B"])
    // sub1 never subscribed to B: the next message it gets is one sent after B.
    await xpub.send("A-end")
    expect(text(await sub1!.receive())).toEqual(["A-end"])
  })

  it("with one SUB: reports only its last cancel by default and every one with allSubsUnsubs, never an unmatched one", async () => {
    const [xpub, sub] = await xpubWithSubs(1)
    // Not subscribed yet: the SUB filters the cancel out and sends nothing.
    sub!.unsubscribe("A")
    await expectNoReport(xpub, sub!)

    sub!.subscribe("A")
    expect(await xpub.receive()).toEqual([subscription("A")])
    // The SUB counts references; XPUB filters the duplicate.
    sub!.subscribe("A")
    await expectNoReport(xpub, sub!)

    // The SUB sends the cancel only when the count reaches 0, so XPUB reports it once.
    sub!.unsubscribe("A")
    sub!.unsubscribe("A")
    expect(await xpub.receive()).toEqual([cancel("A")])
    await expectNoReport(xpub, sub!)

    // No longer subscribed: filtered by the SUB.
    sub!.unsubscribe("A")
    await expectNoReport(xpub, sub!)

    xpub.verbosity = "allSubsUnsubs"
    sub!.subscribe("A")
    expect(await xpub.receive()).toEqual([subscription("A")])
    await xpub.send("A")
    expect(text(await sub!.receive())).toEqual(["A"])

    sub!.unsubscribe("A")
    expect(await xpub.receive()).toEqual([cancel("A")])
    // Unmatched, so the SUB filters it even when XPUB would report every cancel.
    sub!.unsubscribe("A")
    await expectNoReport(xpub, sub!)
  })

  it("with two SUBs: reports the cancel once both have left the topic by default, and each with allSubsUnsubs", async () => {
    const [xpub, sub0, sub1] = await xpubWithSubs(2)
    sub0!.subscribe("A")
    expect(await xpub.receive()).toEqual([subscription("A")])
    sub1!.subscribe("A")
    await expectNoReport(xpub, sub1!)

    // sub1 still holds A: no report.
    sub0!.unsubscribe("A")
    await expectNoReport(xpub, sub0!)
    // The last holder leaves: reported, exactly once.
    sub1!.unsubscribe("A")
    expect(await xpub.receive()).toEqual([cancel("A")])
    await expectNoReport(xpub, sub1!)
    await expectNoReport(xpub, sub0!)

    xpub.verbosity = "allSubsUnsubs"
    sub0!.subscribe("A")
    expect(await xpub.receive()).toEqual([subscription("A")])
    sub1!.subscribe("A")
    expect(await xpub.receive()).toEqual([subscription("A")])

    await xpub.send("A")
    expect(text(await sub0!.receive())).toEqual(["A"])
    expect(text(await sub1!.receive())).toEqual(["A"])

    sub1!.unsubscribe("A")
    expect(await xpub.receive()).toEqual([cancel("A")])
    sub0!.unsubscribe("A")
    expect(await xpub.receive()).toEqual([cancel("A")])

    // Unmatched, so the SUB filters it even with allSubsUnsubs.
    sub1!.unsubscribe("A")
    await expectNoReport(xpub, sub1!)
  })

  // libzmq's xpipe_terminated (section 2.4): a departing peer's topics are cancelled for it.
  it("reports a departed SUB's topics as cancelled once no other SUB holds them", async () => {
    const [xpub, sub0, sub1] = await xpubWithSubs(2)
    sub0!.subscribe("A")
    expect(await xpub.receive()).toEqual([subscription("A")])
    sub0!.subscribe("B")
    expect(await xpub.receive()).toEqual([subscription("B")])
    sub1!.subscribe("A")
    await expectNoReport(xpub, sub1!)

    await closeAndWaitForDetach(xpub, sub0!)
    // A is still held by sub1, B was sub0's alone.
    expect(await xpub.receive()).toEqual([cancel("B")])
    expect(xpub.readable).toBe(false)

    await closeAndWaitForDetach(xpub, sub1!)
    expect(await xpub.receive()).toEqual([cancel("A")])
    expect(xpub.readable).toBe(false)
  })

  it("with allSubsUnsubs reports every topic a departed SUB held, shared or not", async () => {
    const [xpub, sub0, sub1] = await xpubWithSubs(2)
    xpub.verbosity = "allSubsUnsubs"
    sub0!.subscribe("A")
    expect(await xpub.receive()).toEqual([subscription("A")])
    sub1!.subscribe("A")
    expect(await xpub.receive()).toEqual([subscription("A")])

    await closeAndWaitForDetach(xpub, sub0!)
    expect(await xpub.receive()).toEqual([cancel("A")])
    expect(xpub.readable).toBe(false)
  })

  /** Closes a SUB and waits until the XPUB has dropped its pipe (at once for inproc, which has no events). */
  async function closeAndWaitForDetach(xpub: XPublisher, sub: Subscriber): Promise<void> {
    const gone = name === "inproc" ? Promise.resolve() : nextEvent(xpub.events, "disconnect").then(() => undefined)
    closeAll(sub)
    await gone
  }
})
