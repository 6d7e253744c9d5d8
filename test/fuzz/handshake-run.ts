/**
 * The PLAIN and CURVE handshakes under fuzzing, server and client side: a
 * real peer's transcript (handshake, messages, a PING) recorded once with
 * fixed keys and fixed randomness, then fed mutated, truncated or extended
 * to a fresh session of the other role, which draws the same randomness,
 * so an unmutated transcript completes the handshake and every later
 * mutation is a deep one. Shared by the fuzz tests and bench/fuzz.
 */
import fc from "fast-check"
import { ZmeshError } from "../../src/errors.js"
import { CurveClient, CurveServer } from "../../src/zmtp/mechanisms/curve.js"
import { publicKeyOf } from "../../src/zmtp/mechanisms/curve-crypto.js"
import type { Mechanism } from "../../src/zmtp/mechanisms/mechanism.js"
import { PlainClient, PlainServer } from "../../src/zmtp/mechanisms/plain.js"
import { Session, type SessionFailure } from "../../src/zmtp/session.js"
import type { SocketType } from "../../src/zmtp/socket-type.js"
import { End, zapReply } from "../unit/zmtp/session-harness.js"
import { PEER_ERROR_CODES, sizeClaimArb } from "./streams.js"

export const ROLES = ["plain-server", "plain-client", "curve-server", "curve-client"] as const
export type Role = (typeof ROLES)[number]

/** Call n returns `size` bytes of `seed + n`: the same draws for the recording and each run. */
function fixedRandom(seed: number): (size: number) => Buffer {
  let call = 0
  return (size) => Buffer.alloc(size, seed + call++)
}

const SERVER_SECRET = Buffer.alloc(32, 0x5a)
const CLIENT_SECRET = Buffer.alloc(32, 0xa5)
const SERVER_PUBLIC = publicKeyOf(SERVER_SECRET)
const CLIENT_PUBLIC = publicKeyOf(CLIENT_SECRET)
/** A ZAP handler that accepts everyone, answering at once (a resolved promise). */
const acceptAll = () => Promise.resolve(zapReply("200", "OK", "fuzz"))

interface Side {
  readonly socketType: SocketType
  readonly mechanism: () => Mechanism
  readonly zap?: typeof acceptAll
}

const server = (mechanism: () => Mechanism): Side => ({ socketType: "ROUTER", mechanism, zap: acceptAll })
const client = (mechanism: () => Mechanism): Side => ({ socketType: "DEALER", mechanism })
const plainServer = server(() => new PlainServer())
const plainClient = client(() => new PlainClient("admin", "password"))
const curveServer = server(() => new CurveServer(SERVER_SECRET, fixedRandom(0x20)))
const curveClient = client(() => new CurveClient(SERVER_PUBLIC, CLIENT_PUBLIC, CLIENT_SECRET, fixedRandom(0x10)))

/** Per role: the side under test and the peer whose bytes it is fed. */
const SIDES: Record<Role, { readonly fuzzed: Side; readonly peer: Side }> = {
  "plain-server": { fuzzed: plainServer, peer: plainClient },
  "plain-client": { fuzzed: plainClient, peer: plainServer },
  "curve-server": { fuzzed: curveServer, peer: curveClient },
  "curve-client": { fuzzed: curveClient, peer: curveServer },
}

/** Messages the peer sends after the handshake: sizes on both sides of 255 and of a small limit. */
export const TRANSCRIPT_MESSAGES: readonly Buffer[][] = [
  [Buffer.from("hello")],
  [Buffer.alloc(0), Buffer.alloc(300, 0x41)],
  [Buffer.alloc(40, 0x42), Buffer.alloc(40, 0x43), Buffer.alloc(40, 0x44)],
]

const transcripts = new Map<Role, Promise<Buffer[]>>()

