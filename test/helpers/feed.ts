/**
 * Feeds a byte fixture to a fresh consumer in every way a stream may cut it:
 * whole, one byte at a time, and split in two at every offset. The check runs
 * on each consumer's result, so a decoder that depends on chunking fails.
 */
export interface FeedCase {
  readonly how: string
  readonly chunks: Buffer[]
}

export function feedCases(bytes: Buffer): FeedCase[] {
  const cases: FeedCase[] = [{ how: "whole", chunks: [bytes] }]
  const single: Buffer[] = []
  for (let i = 0; i < bytes.length; i++) single.push(bytes.subarray(i, i + 1))
  cases.push({ how: "byte by byte", chunks: single })
  for (let i = 1; i < bytes.length; i++) {
    cases.push({ how: `split at ${i}`, chunks: [bytes.subarray(0, i), bytes.subarray(i)] })
  }
  return cases
}

/** Runs `consume` on every feed case and `check` on each result, naming the case on failure. */
export function forEveryFeed<T>(bytes: Buffer, consume: (chunks: Buffer[]) => T, check: (result: T) => void): void {
  for (const { how, chunks } of feedCases(bytes)) {
    let result: T
    try {
      result = consume(chunks)
      check(result)
    } catch (err) {
      throw new Error(`fed ${how}: ${(err as Error).message}`, { cause: err })
    }
  }
}

/** Hex with spaces and newlines allowed, for readable fixtures. */
export function hex(text: string): Buffer {
  return Buffer.from(text.replace(/\s+/g, ""), "hex")
}
