/**
 * What keeps a Node process alive, as zeromq.js decides it: not an open
 * socket by itself (its listeners, connections and timers are unref'd), but
 * a socket that is waiting (a pending send or receive, an events.receive()),
 * and, at exit, output still queued within `linger`.
 */
import { context } from "../context.js"

let holds = 0
/**
 * One timer for the whole process, ref'd while anything holds: a REQ/REP
 * round trip holds and releases twice, and creating and clearing a timer
 * each time showed in its profile (timer list insertions per message).
 */
let keeper: NodeJS.Timeout | undefined

/** One more reason to stay alive. */
export function hold(): void {
  if (holds++ !== 0) return
  if (keeper === undefined) keeper = setInterval(() => undefined, 1 << 30)
  else keeper.ref()
}

/** One reason fewer. */
export function release(): void {
  if (--holds === 0) keeper?.unref()
}

/** A socket whose queued output the process waits for at exit. */
export interface Lingering {
  readonly closed: boolean
  /** Output waits to be sent (it is dropped once `linger` runs out after close()). */
  readonly hasPendingOutput: boolean
  close(): void
}

/**
 * Every socket, weakly: one the application dropped (and whose connections
 * are gone) may be collected, as zeromq.js's are; one still delivering is
 * held by its connections, so it is there when the process exits.
 */
const sockets = new Set<WeakRef<Lingering>>()
const refs = new WeakMap<Lingering, WeakRef<Lingering>>()
/** Sweep out collected and finished sockets when the set reaches this size. */
let sweepAt = 1024
let exitHookInstalled = false

/** Tracks a socket until it is closed with nothing left to send. */
export function trackLinger(socket: Lingering): void {
  const ref = new WeakRef(socket)
  refs.set(socket, ref)
  sockets.add(ref)
  if (sockets.size >= sweepAt) {
    pending()
    sweepAt = Math.max(1024, sockets.size * 2)
  }
  if (exitHookInstalled) return
  exitHookInstalled = true
  process.on("beforeExit", waitForQueuedOutput)
}

/** A socket closed: forget it unless it still has output to deliver (then exit checks it again). */
export function closedLinger(socket: Lingering): void {
  if (socket.hasPendingOutput) return
  const ref = refs.get(socket)
  if (ref !== undefined) sockets.delete(ref)
}

/** How long zeromq.js waits before it warns that exit waits for queued messages. */
const WARN_AFTER = 500
const POLL = 10

/**
 * The event loop is empty and the process is about to exit. As zeromq.js
 * does at exit (it closes every socket and terminates the context, which
 * waits for each socket's linger), close the sockets that still have output
 * queued and wait until it is sent or their linger runs out; if that takes
 * over half a second, say so in zeromq.js's words.
 */
function waitForQueuedOutput(): void {
  const waiting = pending()
  if (waiting.length === 0) return
  for (const socket of waiting) socket.close()
  const started = Date.now()
  let warned = false
  const poll = setInterval(() => {
    if (pending().length === 0) return clearInterval(poll)
    if (!warned && Date.now() - started >= WARN_AFTER) {
      warned = true
      // zeromq.js writes this itself, as its runtime is shutting down; match it byte for byte.
      const hint = context.blocky ? " Set 'context.blocky = false' to change this behaviour." : ""
      process.stderr.write(`(node:${process.pid}) WARNING: Waiting for queued ZeroMQ messages to be delivered.${hint}\n`)
    }
  }, POLL)
}

/** The sockets with output still queued; drops collected and finished ones on the way. */
function pending(): Lingering[] {
  const found: Lingering[] = []
  for (const ref of sockets) {
    const socket = ref.deref()
    if (socket === undefined) sockets.delete(ref)
    else if (socket.hasPendingOutput) found.push(socket)
    else if (socket.closed) sockets.delete(ref)
  }
  return found
}
