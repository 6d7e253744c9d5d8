/** The bookkeeping of a socket's connections, shared by the tcp/ipc and inproc code. */
import type { Event } from "../events.js"
import type { SocketOptionValues } from "../options.js"
import type { Pipe, PipeOwner } from "../routing/pipe.js"
import type { Listener } from "../transport/listener.js"
import type { PeerInfo, SessionFailure } from "../zmtp/session.js"
import type { SocketType } from "../zmtp/socket-type.js"

/** What the endpoints need of their socket. */
export interface EndpointHost extends PipeOwner {
  readonly socketType: SocketType
  readonly options: SocketOptionValues
  readonly closed: boolean
  emit(event: Event): void
  /** A new pipe; false refuses it. */
  attach(pipe: Pipe, peer: PeerInfo | undefined): boolean
  /** A handshake completed on the pipe; false refuses the connection. */
  ready(pipe: Pipe, peer: PeerInfo): boolean
  detach(pipe: Pipe): void
  /** A command from the peer; false pauses reading from it until its engine's `resume()`. */
  command(pipe: Pipe, name: string, data: Buffer): boolean | void
}

/** The engine of a connection: a ZMTP stream or one end of an inproc pair. */
export interface LinkEngine {
  readonly isClosed: boolean
  /** Bytes written but not yet taken by the kernel, where the engine has them. */
  readonly pendingBytes?: number
  /** Flushes, then closes once everything is out. */
  end(): void
  destroy(failure?: SessionFailure): void
}

/** One connection: its engine and, once the handshake is done, its pipe. */
export interface Link {
  readonly address: string
  readonly inproc: boolean
  engine: LinkEngine | undefined
  pipe: Pipe | undefined
  /** closeLink() ran: output is being flushed within linger. */
  ending: boolean
  /** Set for connections we dialed. */
  readonly dial: Dial | undefined
  /** Set for connections we accepted. */
  readonly bound: Bound | undefined
}

/** Dials one endpoint and redials it after a loss. */
export interface Dialer {
  start(): void
  stop(): void
  reconnect(): void
  resetBackoff(): void
}

export interface Dial {
  readonly address: string
  readonly connectRoutingId: Buffer | undefined
  dialer: Dialer
  /** Exists from connect() on unless `immediate`, and survives reconnects. */
  pipe: Pipe | undefined
  link: Link | undefined
  stopped: boolean
  lingerTimer: NodeJS.Timeout | undefined
}

export interface Bound {
  readonly address: string
  readonly listener: Listener
  readonly links: Set<Link>
}
