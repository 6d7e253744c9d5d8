/**
 * inproc:// connections: binding a name in the process registry, dialing it
 * (before or after the bind), and pairing two sockets' pipes through an
 * InprocEngine pair, with the peer information a READY would have carried.
 */
import { error } from "../errors.js"
import { InprocEngine } from "../routing/inproc-engine.js"
import type { PipeEngine } from "../routing/pipe.js"
import { bindInproc, connectInproc } from "../transport/inproc.js"
import type { PeerInfo, SessionFailure } from "../zmtp/session.js"
import { isCompatible, sendsIdentity } from "../zmtp/socket-type.js"
import type { Bound, Dial, Dialer, EndpointHost, Link, LinkEngine } from "./links.js"

/** What the inproc code needs of the socket's connection bookkeeping. */
export interface InprocOwner {
  readonly host: EndpointHost
  /** Records a bind (lastEndpoint, the "bind" event). */
  record(address: string, entry: Bound): void
  track(link: Link): void
  /** Gives a connection its pipe; false when the socket refused it. */
  linkReady(link: Link, engine: LinkEngine & PipeEngine, peer: PeerInfo): boolean
  linkClosed(link: Link, failure: SessionFailure | undefined): void
}

/** A connect waiting for, or reaching, a binder. */
interface InprocRequest {
  readonly links: InprocLinks
  readonly dial: Dial
}

export class InprocLinks {
  private readonly owner: InprocOwner

  constructor(owner: InprocOwner) {
    this.owner = owner
  }

  bind(name: string, address: string): void {
    let unbind = () => undefined as void
    const entry: Bound = { address, listener: { endpoint: address, close: async () => unbind() }, links: new Set() }
    // Connects already waiting for the name are paired at once, so the entry must exist first.
    // libzmq reports no events for inproc, not even a failed bind.
    unbind = bindInproc(name, (request) => this.accept(request as InprocRequest, entry))
    this.owner.record(address, entry)
  }

  dialer(name: string, dial: Dial): Dialer {
    let withdraw: (() => void) | undefined
    const request: InprocRequest = { links: this, dial }
    const start = () => {
      if (!dial.stopped) withdraw = connectInproc(name, request)
    }
    return {
      start,
      // The binder went away: wait for the name to be bound again.
      reconnect: start,
      stop: () => withdraw?.(),
      resetBackoff: () => undefined,
    }
  }

  /** Pairs a connecting socket's dial with this bound socket. */
  private accept(request: InprocRequest, bound: Bound): void {
    const here = this.owner
    const there = request.links.owner
    // A dialer that closed with output still queued (linger) is paired too, so the output is delivered.
    if (here.host.closed) return
    if (!isCompatible(here.host.socketType, there.host.socketType)) {
      const failure = error("ERR_SOCKET_TYPE", `socket type ${here.host.socketType} cannot talk to a ${there.host.socketType} peer`)
      here.host.emit({ type: "handshake:error:protocol", address: bound.address, error: failure })
      there.host.emit({ type: "handshake:error:protocol", address: request.dial.address, error: failure })
      return
    }
    const [ours, theirs] = InprocEngine.pair()
    const accepted = this.link(ours, bound.address, undefined, bound)
    bound.links.add(accepted)
    const dialed = request.links.link(theirs, request.dial.address, request.dial, undefined)
    request.dial.link = dialed
    const okHere = here.linkReady(accepted, ours, peerOf(there.host))
    const okThere = there.linkReady(dialed, theirs, peerOf(here.host))
    if (!okHere || !okThere) {
      ours.destroy()
      return
    }
    ours.open()
    theirs.open()
  }

  private link(engine: InprocEngine, address: string, dial: Dial | undefined, bound: Bound | undefined): Link {
    const owner = this.owner
    const link: Link = { address, inproc: true, engine, pipe: undefined, ending: false, dial, bound }
    owner.track(link)
    engine.handler = {
      message: (frames) => link.pipe!.deliver(frames),
      command: (name, data) => owner.host.command(link.pipe!, name, data),
      drained: () => link.pipe?.flush(),
      closed: () => owner.linkClosed(link, undefined),
    }
    return link
  }
}

/** What an inproc peer would have said in its READY. */
function peerOf(host: EndpointHost): PeerInfo {
  const id = host.options.routingId
  return {
    socketType: host.socketType,
    routingId: sendsIdentity(host.socketType) && id !== null ? Buffer.from(id) : Buffer.alloc(0),
    minor: 1,
    metadata: new Map(),
  }
}
