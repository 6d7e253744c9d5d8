/**
 * Linger covers outbound data only, and a peer that reads nothing cannot
 * hold a descriptor beyond it: a PUSH with a full outbound backlog ends its
 * connection at once with linger 0, after the linger with a positive one,
 * and with -1 as soon as its output is in the kernel's hands. unbind()
 * resolves once the listener stops accepting, while an accepted connection
 * still delivers its output. Descriptors are counted in /proc/self/fd.
 */
import { setFlagsFromString } from "node:v8"
import { runInNewContext } from "node:vm"
import { afterEach, beforeAll, describe, expect, it } from "vitest"
import { Pull, Push } from "../../src/index.js"
import { closeAll, nextEvent } from "../helpers/sockets.js"
import { type RawConnection, RawServer, closeRawPeers, dial } from "../wire/raw-peer.js"
import { descriptorsBackTo, openDescriptors, sendUntilFull, warmUpDescriptors, within } from "./fixtures/probes.js"

afterEach(closeRawPeers)
beforeAll(warmUpDescriptors)

const BODY = Buffer.alloc(64 * 1024, 0x61)
/** A 64 KiB message on the wire: a 9-byte long-frame header and the body. */
const FRAME_BYTES = 9 + BODY.length

/** A PUSH dialed to a raw PULL that completes the handshake, then stops reading. */
async function stalledPeer(options: { linger: number }): Promise<{ push: Push; server: RawServer; peer: RawConnection }> {
  const server = await RawServer.listen("tcp://127.0.0.1:0")
  const push = new Push({ sendHighWaterMark: 4, sendTimeout: 200, ...options })
  push.connect(server.endpoint)
  const peer = await server.connection()
  await peer.handshake(1, "PULL")
  peer.socket.pause()
  return { push, server, peer }
}

/** Resumes a paused raw peer and counts the bytes it gets until the connection closes. */
async function readToEnd(peer: RawConnection): Promise<number> {
  let received = peer.reader.buffered
  peer.socket.on("data", (chunk: Buffer) => (received += chunk.length))
  peer.socket.resume()
  await within("the peer seeing its connection closed", peer.reader.closed())
  return received
}

describe("a PUSH whose peer reads nothing", () => {
  for (const action of ["close", "disconnect"] as const) {
    it(`${action}() with linger 0 frees the connection's descriptor at once, however full its backlog`, async () => {
      const baseline = openDescriptors()
      const { push, server, peer } = await stalledPeer({ linger: 0 })
      try {
        expect(await sendUntilFull(push, BODY)).toBeGreaterThan(0)
        if (action === "close") push.close()
        else push.disconnect(server.endpoint)
        // Left: the raw server's listener and its (paused) end of the connection.
        await descriptorsBackTo(baseline + 2, 2000)
        await readToEnd(peer)
      } finally {
        closeAll(push)
        await server.close()
      }
      await descriptorsBackTo(baseline)
    })
  }

  it("close() with linger 300 frees it once the linger runs out", async () => {
    const baseline = openDescriptors()
    const { push, server, peer } = await stalledPeer({ linger: 300 })
    try {
      await sendUntilFull(push, BODY)
      const closedAt = Date.now()
      push.close()
      await descriptorsBackTo(baseline + 2, 5000)
      expect(Date.now() - closedAt).toBeGreaterThanOrEqual(290)
      await readToEnd(peer)
    } finally {
      await server.close()
    }
    await descriptorsBackTo(baseline)
  })

  it("close() with linger -1 frees it once the output is in the kernel, though the peer never reads", async () => {
    const baseline = openDescriptors()
    const { push, server, peer } = await stalledPeer({ linger: -1 })
    try {
      await push.send("one")
      await push.send("two")
      await push.send("three")
      push.close()
      // The peer is paused and has not hung up: our descriptor goes all the same.
      await descriptorsBackTo(baseline + 2, 5000)
      peer.socket.resume()
      const frames = [await peer.reader.readFrame(), await peer.reader.readFrame(), await peer.reader.readFrame()]
      expect(frames.map((f) => f.body.toString())).toEqual(["one", "two", "three"])
      await within("the peer seeing its connection closed", peer.reader.closed())
    } finally {
      await server.close()
    }
    await descriptorsBackTo(baseline)
  })

  it("close() with linger -1 and more output than the kernel takes: everything arrives once the peer reads", async () => {
    // The limit: output that the kernel does not take keeps the connection
    // until the peer reads (libzmq's linger -1 waits as long); nothing is lost.
    const baseline = openDescriptors()
    const { push, server, peer } = await stalledPeer({ linger: -1 })
    try {
      const sent = await sendUntilFull(push, BODY)
      push.close()
      expect(await readToEnd(peer)).toBe(sent * FRAME_BYTES)
    } finally {
      await server.close()
    }
    await descriptorsBackTo(baseline)
  })
})

