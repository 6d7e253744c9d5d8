/**
 * maxSubscriptionSize and maxSubscriptions: a raw ZMTP peer past either is
 * disconnected, and the disconnect event says why with ERR_SUBSCRIPTION_LIMIT;
 * a SUBSCRIBE past the command limit is refused from its frame header; a
 * flood of subscriptions is taken a slice per turn, and none is lost.
 */
import { afterEach, describe, expect, it } from "vitest"
import { Publisher, type Socket, Subscriber, XPublisher } from "../../src/index.js"
import { cleanupIpc, transports } from "../helpers/endpoints.js"
import { Recorder } from "../helpers/security.js"
import { closeAll } from "../helpers/sockets.js"
import { cancel, subscription } from "../spec/pubsub-helpers.js"
import { type RawConnection, closeRawPeers, commandFrame, dataFrame, dial } from "../wire/raw-peer.js"

const sockets: Socket[] = []

afterEach(async () => {
  closeAll(...sockets.splice(0))
  await closeRawPeers()
  cleanupIpc()
})

function track<S extends Socket>(socket: S): S {
  sockets.push(socket)
  return socket
}

/** A subscription or cancel in the form of the peer's ZMTP version: a command (3.1) or a data frame (3.0). */
function request(minor: 0 | 1, subscribe: boolean, topic: Buffer | string): Buffer {
  const bytes = Buffer.from(topic)
  if (minor === 1) return commandFrame(subscribe ? "SUBSCRIBE" : "CANCEL", bytes)
  return dataFrame(Buffer.concat([Buffer.from([subscribe ? 1 : 0]), bytes]))
}

/** The events the limit tests compare, with the error code where there is one. */
function sequence(events: Recorder): string[] {
  return events.log.map((e) => (e.code === undefined ? e.type : `${e.type} ${e.code}`))
}

async function rawSubscriber(xpub: XPublisher, minor: 0 | 1): Promise<{ peer: RawConnection; events: Recorder }> {
  const events = new Recorder(xpub)
  const peer = await dial(xpub.lastEndpoint!)
  await peer.handshake(minor, "SUB")
  return { peer, events }
}

