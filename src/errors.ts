/**
 * The one error class of zmesh. Match on `code`, which is stable across
 * versions and duplicate installs; `instanceof` is not.
 *
 * @example
 * ```ts
 * try { await sock.receive() } catch (err) {
 *   if ((err as ZmeshError).code === "EAGAIN") console.log("timed out")
 * }
 * ```
 */

/** Every code a zmesh error can carry; docs/errors.md explains each one. */
export const ErrorCode = {
  /** Resource temporarily unavailable: a timeout expired or a non-blocking operation could not complete. */
  EAGAIN: "EAGAIN",
  /** The operation is not valid in the socket's current state (REQ/REP alternation). */
  EFSM: "EFSM",
  /** A ROUTER with `mandatory` was asked to send to an unknown peer. */
  EHOSTUNREACH: "EHOSTUNREACH",
  /** The object is busy with an operation that cannot run twice at once (Proxy.run). */
  EBUSY: "EBUSY",
  /** The socket or observer is closed. */
  EBADF: "EBADF",
  /** An argument was invalid: a bad endpoint, option value or message part. */
  EINVAL: "EINVAL",
  /** The address is already in use. */
  EADDRINUSE: "EADDRINUSE",
  /** The endpoint's transport is not supported. */
  EPROTONOSUPPORT: "EPROTONOSUPPORT",
  /** unbind/disconnect named an endpoint the socket is not bound or connected to. */
  ENOENT: "ENOENT",
  /** The operation is not supported by this socket type. */
  ENOTSUP: "ENOTSUP",
  /** A peer broke the ZMTP protocol. */
  ERR_ZMTP_PROTOCOL: "ERR_ZMTP_PROTOCOL",
  /** A peer announced a frame larger than `maxMessageSize`. */
  ERR_MESSAGE_TOO_LARGE: "ERR_MESSAGE_TOO_LARGE",
  /** A peer subscribed past `maxSubscriptionSize` or `maxSubscriptions`. */
  ERR_SUBSCRIPTION_LIMIT: "ERR_SUBSCRIPTION_LIMIT",
  /** A peer's socket type cannot talk to ours. */
  ERR_SOCKET_TYPE: "ERR_SOCKET_TYPE",
  /** Peers disagree on the security mechanism. */
  ERR_MECHANISM_MISMATCH: "ERR_MECHANISM_MISMATCH",
  /** Authentication refused the peer (ZAP said no, or a PLAIN server has no ZAP handler). */
  ERR_AUTH: "ERR_AUTH",
  /** The peer sent an ERROR command. */
  ERR_PEER_ERROR: "ERR_PEER_ERROR",
  /** The peer closed the connection before the handshake completed. */
  ERR_CONNECTION_CLOSED: "ERR_CONNECTION_CLOSED",
  /** Heartbeat or handshake timer expired. */
  ERR_TIMEOUT: "ERR_TIMEOUT",
} as const

export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode]

/** Numeric errno values, as zeromq.js exposes them in `errno`. */
const errnos: Partial<Record<ErrorCode, number>> = {
  EAGAIN: 11,
  EFSM: 156384763,
  EHOSTUNREACH: 113,
  EBADF: 9,
  EBUSY: 16,
  EINVAL: 22,
  EADDRINUSE: 98,
  EPROTONOSUPPORT: 93,
  ENOENT: 2,
  ENOTSUP: 95,
}

export class ZmeshError extends Error {
  readonly code: ErrorCode
  /** The endpoint involved, when there is one. */
  readonly address: string | undefined
  /** The errno number of `code`, as zeromq.js's errors carry it. */
  readonly errno: number | undefined

  constructor(code: ErrorCode, message: string, options?: { address?: string; cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause })
    this.name = "ZmeshError"
    this.code = code
    this.address = options?.address
    this.errno = errnos[code]
  }
}

/** Shorthand used throughout: `throw error("EFSM", "...")`. */
export function error(code: ErrorCode, message: string, options?: { address?: string; cause?: unknown }): ZmeshError {
  return new ZmeshError(code, message, options)
}
