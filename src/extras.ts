/**
 * zmesh's additions to zeromq.js's API, kept off the main entry so that
 * `import * as zmq from "zmesh"` has exactly zeromq.js's names.
 *
 * @example
 * ```ts
 * import { ErrorCode, z85Decode } from "zmesh/extras"
 * if ((err as ZmeshError).code === ErrorCode.EAGAIN) retry()
 * const raw = z85Decode(curveKeyPair().publicKey) // 32 bytes
 * ```
 */
export { ErrorCode, ZmeshError } from "./errors.js"
export { z85Decode, z85Encode } from "./zmtp/z85.js"
