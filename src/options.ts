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
  zapDomain: string
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
  zapDomain: "",
}

/**
 * Limits on what one peer may subscribe to, for the sockets that receive
 * subscriptions (Publisher, XPublisher). A peer past either is disconnected
 * with ERR_SUBSCRIPTION_LIMIT. libzmq has no such limits; the defaults are
 * far above what applications use, so they only stop a peer out to exhaust
 * the publisher's memory (see docs/options.md).
 */
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
type Check = "int" | "uint" | "bool" | "routingId" | "string" | "string?" | "verbosity" | "key"

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
  maxMessageSize: "int",
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
  zapDomain: "string",
}

const subscriptionLimitChecks: Record<keyof SubscriptionLimitOptionValues, Check> = {
  maxSubscriptionSize: "uint",
  maxSubscriptions: "uint",
}

/** Validates one option value; throws EINVAL with the option's name. */
export function checkOption(name: string, check: Check, value: unknown): unknown {
  const bad = (why: string) => new ZmeshError("EINVAL", `invalid value for option ${name}: ${why}`)
  switch (check) {
    case "int":
    case "uint":
      if (typeof value !== "number" || !Number.isInteger(value)) throw bad(`${String(value)} is not an integer`)
      if (value < (check === "uint" ? 0 : -1)) throw bad(`${value} is out of range`)
      return value
    case "bool":
      if (typeof value !== "boolean") throw bad(`${String(value)} is not a boolean`)
      return value
    case "string":
      if (typeof value !== "string") throw bad("expected a string")
      return value
    case "key":
      if (value === null) return null
      if (typeof value === "string" && value.length === 40) {
        // libzmq refuses a key that is not Z85 when it is set, not at the next connect.
        z85Decode(value)
        return value
      }
      if (value instanceof Uint8Array && value.length === 32) return value
      throw bad("expected 32 bytes or 40 Z85 characters")
    case "string?":
      if (value !== null && typeof value !== "string") throw bad("expected a string or null")
      return value
    case "verbosity":
      if (value !== null && value !== "allSubs" && value !== "allSubsUnsubs") {
        throw bad(`${String(value)} is not null, "allSubs" or "allSubsUnsubs"`)
      }
      return value
    case "routingId": {
      if (value === null) return null
      if (typeof value !== "string" && !Buffer.isBuffer(value)) throw bad("expected a string, Buffer or null")
      const bytes = Buffer.from(value as string)
      if (bytes.length === 0 || bytes.length > 255) throw bad("must be 1-255 bytes")
      if (bytes[0] === 0) throw bad("must not start with a zero byte (reserved by libzmq)")
      return value
    }
  }
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
      get(this: { options: Record<string, unknown> }) {
        return this.options[name]
      },
      set(this: { options: Record<string, unknown> }, value: unknown) {
        this.options[name] = checkOption(name, check, value)
      },
    })
  }
}

/** Sets constructor options through the validating properties; unknown names are refused. */
export function assignOptions(socket: object, given: object | undefined): void {
  if (given === undefined) return
  for (const [name, value] of Object.entries(given)) {
    if (!hasSetter(socket, name)) throw new ZmeshError("EINVAL", `unknown socket option ${JSON.stringify(name)}`)
    ;(socket as Record<string, unknown>)[name] = value
  }
}

function hasSetter(object: object, name: string): boolean {
  for (let proto = Object.getPrototypeOf(object); proto !== null; proto = Object.getPrototypeOf(proto)) {
    const descriptor = Object.getOwnPropertyDescriptor(proto, name)
    if (descriptor !== undefined) return descriptor.set !== undefined
  }
  return false
}

export { checks as socketOptionChecks, subscriptionLimitChecks, type Check as OptionCheck }
