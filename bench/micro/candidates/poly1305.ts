/**
 * A benchmark candidate (see message-box.ts). Poly1305 (RFC 8439 section
 * 2.5), the MAC of CURVE's boxes, over a region of a caller's buffer with no
 * allocation per call.
 *
 * Numbers mod p = 2^130 - 5 are six 22-bit limbs held in float64s: limb i
 * weighs 2^(22i), and 2^132 = 4 * 2^130 = 20 mod p, so a product limb past the
 * sixth folds back times 20. Whole blocks go two at a time,
 * h = (h + m1) * r^2 + m2 * r, which halves the carrying. Bounds, with limbs
 * below 2^22 + 2^13 after each carry: h + m < 2^23.01, r and r^2 limbs below
 * 2^22.01 (r's top limb below 2^14 from the clamp), times 20 below 2^26.33;
 * each output limb sums at most six products of h + m (< 2^51.67) and six of
 * m2 * r (< 2^50.0), so below 2^52 and exact in a double (the usual 26-bit
 * limbs would need exact 64-bit products). A carry is then below 2^30.
 * Proven equal to RFC 8439's vectors and to @noble/ciphers' poly1305 in
 * test/unit/zmtp/curve-candidate.test.ts.
 */
import { LITTLE_ENDIAN, readWord } from "./salsa20.js"

const M22 = 0x3fffff
const TWO22 = 4194304
const INV22 = 1 / 4194304
const TWO32 = 4294967296
/** 2^128, the bit above every whole block, in the top limb (bits 110 and up). */
const HIBIT = 1 << 18

/** The accumulator between the two-block loop and single blocks. */
const h = new Float64Array(6)
/** r then 20r, and r^2 then 20r^2, as limbs. */
const r = new Float64Array(12)
const rr = new Float64Array(12)
/** Unaligned input, copied in 4 KiB at a time so the loop always reads words. */
const CHUNK_WORDS = 1024
const aligned = new Int32Array(CHUNK_WORDS)
const alignedBytes = new Uint8Array(aligned.buffer)

/** Copies data[from, from + n) into `aligned`, as little-endian words on any host. */
function fill(data: Uint8Array, from: number, n: number): void {
  if (LITTLE_ENDIAN) {
    alignedBytes.set(data.subarray(from, from + n))
  } else {
    for (let k = 0; k < n; k += 4) aligned[k >>> 2] = readWord(data, from + k)
  }
}

/** A block as four words (the partial last one with its 0x01 pad byte). */
const block = new Int32Array(4)
const pad = new Uint8Array(16)

/**
 * Writes the 16-byte Poly1305 tag of data[at, at + length) under the
 * one-time key key[keyAt .. keyAt + 8) (r then s, as little-endian words)
 * to tag[tagAt .. tagAt + 16).
 */
export function poly1305(
  key: Int32Array, keyAt: number, data: Uint8Array, at: number, length: number, tag: Uint8Array, tagAt: number,
): void {
  clampedR(key, keyAt)
  h.fill(0)
  const full = length >>> 4
  let i = 0
  if (full >= 2) {
    square()
    i = pairs(data, at, full)
  }
  if (i < full) {
    const p = at + (i << 4)
    block[0] = readWord(data, p)
    block[1] = readWord(data, p + 4)
    block[2] = readWord(data, p + 8)
    block[3] = readWord(data, p + 12)
    single(HIBIT)
  }
  const rest = length & 15
  if (rest !== 0) {
    const p = at + (full << 4)
    pad.fill(0)
    for (let k = 0; k < rest; k++) pad[k] = data[p + k]!
    pad[rest] = 1
    block[0] = readWord(pad, 0)
    block[1] = readWord(pad, 4)
    block[2] = readWord(pad, 8)
    block[3] = readWord(pad, 12)
    single(0)
  }
  finish(key, keyAt, tag, tagAt)
}

/** r with the clamp of RFC 8439 (r &= 0x0ffffffc0ffffffc0ffffffc0fffffff), into `r`. */
function clampedR(key: Int32Array, keyAt: number): void {
  const t0 = key[keyAt]! & 0x0fffffff
  const t1 = key[keyAt + 1]! & 0x0ffffffc
  const t2 = key[keyAt + 2]! & 0x0ffffffc
  const t3 = key[keyAt + 3]! & 0x0ffffffc
  r[0] = t0 & M22
  r[1] = ((t0 >>> 22) | (t1 << 10)) & M22
  r[2] = ((t1 >>> 12) | (t2 << 20)) & M22
  r[3] = (t2 >>> 2) & M22
  r[4] = ((t2 >>> 24) | (t3 << 8)) & M22
  r[5] = t3 >>> 14
  for (let k = 1; k < 6; k++) r[6 + k] = r[k]! * 20
}

