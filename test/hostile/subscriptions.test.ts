/**
 * Subscribers out to exhaust a publisher: a raw ZMTP peer subscribes to
 * 1 MiB topics (accepted when maxSubscriptionSize allows them, refused from
 * the frame header with the defaults) and to 100,000 distinct topics, then
 * disconnects. Throughout, the publisher's event loop never blocks for more
 * than 50 ms, and once the peer is gone its heap is back where it was.
 *
 * The publisher is an XPublisher: it routes exactly as a Publisher does,
 * and its reports show when each subscription was applied and when a
 * departed peer's last topic was removed.
 */
import { afterEach, describe, expect, it } from "vitest"
import { type Socket, XPublisher } from "../../src/index.js"
import { Recorder } from "../helpers/security.js"
import { closeAll } from "../helpers/sockets.js"
import { type RawConnection, closeRawPeers, commandFrame, dial } from "../wire/raw-peer.js"
import { type Blocks, MAX_BLOCK_MS, MiB, collectGarbage, heapBytes, heapSettledTo, longestBlock } from "./measure.js"

const sockets: Socket[] = []

afterEach(async () => {
  closeAll(...sockets.splice(0))
  await closeRawPeers()
})

/** Heap growth allowed after the peer left: code compiled on the way, caches; far below what it sent. */
const SLACK = 4 * MiB

async function subscriber(xpub: XPublisher): Promise<RawConnection> {
  const peer = await dial(xpub.lastEndpoint!)
  await peer.handshake(1, "SUB")
  return peer
}

/** Receives `count` reports of `kind` (1 subscribe, 0 cancel) and says whether each matched `topicOf(i)`. */
async function reports(xpub: XPublisher, count: number, kind: 0 | 1, topicOf: (i: number) => Buffer): Promise<number> {
  let wrong = 0
  for (let i = 0; i < count; i++) {
    const [report] = await xpub.receive()
    if (report === undefined || report[0] !== kind || !report.subarray(1).equals(topicOf(i))) wrong++
  }
  return wrong
}

/** A publisher bound on tcp that has already served one small peer, so the code on the path is compiled. */
async function warmPublisher(options: ConstructorParameters<typeof XPublisher>[0]): Promise<XPublisher> {
  const xpub = new XPublisher({ linger: 0, ...options })
  sockets.push(xpub)
  await xpub.bind("tcp://127.0.0.1:*")
  const peer = await subscriber(xpub)
  const topic = (i: number) => Buffer.from(`warm-${i}`)
  peer.write(...Array.from({ length: 10_000 }, (_, i) => commandFrame("SUBSCRIBE", topic(i))))
  expect(await reports(xpub, 10_000, 1, topic)).toBe(0)
  peer.close()
  expect(await reports(xpub, 10_000, 0, topic)).toBe(0)
  return xpub
}

/** 1 MiB topics, distinct from their first byte. */
const bigTopic = (i: number) => {
  const topic = Buffer.alloc(MiB, 0x61 + (i % 26))
  topic[0] = i
  return topic
}

describe("hostile subscribers", () => {
  it("16 subscriptions of 1 MiB each, accepted under maxSubscriptionSize 1 MiB: no block over 50 ms, heap back to baseline after the disconnect", async () => {
    const xpub = await warmPublisher({ maxSubscriptionSize: MiB })
    const events = new Recorder(xpub)
    const baseline = heapBytes()
    // Built before the measurement: the peer's own work is not the publisher's.
    let topics: Buffer[] | undefined = Array.from({ length: 16 }, (_, i) => bigTopic(i))
    let flood: Buffer | undefined = Buffer.concat(topics.map((topic) => commandFrame("SUBSCRIBE", topic)))
    let message: Buffer | undefined = Buffer.concat([topics[3]!, Buffer.from("!")])
    const peer = await subscriber(xpub)
    collectGarbage()
    const blocks = await longestBlock(async () => {
      peer.write(flood!)
      flood = undefined
      let wrongReports = await reports(xpub, 16, 1, (i) => topics![i]!)
      // The subscription routes: a message on topic 3 reaches the peer, whole.
      await xpub.send(message!)
      const frame = await peer.reader.readFrame()
      if (!frame.body.equals(message!)) wrongReports++
      peer.close()
      // Each departed topic is reported as it leaves the table: the last report means it is empty.
      wrongReports += await reports(xpub, 16, 0, (i) => topics![i]!)
      return wrongReports
    })
    topics = undefined
    message = undefined
    expect(blocks.result).toBe(0)
    expectNoBlock(blocks)
    expect(events.log.map((e) => e.type)).toEqual(["accept", "handshake", "disconnect"])
    expect(await heapSettledTo(baseline, SLACK)).toBeLessThanOrEqual(baseline + SLACK)
  })

  it("a 1 MiB subscription under the defaults is refused from its header (ERR_MESSAGE_TOO_LARGE), its body never buffered", async () => {
    const xpub = await warmPublisher({})
    const events = new Recorder(xpub)
    const baseline = heapBytes()
    let flood: Buffer | undefined = commandFrame("SUBSCRIBE", bigTopic(0))
    const peer = await subscriber(xpub)
    collectGarbage()
    const blocks = await longestBlock(async () => {
      peer.write(flood!)
      flood = undefined
      await peer.reader.closed()
      await events.until("disconnect")
    })
    expectNoBlock(blocks)
    expect(events.log.map((e) => (e.code === undefined ? e.type : `${e.type} ${e.code}`))).toEqual([
      "accept",
      "handshake",
      "disconnect ERR_MESSAGE_TOO_LARGE",
    ])
    expect(xpub.readable).toBe(false)
    expect(await heapSettledTo(baseline, SLACK)).toBeLessThanOrEqual(baseline + SLACK)
  })

  it("100,000 distinct topics, then a disconnect: no block over 50 ms, heap back to baseline", async () => {
    const xpub = await warmPublisher({})
    const count = 100_000
    const topic = (i: number) => Buffer.from(`market.${i.toString(36).padStart(8, "0")}.quote`)
    const baseline = heapBytes()
    // Built before the measurement: the peer's own work is not the publisher's.
    let flood: Buffer | undefined = Buffer.concat(Array.from({ length: count }, (_, i) => commandFrame("SUBSCRIBE", topic(i))))
    const peer = await subscriber(xpub)
    collectGarbage()
    const blocks = await longestBlock(async () => {
      peer.write(flood!)
      flood = undefined
      let wrongReports = await reports(xpub, count, 1, topic)
      peer.close()
      wrongReports += await reports(xpub, count, 0, topic)
      return wrongReports
    })
    expect(blocks.result).toBe(0)
    expectNoBlock(blocks)
    expect(await heapSettledTo(baseline, SLACK)).toBeLessThanOrEqual(baseline + SLACK)
  })
})

function expectNoBlock(blocks: Blocks<unknown>): void {
  expect(blocks.maxMs, `busy ${blocks.maxMs.toFixed(1)} ms, loop delay ${blocks.maxDelayMs.toFixed(1)} ms`).toBeLessThan(MAX_BLOCK_MS)
}
