/**
 * Shared by the compatibility tests: the `zeromq` package beside zmesh (for
 * checks that run the same code against both), capture of an error whether
 * it is thrown or rejected, a recorder of every event a socket emits, the
 * ZAP endpoint, capture of process warnings, and a closer of test sockets.
 */
import { createRequire } from "node:module"
import { afterEach, beforeEach } from "vitest"
import * as zmesh from "../../src/index.js"
import type { EventType, Observer } from "../../src/index.js"

/** zmesh's main entry; the `zeromq` package is typed as this too, since it must have the same API. */
export type Api = typeof zmesh

const require = createRequire(import.meta.url)

/** The `zeromq` package (6.8.0, libzmq 4.3.5), loaded as Node loads it for CommonJS users. */
export const zeromq = require("zeromq") as Api

/** Both libraries, for `describe.each` over behaviours zmesh must share with zeromq.js. */
export const libraries = [
  { name: "zmesh", zmq: zmesh as Api },
  { name: "zeromq", zmq: zeromq },
] as const

/** The error `run` throws or its promise rejects with; fails if it does neither. */
export async function failure(run: () => unknown): Promise<Error & Record<string, unknown>> {
  let result: unknown
  try {
    result = run()
  } catch (err) {
    return err as Error & Record<string, unknown>
  }
  try {
    await result
  } catch (err) {
    return err as Error & Record<string, unknown>
  }
  throw new Error("expected a throw or a rejection, but the call succeeded")
}

/** The error `run` throws synchronously; fails if it returns (a rejected promise is not a throw). */
export function thrown(run: () => unknown): Error & Record<string, unknown> {
  let result: unknown
  try {
    result = run()
  } catch (err) {
    return err as Error & Record<string, unknown>
  }
  // Keep a rejection from surfacing as unhandled; the test fails below anyway.
  if (result instanceof Promise) result.catch(() => undefined)
  throw new Error(`expected a synchronous throw, but the call returned ${result instanceof Promise ? "a promise" : String(result)}`)
}

/** Every event type zeromq.js's observer emits. */
export const EVENT_TYPES: readonly EventType[] = [
  "accept",
  "accept:error",
  "bind",
  "bind:error",
  "connect",
  "connect:delay",
  "connect:retry",
  "close",
  "close:error",
  "disconnect",
  "end",
  "handshake",
  "handshake:error:protocol",
  "handshake:error:auth",
  "handshake:error:other",
  "unknown",
]

/** An event as recorded: its type and address, and of its error only what tests compare. */
export interface Seen {
  type: string
  address?: string
  error?: { code: unknown; message: string; status?: unknown }
}

interface LooseEvent {
  address?: string
  error?: Error & { code?: unknown; status?: unknown }
}

/**
 * Records every event a socket (of either library) emits, in order, and
 * waits for one. `on()` puts the observer in emitter mode.
 */
export class EventLog {
  readonly seen: Seen[] = []
  private readonly waiters: Array<{ type: string; count: number; resolve: () => void }> = []

  constructor(socket: { readonly events: Observer }) {
    const events = socket.events as unknown as { on(type: string, listener: (event: LooseEvent) => void): unknown }
    for (const type of EVENT_TYPES) {
      events.on(type, (event) => {
        const entry: Seen = { type }
        if (event.address !== undefined) entry.address = event.address
        if (event.error !== undefined) {
          entry.error = { code: event.error.code, message: event.error.message }
          if (event.error.status !== undefined) entry.error.status = event.error.status
        }
        this.seen.push(entry)
        for (const waiter of this.waiters.splice(0)) {
          if (this.count(waiter.type) >= waiter.count) waiter.resolve()
          else this.waiters.push(waiter)
        }
      })
    }
  }

  /** The types seen, in order. */
  get types(): string[] {
    return this.seen.map((e) => e.type)
  }

  /** The events of one type seen so far. */
  of(type: EventType): Seen[] {
    return this.seen.filter((e) => e.type === type)
  }

  /** Resolves once `count` events of `type` were seen. */
  until(type: EventType, count = 1): Promise<Seen[]> {
    if (this.count(type) >= count) return Promise.resolve(this.of(type))
    return new Promise((resolve) => this.waiters.push({ type, count, resolve: () => resolve(this.of(type)) }))
  }

  private count(type: string): number {
    return this.seen.filter((e) => e.type === type).length
  }
}

/** Where libzmq (and zmesh) look for the ZAP handler. */
export const ZAP_ENDPOINT = "inproc://zeromq.zap.01"

/**
 * Collects the messages of process warnings emitted during each test, with
 * every other warning listener (Node's printer included) removed meanwhile.
 * Call at the top of a describe block.
 */
export function captureWarnings(): { readonly messages: string[] } {
  const captured = { messages: [] as string[] }
  let saved: Array<(warning: Error) => void> = []
  const listener = (warning: Error) => void captured.messages.push(warning.message)
  beforeEach(() => {
    captured.messages.length = 0
    saved = process.listeners("warning")
    process.removeAllListeners("warning")
    process.on("warning", listener)
  })
  afterEach(() => {
    process.off("warning", listener)
    for (const restored of saved) process.on("warning", restored)
  })
  return captured
}

/** Resolves after the ticks in which process.emitWarning delivers its warning. */
export function warningsDelivered(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve))
}

/** Sockets a test made, closed with linger 0 after it (zmesh or zeromq). */
export function socketTracker(): <S extends { close(): void }>(socket: S) => S {
  const open: Array<{ close(): void; linger?: unknown }> = []
  afterEach(() => {
    for (const socket of open.splice(0)) {
      try {
        socket.linger = 0
      } catch {
        // A closed zeromq socket refuses option writes.
      }
      socket.close()
    }
  })
  return (socket) => {
    open.push(socket)
    return socket
  }
}
