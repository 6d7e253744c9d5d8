/**
 * NaCl's crypto_box and crypto_secretbox as CurveZMQ (RFC 26) uses them,
 * on audited pure-JS primitives: X25519 from @noble/curves, HSalsa20 and
 * XSalsa20-Poly1305 from @noble/ciphers. A box is MAC(16) || ciphertext.
 */
import { hsalsa, xsalsa20poly1305 } from "@noble/ciphers/salsa"
import { x25519 } from "@noble/curves/ed25519"
import { randomBytes } from "node:crypto"

export const KEY_SIZE = 32
export const MAC_SIZE = 16

export interface KeyPair {
  readonly publicKey: Buffer
  readonly secretKey: Buffer
}

export function generateKeyPair(): KeyPair {
  return keyPairFrom(randomBytes(KEY_SIZE))
}

export function keyPairFrom(secretKey: Buffer): KeyPair {
  return { publicKey: Buffer.from(x25519.getPublicKey(secretKey)), secretKey }
}

export function publicKeyOf(secretKey: Uint8Array): Buffer {
  return Buffer.from(x25519.getPublicKey(secretKey))
}

/** "expand 32-byte k" as little-endian words. */
const SIGMA = new Uint32Array([0x61707865, 0x3320646e, 0x79622d32, 0x6b206574])

/** crypto_box_beforenm: HSalsa20 of the X25519 shared secret, the key of every box between the two. */
export function precompute(theirPublic: Uint8Array, ourSecret: Uint8Array): Uint8Array {
  const shared = x25519.getSharedSecret(ourSecret, theirPublic)
  const key = new Uint32Array(8)
  for (let i = 0; i < 8; i++) key[i] = readU32LE(shared, i * 4)
  const out = new Uint32Array(8)
  hsalsa(SIGMA, key, new Uint32Array(4), out)
  const bytes = new Uint8Array(32)
  for (let i = 0; i < 8; i++) writeU32LE(bytes, i * 4, out[i]!)
  return bytes
}

/** crypto_secretbox (also crypto_box_afternm with a precomputed key). */
export function seal(key: Uint8Array, nonce: Uint8Array, plaintext: Uint8Array): Buffer {
  const box = xsalsa20poly1305(key, nonce).encrypt(plaintext)
  return Buffer.from(box.buffer, box.byteOffset, box.byteLength)
}

/** Opens a box; undefined when the MAC does not verify. */
export function open(key: Uint8Array, nonce: Uint8Array, box: Uint8Array): Buffer | undefined {
  if (box.length < MAC_SIZE) return undefined
  try {
    const plain = xsalsa20poly1305(key, nonce).decrypt(box)
    return Buffer.from(plain.buffer, plain.byteOffset, plain.byteLength)
  } catch {
    return undefined
  }
}

/** A 24-byte nonce: a 16- or 8-byte prefix followed by the given bytes. */
export function nonce(prefix: string, tail: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(24)
  out.write(prefix, 0, "latin1")
  out.set(tail, prefix.length)
  return out
}

/** Writes a short nonce (counts stay below 2^53) as it travels: u64 big-endian. */
export function writeShortNonce(out: Buffer, at: number, value: number): void {
  out.writeUInt32BE(Math.floor(value / 0x100000000), at)
  out.writeUInt32BE(value >>> 0, at + 4)
}

/** Reads a short nonce; values past 2^53 come back as Infinity, which no counter reaches. */
export function readShortNonce(data: Buffer, at: number): number {
  const high = data.readUInt32BE(at)
  return high > 0x1fffff ? Infinity : high * 0x100000000 + data.readUInt32BE(at + 4)
}

function readU32LE(bytes: Uint8Array, at: number): number {
  return (bytes[at]! | (bytes[at + 1]! << 8) | (bytes[at + 2]! << 16) | (bytes[at + 3]! << 24)) >>> 0
}

function writeU32LE(bytes: Uint8Array, at: number, value: number): void {
  bytes[at] = value & 0xff
  bytes[at + 1] = (value >>> 8) & 0xff
  bytes[at + 2] = (value >>> 16) & 0xff
  bytes[at + 3] = value >>> 24
}
