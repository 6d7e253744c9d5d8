/**
 * Socket options: declared once here with their libzmq names and defaults,
 * exposed as constructor options and as properties with zeromq.js v6 names.
 */
import { ZmeshError } from "./errors.js"
import { z85Decode } from "./zmtp/z85.js"

/** Options every socket has. */
export interface SocketOptionValues {
  /** ZMQ_LINGER: ms that pending outbound messages survive `close()`/`disconnect()`; -1 waits for ever, 0 drops them. */
  linger: number
  /** ZMQ_SNDHWM: whole messages queued per peer before `send()` waits (or the socket drops, by type); 0 = no limit. */
  sendHighWaterMark: number
  /** ZMQ_RCVHWM: whole messages queued per peer before reading from it pauses; 0 = no limit. */
  receiveHighWaterMark: number
  /** ZMQ_SNDTIMEO: ms a `send()` may wait before rejecting with EAGAIN; -1 = for ever. */
  sendTimeout: number
  /** ZMQ_RCVTIMEO: ms a `receive()` may wait before rejecting with EAGAIN; -1 = for ever. */
  receiveTimeout: number
  /** ZMQ_RECONNECT_IVL: ms before redialing a lost or refused connection; -1 = never. */
  reconnectInterval: number
  /** ZMQ_RECONNECT_IVL_MAX: with a value above 0, each retry doubles the wait up to this many ms. */
  reconnectMaxInterval: number
  /** ZMQ_CONNECT_TIMEOUT: ms a TCP connect may take; 0 leaves it to the OS. */
  connectTimeout: number
  /** ZMQ_HANDSHAKE_IVL: ms the ZMTP handshake may take; 0 = no limit. */
  handshakeInterval: number
  /** ZMQ_HEARTBEAT_IVL: ms between PINGs on each connection; 0 = no heartbeats. */
  heartbeatInterval: number
  /** ZMQ_HEARTBEAT_TIMEOUT: ms to wait for any input after a PING before dropping the connection; -1 = the interval. */
  heartbeatTimeout: number
  /** ZMQ_HEARTBEAT_TTL: ms the peer should wait for our traffic before dropping us, sent in our PINGs (whole deciseconds). */
  heartbeatTimeToLive: number
  /** ZMQ_MAXMSGSIZE: largest inbound message in bytes, all frames together; -1 = no limit. */
  maxMessageSize: number
  /** ZMQ_BACKLOG: pending connections a listener queues. */
  backlog: number
  /** ZMQ_IMMEDIATE: queue messages only to peers whose connection is complete. */
  immediate: boolean
  /** ZMQ_IPV6: let `tcp://*:port` listen on IPv6 as well. */
  ipv6: boolean
  /** ZMQ_ROUTING_ID: the identity sent to ROUTER peers (1-255 bytes, not starting with a zero byte). */
  routingId: string | null
  /** ZMQ_PLAIN_SERVER: act as a PLAIN server; clients are checked by the ZAP handler. */
  plainServer: boolean
  /** ZMQ_PLAIN_USERNAME: act as a PLAIN client with this user name. */
  plainUsername: string | null
  /** ZMQ_PLAIN_PASSWORD: the PLAIN client's password. */
  plainPassword: string | null
  /** ZMQ_CURVE_SERVER: act as a CURVE server (needs `curveSecretKey`). */
  curveServer: boolean
  /** ZMQ_CURVE_PUBLICKEY: our long-term public key, 32 bytes or 40 Z85 characters (CURVE clients). */
  curvePublicKey: string | Uint8Array | null
  /** ZMQ_CURVE_SECRETKEY: our long-term secret key, 32 bytes or 40 Z85 characters. */
  curveSecretKey: string | Uint8Array | null
  /** ZMQ_CURVE_SERVERKEY: the server's public key; setting it makes this socket a CURVE client. */
  curveServerKey: string | Uint8Array | null
  /** ZMQ_ZAP_DOMAIN: the domain sent to the ZAP handler; for NULL, ZAP is asked only when it is set. */
  zapDomain: string | null
  /** ZMQ_ZAP_ENFORCE_DOMAIN: with no ZAP handler bound, a CURVE server (or a NULL one with a `zapDomain`) refuses peers instead of accepting them. */
  zapEnforceDomain: boolean
  /** ZMQ_TCP_KEEPALIVE: 1 turns TCP keepalive on for new connections, 0 off, -1 leaves the OS default. */
  tcpKeepalive: number
  /** ZMQ_TCP_KEEPALIVE_IDLE: seconds of idleness before the first keepalive probe (-1: OS default). */
  tcpKeepaliveIdle: number
  /** ZMQ_TCP_KEEPALIVE_CNT: stored only; Node cannot set the probe count (docs/options.md). */
  tcpKeepaliveCount: number
  /** ZMQ_TCP_KEEPALIVE_INTVL: stored only; Node cannot set the probe interval (docs/options.md). */
  tcpKeepaliveInterval: number
  /** ZMQ_TCP_ACCEPT_FILTER: stored only (deprecated in libzmq; use ZAP). */
  tcpAcceptFilter: string | null
  /** ZMQ_TCP_MAXRT: stored only; Node has no TCP_USER_TIMEOUT. */
  tcpMaxRetransmitTimeout: number
  /** ZMQ_SNDBUF: stored only; node:net leaves the kernel's buffer size (-1). */
  sendBufferSize: number
  /** ZMQ_RCVBUF: stored only; node:net leaves the kernel's buffer size (-1). */
  receiveBufferSize: number
  /** ZMQ_TOS: stored only; Node 20 cannot set IP_TOS on a socket. */
  typeOfService: number
  /** ZMQ_AFFINITY: stored only; zmesh has no I/O threads. */
  affinity: number
  /** ZMQ_RATE: pgm/norm only, which zmesh does not offer; stored. */
  rate: number
  /** ZMQ_RECOVERY_IVL: pgm/norm only; stored. */
  recoveryInterval: number
  /** ZMQ_MULTICAST_HOPS: pgm/norm only; stored. */
  multicastHops: number
  /** ZMQ_MULTICAST_MAXTPDU: pgm/norm only; stored. */
  multicastMaxTransportDataUnit: number
  /** ZMQ_SOCKS_PROXY: stored only; zmesh does not dial through SOCKS proxies. */
  socksProxy: string | null
  /** ZMQ_BINDTODEVICE: stored only; Node cannot bind a socket to a device. */
  interface: string | null
  /** ZMQ_LOOPBACK_FASTPATH: Windows only; stored. */
  loopbackFastPath: boolean
  /** ZMQ_VMCI_BUFFER_SIZE: vmci only; stored. */
  vmciBufferSize: number
  /** ZMQ_VMCI_BUFFER_MIN_SIZE: vmci only; stored. */
  vmciBufferMinSize: number
  /** ZMQ_VMCI_BUFFER_MAX_SIZE: vmci only; stored. */
  vmciBufferMaxSize: number
  /** ZMQ_VMCI_CONNECT_TIMEOUT: vmci only; stored. */
  vmciConnectTimeout: number
}

