/**
 * The hand-tuned box candidate of bench/micro/curve-box.bench.ts (Salsa20,
 * HSalsa20, Poly1305 and an in-place secretbox in TypeScript; measured, not
 * shipped: CURVE uses libsodium) against published vectors (RFC 8439's Poly1305
 * vectors, NaCl's and libsodium's secretbox, core1 and onetimeauth vectors)
 * and, bit for bit, against @noble/ciphers as an oracle on random keys,
 * nonces, lengths 0..70000 and buffer offsets (aligned and not).
 */
import { hsalsa, salsa20, xsalsa20poly1305 } from "@noble/ciphers/salsa"
import { poly1305 as noblePoly1305 } from "@noble/ciphers/_poly1305"
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { MessageBox } from "../../../bench/micro/candidates/message-box.js"
import { poly1305 } from "../../../bench/micro/candidates/poly1305.js"
import { hsalsa20, salsa20Xor } from "../../../bench/micro/candidates/salsa20.js"

const hex = (text: string) => Buffer.from(text.replace(/\s+/g, ""), "hex")

/** The words of a 32-byte one-time key, as poly1305() takes them. */
function keyWords(key: Uint8Array): Int32Array {
  const words = new Int32Array(8)
  for (let i = 0; i < 8; i++) words[i] = Buffer.from(key).readInt32LE(i * 4)
  return words
}

function tagOf(key: Uint8Array, data: Uint8Array, at = 0, length = data.length - at): Buffer {
  const tag = Buffer.alloc(16)
  poly1305(keyWords(key), 0, data, at, length, tag, 0)
  return tag
}

/** Copies `bytes` to offset `at` of a fresh buffer of its own (so the offset sets the alignment). */
function placed(bytes: Uint8Array, at: number, extra = 0): Buffer {
  const out = Buffer.alloc(at + bytes.length + extra, 0xee)
  out.set(bytes, at)
  return out
}

// ---- published vectors ---------------------------------------------------------

/** NaCl's tests/secretbox.c (also libsodium's test/default/secretbox.c) and box.c. */
const NACL = {
  /** X25519 of Alice's secret and Bob's public key (RFC 7748 section 6.1). */
  shared: hex("4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742"),
  /** HSalsa20(shared, zeros): crypto_box_beforenm (core1.c). */
  firstkey: hex("1b27556473e985d462cd51197a9a46c76009549eac6474f206c4ee0844f68389"),
  nonce: hex("69696ee955b62b73cd62bda875fc73d68219e0036b7a0b37"),
  plain: hex(`
    be075fc53c81f2d5cf141316ebeb0c7b5228c52a4c62cbd44b66849b64244ffce5ecbaaf33bd751a1ac728d45e6c61296cdc3c01
    233561f41db66cce314adb310e3be8250c46f06dceea3a7fa1348057e2f6556ad6b1318a024a838f21af1fde048977eb48f59ffd
    4924ca1c60902e52f0a089bc76897040e082f9377638486 45e0705`),
  mac: hex("f3ffc7703f9400e52a7dfb4b3d3305d9"),
  cipher: hex(`
    8e993b9f48681273c29650ba32fc76ce48332ea7164d96a4476fb8c531a1186ac0dfc17c98dce87b4da7f011ec48c97271d2c20f
    9b928fe2270d6fb863d51738b48eeee314a7cc8ab932164548e526ae90224368517acfeabd6bb3732bc0e9da99832b61ca01b6de
    56244a9e88d5f9b37973f622a43d14a6599b1f654cb45a74e355a5`),
  /** The Poly1305 key of that box: the first 32 bytes of its keystream (onetimeauth.c). */
  polyKey: hex("eea6a7251c1e72916d11c2cb214d3c252539121d8e234e652d651fa4c8cff880"),
}

/** RFC 8439 section 2.5.2 and appendix A.3 #5-#11 (key = r || s): the carry and reduction edge cases. */
const RFC8439_POLY1305: ReadonlyArray<readonly [string, string, string, string]> = [
  [
    "2.5.2",
    "85d6be7857556d337f4452fe42d506a80103808afb0db2fd4abff6af4149f51b",
    Buffer.from("Cryptographic Forum Research Group").toString("hex"),
    "a8061dc1305136c6c22b8baf0c0127a9",
  ],
  ["A.3 #5", "02" + "00".repeat(31), "ff".repeat(16), "03" + "00".repeat(15)],
  ["A.3 #6", "02" + "00".repeat(15) + "ff".repeat(16), "02" + "00".repeat(15), "03" + "00".repeat(15)],
  ["A.3 #7", "01" + "00".repeat(31), "ff".repeat(16) + "f0" + "ff".repeat(15) + "11" + "00".repeat(15), "05" + "00".repeat(15)],
  ["A.3 #8", "01" + "00".repeat(31), "ff".repeat(16) + "fb" + "fe".repeat(15) + "01".repeat(16), "00".repeat(16)],
  ["A.3 #9", "02" + "00".repeat(31), "fd" + "ff".repeat(15), "fa" + "ff".repeat(15)],
  [
    "A.3 #10",
    "0100000000000000" + "0400000000000000" + "00".repeat(16),
    "e33594d7505e43b9" + "00".repeat(8) + "3394d7505e4379cd" + "01" + "00".repeat(7) + "00".repeat(16) + "01" + "00".repeat(15),
    "1400000000000000" + "5500000000000000",
  ],
  [
    "A.3 #11",
    "0100000000000000" + "0400000000000000" + "00".repeat(16),
    "e33594d7505e43b9" + "00".repeat(8) + "3394d7505e4379cd" + "01" + "00".repeat(7) + "00".repeat(16),
    "13" + "00".repeat(15),
  ],
]

