/**
 * The inproc:// registry: names bound in this process, and connects waiting
 * for a name to be bound (libzmq 4 allows connect before bind). No bytes
 * flow here; the socket layer pairs pipes directly.
 */
import { ZmeshError } from "../errors.js"

type Handler = (request: unknown) => void

const binders = new Map<string, Handler>()
const waiting = new Map<string, Set<unknown>>()

/** Binds a name; `handler` receives each connect request. Returns the unbind function. */
export function bindInproc(name: string, handler: Handler): () => void {
  if (binders.has(name)) {
    throw new ZmeshError("EADDRINUSE", `could not bind inproc://${name}: already bound`, { address: `inproc://${name}` })
  }
  binders.set(name, handler)
  const pending = waiting.get(name)
  if (pending !== undefined) {
    waiting.delete(name)
    for (const request of pending) handler(request)
  }
  return () => {
    if (binders.get(name) === handler) binders.delete(name)
  }
}

/** Connects to a name now if it is bound, else when it is. Returns a function that withdraws a waiting request. */
export function connectInproc(name: string, request: unknown): () => void {
  const handler = binders.get(name)
  if (handler !== undefined) {
    handler(request)
    return () => undefined
  }
  let pending = waiting.get(name)
  if (pending === undefined) waiting.set(name, (pending = new Set()))
  pending.add(request)
  return () => {
    pending.delete(request)
    if (pending.size === 0 && waiting.get(name) === pending) waiting.delete(name)
  }
}

/** True when a name is bound in this process (libzmq asks this of its ZAP endpoint). */
export function isInprocBound(name: string): boolean {
  return binders.has(name)
}
