/**
 * ZMTP heartbeats (PING/PONG, ZMQ_HEARTBEAT_IVL/TIMEOUT/TTL) with libzmq on
 * the other side, and with a raw ZMTP peer where the test needs to see the
 * bytes or needs a peer that goes silent.
 *
 * The "no disconnect" tests let real time pass with a timer: the claim is
 * about time (a heartbeat timeout never fires), so there is nothing else to
 * wait on. Every other wait is on a message or an event.
 */
import { performance } from "node:perf_hooks"
import { setTimeout as letTimePass } from "node:timers/promises"
import * as zmq from "zeromq"
import { afterEach, describe, expect, it } from "vitest"
import * as zmesh from "../../src/index.js"
import { cleanupIpc, transports } from "../helpers/endpoints.js"
import { hex as hexBytes } from "../helpers/feed.js"
import { closeAll, nextEvent } from "../helpers/sockets.js"
import { type Library, link } from "./link.js"
import { RawPeer, pingCommand } from "./raw-peer.js"

const IVL = 50
const TIMEOUT = 200
/** Twelve intervals, three timeouts: a peer that ignored PINGs would have been dropped twice over. */
const QUIET_PERIOD = 600
/** Slack for timers on a loaded CI machine. */
const SLACK = 500

/** Normalises spaced hex for comparison with Buffer#toString("hex"). */
const hex = (text: string): string => hexBytes(text).toString("hex")

const sockets: Array<zmesh.Socket | zmq.Socket> = []
const peers: RawPeer[] = []

afterEach(async () => {
  closeAll(...sockets.splice(0))
  cleanupIpc()
  await Promise.all(peers.splice(0).map((peer) => peer.close()))
})

/** Records the types of the listed events a socket emits (zmesh or zeromq observers alike). */
function record(socket: zmesh.Socket | zmq.Socket, types: readonly string[]): string[] {
  const seen: string[] = []
  for (const type of types) {
    ;(socket.events as { on(type: string, listener: () => void): unknown }).on(type, () => seen.push(type))
  }
  return seen
}

const lost = ["disconnect", "connect:retry", "handshake:error:protocol", "handshake:error:other"] as const

describe.each(transports)("heartbeats with libzmq over $name", (transport) => {
  const binders: readonly Library[] = ["zmesh", "libzmq"]

  it.each(binders)(
    "zmesh answers a libzmq PUSH's PINGs (IVL 50, TIMEOUT 200), so it is never dropped (%s binds)",
    async (binder) => {
      // libzmq's PUSH gets no messages from a PULL: the PONGs are the only
      // input that cancels its heartbeat timeout.
      const theirs = new zmq.Push({ heartbeatInterval: IVL, heartbeatTimeout: TIMEOUT })
      const ours = new zmesh.Pull()
      sockets.push(theirs, ours)
      const theirLosses = record(theirs, lost)
      const ourLosses = record(ours, lost)
      if (binder === "zmesh") await link(transport, ours, theirs)
      else await link(transport, theirs, ours)

      await theirs.send("before")
      expect(await ours.receive()).toEqual([Buffer.from("before")])
      await letTimePass(QUIET_PERIOD)
      await theirs.send("after")
      expect(await ours.receive()).toEqual([Buffer.from("after")])

      expect({ libzmq: theirLosses, zmesh: ourLosses }).toEqual({ libzmq: [], zmesh: [] })
    },
  )

  it.each(binders)(
    "zmesh PUSH with IVL 50, TIMEOUT 200 keeps a libzmq PULL connection up on its PONGs (%s binds)",
    async (binder) => {
      const ours = new zmesh.Push({ heartbeatInterval: IVL, heartbeatTimeout: TIMEOUT })
      const theirs = new zmq.Pull()
      sockets.push(ours, theirs)
      const ourLosses = record(ours, lost)
      const theirLosses = record(theirs, lost)
      if (binder === "zmesh") await link(transport, ours, theirs)
      else await link(transport, theirs, ours)

      await ours.send("before")
      expect(await theirs.receive()).toEqual([Buffer.from("before")])
      await letTimePass(QUIET_PERIOD)
      await ours.send("after")
      expect(await theirs.receive()).toEqual([Buffer.from("after")])

      expect({ zmesh: ourLosses, libzmq: theirLosses }).toEqual({ zmesh: [], libzmq: [] })
    },
  )
})

