/**
 * A process whose zmesh socket is closed, unbound or disconnected exits by
 * itself, whatever state its connections were in: a flooded PULL whose
 * reading is paused, connections stuck mid-handshake, a PUSH whose peer reads
 * nothing. The socket lives in a child process (fixtures/lifecycle-child.mjs,
 * on the built dist/); this test plays the misbehaving peer and gives the
 * child a bounded time to exit.
 */
import { afterEach, describe, expect, it } from "vitest"
import { type RawConnection, RawServer, closeRawPeers, dataFrame, dial, greeting } from "../wire/raw-peer.js"
import { Child, distBuilt, fixture, killChildren, portOf, stoppedReading, within } from "./fixtures/probes.js"

const CHILD = fixture("lifecycle-child.mjs")
/** Far above the few ms an exit takes, far below the test timeout. */
const EXIT_WITHIN = 5000
/** The child's messages: 64 KiB bodies, so each frame is a 9-byte long header and the body. */
const FRAME_BYTES = 9 + 64 * 1024

afterEach(async () => {
  killChildren()
  await closeRawPeers()
})

function closed(connection: RawConnection): Promise<void> {
  return within("the peer seeing its connection closed", connection.reader.closed())
}

/** Floods a connection with 16 MiB of 64 KiB messages, more than the kernel buffers of both ends hold. */
function flood(connection: RawConnection): void {
  const frame = dataFrame(Buffer.alloc(64 * 1024, 0x62))
  for (let i = 0; i < 256; i++) connection.socket.write(frame)
}

describe.skipIf(!distBuilt)("the process exits by itself after", () => {
  for (const action of ["close", "unbind"] as const) {
    it(`${action}() of a PULL whose inbound pipe is full and paused`, async () => {
      const child = new Child(CHILD, ["pull-flood", action])
      const endpoint = await child.line("endpoint ")
      const peer = await dial(endpoint)
      await peer.handshake(1, "PUSH")
      flood(peer)
      await child.line("ready")
      await stoppedReading(portOf(endpoint), peer.socket.localPort!)
      child.send("go")
      await child.line("done")
      const exit = await child.exited(EXIT_WITHIN)
      expect(exit).toMatchObject({ code: 0, signal: null })
      await closed(peer)
    })

    it(`${action}() with accepted connections stuck mid-handshake`, async () => {
      const child = new Child(CHILD, ["handshake", action])
      const endpoint = await child.line("endpoint ")
      const silent = await dial(endpoint)
      const halfGreeting = await dial(endpoint)
      halfGreeting.write(greeting(1).subarray(0, 30))
      await child.line("ready")
      child.send("go")
      await child.line("done")
      expect(await child.exited(EXIT_WITHIN)).toMatchObject({ code: 0, signal: null })
      await Promise.all([closed(silent), closed(halfGreeting)])
    })
  }

  it("disconnect() of a dialed connection whose peer never greets", async () => {
    const server = await RawServer.listen("tcp://127.0.0.1:0")
    const child = new Child(CHILD, ["dial-stall", "disconnect", server.endpoint])
    const peer = await server.connection()
    await child.line("ready")
    child.send("go")
    await child.line("done")
    expect(await child.exited(EXIT_WITHIN)).toMatchObject({ code: 0, signal: null })
    await closed(peer)
  })

  it("close() with linger 0 of a PUSH whose peer reads nothing", async () => {
    const server = await RawServer.listen("tcp://127.0.0.1:0")
    const child = new Child(CHILD, ["push-backlog", "close", "0", server.endpoint])
    const peer = await server.connection()
    await peer.handshake(1, "PULL")
    peer.socket.pause()
    expect(Number(await child.line("sent "))).toBeGreaterThan(0)
    child.send("go")
    await child.line("done")
    expect(await child.exited(EXIT_WITHIN)).toMatchObject({ code: 0, signal: null })
    peer.socket.resume()
    await closed(peer)
  })

  it("close() with linger 300 of a PUSH whose peer reads nothing: once the linger runs out, not before", async () => {
    const server = await RawServer.listen("tcp://127.0.0.1:0")
    const child = new Child(CHILD, ["push-backlog", "close", "300", server.endpoint])
    const peer = await server.connection()
    await peer.handshake(1, "PULL")
    peer.socket.pause()
    await child.line("sent ")
    child.send("go")
    const exit = await child.exited(EXIT_WITHIN)
    expect(exit).toMatchObject({ code: 0, signal: null })
    expect(exit.after).toBeGreaterThanOrEqual(300)
    peer.socket.resume()
    await closed(peer)
  })

  it("close() with linger -1 of a PUSH whose peer reads nothing: waits for the peer, then delivers all and exits", async () => {
    // The honest limit: output the kernel will not take keeps the connection
    // (and, at exit, the process) until the peer reads, as libzmq's context
    // termination does with linger -1. Once the peer reads, everything sent
    // arrives and the process exits by itself.
    const server = await RawServer.listen("tcp://127.0.0.1:0")
    const child = new Child(CHILD, ["push-backlog", "close", "-1", server.endpoint])
    const peer = await server.connection()
    await peer.handshake(1, "PULL")
    peer.socket.pause()
    const sent = Number(await child.line("sent "))
    child.send("go")
    await child.line("done")
    // 300 ms after close() the process is still there, and so is its connection.
    expect(await child.line("held ")).toBe("0")
    let received = peer.reader.buffered
    peer.socket.on("data", (chunk: Buffer) => (received += chunk.length))
    peer.socket.resume()
    await closed(peer)
    expect(received).toBe(sent * FRAME_BYTES)
    expect(await child.exited(EXIT_WITHIN)).toMatchObject({ code: 0, signal: null })
  })
})
