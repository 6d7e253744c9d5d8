/**
 * Byte builders and fast-check arbitraries for the fuzz tests: libzmq-like
 * greetings and frames, valid PUSH-side streams that remember where their
 * frame headers are, mutations of those streams, and random chunkings.
 */
import fc from "fast-check"

/** Scales every fuzz run count: FUZZ_SCALE=10 for a long local run. */
const SCALE = Number(process.env["FUZZ_SCALE"] ?? "1") || 1

/** Options for fc.assert: the run count times FUZZ_SCALE, and FUZZ_SEED to replay a failure. */
export function runs(numRuns: number): { numRuns: number; seed?: number } {
  const seed = process.env["FUZZ_SEED"]
  const scaled = Math.max(1, Math.round(numRuns * SCALE))
  return seed === undefined ? { numRuns: scaled } : { numRuns: scaled, seed: Number(seed) }
}

/** Every code a misbehaving peer may cause (docs/errors.md). */
export const PEER_ERROR_CODES: ReadonlySet<string> = new Set([
  "ERR_ZMTP_PROTOCOL",
  "ERR_MESSAGE_TOO_LARGE",
  "ERR_SOCKET_TYPE",
  "ERR_ZMTP_MECHANISM_MISMATCH",
  "ERR_PEER_ERROR",
])

export interface GreetingSpec {
  readonly minor: number
  /** libzmq writes u64be(routing_id_len + 1) into bytes 1-8. */
  readonly padding: number
  readonly mechanism: string
  readonly asServer: number
}

/** `ff u64be(padding) 7f 03 minor mechanism+NULs as-server zeros`, 64 bytes. */
export function greeting(spec: Partial<GreetingSpec> = {}): Buffer {
  const buf = Buffer.alloc(64)
  buf[0] = 0xff
  buf.writeBigUInt64BE(BigInt(spec.padding ?? 0), 1)
  buf[9] = 0x7f
  buf[10] = 3
  buf[11] = spec.minor ?? 1
  buf.write(spec.mechanism ?? "NULL", 12, 20, "latin1")
  buf[32] = spec.asServer ?? 0
  return buf
}

/** One frame, short unless the body needs the long form or `long` forces it. */
export function frame(flags: number, body: Uint8Array, long = false): Buffer {
  const isLong = long || body.length > 255
  const header = isLong ? 9 : 2
  const out = Buffer.allocUnsafe(header + body.length)
  if (isLong) {
    out[0] = flags | 0x02
    out.writeBigUInt64BE(BigInt(body.length), 1)
  } else {
    out[0] = flags
    out[1] = body.length
  }
  out.set(body, header)
  return out
}

/** A long-form frame header claiming `size` bytes (flags 0x02 set by the caller's `flags`). */
export function longHeader(flags: number, size: bigint): Buffer {
  const out = Buffer.allocUnsafe(9)
  out[0] = flags | 0x02
  out.writeBigUInt64BE(size, 1)
  return out
}

/** `nlen(1) name vlen(4) value` per property. */
export function metadata(props: ReadonlyArray<readonly [string, Uint8Array | string]>): Buffer {
  const parts: Buffer[] = []
  for (const [name, value] of props) {
    const v = typeof value === "string" ? Buffer.from(value, "latin1") : Buffer.from(value)
    const head = Buffer.allocUnsafe(1 + name.length + 4)
    head[0] = name.length
    head.write(name, 1, "latin1")
    head.writeUInt32BE(v.length, 1 + name.length)
    parts.push(head, v)
  }
  return Buffer.concat(parts)
}

/** The body of a command frame: `name_len name data`. */
export function commandBody(name: string, data: Uint8Array = Buffer.alloc(0)): Buffer {
  return Buffer.concat([Buffer.from([name.length]), Buffer.from(name, "latin1"), data])
}

export function readyFrame(socketType: string, extra: ReadonlyArray<readonly [string, Uint8Array | string]> = []): Buffer {
  return frame(0x04, commandBody("READY", metadata([["Socket-Type", socketType], ...extra])))
}

/** Greeting plus READY from a PUSH peer: what libzmq sends before any data. */
export function pushHandshake(): Buffer {
  return Buffer.concat([greeting(), readyFrame("PUSH")])
}

// ---- valid streams -----------------------------------------------------------