export const socketDefaults: Readonly<SocketOptionValues> = {
  linger: -1,
  sendHighWaterMark: 1000,
  receiveHighWaterMark: 1000,
  sendTimeout: -1,
  receiveTimeout: -1,
  reconnectInterval: 100,
  reconnectMaxInterval: 0,
  connectTimeout: 0,
  handshakeInterval: 30_000,
  heartbeatInterval: 0,
  heartbeatTimeout: -1,
  heartbeatTimeToLive: 0,
  maxMessageSize: -1,
  backlog: 100,
  immediate: false,
  ipv6: false,
  routingId: null,
  plainServer: false,
  plainUsername: null,
  plainPassword: null,
  curveServer: false,
  curvePublicKey: null,
  curveSecretKey: null,
  curveServerKey: null,
  zapDomain: null,
  zapEnforceDomain: false,
  tcpKeepalive: -1,
  tcpKeepaliveIdle: -1,
  tcpKeepaliveCount: -1,
  tcpKeepaliveInterval: -1,
  tcpAcceptFilter: null,
  tcpMaxRetransmitTimeout: 0,
  sendBufferSize: -1,
  receiveBufferSize: -1,
  typeOfService: 0,
  affinity: 0,
  rate: 100,
  recoveryInterval: 10_000,
  multicastHops: 1,
  multicastMaxTransportDataUnit: 1500,
  socksProxy: null,
  interface: null,
  loopbackFastPath: false,
  vmciBufferSize: 0,
  vmciBufferMinSize: 0,
  vmciBufferMaxSize: 0,
  vmciConnectTimeout: -1,
}

