/** CURVE key pairs, as zeromq.js's `curveKeyPair()` returns them. */
import { generateKeyPair } from "./zmtp/mechanisms/curve-crypto.js"
import { z85Encode } from "./zmtp/z85.js"

/**
 * A new CURVE key pair, each key 40 Z85 characters.
 *
 * @example
 * ```ts
 * const server = curveKeyPair()
 * const rep = new Reply({ curveServer: true, curveSecretKey: server.secretKey })
 * ```
 */
export function curveKeyPair(): { publicKey: string; secretKey: string } {
  const pair = generateKeyPair()
  return { publicKey: z85Encode(pair.publicKey), secretKey: z85Encode(pair.secretKey) }
}
