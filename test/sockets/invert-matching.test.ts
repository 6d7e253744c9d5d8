/** ZMQ_INVERT_MATCHING: a publisher sends to the subscribers none of whose subscriptions match; a subscriber keeps the rest. */
import { afterEach, describe, expect, it } from "vitest"
import { Subscriber, XPublisher } from "../../src/index.js"
import { allTransports, bindOn, cleanupIpc } from "../helpers/endpoints.js"
import { closeAll } from "../helpers/sockets.js"
import { receiveN, subscription } from "../spec/pubsub-helpers.js"

afterEach(cleanupIpc)

describe.each(allTransports)("invertMatching over $name", (transport) => {
  it("delivers each message to the subscribers it does not match, and each keeps only those", async () => {
    const xpub = new XPublisher({ invertMatching: true })
    const subA = new Subscriber({ invertMatching: true })
    const subB = new Subscriber({ invertMatching: true })
    try {
      const endpoint = await bindOn(transport, xpub)
      subA.connect(endpoint)
      subB.connect(endpoint)
      subA.subscribe("A")
      subB.subscribe("B")
      // Both subscriptions have reached the publisher once it reports them (in either order).
      const reported = (await receiveN(xpub, 2)).map((m) => m[0]!)
      expect(reported).toEqual(expect.arrayContaining([subscription("A"), subscription("B")]))
      for (const topic of ["A1", "B1", "C1", "end"]) await xpub.send(topic)
      expect((await receiveN(subA, 3)).map(String)).toEqual(["B1", "C1", "end"])
      expect((await receiveN(subB, 3)).map(String)).toEqual(["A1", "C1", "end"])
    } finally {
      closeAll(xpub, subA, subB)
    }
  })

  it("is off by default: the subscriber that matches gets the message", async () => {
    const xpub = new XPublisher()
    const sub = new Subscriber()
    try {
      expect([xpub.invertMatching, sub.invertMatching]).toEqual([false, false])
      sub.connect(await bindOn(transport, xpub))
      sub.subscribe("A")
      expect((await xpub.receive())[0]).toEqual(subscription("A"))
      for (const topic of ["B1", "A1"]) await xpub.send(topic)
      expect((await sub.receive()).map(String)).toEqual(["A1"])
    } finally {
      closeAll(xpub, sub)
    }
  })
})