/** r^2 mod p into `rr`, carried three times so every limb is below 2^22 + 2^13. */
function square(): void {
  const r0 = r[0]!, r1 = r[1]!, r2 = r[2]!, r3 = r[3]!, r4 = r[4]!, r5 = r[5]!
  const s1 = r[7]!, s2 = r[8]!, s3 = r[9]!, s4 = r[10]!, s5 = r[11]!
  let d0 = r0 * r0 + r1 * s5 + r2 * s4 + r3 * s3 + r4 * s2 + r5 * s1
  let d1 = r0 * r1 + r1 * r0 + r2 * s5 + r3 * s4 + r4 * s3 + r5 * s2
  let d2 = r0 * r2 + r1 * r1 + r2 * r0 + r3 * s5 + r4 * s4 + r5 * s3
  let d3 = r0 * r3 + r1 * r2 + r2 * r1 + r3 * r0 + r4 * s5 + r5 * s4
  let d4 = r0 * r4 + r1 * r3 + r2 * r2 + r3 * r1 + r4 * r0 + r5 * s5
  let d5 = r0 * r5 + r1 * r4 + r2 * r3 + r3 * r2 + r4 * r1 + r5 * r0
  for (let k = 0; k < 3; k++) {
    const c0 = Math.floor(d0 * INV22), c1 = Math.floor(d1 * INV22), c2 = Math.floor(d2 * INV22)
    const c3 = Math.floor(d3 * INV22), c4 = Math.floor(d4 * INV22), c5 = Math.floor(d5 * INV22)
    d0 = d0 - c0 * TWO22 + c5 * 20
    d1 = d1 - c1 * TWO22 + c0
    d2 = d2 - c2 * TWO22 + c1
    d3 = d3 - c3 * TWO22 + c2
    d4 = d4 - c4 * TWO22 + c3
    d5 = d5 - c5 * TWO22 + c4
  }
  rr[0] = d0; rr[1] = d1; rr[2] = d2; rr[3] = d3; rr[4] = d4; rr[5] = d5
  for (let k = 1; k < 6; k++) rr[6 + k] = rr[k]! * 20
}

/**
 * The whole blocks two at a time, h = (h + m1) * r^2 + m2 * r, from the
 * accumulator `h` and back; returns how many blocks it took (an even count).
 */
