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
  /** The transport cannot be used with this socket type. */
  ENOCOMPATPROTO: "ENOCOMPATPROTO",
  /** The address cannot be bound on this machine (no such local interface). */
  EADDRNOTAVAIL: "EADDRNOTAVAIL",
  /** Permission denied (binding a privileged port, an unwritable ipc path). */
  EACCES: "EACCES",
  /** The process has too many open descriptors. */
  EMFILE: "EMFILE",
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
  /** Peers disagree on the security mechanism (zeromq.js's name). */
  ERR_ZMTP_MECHANISM_MISMATCH: "ERR_ZMTP_MECHANISM_MISMATCH",
  /** The ZAP handler's reply is not a ZAP reply. */
  ERR_ZAP_MALFORMED_REPLY: "ERR_ZAP_MALFORMED_REPLY",
  /** The ZAP handler's reply has a version other than 1.0. */
  ERR_ZAP_BAD_VERSION: "ERR_ZAP_BAD_VERSION",
  /** The ZAP handler's reply answers no request that was made. */
  ERR_ZAP_BAD_REQUEST_ID: "ERR_ZAP_BAD_REQUEST_ID",
  /** The ZAP handler's status code is not 200, 300, 400 or 500. */
  ERR_ZAP_INVALID_STATUS_CODE: "ERR_ZAP_INVALID_STATUS_CODE",
  /** Authentication refused the peer (ZAP said no, or a PLAIN server has no ZAP handler). */
  ERR_AUTH: "ERR_AUTH",
  /** The peer sent an ERROR command. */
  ERR_PEER_ERROR: "ERR_PEER_ERROR",
  /** The peer closed the connection before the handshake completed. */
  ERR_CONNECTION_CLOSED: "ERR_CONNECTION_CLOSED",
  /** Heartbeat or handshake timer expired. */
  ERR_TIMEOUT: "ERR_TIMEOUT",
  /** A peer of a pattern (zmesh/patterns: PPP, MDP, Clone) sent a message that breaks the pattern's protocol. */
  ERR_PATTERN_PROTOCOL: "ERR_PATTERN_PROTOCOL",
  /** A message could not be decoded (zmesh/msgpack: not valid MessagePack). */
  ERR_DECODE: "ERR_DECODE",
  /** Relay: a queue, group or dead-letter queue name that is empty, too long or has characters outside `A-Z a-z 0-9 . _ - : /`. */
  ERR_RELAY_INVALID_QUEUE: "ERR_RELAY_INVALID_QUEUE",
  /** Relay: a message (body plus headers) larger than the relay's `maxMessageSize`. */
  ERR_RELAY_MESSAGE_TOO_LARGE: "ERR_RELAY_MESSAGE_TOO_LARGE",
  /** Relay: a `delay` or `at` further ahead than the relay's `maxDelay`. */
  ERR_RELAY_DELAY_TOO_LONG: "ERR_RELAY_DELAY_TOO_LONG",
  /** Relay: `delay` and `at` given together; they exclude each other. */
  ERR_RELAY_DELAY_CONFLICT: "ERR_RELAY_DELAY_CONFLICT",
  /** Relay: no answer from the relay within `sendTimeout` (unreachable, or too slow to confirm). */
  ERR_RELAY_UNREACHABLE: "ERR_RELAY_UNREACHABLE",
  /** Relay: the store is full; new messages are refused until acknowledgements free space. */
  ERR_RELAY_STORE_FULL: "ERR_RELAY_STORE_FULL",
  /** Relay: the store failed to make the operation durable (an I/O error); nothing was confirmed. */
  ERR_RELAY_STORE_FAILED: "ERR_RELAY_STORE_FAILED",
  /** Relay: a frame or command the relay protocol does not allow (not MessagePack, wrong shape or types). */
  ERR_RELAY_PROTOCOL: "ERR_RELAY_PROTOCOL",
  /** Relay: a command with an opcode the relay does not know. */
  ERR_RELAY_UNKNOWN_COMMAND: "ERR_RELAY_UNKNOWN_COMMAND",
  /** Relay: a client speaking a protocol version the relay does not support. */
  ERR_RELAY_VERSION: "ERR_RELAY_VERSION",
  /** Relay: ack/nack/extend of a delivery whose lease is gone (expired, released, or the relay restarted); the message is or will be redelivered. */
  ERR_RELAY_LEASE_EXPIRED: "ERR_RELAY_LEASE_EXPIRED",
  /** Relay: the client or consumer was closed before the call completed, or a call was made after close. */
  ERR_RELAY_CLOSED: "ERR_RELAY_CLOSED",
  /** Relay: stored data failed its checksum or does not parse; reported, kept on disk, never silently dropped. */
  ERR_RELAY_CORRUPT: "ERR_RELAY_CORRUPT",
  /** Relay: the data folder cannot be used (not writable, not a folder, or locked by a running relay). */
  ERR_RELAY_DATA_DIR: "ERR_RELAY_DATA_DIR",
  /** Relay: tx.commit() of a half message rolled back before (by rollback() or after unanswered check-backs). */
  ERR_RELAY_TX_ROLLED_BACK: "ERR_RELAY_TX_ROLLED_BACK",
  /** Relay: tx.rollback() of a half message committed before. */
  ERR_RELAY_TX_COMMITTED: "ERR_RELAY_TX_COMMITTED",
  /** Relay: a decision for a half message the relay does not know (never prepared, or decided longer ago than dedupWindow). */
  ERR_RELAY_TX_UNKNOWN: "ERR_RELAY_TX_UNKNOWN",
  /** Relay: a store needs a driver package that is not installed (`PostgresStore` needs `pg`). */
  ERR_RELAY_STORE_DRIVER: "ERR_RELAY_STORE_DRIVER",
} as const

