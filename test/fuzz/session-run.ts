/**
 * Runs a sans-IO Session over chunks and records what its handler saw, plus
 * every contract breach: the invariants the fuzz tests assert on, and the
 * oracle the TCP test compares a real socket against.
 */
import { ZmeshError } from "../../src/errors.js"
import { NullMechanism } from "../../src/zmtp/mechanisms/null.js"
import { Session, type SessionFailure } from "../../src/zmtp/session.js"
import type { SocketType } from "../../src/zmtp/socket-type.js"
import { PEER_ERROR_CODES } from "./streams.js"

export interface SessionRun {
  readonly readyCount: number
  /** Delivered messages, copied out of the decoder's views. */
  readonly messages: Buffer[][]
  readonly failures: SessionFailure[]
  /** TTLs (ms) of the PINGs the peer sent; a real engine may time out on those. */
  readonly pingTtls: number[]
  /** Breaches of the Session contract, empty when all is well. */
  readonly violations: string[]
}

export interface RunOptions {
  readonly maxMessageSize: number
  readonly socketType?: SocketType
  /** Per delivered message (cycled): false makes `handler.message()` refuse it, pausing the session. */
  readonly accept?: readonly boolean[]
}

export function runSession(chunks: readonly Buffer[], options: RunOptions): SessionRun {
  const messages: Buffer[][] = []
  const failures: SessionFailure[] = []
  const violations: string[] = []
  const pingTtls: number[] = []
  const accept = options.accept ?? [true]
  const max = options.maxMessageSize
  let readyCount = 0
  const session: Session = new Session(
    { socketType: options.socketType ?? "PULL", mechanism: new NullMechanism(), maxMessageSize: max },
    {
      flush: () => void session.encoder.flush(),
      ready: () => {
        if (failures.length > 0) violations.push("ready() after failed()")
        readyCount++
      },
      message: (frames) => {
        if (failures.length > 0) violations.push("message() after failed()")
        if (readyCount === 0) violations.push("message() before ready()")
        const size = frames.reduce((sum, f) => sum + f.length, 0)
        if (max >= 0 && size > max) violations.push(`delivered a ${size} byte message over maxMessageSize ${max}`)
        messages.push(frames.map((f) => Buffer.from(f)))
        return accept[(messages.length - 1) % accept.length]!
      },
      pinged: (ttl) => {
        pingTtls.push(ttl)
        if (failures.length > 0) violations.push("pinged() after failed()")
      },
      failed: (failure) => {
        failures.push(failure)
        const { error } = failure
        if (!(error instanceof ZmeshError)) violations.push(`failed() with a non-ZmeshError: ${String(error)}`)
        else if (!PEER_ERROR_CODES.has(error.code)) violations.push(`failed() with unexpected code ${error.code}`)
        // Before READY completes a failure is a handshake failure; afterwards it is not.
        const expected = readyCount === 0 ? "protocol" : undefined
        if (failure.handshake !== expected) {
          violations.push(`failure.handshake is ${String(failure.handshake)}, expected ${String(expected)}`)
        }
        if (!session.isClosed) violations.push("session not closed when failed() ran")
      },
    },
  )
  const guarded = (what: string, fn: () => void) => {
    try {
      fn()
    } catch (err) {
      violations.push(`${what} threw: ${(err as Error)?.stack ?? String(err)}`)
    }
  }
  guarded("start()", () => session.start())
  for (const c of chunks) {
    guarded("push()", () => session.push(c))
    // The owner resumes once the receiver has room: here, at once, until no progress is left.
    let spins = 0
    while (session.isPaused && !session.isClosed && spins++ < 10_000) {
      const before = messages.length
      guarded("resume()", () => session.resume())
      if (session.isPaused && messages.length === before) break
    }
  }
  if (failures.length > 1) violations.push(`failed() called ${failures.length} times`)
  if (readyCount > 1) violations.push(`ready() called ${readyCount} times`)
  return { readyCount, messages, failures, pingTtls, violations }
}

/** What a run ended with, comparable across chunkings. */
export function outcome(run: SessionRun): { ready: number; messages: string[]; failure: string | undefined } {
  const f = run.failures[0]
  return {
    ready: run.readyCount,
    messages: run.messages.map((m) => m.map((b) => b.toString("hex")).join("|")),
    failure: f === undefined ? undefined : `${String(f.handshake)}/${f.error.code}`,
  }
}
