/**
 * 1,000 subscribers of which 100 never read: the publisher never waits for
 * them, the other 900 receive every message, the stalled ones are cut off
 * at their high-water marks (they miss what came after), and memory stays
 * under a bound computed from those marks.
 *
 * The 900 readers are inproc (cheap enough for 2 cores); the 100 stalled
 * ones are TCP peers in this process, the case that holds the most memory:
 * each stalled connection fills the kernel's buffers, then node:net's write
 * backlog, then its pipe up to SNDHWM, and its subscriber's pipe holds up
 * to RCVHWM. The publisher sends as fast as the readers take it: rounds of
 * 20 messages, each round as soon as the readers have the last.
 */
import { afterEach, describe, expect, it } from "vitest"
import { type Socket, Subscriber, XPublisher } from "../../src/index.js"
import { closeAll } from "../helpers/sockets.js"
import { MiB, heapBytes } from "./measure.js"

const sockets: Socket[] = []

afterEach(() => {
  closeAll(...sockets.splice(0))
})

function track<S extends Socket>(socket: S): S {
  sockets.push(socket)
  return socket
}

const READERS = 900
const STALLED = 100
const HWM = 50
const SIZE = 16 * 1024
const ROUND = 20
const ROUNDS = 40
/** 12.5 MiB per stalled connection: well past what its kernel buffers, backlog and pipes hold (~7 MiB here). */
const MESSAGES = ROUND * ROUNDS

// zmesh's own buffering per TCP connection (src/transport/stream-engine.ts): node:net may
// hold WRITE_BACKLOG bytes for the kernel, plus a flush of up to FLUSH_THRESHOLD; the
// encoder holds up to FLUSH_THRESHOLD more. A subscriber reads 64 KiB chunks.
const WRITE_BACKLOG = MiB
const FLUSH_THRESHOLD = 256 * 1024
const READ_CHUNK = 64 * 1024
/** What a queued message costs beyond its payload (the frames array, queue slots), generously. */
const PER_MESSAGE = 512

/**
 * The bound: each stalled peer holds at most SNDHWM + RCVHWM messages in
 * its two pipes (plus one being written), its engine's backlog and flushes,
 * and two read chunks on the subscriber side; each reader at most one round
 * of queue entries (the payloads are shared with the publisher's round).
 */
const BOUND =
  STALLED * ((2 * HWM + 1) * (SIZE + PER_MESSAGE) + WRITE_BACKLOG + 2 * FLUSH_THRESHOLD + 2 * READ_CHUNK) +
  READERS * ROUND * PER_MESSAGE +
  ROUND * SIZE

const seqOf = (message: Buffer[]) => message[0]!.readUInt32BE(0)

describe("slow subscribers", () => {
  it(`900 readers get all ${MESSAGES} messages while 100 never read; the stalled ones lose the rest past their HWM; memory stays under the bound`, async () => {
    const xpub = track(new XPublisher({ linger: 0, sendHighWaterMark: HWM, verbosity: "allSubs" }))
    await xpub.bind("tcp://127.0.0.1:*")
    const tcp = xpub.lastEndpoint!
    await xpub.bind("inproc://slow-subscribers")
    const subscribe = (endpoint: string) => {
      const sub = track(new Subscriber({ linger: 0, receiveHighWaterMark: HWM }))
      sub.connect(endpoint)
      sub.subscribe("")
      return sub
    }
    const stalled = Array.from({ length: STALLED }, () => subscribe(tcp))
    const readers = Array.from({ length: READERS }, () => subscribe("inproc://slow-subscribers"))
    // verbosity allSubs reports each subscription: all 1,000 are applied after 1,000 reports.
    for (let i = 0; i < STALLED + READERS; i++) await xpub.receive()

    const baseline = heapBytes()
    let peak = baseline
    const sample = () => {
      const m = process.memoryUsage()
      peak = Math.max(peak, m.heapUsed + m.external)
    }
    const sampler = setInterval(sample, 10)
    let outOfOrder = 0
    let seq = 0
    for (let round = 0; round < ROUNDS; round++) {
      const first = seq
      const received = Promise.all(
        readers.map(async (reader) => {
          for (let i = 0; i < ROUND; i++) if (seqOf(await reader.receive()) !== first + i) outOfOrder++
        }),
      )
      for (let i = 0; i < ROUND; i++) {
        const payload = Buffer.alloc(SIZE)
        payload.writeUInt32BE(seq++)
        await xpub.send(payload)
      }
      await received
      sample()
    }
    clearInterval(sampler)
    expect(outOfOrder).toBe(0)
    expect(peak - baseline, `peak ${((peak - baseline) / MiB).toFixed(1)} MiB over baseline, bound ${(BOUND / MiB).toFixed(1)} MiB`).toBeLessThan(BOUND)

    // A stalled subscriber that starts reading gets the messages queued for it, in
    // order from the first, then nothing until new ones come: it lost the rest.
    const probe = Buffer.alloc(4, 0xff)
    const prober = setInterval(() => void xpub.send(probe), 5)
    let held = 0
    for (;;) {
      const value = seqOf(await stalled[0]!.receive())
      if (value === 0xffffffff) break
      if (value !== held) break
      held++
    }
    clearInterval(prober)
    expect(held).toBeGreaterThanOrEqual(2 * HWM)
    expect(held).toBeLessThan(MESSAGES)
  })
})