/**
 * The bytes a real peer sends the role under test, in flights: each flight
 * is what it sent before waiting for an answer (greeting and HELLO, then
 * INITIATE, ...; TRANSCRIPT_MESSAGES and a PING after the handshake). A
 * server asks ZAP between flights, so a client that sent INITIATE before
 * WELCOME would be refused; runs feed flights as separate chunks.
 */
export function transcript(role: Role): Promise<Buffer[]> {
  let flights = transcripts.get(role)
  if (flights === undefined) {
    flights = record(role)
    transcripts.set(role, flights)
  }
  return flights
}

async function record(role: Role): Promise<Buffer[]> {
  const { fuzzed, peer } = SIDES[role]
  const ours = new End({ socketType: fuzzed.socketType, mechanism: fuzzed.mechanism(), zap: fuzzed.zap })
  const theirs = new End({ socketType: peer.socketType, mechanism: peer.mechanism(), zap: peer.zap })
  const flights: Buffer[] = []
  /** Moves bytes both ways until quiet, each of the peer's outputs a flight. */
  const exchange = async () => {
    for (let quiet = 0; quiet < 2; ) {
      const fromOurs = ours.output()
      const fromTheirs = theirs.output()
      if (fromTheirs.length > 0) {
        flights.push(fromTheirs)
        ours.session.push(fromTheirs)
      }
      if (fromOurs.length > 0) theirs.session.push(fromOurs)
      if (fromOurs.length === 0 && fromTheirs.length === 0) {
        quiet++
        await microtasks()
      } else {
        quiet = 0
      }
    }
  }
  ours.session.start()
  theirs.session.start()
  await exchange()
  if (ours.peer === undefined || theirs.peer === undefined) throw new Error(`${role}: the recorded handshake did not complete`)
  for (const message of TRANSCRIPT_MESSAGES) theirs.session.send(message)
  theirs.session.ping(1_000, Buffer.from("ctx"))
  await exchange()
  if (ours.messages.length !== TRANSCRIPT_MESSAGES.length) throw new Error(`${role}: the recorded messages did not arrive`)
  return flights
}

/** Mutated bytes cut back into flights at the original boundaries (as far as the bytes reach). */
export function reflight(flights: readonly Buffer[], bytes: Buffer): Buffer[] {
  const out: Buffer[] = []
  let at = 0
  for (const [i, flight] of flights.entries()) {
    const end = i === flights.length - 1 ? bytes.length : Math.min(bytes.length, at + flight.length)
    if (end > at) out.push(bytes.subarray(at, end))
    at = end
  }
  return out
}

// ---- mutations ---------------------------------------------------------------------

export type ByteMutation =
  | { readonly kind: "flip"; readonly at: number; readonly bit: number }
  | { readonly kind: "set"; readonly at: number; readonly value: number }
  | { readonly kind: "truncate"; readonly at: number }
  | { readonly kind: "insert"; readonly at: number; readonly bytes: Uint8Array }
  | { readonly kind: "delete"; readonly at: number; readonly length: number }
  | { readonly kind: "claim"; readonly at: number; readonly claim: bigint }

export const byteMutationArb: fc.Arbitrary<ByteMutation> = fc.oneof(
  fc.record({ kind: fc.constant("flip" as const), at: fc.nat(), bit: fc.nat(7) }),
  fc.record({ kind: fc.constant("set" as const), at: fc.nat(), value: fc.nat(255) }),
  fc.record({ kind: fc.constant("truncate" as const), at: fc.nat() }),
  fc.record({ kind: fc.constant("insert" as const), at: fc.nat(), bytes: fc.uint8Array({ minLength: 1, maxLength: 16 }) }),
  fc.record({ kind: fc.constant("delete" as const), at: fc.nat(), length: fc.integer({ min: 1, max: 16 }) }),
  // A long-form size field written over 9 bytes: the kind of lie that asks for a huge buffer.
  fc.record({ kind: fc.constant("claim" as const), at: fc.nat(), claim: sizeClaimArb }),
)