describe("unbind()", () => {
  it("with linger 0 drops an accepted connection and its backlog at once", async () => {
    const baseline = openDescriptors()
    const push = new Push({ sendHighWaterMark: 4, sendTimeout: 200, linger: 0 })
    try {
      await push.bind("tcp://127.0.0.1:*")
      const endpoint = push.lastEndpoint!
      const peer = await dial(endpoint)
      await peer.handshake(1, "PULL")
      peer.socket.pause()
      expect(await sendUntilFull(push, BODY)).toBeGreaterThan(0)
      await push.unbind(endpoint)
      // Left: the raw peer's (paused) end of the connection.
      await descriptorsBackTo(baseline + 1, 2000)
      await readToEnd(peer)
    } finally {
      closeAll(push)
    }
    await descriptorsBackTo(baseline)
  })

  it("resolves once the listener stops accepting, while an accepted connection still delivers its output", async () => {
    const baseline = openDescriptors()
    const push = new Push({ sendHighWaterMark: 4, sendTimeout: 200, linger: -1 })
    try {
      await push.bind("tcp://127.0.0.1:*")
      const endpoint = push.lastEndpoint!
      const peer = await dial(endpoint)
      await peer.handshake(1, "PULL")
      peer.socket.pause()
      const sent = await sendUntilFull(push, BODY)
      await push.unbind(endpoint)
      // Not accepting any more: a new dial is refused.
      await expect(dial(endpoint)).rejects.toMatchObject({ code: "ECONNREFUSED" })
      expect(peer.socket.destroyed).toBe(false)
      expect(await readToEnd(peer)).toBe(sent * FRAME_BYTES)
    } finally {
      closeAll(push)
    }
    await descriptorsBackTo(baseline)
  })
})

/** global.gc: the hostile project runs with --expose-gc; alone, the flag is set now and gc taken from a fresh context. */
function exposedGc(): () => void {
  const exposed = (globalThis as { gc?: () => void }).gc
  if (exposed !== undefined) return exposed
  setFlagsFromString("--expose-gc")
  return runInNewContext("gc") as () => void
}

describe("a socket closed while its output is still on the way", () => {
  it("is released once the output is out: nothing keeps it until the process exits", async () => {
    const gc = exposedGc()
    const pull = new Pull()
    try {
      await pull.bind("tcp://127.0.0.1:*")
      const gone = nextEvent(pull.events, "disconnect")
      const closed = await (async () => {
        const push = new Push({ linger: 200 })
        push.connect(pull.lastEndpoint!)
        await push.send("one")
        await push.send("two")
        push.close()
        return new WeakRef(push)
      })()
      expect(String((await pull.receive())[0])).toBe("one")
      expect(String((await pull.receive())[0])).toBe("two")
      await gone
      // Collected within a few rounds of gc once nothing refers to it. A deref() keeps its
      // target alive until the current job ends, so each gc() runs in a later one.
      const deadline = Date.now() + 3000
      do {
        await new Promise((resolve) => setTimeout(resolve, 20))
        gc()
      } while (closed.deref() !== undefined && Date.now() < deadline)
      expect(closed.deref(), "the closed PUSH is still reachable").toBeUndefined()
    } finally {
      closeAll(pull)
    }
  })
})
