/**
 * Bound sockets read their accepted connections through `onread`
 * (transport/adopt-socket.ts), or, with the switch off or where node:net
 * does not allow it, through 'data' events: both paths deliver messages of
 * any size intact, pause and resume with the receiver, and leave no
 * descriptor behind after unbind() or close().
 */
import { fileURLToPath } from "node:url"
import { afterEach, beforeAll, describe, expect, it } from "vitest"
import { Pull, Push } from "../../src/index.js"
import { acceptInPlace } from "../../src/transport/adopt-socket.js"
import { Child, descriptorsBackTo, distBuilt, killChildren, openDescriptors, warmUpDescriptors, within } from "../hostile/fixtures/probes.js"
import { cleanupIpc, transports } from "../helpers/endpoints.js"
import { closeAll } from "../helpers/sockets.js"
import { closeRawPeers, dataFrame, dial } from "../wire/raw-peer.js"

const KiB = 1024

afterEach(async () => {
  killChildren()
  acceptInPlace.enabled = true
  await closeRawPeers()
  cleanupIpc()
})

beforeAll(warmUpDescriptors)

/** mulberry32: a seeded generator, so that a failure can be replayed from the seed in its message. */
function random(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/** Sizes from 0 B to 300 KiB: the 255/256 header boundary, around a 64 KiB read, and random ones of every scale. */
function sizes(rand: () => number, count: number): number[] {
  const edges = [0, 1, 255, 256, 64 * KiB - 9, 64 * KiB, 64 * KiB + 1, 128 * KiB, 300 * KiB]
  const out = [...edges]
  while (out.length < count) {
    const scale = [300, 8 * KiB, 70 * KiB, 300 * KiB][Math.floor(rand() * 4)]!
    out.push(Math.floor(rand() * (scale + 1)))
  }
  return out
}

/** A body whose every byte depends on the message and the offset, so a shifted or swapped byte shows. */
function body(size: number, tag: number): Buffer {
  const buffer = Buffer.allocUnsafe(size)
  for (let i = 0; i < size; i++) buffer[i] = (i * 31 + tag * 7 + (i >>> 8)) & 0xff
  return buffer
}

/** Receives `expected.length` messages and compares each with what was sent, frame by frame. */
async function receiveAll(pull: Pull, expected: Buffer[][], seed: number): Promise<void> {
  for (let i = 0; i < expected.length; i++) {
    const message = await pull.receive()
    const want = expected[i]!
    const ok = message.length === want.length && message.every((frame, j) => frame.equals(want[j]!))
    if (!ok) {
      const got = message.map((f) => f.length).join(",")
      throw new Error(`seed ${seed}: message ${i} has frames of ${got} bytes, wanted ${want.map((f) => f.length).join(",")} or other bytes`)
    }
  }
}

for (const path of ["adopted", "fallback"] as const) {
  describe.each(transports)(`a bound PULL over $name, accepted connections read ${path === "adopted" ? "in place" : "through 'data'"}`, ({ bindAddress }) => {
    const adoptions = path === "adopted" ? 1 : 0

    it("receives messages of random sizes from 0 B to 300 KiB intact, through a small receive queue that pauses reading", async () => {
      acceptInPlace.enabled = path === "adopted"
      const before = acceptInPlace.adopted
      const seed = Date.now() >>> 0
      const rand = random(seed)
      // A queue of 4 messages: reading pauses and resumes many times along the way.
      const pull = new Pull({ receiveHighWaterMark: 4 })
      const push = new Push()
      try {
        await pull.bind(bindAddress())
        push.connect(pull.lastEndpoint!)
        const messages = sizes(rand, 160).map((size, i) => {
          const parts = rand() < 0.2 ? 1 + Math.floor(rand() * 3) : 1
          return Array.from({ length: parts }, (_, j) => body(j === 0 ? size : Math.floor(rand() * 20 * KiB), i * 3 + j))
        })
        const received = receiveAll(pull, messages, seed)
        for (const message of messages) await push.send(message)
        await received
        expect(acceptInPlace.adopted - before).toBe(adoptions)
      } finally {
        closeAll(push, pull)
      }
    })

    it("reassembles a raw peer's frames written in pieces split at random offsets", async () => {
      acceptInPlace.enabled = path === "adopted"
      const before = acceptInPlace.adopted
      const seed = Date.now() >>> 0
      const rand = random(seed)
      const pull = new Pull()
      try {
        await pull.bind(bindAddress())
        const peer = await dial(pull.lastEndpoint!)
        await peer.handshake(1, "PUSH")
        const messages = sizes(rand, 60).map((size, i) => [body(size, i)])
        const stream = Buffer.concat(messages.map(([b]) => dataFrame(b!)))
        const received = receiveAll(pull, messages, seed)
        // Pieces of 1 B to 100 KiB: headers and bodies split anywhere.
        for (let at = 0; at < stream.length; ) {
          const n = 1 + Math.floor(rand() ** 3 * 100 * KiB)
          peer.socket.write(stream.subarray(at, at + n))
          at += n
        }
        await received
        expect(acceptInPlace.adopted - before).toBe(adoptions)
      } finally {
        closeAll(pull)
      }
    })

    for (const action of ["unbind", "close"] as const) {
      it(`${action}() with live accepted connections frees every descriptor`, async () => {
        acceptInPlace.enabled = path === "adopted"
        const before = acceptInPlace.adopted
        const baseline = openDescriptors()
        const pull = new Pull()
        try {
          await pull.bind(bindAddress())
          const endpoint = pull.lastEndpoint!
          const peers = await Promise.all([dial(endpoint), dial(endpoint), dial(endpoint)])
          await Promise.all(peers.map((peer) => peer.handshake(1, "PUSH")))
          for (const [i, peer] of peers.entries()) peer.write(dataFrame(body(100 * KiB, i)))
          for (let i = 0; i < peers.length; i++) expect((await pull.receive())[0]!.length).toBe(100 * KiB)
          expect(acceptInPlace.adopted - before).toBe(3 * adoptions)
          if (action === "close") pull.close()
          else await pull.unbind(endpoint)
          await within("the peers seeing their connections closed", Promise.all(peers.map((peer) => peer.reader.closed())))
          await closeRawPeers()
          if (action === "unbind") pull.close()
          await descriptorsBackTo(baseline)
        } finally {
          closeAll(pull)
        }
      })
    }
  })
}

describe.skipIf(!distBuilt)("a process with adopted connections", () => {
  for (const action of ["unbind", "close"] as const) {
    it(`exits by itself after ${action}() of its bound PULL`, async () => {
      const child = new Child(fileURLToPath(new URL("./fixtures/accept-child.mjs", import.meta.url)), [action])
      expect(await child.line("adopted ")).toBe("1")
      await child.line("done")
      expect(await child.exited(5000)).toMatchObject({ code: 0, signal: null })
    })
  }
})

describe.skipIf(!distBuilt)("an application throwing from process.nextTick while a connection is read", () => {
  for (const side of ["bound", "dialed"] as const) {
    it(`a ${side} PULL still delivers every message intact when the process survives the throws`, async () => {
      const child = new Child(fileURLToPath(new URL("./fixtures/tick-throw-child.mjs", import.meta.url)), [side])
      const [corrupted, , uncaught] = (await child.line("corrupted ")).split(" ")
      expect(Number(uncaught)).toBeGreaterThan(0)
      expect(Number(corrupted)).toBe(0)
      expect(await child.exited(5000)).toMatchObject({ code: 0, signal: null })
    })
  }
})
