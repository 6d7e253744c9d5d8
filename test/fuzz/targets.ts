/**
 * Every fuzz target in one list: what it is fed (a fast-check arbitrary),
 * how an input is prepared (outside any measurement: mutating, chunking),
 * what is checked, and the largest Buffer the code under test may allocate
 * for it. The fuzz tests run each a few hundred times; bench/fuzz/run.ts
 * runs them a million times over and also times and watches allocations.
 */
import fc from "fast-check"
import { loadSodium } from "../../src/zmtp/mechanisms/curve-sodium.js"
import { decode, decoderBytesArb } from "./decoder-run.js"
import {
  ROLES,
  type ByteMutation,
  type Role,
  TRANSCRIPT_MESSAGES,
  byteMutationArb,
  mutateBytes,
  reflight,
  runHandshake,
  transcript,
} from "./handshake-run.js"
import { outcome, runSession } from "./session-run.js"
import { chunk, cutsArb, greeting, hexOf, mutate, mutationArb, pushHandshake, validStreamArb } from "./streams.js"
import { type SubscriptionScript, runSubscriptions, subscriptionScriptArb } from "./subscription-run.js"

export interface FuzzTarget<I = unknown, P = unknown> {
  readonly name: string
  /** Inputs the fuzz script feeds it by default (the tests run far fewer). */
  readonly defaultRuns: number
  readonly arbitrary: fc.Arbitrary<I>
  /** Turns an input into what `check` consumes; not timed, its allocations not counted. */
  prepare(input: I): P
  /** Every broken promise for one prepared input; empty when all is well. */
  check(prepared: P): string[] | Promise<string[]>
  /** The largest single Buffer allocation allowed while `check` runs. */
  allocationBound(prepared: P): number
  /** The input as text for a failure report. */
  show(prepared: P): string
}

/**
 * Allocations the code may make whatever the peer sends: a command may be
 * 64 KiB (the floor of the command limit), the frame encoder's block is
 * 64 KiB, a CURVE box adds 33 bytes.
 */
const FIXED_ALLOCATION = 64 * 1024 + 64

/**
 * Never more than the limit, and without one, never more than twice what the
 * peer actually sent: a body that spans reads gets its buffer once half of
 * it has arrived (FrameDecoder).
 */
function sessionBound(bytes: number, maxMessageSize: number): number {
  return Math.max(maxMessageSize >= 0 ? maxMessageSize + 64 : 2 * bytes, FIXED_ALLOCATION)
}

const maxMessageSizeArb = fc.oneof(fc.constant(-1), fc.nat(700), fc.constantFrom(0, 255, 256, 1 << 20))

// ---- the frame decoder ------------------------------------------------------------

interface DecoderInput {
  readonly bytes: Buffer
  readonly cuts: readonly number[]
  readonly max: number
}

const decoderTarget: FuzzTarget<DecoderInput, DecoderInput> = {
  name: "frame decoder",
  defaultRuns: 500_000,
  arbitrary: fc.record({ bytes: decoderBytesArb, cuts: cutsArb, max: fc.oneof(fc.constant(-1), fc.nat(300), fc.constantFrom(0, 255, 256, 4096)) }),
  prepare: (input) => input,
  check({ bytes, cuts, max }) {
    const chunked = decode(chunk(bytes, cuts), max)
    const whole = decode([bytes], max)
    const problems = [...chunked.problems, ...whole.problems]
    if (JSON.stringify([chunked.frames, chunked.error]) !== JSON.stringify([whole.frames, whole.error])) {
      problems.push("the outcome depends on how the bytes were cut")
    }
    return problems
  },
  allocationBound: ({ bytes, max }) => (max >= 0 ? max : 2 * bytes.length),
  show: ({ bytes, cuts, max }) => `max ${max}, cuts ${JSON.stringify(cuts)}, bytes ${hexOf(bytes)}`,
}

// ---- the NULL handshake and traffic (a PULL fed PUSH-side streams) ----------------

interface SessionInput {
  readonly bytes: Buffer
  readonly chunks: Buffer[]
  readonly max: number
  readonly accept: readonly boolean[]
}

const nullStreamArb = fc.oneof(
  validStreamArb().map((stream) => stream.bytes),
  fc.tuple(validStreamArb(), fc.array(mutationArb, { minLength: 1, maxLength: 4 })).map(([stream, ms]) => mutate(stream, ms)),
  fc
    .tuple(fc.constantFrom(Buffer.alloc(0), greeting(), greeting({ minor: 0 }), pushHandshake()), fc.uint8Array({ maxLength: 400 }))
    .map(([prefix, tail]) => Buffer.concat([prefix, tail])),
)