/**
 * Limits on what one peer may subscribe to, for the sockets that receive
 * subscriptions (Publisher, XPublisher). A peer past either is disconnected
 * with ERR_SUBSCRIPTION_LIMIT. libzmq has no such limits; the defaults are
 * far above what applications use, so they only stop a peer out to exhaust
 * the publisher's memory (see docs/options.md).
 */
/** ZMQ_INVERT_MATCHING, on Publisher, XPublisher and Subscriber. */
export interface InvertMatchingOptionValues {
  /**
   * ZMQ_INVERT_MATCHING: a publisher sends each message to the subscribers
   * none of whose subscriptions match it; a subscriber keeps the messages
   * none of its subscriptions match. Set it on both sides.
   */
  invertMatching: boolean
}

export interface SubscriptionLimitOptionValues {
  /**
   * zmesh only (libzmq has no limit): the largest topic in bytes a peer may
   * subscribe to or cancel. Commands may be this large (plus the SUBSCRIBE
   * name) even past `maxMessageSize`.
   */
  maxSubscriptionSize: number
  /** zmesh only (libzmq has no limit): the most distinct topics one peer may hold at once. */
  maxSubscriptions: number
}

export const subscriptionLimitDefaults: Readonly<SubscriptionLimitOptionValues> = {
  maxSubscriptionSize: 64 * 1024,
  maxSubscriptions: 1_000_000,
}

/** How each option's values are checked; the key set must match the defaults. */
type Check = "int" | "int64" | "uint" | "uint64" | "bool" | "routingId" | "string?" | "verbosity" | "key"

const checks: Record<keyof SocketOptionValues, Check> = {
  linger: "int",
  sendHighWaterMark: "uint",
  receiveHighWaterMark: "uint",
  sendTimeout: "int",
  receiveTimeout: "int",
  reconnectInterval: "int",
  reconnectMaxInterval: "uint",
  connectTimeout: "uint",
  handshakeInterval: "uint",
  heartbeatInterval: "uint",
  heartbeatTimeout: "int",
  heartbeatTimeToLive: "uint",
  maxMessageSize: "int64",
  backlog: "uint",
  immediate: "bool",
  ipv6: "bool",
  routingId: "routingId",
  plainServer: "bool",
  plainUsername: "string?",
  plainPassword: "string?",
  curveServer: "bool",
  curvePublicKey: "key",
  curveSecretKey: "key",
  curveServerKey: "key",
  zapDomain: "string?",
  zapEnforceDomain: "bool",
  tcpKeepalive: "int",
  tcpKeepaliveIdle: "int",
  tcpKeepaliveCount: "int",
  tcpKeepaliveInterval: "int",
  tcpAcceptFilter: "string?",
  tcpMaxRetransmitTimeout: "uint",
  sendBufferSize: "int",
  receiveBufferSize: "int",
  typeOfService: "uint",
  affinity: "uint64",
  rate: "uint",
  recoveryInterval: "uint",
  multicastHops: "uint",
  multicastMaxTransportDataUnit: "uint",
  socksProxy: "string?",
  interface: "string?",
  loopbackFastPath: "bool",
  vmciBufferSize: "uint64",
  vmciBufferMinSize: "uint64",
  vmciBufferMaxSize: "uint64",
  vmciConnectTimeout: "int",
}

