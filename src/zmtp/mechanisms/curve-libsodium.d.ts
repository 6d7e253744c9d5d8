/**
 * The few exports zmesh uses of the `libsodium` package (libsodium compiled
 * to WebAssembly by Emscripten; it ships no types). The ESM build's default
 * export instantiates the module.
 */
declare module "libsodium" {
  /** The instantiated module: libsodium's C functions with a leading underscore, on one linear memory. */
  export interface LibsodiumModule {
    /** The linear memory; replaced (the old view detached) whenever `_malloc` grows it. */
    readonly HEAPU8: Uint8Array
    _malloc(size: number): number
    _free(pointer: number): void
    _sodium_init(): number
    /** 64-bit lengths are passed as two 32-bit halves, low first. */
    _crypto_box_easy_afternm(c: number, m: number, mlen: number, mlenHigh: number, n: number, k: number): number
    _crypto_box_open_easy_afternm(m: number, c: number, clen: number, clenHigh: number, n: number, k: number): number
  }
  const create: (options: { getRandomValue(): number }) => Promise<LibsodiumModule>
  export default create
}