const nullTarget: FuzzTarget<{ bytes: Buffer; cuts: readonly number[]; max: number; accept: readonly boolean[] }, SessionInput> = {
  name: "NULL session",
  defaultRuns: 200_000,
  arbitrary: fc.record({
    bytes: nullStreamArb,
    cuts: cutsArb,
    max: maxMessageSizeArb,
    accept: fc.oneof(fc.constant([true]), fc.array(fc.boolean(), { minLength: 1, maxLength: 5 })),
  }),
  prepare: ({ bytes, cuts, max, accept }) => ({ bytes, chunks: chunk(bytes, cuts), max, accept }),
  check({ bytes, chunks, max, accept }) {
    const chunked = runSession(chunks, { maxMessageSize: max, accept })
    const whole = runSession([bytes], { maxMessageSize: max })
    const problems = [...chunked.violations, ...whole.violations]
    if (JSON.stringify(outcome(chunked)) !== JSON.stringify(outcome(whole))) problems.push("the outcome depends on how the bytes were cut")
    return problems
  },
  allocationBound: ({ bytes, max }) => sessionBound(bytes.length, max),
  show: ({ bytes, chunks, max }) => `max ${max}, ${chunks.length} chunks, bytes ${hexOf(bytes)}`,
}

// ---- PLAIN and CURVE, server and client side ------------------------------------------

interface HandshakeInput {
  readonly mutations: readonly ByteMutation[]
  readonly tail: Uint8Array
  readonly cuts: readonly number[]
  readonly max: number
}

interface PreparedHandshake {
  readonly bytes: Buffer
  readonly chunks: Buffer[]
  readonly max: number
  /** Unmutated and without a limit: the handshake must complete and every message arrive. */
  readonly pristine: boolean
}

function handshakeTarget(role: Role, flights: readonly Buffer[]): FuzzTarget<HandshakeInput, PreparedHandshake> {
  const recorded = Buffer.concat(flights)
  return {
    name: `${role.replace("-", " ").replace("plain", "PLAIN").replace("curve", "CURVE")} handshake`,
    // CURVE replays four key agreements per input (~6 ms here): fewer inputs, same depth.
    defaultRuns: role.startsWith("curve") ? 20_000 : 100_000,
    arbitrary: fc.record({
      mutations: fc.oneof({ weight: 1, arbitrary: fc.constant([]) }, { weight: 9, arbitrary: fc.array(byteMutationArb, { minLength: 1, maxLength: 3 }) }),
      tail: fc.oneof({ weight: 4, arbitrary: fc.constant(new Uint8Array(0)) }, { weight: 1, arbitrary: fc.uint8Array({ maxLength: 200 }) }),
      cuts: cutsArb,
      max: fc.oneof({ weight: 3, arbitrary: fc.constant(-1) }, { weight: 1, arbitrary: maxMessageSizeArb }),
    }),
    prepare({ mutations, tail, cuts, max }) {
      const bytes = Buffer.concat([mutateBytes(recorded, mutations), tail])
      // Each flight cut further at random: the runner lets ZAP answer between chunks.
      const chunks = reflight(flights, bytes).flatMap((flight) => chunk(flight, cuts))
      return { bytes, chunks, max, pristine: mutations.length === 0 && tail.length === 0 && max < 0 }
    },
    async check({ chunks, max, pristine }) {
      const run = await runHandshake(role, chunks, max)
      const problems = [...run.violations]
      if (pristine && !(run.ready && run.messages === TRANSCRIPT_MESSAGES.length && run.failure === undefined)) {
        problems.push(`the recorded transcript did not go through: ready ${run.ready}, ${run.messages} messages, ${run.failure?.error.message}`)
      }
      return problems
    },
    allocationBound: ({ bytes, max }) => sessionBound(bytes.length, max),
    show: ({ bytes, chunks, max }) => `max ${max}, ${chunks.length} chunks, bytes ${hexOf(bytes)}`,
  }
}

// ---- subscriptions ------------------------------------------------------------------

const subscriptionTarget: FuzzTarget<SubscriptionScript, SubscriptionScript> = {
  name: "subscriptions",
  defaultRuns: 100_000,
  arbitrary: subscriptionScriptArb,
  prepare: (script) => script,
  check: runSubscriptions,
  // Topics here are at most 60 bytes; nothing should allocate more than a topic.
  allocationBound: () => 1024,
  show: (script) => JSON.stringify(script.steps.map((s) => [s.op, s.pipe, s.topic.toString("hex"), s.budget])),
}

/** Every target, the handshakes with their transcripts recorded. */
export async function fuzzTargets(): Promise<Array<FuzzTarget<unknown, unknown>>> {
  // CURVE's boxes are libsodium's WebAssembly build: compiled once, before any recorded handshake.
  await loadSodium()
  const handshakes = await Promise.all(ROLES.map(async (role) => handshakeTarget(role, await transcript(role))))
  return [decoderTarget, nullTarget, ...handshakes, subscriptionTarget] as unknown as Array<FuzzTarget<unknown, unknown>>
}