export interface StreamItem {
  readonly kind: "message" | "ping"
  /** Message frames (kind "message") or the PING context (one entry). */
  readonly frames: readonly Buffer[]
  /** Per frame: use the long size form even when the body is short. */
  readonly long: readonly boolean[]
}

export interface ValidStream {
  readonly bytes: Buffer
  /** Offsets of every frame header after the greeting, with the size form. */
  readonly headers: ReadonlyArray<{ readonly offset: number; readonly long: boolean }>
  /** Body size of the READY command. */
  readonly readySize: number
  readonly items: readonly StreamItem[]
}

/** Builds a libzmq-like PUSH stream: greeting, READY, then messages and PINGs. */
export function buildStream(spec: {
  greeting: GreetingSpec
  readyProps: ReadonlyArray<readonly [string, Uint8Array | string]>
  items: readonly StreamItem[]
}): ValidStream {
  const parts: Buffer[] = [greeting(spec.greeting)]
  const headers: Array<{ offset: number; long: boolean }> = []
  let offset = 64
  const add = (flags: number, body: Buffer, long: boolean) => {
    const bytes = frame(flags, body, long)
    headers.push({ offset, long: long || body.length > 255 })
    parts.push(bytes)
    offset += bytes.length
  }
  const ready = commandBody("READY", metadata(spec.readyProps))
  add(0x04, ready, false)
  for (const item of spec.items) {
    if (item.kind === "ping") {
      const data = Buffer.concat([Buffer.from([0, 10]), item.frames[0]!])
      add(0x04, commandBody("PING", data), item.long[0]!)
      continue
    }
    const last = item.frames.length - 1
    item.frames.forEach((body, i) => add(i < last ? 0x01 : 0x00, body, item.long[i]!))
  }
  return { bytes: Buffer.concat(parts), headers, readySize: ready.length, items: spec.items }
}

/** Bodies with a given prefix so the tests can tell whose message arrived. */
function bodyArb(prefix: Buffer): fc.Arbitrary<Buffer> {
  return fc
    .oneof(
      { weight: 8, arbitrary: fc.uint8Array({ maxLength: 40 }) },
      { weight: 2, arbitrary: fc.uint8Array({ minLength: 250, maxLength: 300 }) },
    )
    .map((bytes) => Buffer.concat([prefix, bytes]))
}

const messageArb = (prefix: Buffer): fc.Arbitrary<StreamItem> =>
  fc
    .array(fc.tuple(bodyArb(prefix), fc.boolean()), { minLength: 1, maxLength: 4 })
    .map((frames) => ({ kind: "message", frames: frames.map((f) => f[0]), long: frames.map((f) => f[1]) }))

const pingArb: fc.Arbitrary<StreamItem> = fc
  .tuple(fc.uint8Array({ maxLength: 16 }), fc.boolean())
  .map(([ctx, long]) => ({ kind: "ping", frames: [Buffer.from(ctx)], long: [long] }))

/** A valid stream a PUSH peer could send, with message bodies starting with `prefix`. */
export function validStreamArb(prefix: Buffer = Buffer.alloc(0)): fc.Arbitrary<ValidStream> {
  return fc
    .record({
      greeting: fc.record({
        minor: fc.constantFrom(0, 1, 2),
        padding: fc.nat(256),
        mechanism: fc.constant("NULL"),
        asServer: fc.constant(0),
      }),
      readyProps: fc.oneof(
        fc.constant([["Socket-Type", "PUSH"]] as Array<readonly [string, Uint8Array | string]>),
        fc
          .tuple(fc.uint8Array({ maxLength: 8 }), fc.uint8Array({ maxLength: 20 }))
          .map(([id, x]) => [["Socket-Type", "PUSH"], ["Identity", id], ["X-Fuzz", x]] as Array<readonly [string, Uint8Array | string]>),
      ),
      items: fc.array(fc.oneof({ weight: 5, arbitrary: messageArb(prefix) }, { weight: 1, arbitrary: pingArb }), {
        maxLength: 6,
      }),
    })
    .map(buildStream)
}

// ---- mutations ---------------------------------------------------------------

