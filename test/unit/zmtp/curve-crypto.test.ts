/**
 * CURVE's crypto on its production primitives (X25519 from node:crypto,
 * HSalsa20 from @noble/ciphers, boxes from libsodium's WebAssembly build)
 * against published vectors (RFC 7748, NaCl's box and secretbox tests) and,
 * bit for bit, against @noble/curves and @noble/ciphers as oracles on random
 * keys, nonces and lengths 0..70000.
 */
import { xsalsa20poly1305 } from "@noble/ciphers/salsa"
import { hsalsa } from "@noble/ciphers/salsa"
import { x25519 } from "@noble/curves/ed25519"
import fc from "fast-check"
import { beforeAll, describe, expect, it } from "vitest"
import { ZmeshError } from "../../../src/errors.js"
import {
  generateKeyPair,
  keyPairFrom,
  loadSodium,
  open,
  precompute,
  publicKeyOf,
  seal,
} from "../../../src/zmtp/mechanisms/curve-crypto.js"
import { openBox, plaintextArea, sealArea } from "../../../src/zmtp/mechanisms/curve-sodium.js"

beforeAll(() => loadSodium())

const hex = (text: string) => Buffer.from(text.replace(/\s+/g, ""), "hex")

/** RFC 7748 section 6.1, and NaCl's tests/box.c and secretbox.c built on the same two keys. */
const ALICE_SECRET = hex("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a")
const ALICE_PUBLIC = hex("8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a")
const BOB_SECRET = hex("5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb")
const BOB_PUBLIC = hex("de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f")
/** crypto_box_beforenm(Bob's public, Alice's secret): HSalsa20 of their shared secret (NaCl's firstkey). */
const FIRSTKEY = hex("1b27556473e985d462cd51197a9a46c76009549eac6474f206c4ee0844f68389")
const NONCE = hex("69696ee955b62b73cd62bda875fc73d68219e0036b7a0b37")
const PLAIN = hex(`
  be075fc53c81f2d5cf141316ebeb0c7b5228c52a4c62cbd44b66849b64244ffce5ecbaaf33bd751a1ac728d45e6c61296cdc3c01
  233561f41db66cce314adb310e3be8250c46f06dceea3a7fa1348057e2f6556ad6b1318a024a838f21af1fde048977eb48f59ffd
  4924ca1c60902e52f0a089bc76897040e082f9377638486 45e0705`)
/** MAC, then ciphertext. */
const BOX = hex(`
  f3ffc7703f9400e52a7dfb4b3d3305d9
  8e993b9f48681273c29650ba32fc76ce48332ea7164d96a4476fb8c531a1186ac0dfc17c98dce87b4da7f011ec48c97271d2c20f
  9b928fe2270d6fb863d51738b48eeee314a7cc8ab932164548e526ae90224368517acfeabd6bb3732bc0e9da99832b61ca01b6de
  56244a9e88d5f9b37973f622a43d14a6599b1f654cb45a74e355a5`)

/** crypto_box_beforenm by the oracle: noble's X25519, then noble's HSalsa20. */
function nobleBeforenm(theirPublic: Uint8Array, ourSecret: Uint8Array): Buffer {
  const shared = Buffer.from(x25519.getSharedSecret(ourSecret, theirPublic))
  const key = new Uint32Array(8)
  for (let i = 0; i < 8; i++) key[i] = shared.readUInt32LE(i * 4)
  const out = new Uint32Array(8)
  hsalsa(new Uint32Array([0x61707865, 0x3320646e, 0x79622d32, 0x6b206574]), key, new Uint32Array(4), out)
  return Buffer.from(out.buffer)
}

