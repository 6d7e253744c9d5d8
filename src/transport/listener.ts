/** Listening on tcp:// and ipc:// with node:net. */
import { existsSync, statSync, unlinkSync } from "node:fs"
import net from "node:net"
import { ZmeshError, codeOfSystemError } from "../errors.js"
import { adoptSocket } from "./adopt-socket.js"
import { type Endpoint, formatTcp } from "./endpoint.js"
import { SocketReader } from "./socket-reader.js"

export interface Listener {
  /** The endpoint actually bound (the real port for `:*`), as `lastEndpoint` reports it. */
  readonly endpoint: string
  /** Stops accepting; an ipc socket file is removed. Accepted connections stay open. */
  close(): Promise<void>
}

export interface ListenOptions {
  readonly backlog: number
  /** ZMQ_IPV6: let `*` listen on IPv6 too. */
  readonly ipv6: boolean
  /**
   * Read each accepted connection through a SocketReader (`onread`), as
   * dialed ones are (adopt-socket.ts); where that is not possible, through
   * 'data' events, and `onConnection` gets no reader.
   */
  readonly readers?: boolean
}

/**
 * Listens on a tcp:// or ipc:// endpoint; `onConnection` gets each accepted
 * connection, with the reader that reads it when `options.readers` is set
 * and it could be used.
 */
export async function listen(
  endpoint: Endpoint,
  options: ListenOptions,
  onConnection: (socket: net.Socket, reader: SocketReader | undefined) => void,
): Promise<Listener> {
  const readers = options.readers === true
  // With readers, node:net must not start reading the accepted socket: its handle moves to another.
  const server = net.createServer({ noDelay: true, pauseOnConnect: readers }, (socket) => {
    if (!readers) return onConnection(socket, undefined)
    const adopted = adoptSocket(socket, new SocketReader({ accepted: true }))
    onConnection(adopted.socket, adopted.reader)
  })
  // Listening alone does not keep the process alive, as with zeromq.js (see sockets/keep-alive.ts).
  server.unref()
  if (endpoint.transport === "tcp") {
    const host = endpoint.host === "0.0.0.0" && options.ipv6 ? "::" : endpoint.host
    await listenOn(server, { host, port: endpoint.port, backlog: options.backlog }, endpoint.address)
    const bound = server.address() as net.AddressInfo
    return { endpoint: formatTcp(bound.address, bound.port), close: () => closeServer(server) }
  }
  if (endpoint.transport === "ipc") {
    const path = endpoint.path
    try {
      await listenOn(server, { path, backlog: options.backlog }, endpoint.address)
    } catch (err) {
      // A socket file nobody listens on is stale: replace it, as libzmq does (other files stay).
      if ((err as ZmeshError).code !== "EADDRINUSE" || !isSocketFile(path) || (await isLive(path))) throw err
      unlinkSync(path)
      await listenOn(server, { path, backlog: options.backlog }, endpoint.address)
    }
    return {
      endpoint: endpoint.address,
      close: () => {
        const closed = closeServer(server)
        // Now, not after the close callback: by then a new socket may have bound the same path.
        removeSocketFile(path)
        return closed
      },
    }
  }
  throw new ZmeshError("EPROTONOSUPPORT", `cannot listen on ${endpoint.address} with node:net`)
}

function listenOn(server: net.Server, options: net.ListenOptions, address: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException) => {
      const code = codeOfSystemError(err) ?? "EINVAL"
      reject(new ZmeshError(code, `could not bind ${address}: ${err.message}`, { address, cause: err }))
    }
    server.once("error", onError)
    server.listen(options, () => {
      server.off("error", onError)
      resolve()
    })
  })
}

/**
 * Stops accepting at once. node:net calls close's callback only once every
 * accepted connection has ended, which is the connections' business, not
 * the listener's: unbind() must not wait for a peer that never hangs up.
 */
function closeServer(server: net.Server): Promise<void> {
  server.close()
  return Promise.resolve()
}

function removeSocketFile(path: string): void {
  if (path.startsWith("\0")) return
  try {
    if (existsSync(path)) unlinkSync(path)
  } catch {
    // Already gone or not ours to remove: nothing to clean up.
  }
}

function isSocketFile(path: string): boolean {
  try {
    return statSync(path).isSocket()
  } catch {
    return false
  }
}

function isLive(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = net.connect({ path })
    probe.once("connect", () => {
      probe.destroy()
      resolve(true)
    })
    probe.once("error", () => resolve(false))
  })
}