describe("heartbeat TTL with libzmq (tcp)", () => {
  it("a libzmq PUSH announcing TTL 300 ms while it keeps pinging is not dropped by zmesh", async () => {
    const theirs = new zmq.Push({ heartbeatInterval: IVL, heartbeatTimeout: TIMEOUT, heartbeatTimeToLive: 300 })
    const ours = new zmesh.Pull()
    sockets.push(theirs, ours)
    const ourLosses = record(ours, lost)
    const theirLosses = record(theirs, lost)
    await link(transports[0]!, ours, theirs)

    await theirs.send("before")
    expect(await ours.receive()).toEqual([Buffer.from("before")])
    await letTimePass(QUIET_PERIOD)
    await theirs.send("after")
    expect(await ours.receive()).toEqual([Buffer.from("after")])

    expect({ zmesh: ourLosses, libzmq: theirLosses }).toEqual({ zmesh: [], libzmq: [] })
  })

  it("a zmesh PUSH announcing TTL 300 ms while it keeps pinging is not dropped by libzmq", async () => {
    const ours = new zmesh.Push({ heartbeatInterval: IVL, heartbeatTimeout: TIMEOUT, heartbeatTimeToLive: 300 })
    const theirs = new zmq.Pull()
    sockets.push(ours, theirs)
    const ourLosses = record(ours, lost)
    const theirLosses = record(theirs, lost)
    await link(transports[0]!, theirs, ours)

    await ours.send("before")
    expect(await theirs.receive()).toEqual([Buffer.from("before")])
    await letTimePass(QUIET_PERIOD)
    await ours.send("after")
    expect(await theirs.receive()).toEqual([Buffer.from("after")])

    expect({ zmesh: ourLosses, libzmq: theirLosses }).toEqual({ zmesh: [], libzmq: [] })
  })
})

describe("heartbeats against a raw ZMTP peer that never answers (tcp)", () => {
  it("control: libzmq with IVL 50, TIMEOUT 200 drops such a peer well within the quiet period used above", async () => {
    // Shows the "never dropped" tests above would catch a zmesh that ignored PINGs.
    const peer = await RawPeer.listen("PULL")
    peers.push(peer)
    const theirs = new zmq.Push({ heartbeatInterval: IVL, heartbeatTimeout: TIMEOUT })
    sockets.push(theirs)
    const dropped = new Promise<number>((resolve) => theirs.events.on("disconnect", () => resolve(performance.now())))
    theirs.connect(peer.endpoint)

    const firstPing = await peer.command("PING")
    const droppedAt = await dropped
    expect(droppedAt - firstPing.at).toBeLessThan(QUIET_PERIOD - IVL)
  })

  it("zmesh PUSH with IVL 50, TIMEOUT 200 emits disconnect about TIMEOUT after its PING goes unanswered", async () => {
    const peer = await RawPeer.listen("PULL")
    peers.push(peer)
    const ours = new zmesh.Push({ heartbeatInterval: IVL, heartbeatTimeout: TIMEOUT })
    sockets.push(ours)
    const disconnected = nextEvent(ours.events, "disconnect")
    ours.connect(peer.endpoint)

    const firstPing = await peer.command("PING")
    const event = await disconnected
    const elapsed = performance.now() - firstPing.at
    expect(event.address).toBe(peer.endpoint)
    expect(event.error?.code).toBe("ERR_TIMEOUT")
    // Not after an interval (the timeout is not the interval), not much after the timeout. The
    // lower bound is loose: the PING is timestamped on arrival, after zmesh armed its timer.
    expect(elapsed).toBeGreaterThanOrEqual(TIMEOUT / 2)
    expect(elapsed).toBeLessThan(TIMEOUT + SLACK)
  })

  it("a bound zmesh PUSH with IVL 50, TIMEOUT 200 pings an accepted connection and drops it when unanswered", async () => {
    const ours = new zmesh.Push({ heartbeatInterval: IVL, heartbeatTimeout: TIMEOUT })
    sockets.push(ours)
    const disconnected = nextEvent(ours.events, "disconnect")
    await ours.bind("tcp://127.0.0.1:*")
    const peer = await RawPeer.dial(ours.lastEndpoint!, "PULL")
    peers.push(peer)

    const firstPing = await peer.command("PING")
    const [event, closedAt] = await Promise.all([disconnected, peer.closed()])
    expect(event.error?.code).toBe("ERR_TIMEOUT")
    expect(closedAt - firstPing.at).toBeGreaterThanOrEqual(TIMEOUT / 2)
    expect(closedAt - firstPing.at).toBeLessThan(TIMEOUT + SLACK)
  })

  it("zmesh PUSH with IVL 50 and no TIMEOUT set drops the silent peer after one interval (TIMEOUT defaults to IVL)", async () => {
    const peer = await RawPeer.listen("PULL")
    peers.push(peer)
    const ours = new zmesh.Push({ heartbeatInterval: IVL })
    sockets.push(ours)
    const disconnected = nextEvent(ours.events, "disconnect")
    ours.connect(peer.endpoint)

    const firstPing = await peer.command("PING")
    const event = await disconnected
    expect(event.error?.code).toBe("ERR_TIMEOUT")
    expect(performance.now() - firstPing.at).toBeLessThan(IVL + SLACK)
  })
})

