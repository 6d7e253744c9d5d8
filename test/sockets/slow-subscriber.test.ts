/**
 * A slow subscriber must not stall the publisher nor the other subscribers
 * (zmq4#151, zmq.rs#145: one shared queue let one slow peer block all).
 * RFC 29 / libzmq: each subscriber has its own bounded queue; when it is
 * full, PUB drops that subscriber's messages and carries on.
 *
 * One Subscriber never reads, three read everything. The publisher never
 * has more than WINDOW messages unread by the readers in flight (below
 * their high-water marks, so they are never the ones dropping), while the
 * slow subscriber falls behind by everything else: far more than the
 * kernel buffers hold, so its queues fill and PUB must drop for it.
 */
import { setImmediate as nextMacrotask } from "node:timers/promises"
import v8 from "node:v8"
import vm from "node:vm"
import { afterEach, describe, expect, it } from "vitest"
import { Publisher, type Socket, Subscriber } from "../../src/index.js"
import { cleanupIpc, transports } from "../helpers/endpoints.js"
import { closeAll } from "../helpers/sockets.js"

const HWM = 100
const COUNT = 50_000
/** Messages a reader may have outstanding; below HWM, so only the slow subscriber's queues can overflow. */
const WINDOW = 50
/** 4 KiB of payload per message: ~200 MB in all, twice the bound, if the slow subscriber's share were kept. */
const MESSAGE_SIZE = 4 + 4096
const MEMORY_BOUND = 100 * 1024 * 1024
const READERS = 3

const WARM_UP = Buffer.from("w")
const END = Buffer.from("end")

// Live memory, not garbage the collector has not reached yet: a full GC before each sample.
v8.setFlagsFromString("--expose-gc")
const gc = vm.runInNewContext("gc") as () => void

/** Bytes the process keeps alive: the JS heap and the memory behind Buffers. */
function liveBytes(): number {
  gc()
  const { heapUsed, arrayBuffers } = process.memoryUsage()
  return heapUsed + arrayBuffers
}

/**
 * Distinct message buffers carved from 1 MiB slabs: anything that kept
 * messages alive would keep their slabs, and Buffer memory would show it.
 */
class Messages {
  private slab = Buffer.alloc(0)
  private offset = 0

  next(seq: number): Buffer {
    if (this.offset + MESSAGE_SIZE > this.slab.length) {
      this.slab = Buffer.alloc(1024 * 1024, 0x61)
      this.offset = 0
    }
    const message = this.slab.subarray(this.offset, this.offset + MESSAGE_SIZE)
    this.offset += MESSAGE_SIZE
    message.writeUInt32BE(seq)
    return message
  }
}

const sockets: Socket[] = []

afterEach(() => {
  closeAll(...sockets.splice(0))
  cleanupIpc()
})

/** Reads until END, checking that every sequence number arrives once, whole and in order. */
class Reader {
  received = 0
  warm = false
  readonly done: Promise<void>

  constructor(sub: Subscriber, onProgress: (failure?: Error) => void) {
    this.done = (async () => {
      for (;;) {
        const [message] = await sub.receive()
        if (message!.equals(WARM_UP)) {
          this.warm = true
        } else if (message!.equals(END)) {
          return
        } else {
          const seq = message!.readUInt32BE(0)
          if (message!.length !== MESSAGE_SIZE) throw new Error(`message ${seq} has ${message!.length} bytes`)
          if (seq !== this.received) throw new Error(`expected message ${this.received}, got ${seq}`)
          this.received++
        }
        onProgress()
      }
    })()
    // A failing reader wakes the publisher so the test fails now instead of timing out.
    this.done.catch((err: Error) => onProgress(err))
  }
}

/** One waiter for the readers' progress, rejected once any reader fails. */
class Progress {
  private waiter: { resolve: () => void; reject: (err: Error) => void } | undefined
  private failure: Error | undefined

  readonly report = (failure?: Error) => {
    if (failure !== undefined) this.failure ??= failure
    const waiter = this.waiter
    this.waiter = undefined
    if (waiter === undefined) return
    if (this.failure !== undefined) waiter.reject(this.failure)
    else waiter.resolve()
  }

  wait(): Promise<void> {
    if (this.failure !== undefined) return Promise.reject(this.failure)
    return new Promise((resolve, reject) => (this.waiter = { resolve, reject }))
  }
}

describe.each(transports)("a subscriber that never reads, over $name", (transport) => {
  it(`neither stalls ${COUNT} sends nor costs the ${READERS} readers a message, and memory stays bounded`, async () => {
    const pub = new Publisher({ sendHighWaterMark: HWM })
    sockets.push(pub)
    await pub.bind(transport.bindAddress())
    const endpoint = pub.lastEndpoint!

    const slow = new Subscriber({ receiveHighWaterMark: HWM })
    sockets.push(slow)
    slow.subscribe()
    slow.connect(endpoint)

    const progress = new Progress()
    const readers: Reader[] = []
    for (let i = 0; i < READERS; i++) {
      const sub = new Subscriber({ receiveHighWaterMark: HWM })
      sockets.push(sub)
      sub.subscribe()
      sub.connect(endpoint)
      readers.push(new Reader(sub, progress.report))
    }

    // Every subscription has reached the publisher once each subscriber holds a warm-up message.
    while (!slow.readable || readers.some((reader) => !reader.warm)) {
      await pub.send(WARM_UP)
      await nextMacrotask()
    }

    const messages = new Messages()
    const before = liveBytes()
    let peak = before
    const slowest = () => Math.min(...readers.map((reader) => reader.received))

    for (let seq = 0; seq < COUNT; seq++) {
      while (seq - slowest() >= WINDOW) await progress.wait()
      // Never waits for the slow subscriber: its full queue drops instead.
      await pub.send(messages.next(seq))
      if (seq % 5000 === 4999) peak = Math.max(peak, liveBytes())
    }
    await pub.send(END)
    await Promise.all(readers.map((reader) => reader.done))
    peak = Math.max(peak, liveBytes())

    for (const reader of readers) expect(reader.received).toBe(COUNT)
    // The slow subscriber holds what reached it, having read nothing.
    expect(slow.readable).toBe(true)
    expect(peak - before, "growth of live heap + Buffer memory").toBeLessThan(MEMORY_BOUND)
  })
})