function pairs(data: Uint8Array, at: number, full: number): number {
  const r0 = r[0]!, r1 = r[1]!, r2 = r[2]!, r3 = r[3]!, r4 = r[4]!, r5 = r[5]!
  const s1 = r[7]!, s2 = r[8]!, s3 = r[9]!, s4 = r[10]!, s5 = r[11]!
  const u0 = rr[0]!, u1 = rr[1]!, u2 = rr[2]!, u3 = rr[3]!, u4 = rr[4]!, u5 = rr[5]!
  const v1 = rr[7]!, v2 = rr[8]!, v3 = rr[9]!, v4 = rr[10]!, v5 = rr[11]!
  let h0 = h[0]!, h1 = h[1]!, h2 = h[2]!, h3 = h[3]!, h4 = h[4]!, h5 = h[5]!
  const count = full & ~1
  const address = data.byteOffset + at
  // Aligned data is read a word at a time; anything else is first copied, 4 KiB at a time, into `aligned`.
  const direct = LITTLE_ENDIAN && address % 4 === 0
  const words = direct ? new Int32Array(data.buffer, address, count * 4) : aligned
  for (let i = 0; i < count; i += 2) {
    let j = i << 2
    if (!direct) {
      j &= CHUNK_WORDS - 1
      if (j === 0) fill(data, at + (i << 4), Math.min(CHUNK_WORDS * 4, (count - i) << 4))
    }
    const w0 = words[j]!, w1 = words[j + 1]!, w2 = words[j + 2]!, w3 = words[j + 3]!
    const w4 = words[j + 4]!, w5 = words[j + 5]!, w6 = words[j + 6]!, w7 = words[j + 7]!
    h0 += w0 & M22
    h1 += ((w0 >>> 22) | (w1 << 10)) & M22
    h2 += ((w1 >>> 12) | (w2 << 20)) & M22
    h3 += (w2 >>> 2) & M22
    h4 += ((w2 >>> 24) | (w3 << 8)) & M22
    h5 += (w3 >>> 14) | HIBIT
    const m0 = w4 & M22
    const m1 = ((w4 >>> 22) | (w5 << 10)) & M22
    const m2 = ((w5 >>> 12) | (w6 << 20)) & M22
    const m3 = (w6 >>> 2) & M22
    const m4 = ((w6 >>> 24) | (w7 << 8)) & M22
    const m5 = (w7 >>> 14) | HIBIT
    let d0 = h0 * u0 + h1 * v5 + h2 * v4 + h3 * v3 + h4 * v2 + h5 * v1 + m0 * r0 + m1 * s5 + m2 * s4 + m3 * s3 + m4 * s2 + m5 * s1
    let d1 = h0 * u1 + h1 * u0 + h2 * v5 + h3 * v4 + h4 * v3 + h5 * v2 + m0 * r1 + m1 * r0 + m2 * s5 + m3 * s4 + m4 * s3 + m5 * s2
    let d2 = h0 * u2 + h1 * u1 + h2 * u0 + h3 * v5 + h4 * v4 + h5 * v3 + m0 * r2 + m1 * r1 + m2 * r0 + m3 * s5 + m4 * s4 + m5 * s3
    let d3 = h0 * u3 + h1 * u2 + h2 * u1 + h3 * u0 + h4 * v5 + h5 * v4 + m0 * r3 + m1 * r2 + m2 * r1 + m3 * r0 + m4 * s5 + m5 * s4
    let d4 = h0 * u4 + h1 * u3 + h2 * u2 + h3 * u1 + h4 * u0 + h5 * v5 + m0 * r4 + m1 * r3 + m2 * r2 + m3 * r1 + m4 * r0 + m5 * s5
    let d5 = h0 * u5 + h1 * u4 + h2 * u3 + h3 * u2 + h4 * u1 + h5 * u0 + m0 * r5 + m1 * r4 + m2 * r3 + m3 * r2 + m4 * r1 + m5 * r0
    // Two rounds of independent carries (a serial chain would be seven steps long).
    let c0 = Math.floor(d0 * INV22), c1 = Math.floor(d1 * INV22), c2 = Math.floor(d2 * INV22)
    let c3 = Math.floor(d3 * INV22), c4 = Math.floor(d4 * INV22), c5 = Math.floor(d5 * INV22)
    d0 = d0 - c0 * TWO22 + c5 * 20
    d1 = d1 - c1 * TWO22 + c0
    d2 = d2 - c2 * TWO22 + c1
    d3 = d3 - c3 * TWO22 + c2
    d4 = d4 - c4 * TWO22 + c3
    d5 = d5 - c5 * TWO22 + c4
    c0 = Math.floor(d0 * INV22); c1 = Math.floor(d1 * INV22); c2 = Math.floor(d2 * INV22)
    c3 = Math.floor(d3 * INV22); c4 = Math.floor(d4 * INV22); c5 = Math.floor(d5 * INV22)
    h0 = d0 - c0 * TWO22 + c5 * 20
    h1 = d1 - c1 * TWO22 + c0
    h2 = d2 - c2 * TWO22 + c1
    h3 = d3 - c3 * TWO22 + c2
    h4 = d4 - c4 * TWO22 + c3
    h5 = d5 - c5 * TWO22 + c4
  }
  h[0] = h0; h[1] = h1; h[2] = h2; h[3] = h3; h[4] = h4; h[5] = h5
  return count
}

/** One block from `block`, h = (h + m) * r, with `top` as the block's bit 128. */
function single(top: number): void {
  const w0 = block[0]!, w1 = block[1]!, w2 = block[2]!, w3 = block[3]!
  const h0 = h[0]! + (w0 & M22)
  const h1 = h[1]! + (((w0 >>> 22) | (w1 << 10)) & M22)
  const h2 = h[2]! + (((w1 >>> 12) | (w2 << 20)) & M22)
  const h3 = h[3]! + ((w2 >>> 2) & M22)
  const h4 = h[4]! + (((w2 >>> 24) | (w3 << 8)) & M22)
  const h5 = h[5]! + ((w3 >>> 14) | top)
  const r0 = r[0]!, r1 = r[1]!, r2 = r[2]!, r3 = r[3]!, r4 = r[4]!, r5 = r[5]!
  const s1 = r[7]!, s2 = r[8]!, s3 = r[9]!, s4 = r[10]!, s5 = r[11]!
  let d0 = h0 * r0 + h1 * s5 + h2 * s4 + h3 * s3 + h4 * s2 + h5 * s1
  let d1 = h0 * r1 + h1 * r0 + h2 * s5 + h3 * s4 + h4 * s3 + h5 * s2
  let d2 = h0 * r2 + h1 * r1 + h2 * r0 + h3 * s5 + h4 * s4 + h5 * s3
  let d3 = h0 * r3 + h1 * r2 + h2 * r1 + h3 * r0 + h4 * s5 + h5 * s4
  let d4 = h0 * r4 + h1 * r3 + h2 * r2 + h3 * r1 + h4 * r0 + h5 * s5
  let d5 = h0 * r5 + h1 * r4 + h2 * r3 + h3 * r2 + h4 * r1 + h5 * r0
  for (let k = 0; k < 2; k++) {
    const c0 = Math.floor(d0 * INV22), c1 = Math.floor(d1 * INV22), c2 = Math.floor(d2 * INV22)
    const c3 = Math.floor(d3 * INV22), c4 = Math.floor(d4 * INV22), c5 = Math.floor(d5 * INV22)
    d0 = d0 - c0 * TWO22 + c5 * 20
    d1 = d1 - c1 * TWO22 + c0
    d2 = d2 - c2 * TWO22 + c1
    d3 = d3 - c3 * TWO22 + c2
    d4 = d4 - c4 * TWO22 + c3
    d5 = d5 - c5 * TWO22 + c4
  }
  h[0] = d0; h[1] = d1; h[2] = d2; h[3] = d3; h[4] = d4; h[5] = d5
}

