/**
 * A benchmark candidate (see message-box.ts). Salsa20/20 and HSalsa20
 * (Bernstein, "Salsa20 specification" and "Extending the Salsa20 nonce"), the
 * stream half of CURVE's MESSAGE boxes, working in place on caller-owned
 * buffers with no allocation per block.
 *
 * Proven equal to @noble/ciphers' salsa20/hsalsa and to libsodium's vectors in
 * test/unit/zmtp/curve-candidate.test.ts. Words are read little-endian: the
 * aligned fast path reads them through an Int32Array, so it is only taken on
 * little-endian hosts; elsewhere every block goes through the byte path.
 */

/** "expand 32-byte k" as little-endian words. */
const SIGMA0 = 0x61707865
const SIGMA1 = 0x3320646e
const SIGMA2 = 0x79622d32
const SIGMA3 = 0x6b206574

/** True where an Int32Array reads bytes little-endian (every platform Node ships for but s390x). */
export const LITTLE_ENDIAN = new Uint8Array(new Int32Array([1]).buffer)[0] === 1

/** One keystream block, for partial blocks and unaligned data. */
const scratch = new Int32Array(16)
const scratchBytes = new Uint8Array(scratch.buffer)

/** Reads a little-endian 32-bit word as an int32. */
export function readWord(bytes: Uint8Array, at: number): number {
  return bytes[at]! | (bytes[at + 1]! << 8) | (bytes[at + 2]! << 16) | (bytes[at + 3]! << 24)
}

/**
 * HSalsa20: 32 bytes of key and 16 of input to 8 words of subkey (the
 * XSalsa20 key for nonces that start with `input`; with a zero input, NaCl's
 * crypto_box_beforenm of an X25519 shared secret).
 */
export function hsalsa20(key: Uint8Array, input: Uint8Array, out: Int32Array): void {
  let x0 = SIGMA0, x1 = readWord(key, 0), x2 = readWord(key, 4), x3 = readWord(key, 8)
  let x4 = readWord(key, 12), x5 = SIGMA1, x6 = readWord(input, 0), x7 = readWord(input, 4)
  let x8 = readWord(input, 8), x9 = readWord(input, 12), x10 = SIGMA2, x11 = readWord(key, 16)
  let x12 = readWord(key, 20), x13 = readWord(key, 24), x14 = readWord(key, 28), x15 = SIGMA3
  let t = 0
  for (let i = 0; i < 10; i++) {
    // Column round.
    t = (x0 + x12) | 0; x4 ^= (t << 7) | (t >>> 25)
    t = (x4 + x0) | 0; x8 ^= (t << 9) | (t >>> 23)
    t = (x8 + x4) | 0; x12 ^= (t << 13) | (t >>> 19)
    t = (x12 + x8) | 0; x0 ^= (t << 18) | (t >>> 14)
    t = (x5 + x1) | 0; x9 ^= (t << 7) | (t >>> 25)
    t = (x9 + x5) | 0; x13 ^= (t << 9) | (t >>> 23)
    t = (x13 + x9) | 0; x1 ^= (t << 13) | (t >>> 19)
    t = (x1 + x13) | 0; x5 ^= (t << 18) | (t >>> 14)
    t = (x10 + x6) | 0; x14 ^= (t << 7) | (t >>> 25)
    t = (x14 + x10) | 0; x2 ^= (t << 9) | (t >>> 23)
    t = (x2 + x14) | 0; x6 ^= (t << 13) | (t >>> 19)
    t = (x6 + x2) | 0; x10 ^= (t << 18) | (t >>> 14)
    t = (x15 + x11) | 0; x3 ^= (t << 7) | (t >>> 25)
    t = (x3 + x15) | 0; x7 ^= (t << 9) | (t >>> 23)
    t = (x7 + x3) | 0; x11 ^= (t << 13) | (t >>> 19)
    t = (x11 + x7) | 0; x15 ^= (t << 18) | (t >>> 14)
    // Row round.
    t = (x0 + x3) | 0; x1 ^= (t << 7) | (t >>> 25)
    t = (x1 + x0) | 0; x2 ^= (t << 9) | (t >>> 23)
    t = (x2 + x1) | 0; x3 ^= (t << 13) | (t >>> 19)
    t = (x3 + x2) | 0; x0 ^= (t << 18) | (t >>> 14)
    t = (x5 + x4) | 0; x6 ^= (t << 7) | (t >>> 25)
    t = (x6 + x5) | 0; x7 ^= (t << 9) | (t >>> 23)
    t = (x7 + x6) | 0; x4 ^= (t << 13) | (t >>> 19)
    t = (x4 + x7) | 0; x5 ^= (t << 18) | (t >>> 14)
    t = (x10 + x9) | 0; x11 ^= (t << 7) | (t >>> 25)
    t = (x11 + x10) | 0; x8 ^= (t << 9) | (t >>> 23)
    t = (x8 + x11) | 0; x9 ^= (t << 13) | (t >>> 19)
    t = (x9 + x8) | 0; x10 ^= (t << 18) | (t >>> 14)
    t = (x15 + x14) | 0; x12 ^= (t << 7) | (t >>> 25)
    t = (x12 + x15) | 0; x13 ^= (t << 9) | (t >>> 23)
    t = (x13 + x12) | 0; x14 ^= (t << 13) | (t >>> 19)
    t = (x14 + x13) | 0; x15 ^= (t << 18) | (t >>> 14)
  }
  out[0] = x0; out[1] = x5; out[2] = x10; out[3] = x15
  out[4] = x6; out[5] = x7; out[6] = x8; out[7] = x9
}