export type Mutation =
  | { readonly kind: "flip"; readonly at: number; readonly bit: number }
  | { readonly kind: "set"; readonly at: number; readonly value: number }
  | { readonly kind: "insert"; readonly at: number; readonly bytes: Uint8Array }
  | { readonly kind: "delete"; readonly at: number; readonly count: number }
  | { readonly kind: "truncate"; readonly at: number }
  | { readonly kind: "size"; readonly header: number; readonly value: bigint }

/** Size claims worth trying: around the short/long boundary, 4 GiB, 2^53 and 2^63. */
export const sizeClaimArb: fc.Arbitrary<bigint> = fc.oneof(
  fc.bigInt({ min: 0n, max: 300n }),
  fc.constantFrom(0xffn, 0x100n, 4095n, 4096n, 4097n, 0xffffffffn, 0x100000000n, 2n ** 53n - 1n, 2n ** 53n, 2n ** 63n, 2n ** 64n - 1n),
  fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }),
)

export const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  { weight: 3, arbitrary: fc.record({ kind: fc.constant("flip" as const), at: fc.nat(), bit: fc.nat(7) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant("set" as const), at: fc.nat(), value: fc.nat(255) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant("insert" as const), at: fc.nat(), bytes: fc.uint8Array({ minLength: 1, maxLength: 12 }) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant("delete" as const), at: fc.nat(), count: fc.integer({ min: 1, max: 12 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("truncate" as const), at: fc.nat() }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant("size" as const), header: fc.nat(), value: sizeClaimArb }) },
)

/** Applies mutations in order; size mutations use the stream's header table (before any shift). */
export function mutate(stream: ValidStream, mutations: readonly Mutation[]): Buffer {
  let bytes = Buffer.from(stream.bytes)
  const sizeFirst = [...mutations.filter((m) => m.kind === "size"), ...mutations.filter((m) => m.kind !== "size")]
  for (const m of sizeFirst) {
    const len = bytes.length
    switch (m.kind) {
      case "size": {
        const header = stream.headers[m.header % stream.headers.length]!
        if (header.long) bytes.writeBigUInt64BE(m.value, header.offset + 1)
        else bytes[header.offset + 1] = Number(m.value & 0xffn)
        break
      }
      case "flip":
        if (len > 0) bytes[m.at % len] ^= 1 << m.bit
        break
      case "set":
        if (len > 0) bytes[m.at % len] = m.value
        break
      case "insert": {
        const at = m.at % (len + 1)
        bytes = Buffer.concat([bytes.subarray(0, at), m.bytes, bytes.subarray(at)])
        break
      }
      case "delete": {
        if (len === 0) break
        const at = m.at % len
        bytes = Buffer.concat([bytes.subarray(0, at), bytes.subarray(at + m.count)])
        break
      }
      case "truncate":
        bytes = bytes.subarray(0, m.at % (len + 1))
        break
    }
  }
  return bytes
}

// ---- chunking ----------------------------------------------------------------

/** Cut points as raw numbers; `chunk()` maps them onto any length, empty chunks included. */
export const cutsArb: fc.Arbitrary<readonly number[]> = fc.oneof(
  { weight: 1, arbitrary: fc.constant([]) },
  { weight: 4, arbitrary: fc.array(fc.nat(), { maxLength: 12 }) },
  { weight: 1, arbitrary: fc.constant([-1]) }, // -1: one byte at a time
)

/** Inputs up to this size are fed one byte at a time when the cuts ask for it. */
const BYTE_BY_BYTE_MAX = 4096

export function chunk(bytes: Buffer, cuts: readonly number[]): Buffer[] {
  if (cuts.length === 1 && cuts[0] === -1) {
    // Byte by byte, except for large inputs: a read spanning n chunks costs O(n^2)
    // in ByteQueue today (see byte-queue.fuzz.test.ts), which would blow the time budget.
    const step = bytes.length <= BYTE_BY_BYTE_MAX ? 1 : Math.ceil(bytes.length / 256)
    const out: Buffer[] = []
    for (let i = 0; i < bytes.length; i += step) out.push(bytes.subarray(i, i + step))
    return out
  }
  const points = cuts.map((c) => c % (bytes.length + 1)).sort((a, b) => a - b)
  const out: Buffer[] = []
  let start = 0
  for (const p of points) {
    out.push(bytes.subarray(start, p))
    start = p
  }
  out.push(bytes.subarray(start))
  return out
}

export function hexOf(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString("hex")
}