export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode]

/** Numeric errno values (Linux and libzmq's), as zeromq.js exposes them in `errno`. */
const errnos: Partial<Record<ErrorCode, number>> = {
  EAGAIN: 11,
  EFSM: 156384763,
  EHOSTUNREACH: 113,
  EBADF: 9,
  EBUSY: 16,
  EINVAL: 22,
  EADDRINUSE: 98,
  EADDRNOTAVAIL: 99,
  EACCES: 13,
  EPROTONOSUPPORT: 93,
  ENOCOMPATPROTO: 156384757,
  ENOENT: 2,
  ENOTSUP: 95,
  EMFILE: 24,
}

/**
 * The `message` zeromq.js gives each errno code: libzmq's strerror text, with
 * the few texts zeromq.js rewords. zmesh's own wording goes in `detail`.
 */
const errnoMessages: Partial<Record<ErrorCode, string>> = {
  EAGAIN: "Operation was not possible or timed out",
  EFSM: "Operation cannot be accomplished in current state",
  EHOSTUNREACH: "Host unreachable",
  EBADF: "Socket is closed",
  EBUSY: "Socket is busy",
  EINVAL: "Invalid argument",
  EADDRINUSE: "Address already in use",
  EADDRNOTAVAIL: "Cannot assign requested address",
  EACCES: "Permission denied",
  EPROTONOSUPPORT: "Protocol not supported",
  ENOCOMPATPROTO: "The protocol is not compatible with the socket type",
  ENOENT: "No such endpoint",
  ENOTSUP: "Operation not supported",
  EMFILE: "Too many open file descriptors",
}

/** libzmq's protocol errors, which zeromq.js reports with these two messages. */
function protocolMessage(code: ErrorCode): string | undefined {
  if (code.startsWith("ERR_ZAP_")) return "ZAP protocol error"
  if (code.startsWith("ERR_ZMTP_")) return "ZMTP protocol error"
  return undefined
}

export interface ErrorOptions {
  /** The endpoint involved. */
  address?: string
  /** The lower error that caused this one. */
  cause?: unknown
  /** A `message` to use instead of the standard text of `code` (zeromq.js has a few). */
  message?: string
  /** The ZAP status (300, 400 or 500) of an authentication failure. */
  status?: number
}

export class ZmeshError extends Error {
  readonly code: ErrorCode
  /** The endpoint involved, when there is one. */
  readonly address: string | undefined
  /** The errno number of `code`, as zeromq.js's errors carry it. */
  readonly errno: number | undefined
  /** What zmesh was doing and why it failed, in its own words. */
  readonly detail: string
  /** The ZAP status code of an authentication failure (`handshake:error:auth`), as zeromq.js's AuthError. */
  readonly status: number | undefined

  /**
   * `detail` says what was attempted and why it failed; for the errno codes
   * zeromq.js raises, `message` is zeromq.js's text so code written for it
   * keeps working, and `detail` carries zmesh's words.
   */
  constructor(code: ErrorCode, detail: string, options?: ErrorOptions) {
    super(options?.message ?? errnoMessages[code] ?? protocolMessage(code) ?? detail, options?.cause === undefined ? undefined : { cause: options.cause })
    this.name = "ZmeshError"
    this.code = code
    this.detail = detail
    if (options?.address !== undefined) this.address = options.address
    else this.address = undefined
    this.errno = errnos[code]
    this.status = options?.status
  }
}

/** Shorthand used throughout: `throw error("EFSM", "what was attempted")`. */
export function error(code: ErrorCode, detail: string, options?: ErrorOptions): ZmeshError {
  return new ZmeshError(code, detail, options)
}

/** The ErrorCode for a node:net / libuv error code, when zmesh has one. */
export function codeOfSystemError(err: unknown): ErrorCode | undefined {
  const code = (err as NodeJS.ErrnoException | undefined)?.code
  return code !== undefined && code in errnoMessages ? (code as ErrorCode) : undefined
}