/**
 * XORs `blocks` consecutive Salsa20 blocks of (key, nonce n0 n1), starting at
 * block number `counter`, into `words` from index `at` (16 words a block).
 * With zeroed words this writes the keystream itself.
 */
export function salsa20XorBlocks(
  key: Int32Array, n0: number, n1: number, counter: number, words: Int32Array, at: number, blocks: number,
): void {
  const k0 = key[0]!, k1 = key[1]!, k2 = key[2]!, k3 = key[3]!, k4 = key[4]!, k5 = key[5]!, k6 = key[6]!, k7 = key[7]!
  let lo = counter >>> 0
  let hi = Math.floor(counter / 0x100000000) | 0
  for (let b = 0; b < blocks; b++, at += 16) {
    let x0 = SIGMA0, x1 = k0, x2 = k1, x3 = k2, x4 = k3, x5 = SIGMA1, x6 = n0, x7 = n1
    let x8 = lo | 0, x9 = hi, x10 = SIGMA2, x11 = k4, x12 = k5, x13 = k6, x14 = k7, x15 = SIGMA3
    let t = 0
    for (let i = 0; i < 10; i++) {
      t = (x0 + x12) | 0; x4 ^= (t << 7) | (t >>> 25)
      t = (x4 + x0) | 0; x8 ^= (t << 9) | (t >>> 23)
      t = (x8 + x4) | 0; x12 ^= (t << 13) | (t >>> 19)
      t = (x12 + x8) | 0; x0 ^= (t << 18) | (t >>> 14)
      t = (x5 + x1) | 0; x9 ^= (t << 7) | (t >>> 25)
      t = (x9 + x5) | 0; x13 ^= (t << 9) | (t >>> 23)
      t = (x13 + x9) | 0; x1 ^= (t << 13) | (t >>> 19)
      t = (x1 + x13) | 0; x5 ^= (t << 18) | (t >>> 14)
      t = (x10 + x6) | 0; x14 ^= (t << 7) | (t >>> 25)
      t = (x14 + x10) | 0; x2 ^= (t << 9) | (t >>> 23)
      t = (x2 + x14) | 0; x6 ^= (t << 13) | (t >>> 19)
      t = (x6 + x2) | 0; x10 ^= (t << 18) | (t >>> 14)
      t = (x15 + x11) | 0; x3 ^= (t << 7) | (t >>> 25)
      t = (x3 + x15) | 0; x7 ^= (t << 9) | (t >>> 23)
      t = (x7 + x3) | 0; x11 ^= (t << 13) | (t >>> 19)
      t = (x11 + x7) | 0; x15 ^= (t << 18) | (t >>> 14)
      t = (x0 + x3) | 0; x1 ^= (t << 7) | (t >>> 25)
      t = (x1 + x0) | 0; x2 ^= (t << 9) | (t >>> 23)
      t = (x2 + x1) | 0; x3 ^= (t << 13) | (t >>> 19)
      t = (x3 + x2) | 0; x0 ^= (t << 18) | (t >>> 14)
      t = (x5 + x4) | 0; x6 ^= (t << 7) | (t >>> 25)
      t = (x6 + x5) | 0; x7 ^= (t << 9) | (t >>> 23)
      t = (x7 + x6) | 0; x4 ^= (t << 13) | (t >>> 19)
      t = (x4 + x7) | 0; x5 ^= (t << 18) | (t >>> 14)
      t = (x10 + x9) | 0; x11 ^= (t << 7) | (t >>> 25)
      t = (x11 + x10) | 0; x8 ^= (t << 9) | (t >>> 23)
      t = (x8 + x11) | 0; x9 ^= (t << 13) | (t >>> 19)
      t = (x9 + x8) | 0; x10 ^= (t << 18) | (t >>> 14)
      t = (x15 + x14) | 0; x12 ^= (t << 7) | (t >>> 25)
      t = (x12 + x15) | 0; x13 ^= (t << 9) | (t >>> 23)
      t = (x13 + x12) | 0; x14 ^= (t << 13) | (t >>> 19)
      t = (x14 + x13) | 0; x15 ^= (t << 18) | (t >>> 14)
    }
    words[at] ^= (x0 + SIGMA0) | 0
    words[at + 1] ^= (x1 + k0) | 0
    words[at + 2] ^= (x2 + k1) | 0
    words[at + 3] ^= (x3 + k2) | 0
    words[at + 4] ^= (x4 + k3) | 0
    words[at + 5] ^= (x5 + SIGMA1) | 0
    words[at + 6] ^= (x6 + n0) | 0
    words[at + 7] ^= (x7 + n1) | 0
    words[at + 8] ^= (x8 + lo) | 0
    words[at + 9] ^= (x9 + hi) | 0
    words[at + 10] ^= (x10 + SIGMA2) | 0
    words[at + 11] ^= (x11 + k4) | 0
    words[at + 12] ^= (x12 + k5) | 0
    words[at + 13] ^= (x13 + k6) | 0
    words[at + 14] ^= (x14 + k7) | 0
    words[at + 15] ^= (x15 + SIGMA3) | 0
    lo = (lo + 1) >>> 0
    if (lo === 0) hi = (hi + 1) | 0
  }
}