describe("Poly1305: published vectors", () => {
  for (const [name, key, data, tag] of RFC8439_POLY1305) {
    it(`RFC 8439 ${name}`, () => {
      expect(tagOf(hex(key), hex(data)).toString("hex")).toBe(tag)
    })
  }

  it("NaCl's secretbox MAC: Poly1305 of the ciphertext under its keystream's first 32 bytes", () => {
    expect(tagOf(NACL.polyKey, NACL.cipher).toString("hex")).toBe(NACL.mac.toString("hex"))
  })

  it("reads the region it is given, at any offset, and nothing around it", () => {
    for (let at = 0; at < 8; at++) {
      const data = placed(NACL.cipher, at, 5)
      expect(tagOf(NACL.polyKey, data, at, NACL.cipher.length).toString("hex")).toBe(NACL.mac.toString("hex"))
    }
  })
})

describe("HSalsa20 and the secretbox: published vectors", () => {
  it("HSalsa20(shared secret, zeros) is NaCl's firstkey (crypto_box_beforenm, core1.c)", () => {
    const out = new Int32Array(8)
    hsalsa20(NACL.shared, new Uint8Array(16), out)
    expect(Buffer.from(out.buffer).toString("hex")).toBe(NACL.firstkey.toString("hex"))
  })

  it("seals NaCl's secretbox vector in place: the MAC before, the ciphertext where the plaintext was", () => {
    for (let at = 16; at < 24; at++) {
      const data = placed(NACL.plain, at, 3)
      new MessageBox(NACL.firstkey, NACL.nonce.subarray(0, 16)).seal(NACL.nonce, 16, data, at, NACL.plain.length)
      expect(data.subarray(at - 16, at).toString("hex")).toBe(NACL.mac.toString("hex"))
      expect(data.subarray(at, at + NACL.plain.length).toString("hex")).toBe(NACL.cipher.toString("hex"))
      expect(data.subarray(at + NACL.plain.length).toString("hex")).toBe("eeeeee")
    }
  })

  it("opens it back, and refuses it with any one bit of MAC or ciphertext flipped, leaving the data as it was", () => {
    const box = new MessageBox(NACL.firstkey, NACL.nonce.subarray(0, 16))
    const data = Buffer.from(NACL.cipher)
    expect(box.open(NACL.nonce, 16, NACL.mac, 0, data, 0, data.length)).toBe(true)
    expect(data.toString("hex")).toBe(NACL.plain.toString("hex"))
    for (const bit of [0, 7, 64, 127]) {
      const mac = Buffer.from(NACL.mac)
      mac[bit >>> 3] ^= 1 << (bit & 7)
      const cipher = Buffer.from(NACL.cipher)
      expect(box.open(NACL.nonce, 16, mac, 0, cipher, 0, cipher.length)).toBe(false)
      expect(cipher.equals(NACL.cipher)).toBe(true)
    }
    for (const at of [0, 31, 32, 100, 130]) {
      const cipher = Buffer.from(NACL.cipher)
      cipher[at] ^= 0x80
      const before = Buffer.from(cipher)
      expect(box.open(NACL.nonce, 16, NACL.mac, 0, cipher, 0, cipher.length)).toBe(false)
      expect(cipher.equals(before)).toBe(true)
    }
  })
})

// ---- @noble/ciphers as the oracle ----------------------------------------------

const bytes = (n: number) => fc.uint8Array({ minLength: n, maxLength: n })
/** Lengths that stress block edges (0, 15, 16, 17, 31-33, 63-65, ...) as well as large ones. */
const lengths = fc.oneof(
  fc.integer({ min: 0, max: 200 }),
  fc.constantFrom(0, 1, 15, 16, 17, 31, 32, 33, 63, 64, 65, 95, 96, 97, 127, 128, 129, 1023, 1024, 1025, 65535, 65536, 65537, 70000),
  fc.integer({ min: 0, max: 70000 }),
)
const payload = lengths.chain((n) => fc.uint8Array({ minLength: n, maxLength: n }))

