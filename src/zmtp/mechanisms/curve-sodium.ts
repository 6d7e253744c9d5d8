/**
 * CURVE's boxes on libsodium's own crypto_box_easy_afternm and its open, from
 * the `libsodium` package: the library libzmq uses, compiled to WebAssembly
 * (no native addon). It was picked by measurement over @noble/ciphers and a
 * hand-tuned TypeScript box (bench/micro/curve-box.bench.ts, bench/README.md).
 *
 * Boxes work in place in one area of the WebAssembly heap that grows to the
 * largest box seen: the caller writes the plaintext into `plaintextArea()`
 * and copies the box out of `sealArea()`'s view, so a box costs one copy in,
 * one copy out and no allocation. WebAssembly memory never shrinks, so it
 * stays as large as the largest CURVE frame this process sealed or opened.
 *
 * WebAssembly compiles asynchronously: `loadSodium()` starts it, a CURVE
 * handshake waits for it before its first box, and everything else here
 * requires it done (`sodiumLoaded()`).
 */
import type { LibsodiumModule } from "libsodium"
import { randomBytes } from "node:crypto"
import { ZmeshError } from "../../errors.js"

const KEY_BYTES = 32
const NONCE_BYTES = 24
const MAC_BYTES = 16

let sodium: LibsodiumModule | undefined
let loading: Promise<void> | undefined
/** Heap addresses: the key, the nonce, and the box area (MAC, then the plaintext or ciphertext). */
let keyAt = 0
let nonceAt = 0
let areaAt = 0
/** How many plaintext bytes the box area holds. */
let capacity = 0

/** Loads and initialises libsodium once per process; later calls return the same promise. */
export function loadSodium(): Promise<void> {
  loading ??= (async () => {
    const { default: create } = await import("libsodium")
    // libsodium's own random source is never used by zmesh's calls; it still needs one to start.
    const module = await create({ getRandomValue: () => randomBytes(4).readUInt32LE(0) })
    if (module._sodium_init() < 0) throw new Error("sodium_init() failed")
    keyAt = module._malloc(KEY_BYTES)
    nonceAt = module._malloc(NONCE_BYTES)
    if (keyAt === 0 || nonceAt === 0) throw new Error("out of WebAssembly memory")
    sodium = module
  })()
  return loading
}

/** True once `loadSodium()` has finished. */
export function sodiumLoaded(): boolean {
  return sodium !== undefined
}

/** MAC plus `size` bytes of heap, or 0 when WebAssembly memory cannot grow that far (it is 32-bit). */
function allocate(module: LibsodiumModule, size: number): number {
  return MAC_BYTES + size > 0x7fff0000 ? 0 : module._malloc(MAC_BYTES + size)
}

function loaded(): LibsodiumModule {
  if (sodium === undefined) throw new ZmeshError("ENOTSUP", "CURVE: libsodium is not loaded yet (await loadSodium())")
  return sodium
}

/**
 * A view of `length` bytes of the heap where the next box's plaintext goes;
 * valid until the next call into this module.
 */
export function plaintextArea(length: number): Uint8Array {
  const module = loaded()
  if (length > capacity) {
    // Grow by at least half again, so a slowly growing size does not reallocate every time.
    let size = Math.max(length, Math.floor(capacity * 1.5), 4096)
    if (areaAt !== 0) module._free(areaAt)
    areaAt = allocate(module, size)
    if (areaAt === 0 && size > length) areaAt = allocate(module, (size = length))
    capacity = areaAt === 0 ? 0 : size
    if (areaAt === 0) throw new ZmeshError("ENOTSUP", `CURVE: no WebAssembly memory for a ${length}-byte box`)
  }
  return module.HEAPU8.subarray(areaAt + MAC_BYTES, areaAt + MAC_BYTES + length)
}

/**
 * crypto_box_easy_afternm over the first `length` bytes of the plaintext
 * area, in place: returns a view of the box, MAC then ciphertext
 * (16 + length bytes), valid until the next call into this module.
 */
export function sealArea(key: Uint8Array, nonce: Uint8Array, length: number): Uint8Array {
  const module = loaded()
  const heap = module.HEAPU8
  heap.set(key, keyAt)
  heap.set(nonce, nonceAt)
  // c = m - 16: the documented in-place layout (the ciphertext lands where the plaintext was).
  module._crypto_box_easy_afternm(areaAt, areaAt + MAC_BYTES, length, 0, nonceAt, keyAt)
  return heap.subarray(areaAt, areaAt + MAC_BYTES + length)
}

/**
 * crypto_box_open_easy_afternm of `box` (MAC then ciphertext): a view of the
 * plaintext, valid until the next call into this module, or undefined when
 * the box is shorter than a MAC or its MAC does not verify.
 */
export function openBox(key: Uint8Array, nonce: Uint8Array, box: Uint8Array): Uint8Array | undefined {
  if (box.length < MAC_BYTES) return undefined
  const length = box.length - MAC_BYTES
  plaintextArea(length)
  const module = loaded()
  const heap = module.HEAPU8
  heap.set(box, areaAt)
  heap.set(key, keyAt)
  heap.set(nonce, nonceAt)
  if (module._crypto_box_open_easy_afternm(areaAt + MAC_BYTES, areaAt, box.length, 0, nonceAt, keyAt) !== 0) return undefined
  return heap.subarray(areaAt + MAC_BYTES, areaAt + MAC_BYTES + length)
}