/** Writes keystream block number `counter` into `out` (16 words). */
export function salsa20Block(key: Int32Array, n0: number, n1: number, counter: number, out: Int32Array): void {
  out.fill(0)
  salsa20XorBlocks(key, n0, n1, counter, out, 0, 1)
}

/**
 * XORs the Salsa20 keystream of (key, n0 n1), from stream byte `position`
 * on, into data[at, at + length) in place. Whole blocks whose bytes are
 * 4-aligned in memory are done a word at a time; the rest byte by byte.
 */
export function salsa20Xor(
  key: Int32Array, n0: number, n1: number, data: Uint8Array, at: number, length: number, position: number,
): void {
  let counter = Math.floor(position / 64)
  let skip = position % 64
  const end = at + length
  while (at < end) {
    const address = data.byteOffset + at
    if (skip === 0 && end - at >= 64 && LITTLE_ENDIAN && address % 4 === 0) {
      const blocks = (end - at) >>> 6
      salsa20XorBlocks(key, n0, n1, counter, new Int32Array(data.buffer, address, blocks * 16), 0, blocks)
      counter += blocks
      at += blocks * 64
      continue
    }
    salsa20Block(key, n0, n1, counter, scratch)
    if (!LITTLE_ENDIAN) swapWords(scratch)
    const stop = Math.min(end, at + 64 - skip)
    for (let i = skip; at < stop; i++, at++) data[at] ^= scratchBytes[i]!
    counter++
    skip = 0
  }
}

/** Makes the bytes of each word little-endian in memory on a big-endian host. */
export function swapWords(words: Int32Array): void {
  for (let i = 0; i < words.length; i++) {
    const w = words[i]!
    words[i] = ((w & 0xff) << 24) | ((w & 0xff00) << 8) | ((w >>> 8) & 0xff00) | (w >>> 24)
  }
}
