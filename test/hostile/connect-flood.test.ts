/**
 * A connect flood: 2,000 TCP connections from another process (so its
 * sockets are not counted as ours) that never send a byte. Held open they cost the publisher under 64 MiB; the handshake
 * timer reaps every one (handshakeInterval 1 s here, 30 s by default); and a
 * well-behaved subscriber is served throughout.
 */
import { type ChildProcess, fork } from "node:child_process"
import { fileURLToPath } from "node:url"
import { afterEach, describe, expect, it } from "vitest"
import { Publisher, type Socket, Subscriber } from "../../src/index.js"
import { Recorder } from "../helpers/security.js"
import { closeAll } from "../helpers/sockets.js"
import { publishUntilReceived } from "../spec/pubsub-helpers.js"
import { MiB, heapBytes } from "./measure.js"

const sockets: Socket[] = []
let flood: ChildProcess | undefined

afterEach(() => {
  closeAll(...sockets.splice(0))
  flood?.kill()
  flood = undefined
})

const CONNECTIONS = 2_000
const BUDGET = 64 * MiB

/** Starts the flood; `next(type)` resolves at its next report of that type ("connected", "closed"). */
function startFlood(endpoint: string): { next(type: string): Promise<number>; exited: Promise<number | null> } {
  const [, host, port] = /^tcp:\/\/(.+):(\d+)$/.exec(endpoint)!
  const child = fork(fileURLToPath(new URL("./connect-flood-peer.mjs", import.meta.url)), [host!, port!, String(CONNECTIONS), "400"])
  flood = child
  const reports: Array<{ type: string; count: number }> = []
  const waiters: Array<() => void> = []
  child.on("message", (message: { type: string; count: number; error?: string }) => {
    if (message.type === "failed") throw new Error(`flood connection ${message.count} failed: ${message.error}`)
    reports.push(message)
    for (const waiter of waiters.splice(0)) waiter()
  })
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)))
  const next = async (type: string): Promise<number> => {
    for (;;) {
      const report = reports.find((r) => r.type === type)
      if (report !== undefined) return report.count
      await new Promise<void>((resolve) => waiters.push(resolve))
    }
  }
  return { next, exited }
}

describe("connect flood", () => {
  it("2,000 connections that never handshake cost under 64 MiB, are all reaped by the handshake timeout, and a subscriber is served meanwhile", async () => {
    // A backlog past the flood's 400 dials at a time, so the kernel queues them instead of dropping SYNs.
    const pub = new Publisher({ linger: 0, handshakeInterval: 1_000, backlog: 2_048 })
    sockets.push(pub)
    await pub.bind("tcp://127.0.0.1:*")
    const sub = new Subscriber({ linger: 0 })
    sockets.push(sub)
    sub.connect(pub.lastEndpoint!)
    sub.subscribe("")
    await publishUntilReceived(pub, sub)

    const events = new Recorder(pub)
    const baseline = heapBytes()
    const rssBefore = process.memoryUsage().rss
    const peer = startFlood(pub.lastEndpoint!)
    expect(await peer.next("connected")).toBe(CONNECTIONS)
    await events.until("accept", CONNECTIONS)
    const heldHeap = heapBytes() - baseline
    const heldRss = process.memoryUsage().rss - rssBefore
    expect(heldHeap, `${(heldHeap / MiB).toFixed(1)} MiB of heap`).toBeLessThan(BUDGET)
    expect(heldRss, `${(heldRss / MiB).toFixed(1)} MiB of RSS`).toBeLessThan(BUDGET)

    // The publisher still serves its subscriber with 2,000 half-open connections on it.
    await publishUntilReceived(pub, sub)

    // The flood's side sees every connection closed; ours reports each as a handshake timeout.
    expect(await peer.next("closed")).toBe(CONNECTIONS)
    expect(await peer.exited).toBe(0)
    await events.until("disconnect", CONNECTIONS)
    const timeouts = events.of("handshake:error:other")
    expect(timeouts.length).toBe(CONNECTIONS)
    expect(new Set(timeouts.map((e) => e.code))).toEqual(new Set(["ERR_TIMEOUT"]))
    expect(events.of("handshake")).toEqual([])
    expect(events.of("disconnect").length).toBe(CONNECTIONS)
  })
})