/**
 * libzmq's option numbers, for zeromq.js's low-level `getInt32Option(id)`
 * and friends. Options of one socket type are listed too; a socket answers
 * only for the options it has.
 */
export const optionIds: Readonly<Record<number, string>> = {
  4: "affinity", 5: "routingId", 8: "rate", 9: "recoveryInterval", 11: "sendBufferSize", 12: "receiveBufferSize",
  16: "type", 17: "linger", 18: "reconnectInterval", 19: "backlog", 21: "reconnectMaxInterval", 22: "maxMessageSize",
  23: "sendHighWaterMark", 24: "receiveHighWaterMark", 25: "multicastHops", 27: "receiveTimeout", 28: "sendTimeout",
  32: "lastEndpoint", 33: "mandatory", 34: "tcpKeepalive", 35: "tcpKeepaliveCount", 36: "tcpKeepaliveIdle",
  37: "tcpKeepaliveInterval", 38: "tcpAcceptFilter", 39: "immediate", 40: "verbosity", 42: "ipv6", 43: "securityMechanism",
  44: "plainServer", 45: "plainUsername", 46: "plainPassword", 47: "curveServer", 48: "curvePublicKey", 49: "curveSecretKey",
  50: "curveServerKey", 51: "probeRouter", 52: "correlate", 53: "relaxed", 54: "conflate", 55: "zapDomain", 56: "handover",
  57: "typeOfService", 66: "handshakeInterval", 68: "socksProxy", 69: "noDrop", 71: "manual", 72: "welcomeMessage",
  73: "notify", 74: "invertMatching", 75: "heartbeatInterval", 76: "heartbeatTimeToLive", 77: "heartbeatTimeout",
  79: "connectTimeout", 80: "tcpMaxRetransmitTimeout", 81: "threadSafe", 84: "multicastMaxTransportDataUnit",
  85: "vmciBufferSize", 86: "vmciBufferMinSize", 87: "vmciBufferMaxSize", 88: "vmciConnectTimeout", 92: "interface",
  93: "zapEnforceDomain", 94: "loopbackFastPath",
}

/**
 * Options that act on live connections; setting any other after bind or
 * connect warns, as zeromq.js does, since it applies from the next one.
 */
export const immediateOptions: ReadonlySet<string> = new Set([
  "linger", "mandatory", "probeRouter", "verbosity", "correlate", "relaxed", "handover",
  "sendHighWaterMark", "receiveHighWaterMark", "sendTimeout", "receiveTimeout",
])

const subscriptionLimitChecks: Record<keyof SubscriptionLimitOptionValues, Check> = {
  maxSubscriptionSize: "uint",
  maxSubscriptions: "uint",
}

const INT32_MAX = 2 ** 31 - 1

/**
 * Validates one option value. As zeromq.js: a value of the wrong type is a
 * TypeError, a value of the right type that libzmq refuses is EINVAL.
 */
