/**
 * Contexts, as zeromq.js has them. libzmq's context owns I/O threads; zmesh
 * has none (Node's event loop does the I/O), so a context here holds the
 * defaults it gives new sockets and the limit on how many may be open.
 *
 * @example
 * ```ts
 * import { context, Context, Push } from "zmesh"
 * context.blocky = false                       // new sockets default to linger 0
 * const quiet = new Context({ maxSockets: 16 })
 * const push = new Push({ context: quiet })
 * ```
 */
import { error } from "./errors.js"

/** Context options with zeromq.js's names; readable and settable as properties. */
export interface ContextOptionValues {
  /** ZMQ_BLOCKY: when false, new sockets default to `linger` 0 instead of -1. */
  blocky: boolean
  /** ZMQ_IO_THREADS: kept for compatibility; zmesh's I/O runs on Node's event loop. */
  ioThreads: number
  /** ZMQ_MAX_MSGSZ: kept for compatibility; limit inbound sizes with the socket's `maxMessageSize`. */
  maxMessageSize: number
  /** ZMQ_MAX_SOCKETS: how many sockets of this context may be open at once (EMFILE beyond). */
  maxSockets: number
  /** ZMQ_IPV6: the default of new sockets' `ipv6`. */
  ipv6: boolean
  /** ZMQ_THREAD_PRIORITY: write-only, kept for compatibility (zmesh has no I/O threads). */
  threadPriority: number
  /** ZMQ_THREAD_SCHED_POLICY: write-only, kept for compatibility. */
  threadSchedulingPolicy: number
}

/** libzmq's ZMQ_SOCKET_LIMIT, the largest `maxSockets`. */
const SOCKET_LIMIT = 65535

type ContextOption = keyof ContextOptionValues

const contextIds: Record<number, ContextOption | "maxSocketsLimit"> = {
  1: "ioThreads",
  2: "maxSockets",
  3: "maxSocketsLimit",
  4: "threadSchedulingPolicy",
  5: "maxMessageSize",
  42: "ipv6",
  70: "blocky",
}
const contextOptionTypes: Record<ContextOption, "boolean" | "number"> = {
  blocky: "boolean",
  ioThreads: "number",
  maxMessageSize: "number",
  maxSockets: "number",
  ipv6: "boolean",
  threadPriority: "number",
  threadSchedulingPolicy: "number",
}
const WRITE_ONLY = new Set<string>(["threadPriority", "threadSchedulingPolicy"])

export class Context {
  private readonly values: ContextOptionValues = {
    blocky: true,
    ioThreads: 1,
    maxMessageSize: 2 ** 31 - 1,
    maxSockets: 1023,
    ipv6: false,
    threadPriority: -1,
    threadSchedulingPolicy: -1,
  }
  private open = 0

  constructor(options?: Partial<ContextOptionValues>) {
    if (arguments.length > 1) throw new TypeError(`Expected 1 argument but received ${arguments.length}`)
    if (options !== undefined && (typeof options !== "object" || options === null)) {
      throw new TypeError("Options must be an object")
    }
    Object.seal(this)
    if (options !== undefined) Object.assign(this, options)
  }

  /** ZMQ_SOCKET_LIMIT: the largest value `maxSockets` takes. */
  get maxSocketsLimit(): number {
    return SOCKET_LIMIT
  }

  /** zeromq.js's low-level accessors, by libzmq option number. */
  protected getBoolOption(id: number): boolean {
    return this.byId(id, "boolean") as boolean
  }
  protected setBoolOption(id: number, value: boolean): void {
    this.setById(id, value, "boolean")
  }
  protected getInt32Option(id: number): number {
    return this.byId(id, "number") as number
  }
  protected setInt32Option(id: number, value: number): void {
    this.setById(id, value, "number")
  }

  /** @internal A socket of this context opens; EMFILE past `maxSockets`. */
  acquire(): void {
    if (this.open >= this.values.maxSockets) {
      throw error("EMFILE", `the context allows ${this.values.maxSockets} open sockets (maxSockets)`)
    }
    this.open++
  }

  /** @internal A socket of this context closed. */
  release(): void {
    this.open--
  }

  private byId(id: number, type: "boolean" | "number"): unknown {
    if (typeof id !== "number") throw new TypeError("Identifier must be a number")
    const name = contextIds[id]
    if (name === undefined || WRITE_ONLY.has(name)) throw error("EINVAL", `no readable context option ${id}`)
    const value = this[name]
    return type === "boolean" ? Boolean(value) : Number(value)
  }

  /** libzmq stores every context option as an int: a bool accessor works on numbers and the reverse. */
  private setById(id: number, value: unknown, type: "boolean" | "number"): void {
    if (typeof id !== "number") throw new TypeError("Identifier must be a number")
    if (typeof value !== type) throw new TypeError(`Option value must be a ${type}`)
    // ZMQ_SOCKET_LIMIT (get) and ZMQ_THREAD_PRIORITY (set) share the number 3.
    const name = id === 3 ? "threadPriority" : contextIds[id]
    if (name === undefined || name === "maxSocketsLimit") throw error("EINVAL", `no settable context option ${id}`)
    const isBool = contextOptionTypes[name] === "boolean"
    ;(this as Record<ContextOption, unknown>)[name] = isBool ? Boolean(value) : Number(value)
  }
}

export interface Context extends ContextOptionValues {}

for (const [name, type] of Object.entries(contextOptionTypes) as Array<[ContextOption, "boolean" | "number"]>) {
  Object.defineProperty(Context.prototype, name, {
    configurable: true,
    enumerable: true,
    get: WRITE_ONLY.has(name)
      ? undefined
      : function (this: { values: ContextOptionValues }) {
          return this.values[name]
        },
    set(this: { values: Record<string, unknown> }, value: unknown) {
      this.values[name] = checkContextOption(name, type, value)
    },
  })
}

function checkContextOption(name: ContextOption, type: "boolean" | "number", value: unknown): unknown {
  if (typeof value !== type) throw new TypeError(`Option value must be a ${type}`)
  if (type === "boolean") return value
  const n = value as number
  const min = name === "maxSockets" ? 1 : name.startsWith("thread") ? -1 : 0
  if (!Number.isInteger(n) || n < min || (name === "maxSockets" && n > SOCKET_LIMIT)) {
    throw error("EINVAL", `invalid value ${n} for context option ${name}`)
  }
  return n
}

/** The default context, which sockets use unless given `{ context }`. */
export const context = new Context()

/**
 * What this build supports, as zeromq.js's `capability`: true only for what
 * works. zmesh speaks tcp, ipc and inproc with NULL, PLAIN and CURVE.
 */
export const capability: Readonly<{
  ipc: boolean
  pgm: boolean
  tipc: boolean
  norm: boolean
  curve: boolean
  gssapi: boolean
  draft: boolean
}> = Object.freeze({ ipc: true, pgm: false, tipc: false, norm: false, curve: true, gssapi: false, draft: false })
