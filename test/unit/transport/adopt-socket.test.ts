/**
 * adoptSocket(): a connection a net.Server accepted (paused) moves to a new
 * net.Socket that reads through `onread`, and node:net's bookkeeping stays
 * right: the server counts it until it closes, close() completes after it,
 * its descriptor goes with it. With the switch off, the original goes on.
 */
import { readdirSync } from "node:fs"
import net from "node:net"
import { afterEach, beforeAll, describe, expect, it } from "vitest"
import { acceptInPlace, adoptSocket } from "../../../src/transport/adopt-socket.js"
import { type ReadSink, SocketReader } from "../../../src/transport/socket-reader.js"
import { warmUpDescriptors, within } from "../../hostile/fixtures/probes.js"
import { cleanupIpc, ipcEndpoint } from "../../helpers/endpoints.js"

const openDescriptors = () => readdirSync("/proc/self/fd").length

/** Collects what the reader reads. */
class Sink implements ReadSink {
  readonly received: Buffer[] = []
  smallReads = false
  private waiter: (() => void) | undefined
  directRegion(): Buffer | undefined {
    return undefined
  }
  data(chunk: Buffer): boolean {
    this.received.push(Buffer.from(chunk))
    this.waiter?.()
    return true
  }
  direct(): boolean {
    throw new Error("no direct region was offered")
  }
  /** Resolves once `n` bytes have arrived in all. */
  async bytes(n: number): Promise<Buffer> {
    while (Buffer.concat(this.received).length < n) await new Promise<void>((resolve) => (this.waiter = resolve))
    return Buffer.concat(this.received)
  }
}

interface Accepted {
  readonly original: net.Socket
  readonly socket: net.Socket
  readonly reader: SocketReader | undefined
}

const cleanups: Array<() => Promise<void> | void> = []

afterEach(async () => {
  acceptInPlace.enabled = true
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
  cleanupIpc()
})

beforeAll(warmUpDescriptors)

/** A paused-on-connect server adopting each connection, and one client dialed to it. */
async function connected(transport: "tcp" | "ipc"): Promise<{ server: net.Server; client: net.Socket; accepted: Accepted }> {
  const server = net.createServer({ pauseOnConnect: true, noDelay: true })
  const acceptedOne = new Promise<Accepted>((resolve) =>
    server.once("connection", (original: net.Socket) => {
      const { socket, reader } = adoptSocket(original, new SocketReader({ accepted: true }))
      resolve({ original, socket, reader })
    }),
  )
  const path = ipcEndpoint().slice("ipc://".length)
  await new Promise<void>((resolve) => (transport === "tcp" ? server.listen(0, "127.0.0.1", resolve) : server.listen(path, resolve)))
  const client =
    transport === "tcp" ? net.connect((server.address() as net.AddressInfo).port, "127.0.0.1") : net.connect(path)
  client.on("error", () => {})
  cleanups.push(() => {
    client.destroy()
    if (server.listening) server.close()
  })
  const accepted = await acceptedOne
  cleanups.push(() => void accepted.socket.destroy())
  return { server, client, accepted }
}

function connections(server: net.Server): Promise<number> {
  return new Promise((resolve, reject) => server.getConnections((err, n) => (err ? reject(err) : resolve(n))))
}

describe.each(["tcp", "ipc"] as const)("adoptSocket over %s", (transport) => {
  it("reads through the reader, writes, and keeps the server's count until the connection closes", async () => {
    const baseline = openDescriptors()
    const { server, client, accepted } = await connected(transport)
    const { original, socket, reader } = accepted
    expect(socket).not.toBe(original)
    expect(reader).toBeDefined()
    const sink = new Sink()
    reader!.attach(sink)
    client.write("hello, ")
    client.write("adopted")
    expect((await sink.bytes(14)).toString()).toBe("hello, adopted")
    // Writes go out through the adopted socket.
    const echoed = new Promise<string>((resolve) => client.once("data", (chunk) => resolve(chunk.toString())))
    socket.write("back")
    expect(await echoed).toBe("back")
    expect(await connections(server)).toBe(1)
    expect(original.destroyed).toBe(true)

    // The peer hangs up: the adopted socket ends and closes (no half-open), the count drops, close() completes.
    const closed = new Promise<void>((resolve) => socket.once("close", () => resolve()))
    client.end()
    await within("the adopted socket closing after the peer's end", closed)
    expect(await connections(server)).toBe(0)
    await within("server.close() completing", new Promise<void>((resolve, reject) => server.close((err) => (err ? reject(err) : resolve()))))
    client.destroy()
    await new Promise<void>((resolve) => (client.closed ? resolve() : client.once("close", () => resolve())))
    expect(openDescriptors()).toBe(baseline)
  })

  it("destroying the adopted socket closes its descriptor and lets server.close() complete", async () => {
    const { server, client, accepted } = await connected(transport)
    const clientClosed = new Promise<void>((resolve) => client.once("close", () => resolve()))
    const serverClosed = new Promise<void>((resolve) => server.close(() => resolve()))
    // close() waits for the accepted connection, which the adopted socket holds.
    expect(await connections(server)).toBe(1)
    accepted.socket.destroy()
    await within("server.close() completing", serverClosed)
    await within("the client seeing the close", clientClosed)
  })

  it("with the switch off, the original socket goes on, read through 'data'", async () => {
    acceptInPlace.enabled = false
    const before = acceptInPlace.adopted
    const { client, accepted } = await connected(transport)
    expect(accepted.socket).toBe(accepted.original)
    expect(accepted.reader).toBeUndefined()
    const data = new Promise<string>((resolve) => accepted.socket.once("data", (chunk) => resolve(chunk.toString())))
    client.write("plain")
    expect(await data).toBe("plain")
    expect(acceptInPlace.adopted).toBe(before)
  })
})

it("the adopted tcp socket reports the peer's address and port", async () => {
  const { client, accepted } = await connected("tcp")
  await new Promise<void>((resolve) => (client.connecting ? client.once("connect", () => resolve()) : resolve()))
  expect(accepted.reader).toBeDefined()
  expect(accepted.socket.remoteAddress).toBe("127.0.0.1")
  expect(accepted.socket.remotePort).toBe(client.localPort)
})