export function checkOption(name: string, check: Check, value: unknown): unknown {
  const bad = (why: string) => new ZmeshError("EINVAL", `invalid value for option ${name}: ${why}`)
  switch (check) {
    case "int":
    case "uint":
      if (typeof value !== "number") throw new TypeError("Option value must be a number")
      if (Number.isNaN(value)) throw bad("NaN is not an integer")
      // As zeromq.js, whose native setter casts to an integer: 1.5 is 1.
      value = Math.trunc(value)
      if ((value as number) < (check === "uint" ? 0 : -1)) throw bad(`${value} is out of range`)
      // libzmq's options are C ints (and Node's timers take at most 2^31 - 1 ms).
      if ((value as number) > INT32_MAX) throw bad(`${value} is above 2^31 - 1`)
      return value
    case "int64":
      if (typeof value !== "number") throw new TypeError("Option value must be a number")
      if (!Number.isSafeInteger(Math.trunc(value)) || value < -1) throw bad(`${value} is out of range`)
      return Math.trunc(value)
    case "uint64":
      if (typeof value !== "number") throw new TypeError("Option value must be a number")
      if (!Number.isInteger(value) || value < 0) throw bad(`${value} is not an unsigned integer`)
      // zeromq.js's words: a JavaScript number holds integers exactly only up to 2^53 - 1.
      if (value > Number.MAX_SAFE_INTEGER) {
        process.emitWarning("Value is larger than Number.MAX_SAFE_INTEGER and may have been rounded inaccurately.")
      }
      return value
    case "bool":
      if (typeof value !== "boolean") throw new TypeError("Option value must be a boolean")
      return value
    case "key":
      if (value === null) return null
      if (typeof value !== "string" && !(value instanceof Uint8Array)) {
        throw new TypeError("Option value must be a string or buffer")
      }
      if (typeof value === "string" && value.length === 40) {
        // libzmq refuses a key that is not Z85 when it is set, not at the next connect.
        z85Decode(value)
        return value
      }
      if (value instanceof Uint8Array && value.length === 32) return value
      throw bad("expected 32 bytes or 40 Z85 characters")
    case "string?": {
      if (value === null) return null
      if (typeof value !== "string" && !Buffer.isBuffer(value)) throw new TypeError("Option value must be a string or buffer")
      // zeromq.js reads an empty string option back as null.
      const text = value.toString()
      return text === "" ? null : text
    }
    case "verbosity":
      if (value !== null && value !== "allSubs" && value !== "allSubsUnsubs") {
        throw bad(`${String(value)} is not null, "allSubs" or "allSubsUnsubs"`)
      }
      return value
    case "routingId": {
      if (value === null) return null
      if (typeof value !== "string" && !Buffer.isBuffer(value)) throw new TypeError("Option value must be a string or buffer")
      const bytes = Buffer.from(value as string)
      if (bytes.length === 0 || bytes.length > 255) throw bad("must be 1-255 bytes")
      if (bytes[0] === 0) throw bad("must not start with a zero byte (reserved by libzmq)")
      return value
    }
  }
}

/** What a socket does when an option property is set; see Socket.optionSet. */
interface OptionHost {
  options: Record<string, unknown>
  optionSet?(name: string): void
}

/**
 * Defines a property per option on a socket class's prototype, backed by the
 * instance's `options` record and validated on assignment.
 */
export function defineOptions(prototype: object, table: Record<string, Check>): void {
  for (const [name, check] of Object.entries(table)) {
    Object.defineProperty(prototype, name, {
      configurable: true,
      enumerable: true,
      get(this: OptionHost) {
        const value = this.options[name]
        // A routing id given as bytes reads back as text, as zeromq.js's string option does.
        return check === "routingId" && Buffer.isBuffer(value) ? value.toString() : value
      },
      set(this: OptionHost, value: unknown) {
        this.options[name] = checkOption(name, check, value)
        this.optionSet?.(name)
      },
    })
  }
}

/**
 * Sets constructor options through the validating properties. An unknown or
 * read-only name is a TypeError, as assigning it to a sealed zeromq.js socket is.
 */
export function assignOptions(socket: object, given: object | undefined): void {
  if (given === undefined) return
  for (const [name, value] of Object.entries(given)) {
    if (name === "context") continue
    if (!hasSetter(socket, name)) {
      throw new TypeError(
        isReadOnly(socket, name)
          ? `Cannot set property ${name} of #<Socket> which has only a getter`
          : `Cannot add property ${name}, object is not extensible`,
      )
    }
    ;(socket as Record<string, unknown>)[name] = value
  }
}

function isReadOnly(object: object, name: string): boolean {
  return name in object && !hasSetter(object, name)
}

/** True when `name` is a settable option property of the object (an accessor on its prototype chain). */
export function hasSetter(object: object, name: string): boolean {
  for (let proto = Object.getPrototypeOf(object); proto !== null; proto = Object.getPrototypeOf(proto)) {
    const descriptor = Object.getOwnPropertyDescriptor(proto, name)
    if (descriptor !== undefined) return descriptor.set !== undefined
  }
  return false
}

export { checks as socketOptionChecks, subscriptionLimitChecks, type Check as OptionCheck }
