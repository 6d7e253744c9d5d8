/**
 * libzmq's test_mock_pub_sub over raw node:net peers: a fake ZMTP 3.1 or 3.0
 * SUB talks to a zmesh XPublisher, and a fake 3.1 or 3.0 PUB to a zmesh
 * Subscriber, and every byte of the subscriptions and messages is pinned.
 * 37/ZMTP peers get SUBSCRIBE/CANCEL commands; 23/ZMTP peers the `\x01`/`\x00`
 * data frames, as libzmq 4.3.3+ chooses per peer.
 */
import { afterEach, describe, expect, it } from "vitest"
import { setImmediate as nextMacrotask } from "node:timers/promises"
import { Publisher, type Socket, Subscriber, XPublisher } from "../../src/index.js"
import { cleanupIpc, transports } from "../helpers/endpoints.js"
import { hex } from "../helpers/feed.js"
import { closeAll, nextEvent } from "../helpers/sockets.js"
import { RawServer, closeRawPeers, dataFrame, dial, greeting, ready } from "./raw-peer.js"

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

/** zmesh's greeting: FF, zero padding, 7F, version 3.1, "NULL", as-server 0, zero filler. */
const ZMESH_GREETING = hex(`ff 0000000000000000 7f 03 01 4e554c4c ${"00".repeat(16)} 00 ${"00".repeat(31)}`)
/** READY with only Socket-Type: libzmq sends Identity from REQ, DEALER and ROUTER only. */
const READY_XPUB = hex("04 1a 05 5245414459 0b 536f636b65742d54797065 00000004 58505542")
const READY_SUB = hex("04 19 05 5245414459 0b 536f636b65742d54797065 00000003 535542")
const READY_PUB = hex("04 19 05 5245414459 0b 536f636b65742d54797065 00000003 505542")
const ALOL = hex("00 04 414c4f4c")

/** A 300-byte topic: name + topic is past 255 bytes, so commands need the LONG form (libzmq #4564). */
const LONG_TOPIC = Buffer.from("A".repeat(300))

const versions = [
  {
    name: "3.1",
    minor: 1 as const,
    subscribeA: hex("04 0b 09 535542534352494245 41"),
    cancelA: hex("04 08 06 43414e43454c 41"),
    subscribeB: hex("04 0b 09 535542534352494245 42"),
    cancelB: hex("04 08 06 43414e43454c 42"),
    // 06: command, long size; body = 1 + 9 + 300 = 0x136.
    subscribeLong: Buffer.concat([hex("06 0000000000000136 09 535542534352494245"), LONG_TOPIC]),
    // body = 1 + 6 + 300 = 0x133.
    cancelLong: Buffer.concat([hex("06 0000000000000133 06 43414e43454c"), LONG_TOPIC]),
  },
  {
    name: "3.0",
    minor: 0 as const,
    subscribeA: hex("00 02 01 41"),
    cancelA: hex("00 02 00 41"),
    subscribeB: hex("00 02 01 42"),
    cancelB: hex("00 02 00 42"),
    // 02: message frame, long size; body = 1 + 300 = 0x12d.
    subscribeLong: Buffer.concat([hex("02 000000000000012d 01"), LONG_TOPIC]),
    cancelLong: Buffer.concat([hex("02 000000000000012d 00"), LONG_TOPIC]),
  },
]

