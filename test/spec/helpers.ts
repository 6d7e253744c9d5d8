/** Shared steps of the RFC 28 spec tests. */
import type { Socket } from "../../src/index.js"
import { nextEvent } from "../helpers/sockets.js"

/** Connects each socket to `endpoint` one after the other, waiting for `binder` to finish each handshake. */
export async function connectInOrder(binder: Socket, endpoint: string, sockets: readonly Socket[]): Promise<void> {
  for (const socket of sockets) {
    const ready = nextEvent(binder.events, "handshake")
    socket.connect(endpoint)
    await ready
  }
}

/** Binds `socket` to a fresh address and connects `peers` to it in order. */
export async function bindAndConnect(socket: Socket, address: string, peers: readonly Socket[]): Promise<string> {
  await socket.bind(address)
  const endpoint = socket.lastEndpoint!
  await connectInOrder(socket, endpoint, peers)
  return endpoint
}

export const text = (frames: readonly Buffer[]): string[] => frames.map((f) => f.toString())