/** Applies mutations in order; offsets wrap around the current length. */
export function mutateBytes(bytes: Buffer, mutations: readonly ByteMutation[]): Buffer {
  let out = Buffer.from(bytes)
  for (const m of mutations) {
    const at = m.at % (out.length + 1)
    switch (m.kind) {
      case "flip":
        if (at < out.length) out[at] = out[at]! ^ (1 << m.bit)
        break
      case "set":
        if (at < out.length) out[at] = m.value
        break
      case "truncate":
        out = out.subarray(0, at)
        break
      case "insert":
        out = Buffer.concat([out.subarray(0, at), m.bytes, out.subarray(at)])
        break
      case "delete":
        out = Buffer.concat([out.subarray(0, at), out.subarray(at + m.length)])
        break
      case "claim": {
        const head = Buffer.allocUnsafe(9)
        head[0] = (out[at] ?? 0) | 0x02
        head.writeBigUInt64BE(m.claim, 1)
        out = Buffer.concat([out.subarray(0, at), head, out.subarray(at + 9)])
      }
    }
  }
  return out
}

// ---- the run -------------------------------------------------------------------------

export interface HandshakeRun {
  readonly ready: boolean
  readonly messages: number
  readonly failure: SessionFailure | undefined
  /** Breaches of the Session contract, empty when all is well. */
  readonly violations: string[]
}

/** Lets the mechanisms' ZAP steps (resolved promises) run, without a macrotask. */
async function microtasks(): Promise<void> {
  for (let i = 0; i < 6; i++) await Promise.resolve()
}

/**
 * Feeds chunks to a fresh session of `role`, letting ZAP answer after each
 * (microtasks only: the zap handler answers with a resolved promise), and
 * lists every breach.
 */
export async function runHandshake(role: Role, chunks: readonly Buffer[], maxMessageSize: number): Promise<HandshakeRun> {
  const side = SIDES[role].fuzzed
  const violations: string[] = []
  const failures: SessionFailure[] = []
  let ready = 0
  let messages = 0
  // A CURVE box adds 33 bytes to a frame; the limit is on what is inside.
  const session: Session = new Session(
    { socketType: side.socketType, mechanism: side.mechanism(), maxMessageSize, zap: side.zap },
    {
      flush: () => void session.encoder.flush(),
      ready: () => {
        if (failures.length > 0) violations.push("ready() after failed()")
        ready++
      },
      message: (frames) => {
        if (failures.length > 0) violations.push("message() after failed()")
        if (ready === 0) violations.push("message() before ready()")
        const size = frames.reduce((sum, f) => sum + f.length, 0)
        if (maxMessageSize >= 0 && size > maxMessageSize) violations.push(`delivered ${size} bytes over maxMessageSize ${maxMessageSize}`)
        messages++
        return true
      },
      command: () => undefined,
      pinged: () => {
        if (failures.length > 0) violations.push("pinged() after failed()")
      },
      failed: (failure) => {
        failures.push(failure)
        const { error } = failure
        if (!(error instanceof ZmeshError)) violations.push(`failed() with a non-ZmeshError: ${String(error)}`)
        else if (!HANDSHAKE_ERROR_CODES.has(error.code)) violations.push(`failed() with unexpected code ${error.code}: ${error.message}`)
        const expected = ready === 0 ? failure.handshake !== undefined : failure.handshake === undefined
        if (!expected) violations.push(`failure.handshake is ${String(failure.handshake)} with ready ${ready}`)
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
  for (const chunk of chunks) {
    guarded("push()", () => session.push(chunk))
    await microtasks()
  }
  await microtasks()
  if (failures.length > 1) violations.push(`failed() called ${failures.length} times`)
  if (ready > 1) violations.push(`ready() called ${ready} times`)
  return { ready: ready === 1, messages, failure: failures[0], violations }
}

/** What a hostile peer of a PLAIN or CURVE session may cause (docs/errors.md). */
const HANDSHAKE_ERROR_CODES: ReadonlySet<string> = new Set([...PEER_ERROR_CODES, "ERR_AUTH"])