describe.each(transports)("subscription limits over $name", (transport) => {
  describe.each([
    { version: "3.1", minor: 1 as const },
    { version: "3.0", minor: 0 as const },
  ])("a ZMTP $version peer", ({ minor }) => {
    it("may subscribe to a topic of maxSubscriptionSize bytes; one byte more disconnects it with ERR_SUBSCRIPTION_LIMIT", async () => {
      const xpub = track(new XPublisher({ maxSubscriptionSize: 8 }))
      await xpub.bind(transport.bindAddress())
      const { peer, events } = await rawSubscriber(xpub, minor)
      peer.write(request(minor, true, "12345678"))
      expect(await xpub.receive()).toEqual([subscription("12345678")])
      peer.write(request(minor, true, "123456789"))
      // The departed peer's topic is cancelled, as for any peer that leaves.
      expect(await xpub.receive()).toEqual([cancel("12345678")])
      await peer.reader.closed()
      await events.until("disconnect")
      expect(sequence(events)).toEqual(["accept", "handshake", "disconnect ERR_SUBSCRIPTION_LIMIT"])
      expect(events.of("disconnect")[0]!.message).toBe("peer sent a subscription of 9 bytes, over maxSubscriptionSize 8")
    })

    it("a cancel longer than maxSubscriptionSize disconnects it too", async () => {
      const xpub = track(new XPublisher({ maxSubscriptionSize: 4 }))
      await xpub.bind(transport.bindAddress())
      const { peer, events } = await rawSubscriber(xpub, minor)
      peer.write(request(minor, false, "12345"))
      await peer.reader.closed()
      await events.until("disconnect")
      expect(sequence(events)).toEqual(["accept", "handshake", "disconnect ERR_SUBSCRIPTION_LIMIT"])
      expect(xpub.readable).toBe(false)
    })

    it("may hold maxSubscriptions distinct topics (a repeated one counts once); one more disconnects it", async () => {
      const xpub = track(new XPublisher({ maxSubscriptions: 2, verbosity: "allSubs" }))
      await xpub.bind(transport.bindAddress())
      const { peer, events } = await rawSubscriber(xpub, minor)
      peer.write(request(minor, true, "A"), request(minor, true, "B"), request(minor, true, "A"))
      for (const topic of ["A", "B", "A"]) expect(await xpub.receive()).toEqual([subscription(topic)])
      // A cancel frees a place.
      peer.write(request(minor, false, "A"), request(minor, true, "C"))
      expect(await xpub.receive()).toEqual([cancel("A")])
      expect(await xpub.receive()).toEqual([subscription("C")])
      peer.write(request(minor, true, "D"))
      await peer.reader.closed()
      await events.until("disconnect")
      expect(sequence(events)).toEqual(["accept", "handshake", "disconnect ERR_SUBSCRIPTION_LIMIT"])
      expect(events.of("disconnect")[0]!.message).toBe("peer subscribed to more than maxSubscriptions (2) topics")
      // Its topics, B and C, are cancelled in the order it subscribed them.
      expect([await xpub.receive(), await xpub.receive()]).toEqual([[cancel("B")], [cancel("C")]])
    })
  })

  it("in manual mode the peer's own subscriptions count, not what the application applied", async () => {
    const xpub = track(new XPublisher({ manual: true, maxSubscriptions: 1 }))
    await xpub.bind(transport.bindAddress())
    const { peer, events } = await rawSubscriber(xpub, 1)
    peer.write(request(1, true, "A"))
    expect(await xpub.receive()).toEqual([subscription("A")])
    xpub.subscribe("X", "Y")
    peer.write(request(1, true, "A"), request(1, true, "B"))
    expect(await xpub.receive()).toEqual([subscription("A")])
    await peer.reader.closed()
    await events.until("disconnect")
    expect(sequence(events)).toEqual(["accept", "handshake", "disconnect ERR_SUBSCRIPTION_LIMIT"])
    expect(await xpub.receive()).toEqual([cancel("A")])
  })

  it("a flood of 5,000 subscriptions in one write is applied whole and in order, though spread over several turns", async () => {
    const xpub = track(new XPublisher())
    await xpub.bind(transport.bindAddress())
    const { peer, events } = await rawSubscriber(xpub, 1)
    const topics = Array.from({ length: 5_000 }, (_, i) => `topic-${i}`)
    peer.write(...topics.map((t) => request(1, true, t)))
    for (const topic of topics) expect(await xpub.receive()).toEqual([subscription(topic)])
    expect(sequence(events)).toEqual(["accept", "handshake"])
  })

  it("a SUBSCRIBE past the command limit is refused from its header, before its body arrives (ERR_MESSAGE_TOO_LARGE)", async () => {
    // The defaults: topics up to 64 KiB, so commands up to 64 KiB + "\x09SUBSCRIBE".
    const pub = track(new Publisher())
    await pub.bind(transport.bindAddress())
    const events = new Recorder(pub)
    const peer = await dial(pub.lastEndpoint!)
    await peer.handshake(1, "SUB")
    const header = Buffer.alloc(9)
    header[0] = 0x06
    header.writeBigUInt64BE(BigInt(1 + 9 + 64 * 1024 + 1), 1)
    peer.write(header)
    await peer.reader.closed()
    await events.until("disconnect")
    expect(sequence(events)).toEqual(["accept", "handshake", "disconnect ERR_MESSAGE_TOO_LARGE"])
  })

  it("a raised maxSubscriptionSize lets a SUBSCRIBE past maxMessageSize and 64 KiB through", async () => {
    const xpub = track(new XPublisher({ maxMessageSize: 100, maxSubscriptionSize: 100_000 }))
    await xpub.bind(transport.bindAddress())
    const { peer, events } = await rawSubscriber(xpub, 1)
    const topic = Buffer.alloc(100_000, "t")
    peer.write(request(1, true, topic))
    expect(await xpub.receive()).toEqual([subscription(topic)])
    expect(sequence(events)).toEqual(["accept", "handshake"])
  })
})

describe("subscription limit options", () => {
  it("default to 64 KiB topics and a million topics per peer, on Publisher and XPublisher only", () => {
    for (const socket of [track(new Publisher()), track(new XPublisher())]) {
      expect(socket.maxSubscriptionSize).toBe(65_536)
      expect(socket.maxSubscriptions).toBe(1_000_000)
    }
    // An option the socket type does not have is a TypeError, as in zeromq.js.
    expect(() => track(new Subscriber({ maxSubscriptions: 1 } as object))).toThrowError(TypeError)
  })

  it("refuse negative values with EINVAL and values that are not numbers with TypeError, as zeromq.js's options", () => {
    const pub = track(new Publisher())
    for (const value of [-1, Number.NaN]) {
      expect(() => (pub.maxSubscriptionSize = value)).toThrowError(expect.objectContaining({ code: "EINVAL" }))
      expect(() => (pub.maxSubscriptions = value)).toThrowError(expect.objectContaining({ code: "EINVAL" }))
    }
    for (const value of ["10", null]) {
      expect(() => (pub.maxSubscriptionSize = value as unknown as number)).toThrowError(TypeError)
      expect(() => (pub.maxSubscriptions = value as unknown as number)).toThrowError(TypeError)
    }
  })

  it("do not apply over inproc, where the peer is the process's own code", async () => {
    const xpub = track(new XPublisher({ maxSubscriptionSize: 2, maxSubscriptions: 1 }))
    await xpub.bind("inproc://subscription-limits")
    const sub = track(new Subscriber())
    sub.connect("inproc://subscription-limits")
    sub.subscribe("long topic", "another")
    expect(await xpub.receive()).toEqual([subscription("long topic")])
    expect(await xpub.receive()).toEqual([subscription("another")])
    await xpub.send("another message")
    expect((await sub.receive()).map(String)).toEqual(["another message"])
  })
})
