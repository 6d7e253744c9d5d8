/**
 * Drives a FrameDecoder over chunks and lists every contract breach, and
 * generates what it is fed: random bytes, plausible frames with honest or
 * lying sizes, and mutations of those (shared by the fuzz tests and
 * bench/fuzz).
 */
import fc from "fast-check"
import { ZmeshError } from "../../src/errors.js"
import { FrameDecoder } from "../../src/zmtp/frame-decoder.js"
import { mutate, mutationArb, sizeClaimArb, type ValidStream } from "./streams.js"

export const DECODER_CODES = new Set(["ERR_ZMTP_PROTOCOL", "ERR_MESSAGE_TOO_LARGE"])

export interface Decoded {
  readonly frames: Array<{ flags: number; body: string }>
  /** The code of the error `next()` threw, if it threw one. */
  readonly error: string | undefined
  readonly problems: string[]
}

/** Pushes chunks and drains `next()` after each, stopping at the first error. */
export function decode(chunks: readonly Buffer[], maxFrameSize: number): Decoded {
  const dec = new FrameDecoder(maxFrameSize)
  const frames: Array<{ flags: number; body: string }> = []
  const problems: string[] = []
  for (const c of chunks) {
    dec.push(c)
    try {
      while (dec.next()) {
        if (maxFrameSize >= 0 && dec.body.length > maxFrameSize) {
          problems.push(`body of ${dec.body.length} bytes over maxFrameSize ${maxFrameSize}`)
        }
        if ((dec.flags & 0xf8) !== 0) problems.push(`returned reserved flags 0x${dec.flags.toString(16)}`)
        frames.push({ flags: dec.flags, body: dec.body.toString("hex") })
      }
    } catch (err) {
      if (!(err instanceof ZmeshError)) problems.push(`threw a non-ZmeshError: ${(err as Error)?.stack ?? String(err)}`)
      else if (!DECODER_CODES.has(err.code)) problems.push(`threw code ${err.code}`)
      return { frames, error: err instanceof ZmeshError ? err.code : "non-ZmeshError", problems }
    }
  }
  return { frames, error: undefined, problems }
}

/** Frames with plausible flags and honest or lying size fields: gets past the flags check far more than random bytes. */
export const frameSoupArb: fc.Arbitrary<Buffer> = fc
  .array(
    fc.record({
      flags: fc.oneof({ weight: 8, arbitrary: fc.nat(7) }, { weight: 1, arbitrary: fc.nat(255) }),
      size: fc.option(sizeClaimArb, { freq: 3 }),
      body: fc.uint8Array({ maxLength: 300 }),
    }),
    { maxLength: 8 },
  )
  .map((frames) =>
    Buffer.concat(
      frames.map(({ flags, size, body }) => {
        const claim = size ?? BigInt(body.length)
        if ((flags & 0x02) !== 0) {
          const head = Buffer.allocUnsafe(9)
          head[0] = flags
          head.writeBigUInt64BE(claim & 0xffffffffffffffffn, 1)
          return Buffer.concat([head, body])
        }
        return Buffer.concat([Buffer.from([flags, Number(claim & 0xffn)]), body])
      }),
    ),
  )

/** Mutations apply to a stream with no header table, so size mutations fall back to byte edits. */
const soupStream = (bytes: Buffer): ValidStream => ({ bytes, headers: [{ offset: 0, long: false }], readySize: 0, items: [] })

export const decoderBytesArb: fc.Arbitrary<Buffer> = fc.oneof(
  fc.uint8Array({ maxLength: 600 }).map((b) => Buffer.from(b)),
  frameSoupArb,
  fc
    .tuple(frameSoupArb, fc.array(mutationArb, { maxLength: 4 }))
    .map(([bytes, ms]) => (bytes.length < 2 ? bytes : mutate(soupStream(bytes), ms))),
)
