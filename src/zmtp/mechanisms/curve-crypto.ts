/**
 * NaCl's crypto_box and crypto_secretbox as CurveZMQ (RFC 26) uses them, on
 * audited code only: X25519 from node:crypto (OpenSSL), crypto_box_beforenm's
 * HSalsa20 from @noble/ciphers, and XSalsa20-Poly1305 boxes from libsodium's
 * WebAssembly build (curve-sodium.ts; seal and open need `loadSodium()` done).
 * A box is MAC(16) || ciphertext.
 */
import { hsalsa } from "@noble/ciphers/salsa"
import { createPrivateKey, createPublicKey, diffieHellman, generateKeyPairSync, KeyObject } from "node:crypto"
import { ZmeshError } from "../../errors.js"
import { openBox, plaintextArea, sealArea } from "./curve-sodium.js"

export { loadSodium, sodiumLoaded } from "./curve-sodium.js"

export const KEY_SIZE = 32
export const MAC_SIZE = 16

export interface KeyPair {
  readonly publicKey: Buffer
  readonly secretKey: Buffer
  /** The secret key as node:crypto takes it, imported once. */
  readonly secret: KeyObject
}

/**
 * RFC 8410's PKCS #8 wrapping of a raw X25519 private key: on Node 20 DER is
 * the one import of a raw secret that needs no public key alongside.
 */
const PKCS8_PREFIX = Buffer.from("302e020100300506032b656e04220420", "hex")

/** The X25519 base point, u = 9: X25519(secret, 9) is the public key. */
const BASE_POINT = publicKeyObject(Buffer.concat([Buffer.of(9), Buffer.alloc(31)]))

export function generateKeyPair(): KeyPair {
  const { privateKey, publicKey } = generateKeyPairSync("x25519")
  return {
    publicKey: Buffer.from(publicKey.export({ format: "jwk" }).x!, "base64url"),
    secretKey: Buffer.from(privateKey.export({ format: "jwk" }).d!, "base64url"),
    secret: privateKey,
  }
}

export function keyPairFrom(secretKey: Buffer): KeyPair {
  const secret = secretKeyObject(secretKey)
  return { publicKey: diffieHellman({ privateKey: secret, publicKey: BASE_POINT }), secretKey, secret }
}

export function publicKeyOf(secretKey: Uint8Array): Buffer {
  return permanentKeyPair(Buffer.from(secretKey)).publicKey
}

/** Permanent key pairs by secret key, so that a socket's key is imported once, not per connection. */
const permanentKeys = new Map<string, KeyPair>()
const PERMANENT_KEYS_KEPT = 8

/**
 * keyPairFrom for a socket's permanent key: OpenSSL's import of a raw secret
 * costs ~0.4 ms, the largest part of a handshake, so the last few are kept.
 */
export function permanentKeyPair(secretKey: Buffer): KeyPair {
  const id = secretKey.toString("latin1")
  let pair = permanentKeys.get(id)
  if (pair === undefined) {
    pair = keyPairFrom(Buffer.from(secretKey))
    if (permanentKeys.size >= PERMANENT_KEYS_KEPT) permanentKeys.delete(permanentKeys.keys().next().value!)
    permanentKeys.set(id, pair)
  }
  return pair
}

/** "expand 32-byte k" as little-endian words. */
const SIGMA = new Uint32Array([0x61707865, 0x3320646e, 0x79622d32, 0x6b206574])

/**
 * crypto_box_beforenm: HSalsa20 of the X25519 shared secret, the key of every
 * box between the two. Throws ERR_ZMTP_PROTOCOL for a public key of low order
 * (an all-zero shared secret), which libsodium refuses too.
 */
export function precompute(theirPublic: Uint8Array, ours: Uint8Array | KeyObject): Uint8Array {
  let shared: Buffer
  try {
    const secret = ours instanceof KeyObject ? ours : secretKeyObject(ours)
    shared = diffieHellman({ privateKey: secret, publicKey: publicKeyObject(theirPublic) })
  } catch (err) {
    throw new ZmeshError("ERR_ZMTP_PROTOCOL", "CURVE: the peer's public key is not a usable X25519 key", { cause: err })
  }
  const key = new Uint32Array(8)
  for (let i = 0; i < 8; i++) key[i] = shared.readUInt32LE(i * 4)
  const out = new Uint32Array(8)
  hsalsa(SIGMA, key, new Uint32Array(4), out)
  const bytes = Buffer.alloc(32)
  for (let i = 0; i < 8; i++) bytes.writeUInt32LE(out[i]!, i * 4)
  return bytes
}

/** crypto_secretbox (also crypto_box_afternm with a precomputed key). */
export function seal(key: Uint8Array, nonce: Uint8Array, plaintext: Uint8Array): Buffer {
  plaintextArea(plaintext.length).set(plaintext)
  return Buffer.from(sealArea(key, nonce, plaintext.length))
}

/** Opens a box; undefined when the MAC does not verify. */
export function open(key: Uint8Array, nonce: Uint8Array, box: Uint8Array): Buffer | undefined {
  const plain = openBox(key, nonce, box)
  return plain === undefined ? undefined : Buffer.from(plain)
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

function secretKeyObject(secret: Uint8Array): KeyObject {
  if (secret.length !== KEY_SIZE) throw new ZmeshError("EINVAL", `a CURVE secret key is 32 bytes, not ${secret.length}`)
  return createPrivateKey({ key: Buffer.concat([PKCS8_PREFIX, secret]), format: "der", type: "pkcs8" })
}

/** JWK is node:crypto's fast import of a raw public key (DER is several times slower on OpenSSL 3). */
function publicKeyObject(key: Uint8Array): KeyObject {
  if (key.length !== KEY_SIZE) throw new ZmeshError("EINVAL", `a CURVE public key is 32 bytes, not ${key.length}`)
  return createPublicKey({ key: { kty: "OKP", crv: "X25519", x: Buffer.from(key).toString("base64url") }, format: "jwk" })
}