describe.each(transports)("mock pub/sub over $name", (transport) => {
  describe.each(versions)("a fake ZMTP $name SUB and a zmesh XPublisher", (version) => {
    async function connectedFakeSub() {
      const xpub = track(new XPublisher())
      await xpub.bind(transport.bindAddress())
      const fake = await dial(xpub.lastEndpoint!)
      const hello = await fake.handshake(version.minor, "SUB")
      return { xpub, fake, hello }
    }

    it("XPUB greets with 3.1 and READY Socket-Type XPUB, whatever version the peer announced", async () => {
      const { hello } = await connectedFakeSub()
      expect(hello.greeting).toEqual(ZMESH_GREETING)
      expect(hello.readyFrame).toEqual(READY_XPUB)
    })

    it(`the fake sends ${version.subscribeA.toString("hex")}: the application reads \\x01A; "ALOL" arrives as 00 04 ALOL`, async () => {
      const { xpub, fake } = await connectedFakeSub()
      fake.write(version.subscribeA)
      expect(await xpub.receive()).toEqual([Buffer.from("\x01A")])
      // "BLOL" matches no subscription, so the first bytes after READY are ALOL's.
      await xpub.send("BLOL")
      await xpub.send("ALOL")
      expect(await fake.reader.read(ALOL.length)).toEqual(ALOL)
    })

    it("greeting, READY and the subscription in one write are all understood", async () => {
      const xpub = track(new XPublisher())
      await xpub.bind(transport.bindAddress())
      const fake = await dial(xpub.lastEndpoint!)
      fake.write(greeting(version.minor), ready("SUB"), version.subscribeA)
      expect(await xpub.receive()).toEqual([Buffer.from("\x01A")])
      await xpub.send("ALOL")
      expect(await fake.reader.read(64)).toEqual(ZMESH_GREETING)
      expect((await fake.reader.readFrame()).bytes).toEqual(READY_XPUB)
      expect(await fake.reader.read(ALOL.length)).toEqual(ALOL)
    })

    it(`the fake cancels with ${version.cancelA.toString("hex")}: the application reads \\x00A and "A" stops arriving`, async () => {
      const { xpub, fake } = await connectedFakeSub()
      fake.write(version.subscribeA)
      expect(await xpub.receive()).toEqual([Buffer.from("\x01A")])
      fake.write(version.cancelA)
      expect(await xpub.receive()).toEqual([Buffer.from("\x00A")])
      await xpub.send("ALOL")
      fake.write(version.subscribeB)
      expect(await xpub.receive()).toEqual([Buffer.from("\x01B")])
      await xpub.send("BLOL")
      // ALOL was published after the cancel and dropped: the first message on the wire is BLOL.
      expect(await fake.reader.read(6)).toEqual(hex("00 04 424c4f4c"))
    })

    it("a 300-byte topic in the long frame form is reported whole, and a matching message goes out with a long size", async () => {
      const { xpub, fake } = await connectedFakeSub()
      fake.write(version.subscribeLong)
      expect(await xpub.receive()).toEqual([Buffer.concat([Buffer.from([1]), LONG_TOPIC])])
      const message = Buffer.concat([LONG_TOPIC, Buffer.from("!")])
      await xpub.send(message)
      const frame = await fake.reader.readFrame()
      expect(frame.bytes).toEqual(Buffer.concat([hex("02 000000000000012d"), message]))
      fake.write(version.cancelLong)
      expect(await xpub.receive()).toEqual([Buffer.concat([Buffer.from([0]), LONG_TOPIC])])
    })
  })

  describe.each(versions)("a fake ZMTP $name SUB and a zmesh Publisher", (version) => {
    it(`PUB applies ${version.subscribeA.toString("hex")} too: of "BLOL" and "ALOL" only 00 04 ALOL reaches the fake`, async () => {
      const pub = track(new Publisher())
      await pub.bind(transport.bindAddress())
      const fake = await dial(pub.lastEndpoint!)
      const hello = await fake.handshake(version.minor, "SUB")
      expect(hello.greeting).toEqual(ZMESH_GREETING)
      expect(hello.readyFrame).toEqual(READY_PUB)
      fake.write(version.subscribeA)
      // PUB reports nothing, so publish until the subscription is in force: nothing arrives before.
      while (fake.reader.buffered === 0) {
        await pub.send("BLOL")
        await pub.send("ALOL")
        await nextMacrotask()
      }
      expect(await fake.reader.read(ALOL.length)).toEqual(ALOL)
    })
  })

  describe.each(versions)("a fake ZMTP $name PUB and a zmesh Subscriber", (version) => {
    async function connectedFakePub(sub: Subscriber) {
      const server = await RawServer.listen(transport.bindAddress())
      sub.connect(server.endpoint)
      const fake = await server.connection()
      const hello = await fake.handshake(version.minor, "PUB")
      return { server, fake, hello }
    }

    it(`SUB subscribing "A" sends ${version.subscribeA.toString("hex")}; the fake's 00 04 ALOL is received`, async () => {
      const sub = track(new Subscriber())
      sub.subscribe("A")
      const { fake, hello } = await connectedFakePub(sub)
      expect(hello.greeting).toEqual(ZMESH_GREETING)
      expect(hello.readyFrame).toEqual(READY_SUB)
      expect((await fake.reader.readFrame()).bytes).toEqual(version.subscribeA)
      // A 3.0 publisher may send what nobody asked for: libzmq's SUB filters locally too.
      fake.write(dataFrame("BLOL"), ALOL)
      expect(await sub.receive()).toEqual([Buffer.from("ALOL")])
    })

    it(`a subscription made after the handshake goes out at once; unsubscribe sends ${version.cancelA.toString("hex")}`, async () => {
      const sub = track(new Subscriber())
      const { fake } = await connectedFakePub(sub)
      sub.subscribe("A")
      expect((await fake.reader.readFrame()).bytes).toEqual(version.subscribeA)
      sub.unsubscribe("A")
      expect((await fake.reader.readFrame()).bytes).toEqual(version.cancelA)
    })

    it("a 300-byte topic is subscribed and cancelled in the long frame form", async () => {
      const sub = track(new Subscriber())
      const { fake } = await connectedFakePub(sub)
      sub.subscribe(LONG_TOPIC)
      expect((await fake.reader.readFrame()).bytes).toEqual(version.subscribeLong)
      const message = Buffer.concat([LONG_TOPIC, Buffer.from("!")])
      fake.write(dataFrame(message))
      expect(await sub.receive()).toEqual([message])
      sub.unsubscribe(LONG_TOPIC)
      expect((await fake.reader.readFrame()).bytes).toEqual(version.cancelLong)
    })

    it("after the fake restarts on the same address, the SUB sends its subscription again", async () => {
      const sub = track(new Subscriber({ reconnectInterval: 10 }))
      sub.subscribe("A")
      const { server, fake } = await connectedFakePub(sub)
      expect((await fake.reader.readFrame()).bytes).toEqual(version.subscribeA)
      fake.write(ALOL)
      expect(await sub.receive()).toEqual([Buffer.from("ALOL")])

      const lost = nextEvent(sub.events, "disconnect")
      await server.close()
      await lost
      const restarted = await RawServer.listen(server.endpoint)
      const fake2 = await restarted.connection()
      await fake2.handshake(version.minor, "PUB")
      expect((await fake2.reader.readFrame()).bytes).toEqual(version.subscribeA)
      fake2.write(ALOL)
      expect(await sub.receive()).toEqual([Buffer.from("ALOL")])
    })
  })

  describe("a fake PUB that restarts with the other ZMTP version", () => {
    const [v31, v30] = [versions[0]!, versions[1]!]

    for (const [before, after] of [
      [v31, v30],
      [v30, v31],
    ] as const) {
      it(`${before.name} then ${after.name}: each distinct topic is resent once, in the new peer's form`, async () => {
        const sub = track(new Subscriber({ reconnectInterval: 10 }))
        // "A" twice needs two unsubscribes; "C" is gone: neither changes what is resent.
        sub.subscribe("A", "A", "B", "C")
        sub.unsubscribe("C")
        const server = await RawServer.listen(transport.bindAddress())
        sub.connect(server.endpoint)
        const fake = await server.connection()
        await fake.handshake(before.minor, "PUB")
        const first = [(await fake.reader.readFrame()).bytes, (await fake.reader.readFrame()).bytes]
        expect(sortHex(first)).toEqual(sortHex([before.subscribeA, before.subscribeB]))

        await server.close()
        const restarted = await RawServer.listen(server.endpoint)
        const fake2 = await restarted.connection()
        await fake2.handshake(after.minor, "PUB")
        const again = [(await fake2.reader.readFrame()).bytes, (await fake2.reader.readFrame()).bytes]
        expect(sortHex(again)).toEqual(sortHex([after.subscribeA, after.subscribeB]))
        // Nothing else was resent: the next frame is the cancel made now.
        sub.unsubscribe("B")
        expect((await fake2.reader.readFrame()).bytes).toEqual(after.cancelB)
        fake2.write(ALOL)
        expect(await sub.receive()).toEqual([Buffer.from("ALOL")])
      })
    }
  })
})

function sortHex(frames: Buffer[]): string[] {
  return frames.map((frame) => frame.toString("hex")).sort()
}