describe("against @noble/ciphers: bit for bit on random input", () => {
  it("Poly1305 tags equal noble's (random key, data, offset)", () => {
    fc.assert(
      fc.property(bytes(32), payload, fc.integer({ min: 0, max: 7 }), (key, data, at) => {
        expect(tagOf(key, placed(data, at), at, data.length).toString("hex")).toBe(Buffer.from(noblePoly1305(data, key)).toString("hex"))
      }),
      { numRuns: 150 },
    )
  })

  it("Poly1305 with all-ones keys and data (the largest limbs) equals noble's", () => {
    const key = new Uint8Array(32).fill(0xff)
    for (const n of [16, 17, 64, 1000, 4096]) {
      const data = new Uint8Array(n).fill(0xff)
      expect(tagOf(key, data).toString("hex")).toBe(Buffer.from(noblePoly1305(data, key)).toString("hex"))
    }
  })

  it("HSalsa20 equals noble's", () => {
    fc.assert(
      fc.property(bytes(32), bytes(16), (key, input) => {
        const mine = new Int32Array(8)
        hsalsa20(key, input, mine)
        const theirs = new Uint32Array(8)
        hsalsa(
          new Uint32Array([0x61707865, 0x3320646e, 0x79622d32, 0x6b206574]),
          new Uint32Array(Uint8Array.from(key).buffer),
          new Uint32Array(Uint8Array.from(input).buffer),
          theirs,
        )
        expect(Array.from(new Uint32Array(mine.buffer))).toEqual(Array.from(theirs))
      }),
      { numRuns: 100 },
    )
  })

  it("the Salsa20 keystream from any byte position equals noble's salsa20 with that counter", () => {
    fc.assert(
      fc.property(bytes(32), bytes(8), payload, fc.integer({ min: 0, max: 300 }), fc.integer({ min: 0, max: 7 }), (key, n, data, position, at) => {
        const words = new Int32Array(8)
        for (let i = 0; i < 8; i++) words[i] = Buffer.from(key).readInt32LE(i * 4)
        const mine = placed(data, at)
        salsa20Xor(words, Buffer.from(n).readInt32LE(0), Buffer.from(n).readInt32LE(4), mine, at, data.length, position)
        // noble from the block that holds `position`, then skip into it.
        const skip = position % 64
        const input = new Uint8Array(skip + data.length)
        input.set(data, skip)
        const theirs = salsa20(key, n, input, undefined, Math.floor(position / 64)).subarray(skip)
        expect(mine.subarray(at, at + data.length).equals(theirs)).toBe(true)
      }),
      { numRuns: 100 },
    )
  })

  it("MessageBox.seal equals noble's xsalsa20poly1305 (MAC then ciphertext), at any alignment", () => {
    fc.assert(
      fc.property(bytes(32), bytes(16), bytes(8), payload, fc.integer({ min: 16, max: 23 }), (key, prefix, tail, plain, at) => {
        const nonce = Buffer.concat([prefix, tail])
        const data = placed(plain, at, 4)
        new MessageBox(key, prefix).seal(tail, 0, data, at, plain.length)
        const theirs = xsalsa20poly1305(key, nonce).encrypt(plain)
        expect(data.subarray(at - 16, at + plain.length).equals(theirs)).toBe(true)
        expect(data.subarray(at + plain.length).toString("hex")).toBe("eeeeeeee")
      }),
      { numRuns: 150 },
    )
  })

  it("MessageBox.open opens noble's boxes and refuses them with a flipped bit", () => {
    fc.assert(
      fc.property(bytes(32), bytes(16), bytes(8), payload, fc.integer({ min: 0, max: 7 }), fc.nat(), (key, prefix, tail, plain, at, flip) => {
        const nonce = Buffer.concat([prefix, tail])
        const sealed = xsalsa20poly1305(key, nonce).encrypt(plain)
        const box = new MessageBox(key, prefix)
        const data = placed(sealed.subarray(16), at)
        expect(box.open(tail, 0, sealed, 0, data, at, plain.length)).toBe(true)
        expect(data.subarray(at, at + plain.length).equals(plain)).toBe(true)
        // One flipped bit anywhere in MAC || ciphertext.
        const bit = flip % (sealed.length * 8)
        const bad = Buffer.from(sealed)
        bad[bit >>> 3] ^= 1 << (bit & 7)
        const again = Buffer.from(bad.subarray(16))
        expect(box.open(tail, 0, bad, 0, again, 0, plain.length)).toBe(false)
        expect(again.equals(bad.subarray(16))).toBe(true)
      }),
      { numRuns: 150 },
    )
  })
})
