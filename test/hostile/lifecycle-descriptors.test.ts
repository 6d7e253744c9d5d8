/**
 * close(), unbind() and disconnect() end every connection in bounded time,
 * whatever state it is in, and leave no descriptor behind: a PULL whose
 * inbound pipe is full (its reading paused, so it would never see the peer's
 * FIN), connections stuck mid-handshake on either side. Each test counts
 * /proc/self/fd before and after, with a bounded poll.
 */
import { afterEach, beforeAll, describe, it } from "vitest"
import { Pull, Push } from "../../src/index.js"
import { closeAll, nextEvent } from "../helpers/sockets.js"
import { type RawConnection, RawServer, closeRawPeers, dataFrame, dial, greeting } from "../wire/raw-peer.js"
import { descriptorsBackTo, openDescriptors, portOf, stoppedReading, warmUpDescriptors, within } from "./fixtures/probes.js"

afterEach(closeRawPeers)

beforeAll(warmUpDescriptors)

/** Waits until `count` connections were accepted. */
async function accepted(socket: Pull | Push, count: number): Promise<void> {
  for (let i = 0; i < count; i++) await nextEvent(socket.events, "accept")
}

/** Floods with 16 MiB of 64 KiB messages, more than the kernel buffers of both ends hold. */
function flood(connection: RawConnection): void {
  const frame = dataFrame(Buffer.alloc(64 * 1024, 0x62))
  for (let i = 0; i < 256; i++) connection.socket.write(frame)
}

describe("a PULL whose inbound pipe is full and paused", () => {
  for (const action of ["close", "unbind"] as const) {
    it(`${action}() ends the connection and frees its descriptor`, async () => {
      const baseline = openDescriptors()
      // linger stays -1 (the default): it covers output, and this connection has none.
      const pull = new Pull({ receiveHighWaterMark: 1 })
      try {
        await pull.bind("tcp://127.0.0.1:*")
        const endpoint = pull.lastEndpoint!
        const peer = await dial(endpoint)
        await peer.handshake(1, "PUSH")
        flood(peer)
        // One message read, then nobody reads: the pipe fills and the connection stops reading
        // (so it would never see a FIN from the peer).
        await pull.receive()
        await stoppedReading(portOf(endpoint), peer.socket.localPort!)
        if (action === "close") pull.close()
        else await pull.unbind(endpoint)
        await within("the peer seeing its connection closed", peer.reader.closed())
        await descriptorsBackTo(baseline)
      } finally {
        closeAll(pull)
      }
    })
  }
})

describe("connections stuck mid-handshake", () => {
  for (const action of ["close", "unbind"] as const) {
    it(`${action}() ends accepted connections that sent nothing or half a greeting`, async () => {
      const baseline = openDescriptors()
      const pull = new Pull()
      try {
        await pull.bind("tcp://127.0.0.1:*")
        const endpoint = pull.lastEndpoint!
        const both = accepted(pull, 2)
        const silent = await dial(endpoint)
        const halfGreeting = await dial(endpoint)
        halfGreeting.write(greeting(1).subarray(0, 30))
        await both
        if (action === "close") pull.close()
        else await pull.unbind(endpoint)
        await within("both peers seeing their connections closed", Promise.all([silent.reader.closed(), halfGreeting.reader.closed()]))
        await descriptorsBackTo(baseline)
      } finally {
        closeAll(pull)
      }
    })
  }

  for (const action of ["close", "disconnect"] as const) {
    for (const peerSends of ["nothing", "half a greeting"] as const) {
      it(`${action}() ends a dialed connection whose peer sends ${peerSends}`, async () => {
        const baseline = openDescriptors()
        const server = await RawServer.listen("tcp://127.0.0.1:0")
        const push = new Push()
        try {
          push.connect(server.endpoint)
          const peer = await server.connection()
          if (peerSends === "half a greeting") peer.write(greeting(1).subarray(0, 11))
          // Our greeting arrives: the connection is in its handshake on our side.
          await peer.reader.read(10)
          if (action === "close") push.close()
          else push.disconnect(server.endpoint)
          await within("the peer seeing its connection closed", peer.reader.closed())
          // The raw server still listens; no redial comes after a disconnect.
          await descriptorsBackTo(baseline + 1)
        } finally {
          closeAll(push)
          await server.close()
        }
        await descriptorsBackTo(baseline)
      })
    }
  }
})
