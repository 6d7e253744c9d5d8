/**
 * A benchmark candidate, not used by zmesh (CURVE's boxes are libsodium's; see
 * bench/README.md): crypto_secretbox (XSalsa20-Poly1305) for one direction of
 * a CURVE connection, sealing and opening in place in the caller's buffers.
 *
 * A MESSAGE box's 24-byte nonce is a fixed 16-byte prefix ("CurveZMQMESSAGEC"
 * or "...S") and the 8-byte short nonce. XSalsa20 with that nonce is Salsa20
 * keyed by HSalsa20(box key, prefix) with the short nonce as its nonce, so the
 * HSalsa20 runs once per direction here, not once per message. Every box is
 * then one Salsa20 block for the Poly1305 key and the first 32 bytes, Salsa20
 * over the rest, and Poly1305 over the ciphertext.
 */
import { poly1305 } from "./poly1305.js"
import { hsalsa20, readWord, salsa20Block, salsa20Xor } from "./salsa20.js"

export const TAG_SIZE = 16

export class MessageBox {
  /** HSalsa20(box key, nonce prefix): the Salsa20 key of every box this way. */
  private readonly key = new Int32Array(8)
  /** Keystream block 0: the Poly1305 key (words 0-7), then the pad of the first 32 bytes. */
  private readonly first = new Int32Array(16)
  private readonly tag = new Uint8Array(TAG_SIZE)

  /**
   * @param boxKey crypto_box_beforenm of the two transient keys (or any secretbox key)
   * @param prefix the first 16 bytes of every nonce this way
   */
  constructor(boxKey: Uint8Array, prefix: Uint8Array) {
    hsalsa20(boxKey, prefix, this.key)
  }

  /**
   * Encrypts data[at, at + length) in place and writes its 16-byte tag just
   * before it, at data[at - 16, at); the nonce's last 8 bytes are
   * nonce[nonceAt, nonceAt + 8). Fastest when data's bytes from `at + 32` on
   * are 4-aligned in memory.
   */
  seal(nonce: Uint8Array, nonceAt: number, data: Uint8Array, at: number, length: number): void {
    const n0 = readWord(nonce, nonceAt)
    const n1 = readWord(nonce, nonceAt + 4)
    salsa20Block(this.key, n0, n1, 0, this.first)
    this.xor(n0, n1, data, at, length)
    poly1305(this.first, 0, data, at, length, data, at - TAG_SIZE)
  }

  /**
   * Checks tag[tagAt, tagAt + 16) against the ciphertext data[at, at + length)
   * and, when it verifies, decrypts that in place. Returns false (and leaves
   * data as it was) when the tag does not verify.
   */
  open(nonce: Uint8Array, nonceAt: number, tag: Uint8Array, tagAt: number, data: Uint8Array, at: number, length: number): boolean {
    const n0 = readWord(nonce, nonceAt)
    const n1 = readWord(nonce, nonceAt + 4)
    salsa20Block(this.key, n0, n1, 0, this.first)
    const mine = this.tag
    poly1305(this.first, 0, data, at, length, mine, 0)
    // Constant-time comparison: every byte is looked at whatever the first difference.
    let diff = 0
    for (let i = 0; i < TAG_SIZE; i++) diff |= mine[i]! ^ tag[tagAt + i]!
    if (diff !== 0) return false
    this.xor(n0, n1, data, at, length)
    return true
  }

  /** XORs the keystream from byte 32 on (bytes 0-31 key Poly1305) into data; block 0 is already in `first`. */
  private xor(n0: number, n1: number, data: Uint8Array, at: number, length: number): void {
    const first = this.first
    const head = Math.min(32, length)
    for (let i = 0; i < head; i++) data[at + i] ^= (first[8 + (i >>> 2)]! >>> ((i & 3) << 3)) & 0xff
    if (length > 32) salsa20Xor(this.key, n0, n1, data, at + 32, length - 32, 64)
  }
}
