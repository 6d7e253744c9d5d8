/**
 * Re-wraps a connection a net.Server accepted in a net.Socket that reads
 * through `onread` (SocketReader), as the sockets net.connect() makes do.
 *
 * node:net has no public way to give `onread` to an accepted connection.
 * This relies on these node:net internals (lib/net.js, Node 20 to 24):
 * - `net.createServer({ pauseOnConnect: true })` hands 'connection' a
 *   Socket whose handle has not read anything (`readStop()` at creation).
 * - `socket._handle` is that handle (a TCPWrap or PipeWrap), with
 *   `readStart` and `useUserBuffer`.
 * - `new net.Socket({ handle, onread })` is how Node wraps a handle it
 *   already has (child_process handle passing): its constructor takes the
 *   handle, and initSocketHandle() makes the socket the handle's owner and
 *   calls `handle.useUserBuffer()` with the first buffer `onread.buffer()`
 *   gives; unless `readable: false`, it starts reading at once.
 * - `socket._server` is the server whose `_connections` count the socket
 *   decrements in `_destroy()` (so `server.getConnections()` and the
 *   server's 'close' stay right), and `_destroy()` closes `_handle` only
 *   when it is set: the retired Socket is given neither.
 *
 * What is checked at run time, before anything is changed: the handle and
 * its methods, the server's count. After: the new socket holds the handle
 * and asked `onread.buffer()` for a buffer. Should a Node version change
 * these, the connection is read through 'data' events as before
 * (`acceptInPlace.supported` turns false for the process), or, if the new
 * socket did not take the handle, the original socket goes on as if
 * nothing happened. The one case that loses a connection is the
 * constructor throwing once it has taken the handle; that too turns
 * adoption off for the process.
 */
import net from "node:net"
import type { SocketReader } from "./socket-reader.js"

/** Whether accepted connections are re-wrapped. Internal: tests turn it off to exercise the fallback. */
export const acceptInPlace = {
  /** Re-wrap accepted connections (true unless turned off). */
  enabled: true,
  /** False once an adoption found node:net not as expected; stays false for the process. */
  supported: true,
  /** Connections re-wrapped so far (tests read it to know which path ran). */
  adopted: 0,
}

/** The parts of a libuv stream handle (TCPWrap, PipeWrap) this relies on. */
interface StreamHandle {
  reading?: boolean
  readStart(): number
  readStop(): number
  useUserBuffer(buffer: Uint8Array): void
}

/** node:net's private fields of an accepted Socket (lib/net.js). */
interface SocketInternals {
  _handle: StreamHandle | null
  _server: { _connections: number } | null
  server: net.Server | null
}

export interface Adopted {
  /** The socket to use from now on: the new one, or `original` when adoption was not possible. */
  readonly socket: net.Socket
  /** Reads `socket` when it reads through `onread`; undefined means: listen to 'data'. */
  readonly reader: SocketReader | undefined
}

/**
 * Moves an accepted, paused connection (`pauseOnConnect: true`) to a new
 * Socket reading through `reader`. Whatever happens, the socket returned is
 * reading (or will be once a 'data' listener is added).
 */
export function adoptSocket(original: net.Socket, reader: SocketReader): Adopted {
  const internals = original as unknown as SocketInternals
  const handle = internals._handle
  const server = internals._server
  const publicServer = internals.server
  if (!acceptInPlace.enabled || !acceptInPlace.supported || !isStreamHandle(handle) || !isCounted(server)) {
    return unadopted(original)
  }
  let socket: net.Socket
  try {
    socket = new net.Socket({
      handle,
      onread: reader.onread,
      readable: true,
      writable: true,
      allowHalfOpen: original.allowHalfOpen,
      // The server already set TCP_NODELAY on the handle; this only tells the Socket so.
      noDelay: true,
    } as net.SocketConstructorOpts)
  } catch {
    acceptInPlace.supported = false
    // The constructor may have made itself the handle's owner: the handle is in no known state.
    original.destroy()
    return { socket: original, reader: undefined }
  }
  const taken = socket as unknown as SocketInternals
  if (taken._handle !== handle) {
    // The handle was not taken: the new Socket owns nothing, the original goes on as before.
    acceptInPlace.supported = false
    socket.destroy()
    return unadopted(original)
  }
  // The new Socket owns the handle and counts in the server; the original owns nothing and is
  // destroyed without closing the handle or touching the count.
  internals._handle = null
  internals._server = null
  internals.server = null
  taken._server = server
  taken.server = publicServer
  original.destroy()
  if (!reader.offered) {
    // `onread` was ignored: the new Socket reads into node:net's buffers, through 'data'.
    acceptInPlace.supported = false
    return { socket, reader: undefined }
  }
  reader.watch(socket)
  acceptInPlace.adopted++
  return { socket, reader }
}

/** The original socket, reading through 'data' events as pauseOnConnect left it paused. */
function unadopted(original: net.Socket): Adopted {
  original.resume()
  return { socket: original, reader: undefined }
}

function isStreamHandle(handle: unknown): handle is StreamHandle {
  if (handle === null || typeof handle !== "object") return false
  const h = handle as Partial<StreamHandle>
  return typeof h.readStart === "function" && typeof h.readStop === "function" && typeof h.useUserBuffer === "function"
}

function isCounted(server: unknown): server is { _connections: number } {
  return server !== null && typeof server === "object" && typeof (server as { _connections?: unknown })._connections === "number"
}
