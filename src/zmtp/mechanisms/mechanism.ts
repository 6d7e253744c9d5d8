/**
 * The security mechanism contract. A mechanism drives the handshake after the
 * greeting through its host and, once ready, may wrap traffic frames (CURVE
 * boxes them). PLAIN and CURVE implement this without touching the session;
 * steps may complete asynchronously (ZAP).
 */
import type { ZmeshError } from "../../errors.js"
import type { Metadata } from "../metadata.js"
import type { MechanismName } from "../greeting.js"
import type { ZapReply } from "../zap.js"

/** Why a handshake failed, mirroring libzmq's HANDSHAKE_FAILED_* events. */
export type HandshakeFailure = "protocol" | "auth" | "other"

/** What the session offers a mechanism. */
export interface MechanismHost {
  /** Our own properties for READY/INITIATE (Socket-Type, Identity). */
  readonly localMetadata: ReadonlyArray<readonly [string, Buffer | string]>
  /** Writes an encoded command frame to the peer. */
  sendCommand(frame: Buffer): void
  /**
   * Validates the peer's properties (socket type compatibility); returns the
   * error that refuses them, if they are refused.
   */
  checkPeer(metadata: Metadata): ZmeshError | undefined
  /** The handshake succeeded with these peer properties. */
  ready(metadata: Metadata): void
  /** The handshake failed; the session reports it and closes. */
  fail(kind: HandshakeFailure, error: ZmeshError): void
  /**
   * Asks the ZAP handler (RFC 27) about the peer; undefined when no handler
   * is bound in this process. Servers call it; the session fills in domain,
   * address and identity.
   */
  zap(mechanism: "NULL" | "PLAIN" | "CURVE", credentials: readonly Buffer[]): Promise<ZapReply | undefined>
  /** True while the session is still open (an asynchronous step may outlive it). */
  readonly open: boolean
}

export interface Mechanism {
  readonly name: MechanismName
  /** The as-server bit of our greeting. */
  readonly asServer: boolean
  /** Called once both greetings are exchanged. */
  start(host: MechanismHost): void
  /** A command received during the handshake (READY, HELLO, ERROR, ...). */
  onCommand(name: string, data: Buffer): void
  /**
   * Present when the mechanism encrypts traffic: `encode` turns a frame into
   * the frame actually sent, `decode` the reverse (and throws on a bad one).
   */
  readonly wrap?: {
    encode(flags: number, body: Buffer): Buffer
    decode(body: Buffer): { flags: number; body: Buffer }
  }
}