describe("heartbeat TTL on the wire (raw ZMTP peer, tcp)", () => {
  it.each([
    { ttl: 1250, wire: "00 0c" },
    { ttl: 100, wire: "00 01" },
    { ttl: 99, wire: "00 00" },
    { ttl: 0, wire: "00 00" },
  ])("heartbeatTimeToLive $ttl ms goes out as PING ttl bytes $wire (deciseconds, floored)", async ({ ttl, wire }) => {
    const peer = await RawPeer.listen("PULL")
    peers.push(peer)
    const ours = new zmesh.Push({ heartbeatInterval: IVL, heartbeatTimeToLive: ttl })
    sockets.push(ours)
    ours.connect(peer.endpoint)

    const ping = await peer.command("PING")
    // 37/ZMTP: ping = command-size %d4 "PING" ping-ttl ping-context; like libzmq, no context.
    expect(ping.frame.toString("hex")).toBe(hex(`04 07 04 ${Buffer.from("PING").toString("hex")} ${wire}`))
  })

  it("zmesh without heartbeat options answers PING ttl 2 ctx LOL with 04 08 04PONG LOL, then drops the peer ~200 ms after it went silent", async () => {
    const peer = await RawPeer.listen("PULL")
    peers.push(peer)
    const ours = new zmesh.Push()
    sockets.push(ours)
    const disconnected = nextEvent(ours.events, "disconnect")
    ours.connect(peer.endpoint)

    // Ping once zmesh's READY is in, so the handshake is done on both sides.
    await peer.command("READY")
    peer.socket!.write(pingCommand(2, Buffer.from("LOL")))
    const pingedAt = performance.now()
    const pong = await peer.command("PONG")
    expect(pong.frame.toString("hex")).toBe(hex(`04 08 04 ${Buffer.from("PONGLOL").toString("hex")}`))

    const event = await disconnected
    const elapsed = performance.now() - pingedAt
    expect(event.error?.code).toBe("ERR_TIMEOUT")
    // pingedAt is taken before zmesh reads the PING, so its TTL timer cannot have started earlier.
    expect(elapsed).toBeGreaterThanOrEqual(200 - 5)
    expect(elapsed).toBeLessThan(200 + SLACK)
  })
})