/** Reduces h mod p fully, adds s mod 2^128 and writes the tag. */
function finish(key: Int32Array, keyAt: number, tag: Uint8Array, tagAt: number): void {
  let h0 = h[0]!, h1 = h[1]!, h2 = h[2]!, h3 = h[3]!, h4 = h[4]!, h5 = h[5]!
  // Every limb below 2^22 but the top one, then bits 130 and up fold back times 5.
  let c = Math.floor(h0 * INV22); h0 -= c * TWO22; h1 += c
  c = Math.floor(h1 * INV22); h1 -= c * TWO22; h2 += c
  c = Math.floor(h2 * INV22); h2 -= c * TWO22; h3 += c
  c = Math.floor(h3 * INV22); h3 -= c * TWO22; h4 += c
  c = Math.floor(h4 * INV22); h4 -= c * TWO22; h5 += c
  c = Math.floor(h5 / 1048576); h5 -= c * 1048576; h0 += c * 5
  c = Math.floor(h0 * INV22); h0 -= c * TWO22; h1 += c
  c = Math.floor(h1 * INV22); h1 -= c * TWO22; h2 += c
  c = Math.floor(h2 * INV22); h2 -= c * TWO22; h3 += c
  c = Math.floor(h3 * INV22); h3 -= c * TWO22; h4 += c
  c = Math.floor(h4 * INV22); h4 -= c * TWO22; h5 += c
  // Now h < 2^130 + 40 < 2p: subtract p once if h + 5 reaches 2^130, without branching on h.
  let a0 = h0 | 0, a1 = h1 | 0, a2 = h2 | 0, a3 = h3 | 0, a4 = h4 | 0, a5 = h5 | 0
  let g0 = a0 + 5
  let g1 = a1 + (g0 >>> 22); g0 &= M22
  let g2 = a2 + (g1 >>> 22); g1 &= M22
  let g3 = a3 + (g2 >>> 22); g2 &= M22
  let g4 = a4 + (g3 >>> 22); g3 &= M22
  let g5 = a5 + (g4 >>> 22); g4 &= M22
  const use = -(g5 >>> 20) // -1 when h + 5 >= 2^130, else 0
  g5 &= 0xfffff
  a0 = (a0 & ~use) | (g0 & use)
  a1 = (a1 & ~use) | (g1 & use)
  a2 = (a2 & ~use) | (g2 & use)
  a3 = (a3 & ~use) | (g3 & use)
  a4 = (a4 & ~use) | (g4 & use)
  a5 = (a5 & ~use) | (g5 & use)
  // h mod 2^128 as four words, plus s.
  let f = ((a0 | (a1 << 22)) >>> 0) + (key[keyAt + 4]! >>> 0)
  writeWord(tag, tagAt, f)
  f = (((a1 >>> 10) | (a2 << 12)) >>> 0) + (key[keyAt + 5]! >>> 0) + ((f / TWO32) | 0)
  writeWord(tag, tagAt + 4, f)
  f = (((a2 >>> 20) | (a3 << 2) | (a4 << 24)) >>> 0) + (key[keyAt + 6]! >>> 0) + ((f / TWO32) | 0)
  writeWord(tag, tagAt + 8, f)
  f = (((a4 >>> 8) | (a5 << 14)) >>> 0) + (key[keyAt + 7]! >>> 0) + ((f / TWO32) | 0)
  writeWord(tag, tagAt + 12, f)
}

function writeWord(bytes: Uint8Array, at: number, value: number): void {
  bytes[at] = value & 0xff
  bytes[at + 1] = (value >>> 8) & 0xff
  bytes[at + 2] = (value >>> 16) & 0xff
  bytes[at + 3] = (value >>> 24) & 0xff
}