describe("X25519 and crypto_box_beforenm (node:crypto + HSalsa20)", () => {
  it("derives RFC 7748's public keys and NaCl's firstkey from both sides", () => {
    expect(publicKeyOf(ALICE_SECRET).toString("hex")).toBe(ALICE_PUBLIC.toString("hex"))
    expect(keyPairFrom(BOB_SECRET).publicKey.toString("hex")).toBe(BOB_PUBLIC.toString("hex"))
    expect(Buffer.from(precompute(BOB_PUBLIC, ALICE_SECRET)).toString("hex")).toBe(FIRSTKEY.toString("hex"))
    expect(Buffer.from(precompute(ALICE_PUBLIC, keyPairFrom(BOB_SECRET).secret)).toString("hex")).toBe(FIRSTKEY.toString("hex"))
  })

  it("generateKeyPair gives a secret whose public key is the one it returns", () => {
    const pair = generateKeyPair()
    expect(pair.secretKey.length).toBe(32)
    expect(publicKeyOf(pair.secretKey).equals(pair.publicKey)).toBe(true)
    expect(Buffer.from(precompute(BOB_PUBLIC, pair.secret)).equals(nobleBeforenm(BOB_PUBLIC, pair.secretKey))).toBe(true)
  })

  it("equals noble's X25519 + HSalsa20 on random keys (any bits set, the public key's top bit included)", () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 32, maxLength: 32 }), fc.uint8Array({ minLength: 32, maxLength: 32 }), (secret, other) => {
        const theirs = Buffer.from(x25519.getPublicKey(other))
        theirs[31]! |= other[0]! & 0x80 // RFC 7748: the top bit of a u-coordinate is ignored
        expect(publicKeyOf(secret).equals(Buffer.from(x25519.getPublicKey(secret)))).toBe(true)
        expect(Buffer.from(precompute(theirs, secret)).equals(nobleBeforenm(theirs, secret))).toBe(true)
      }),
      { numRuns: 60 },
    )
  })

  it("refuses a public key of low order (all-zero shared secret) with ERR_ZMTP_PROTOCOL, as libsodium does", () => {
    for (const low of [Buffer.alloc(32), hex("0100000000000000000000000000000000000000000000000000000000000000")]) {
      let thrown: unknown
      try {
        precompute(low, ALICE_SECRET)
      } catch (err) {
        thrown = err
      }
      expect(thrown).toBeInstanceOf(ZmeshError)
      expect((thrown as ZmeshError).code).toBe("ERR_ZMTP_PROTOCOL")
    }
  })

  it("refuses keys that are not 32 bytes with EINVAL", () => {
    expect(() => publicKeyOf(Buffer.alloc(31))).toThrow(expect.objectContaining({ code: "EINVAL" }))
  })
})

describe("boxes (libsodium's crypto_box_easy_afternm in WebAssembly)", () => {
  it("seals NaCl's secretbox vector and opens it back", () => {
    expect(seal(FIRSTKEY, NONCE, PLAIN).toString("hex")).toBe(BOX.toString("hex"))
    expect(open(FIRSTKEY, NONCE, BOX)?.toString("hex")).toBe(PLAIN.toString("hex"))
  })

  it("refuses a box with any one bit flipped, and one shorter than its MAC", () => {
    for (const bit of [0, 7, 127, 128, 500, BOX.length * 8 - 1]) {
      const bad = Buffer.from(BOX)
      bad[bit >>> 3]! ^= 1 << (bit & 7)
      expect(open(FIRSTKEY, NONCE, bad)).toBeUndefined()
    }
    expect(open(FIRSTKEY, NONCE, BOX.subarray(0, 15))).toBeUndefined()
    expect(open(FIRSTKEY, NONCE, seal(FIRSTKEY, NONCE, Buffer.alloc(0)))?.length).toBe(0)
  })

  it("equals noble's xsalsa20poly1305 both ways on random keys, nonces and lengths 0..70000", () => {
    const lengths = fc.oneof(
      fc.constantFrom(0, 1, 15, 16, 17, 31, 32, 33, 63, 64, 65, 1024, 4095, 4096, 4097, 65535, 65536, 65537, 70000),
      fc.integer({ min: 0, max: 70000 }),
    )
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 32, maxLength: 32 }),
        fc.uint8Array({ minLength: 24, maxLength: 24 }),
        lengths.chain((n) => fc.uint8Array({ minLength: n, maxLength: n })),
        (key, nonce, plain) => {
          const theirs = Buffer.from(xsalsa20poly1305(key, nonce).encrypt(plain))
          expect(seal(key, nonce, plain).equals(theirs)).toBe(true)
          expect(open(key, nonce, theirs)?.equals(plain)).toBe(true)
        },
      ),
      { numRuns: 120 },
    )
  })

  it("the heap views: a plaintext written into plaintextArea seals in place, and the area grows for a larger box", () => {
    const small = plaintextArea(3)
    small.set([1, 2, 3])
    const box = Buffer.from(sealArea(FIRSTKEY, NONCE, 3))
    expect(box.equals(Buffer.from(xsalsa20poly1305(FIRSTKEY, NONCE).encrypt(Uint8Array.of(1, 2, 3))))).toBe(true)
    const big = Buffer.alloc(300_000, 0x5a)
    plaintextArea(big.length).set(big)
    const bigBox = Buffer.from(sealArea(FIRSTKEY, NONCE, big.length))
    expect(Buffer.from(openBox(FIRSTKEY, NONCE, bigBox)!).equals(big)).toBe(true)
    expect(Buffer.from(openBox(FIRSTKEY, NONCE, box)!).toString("hex")).toBe("010203")
  })
})
