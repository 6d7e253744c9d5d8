/** Chooses a connection's security mechanism from the socket options, as libzmq does. */
import { ZmeshError } from "../errors.js"
import type { SocketOptionValues } from "../options.js"
import { CurveClient, CurveServer } from "../zmtp/mechanisms/curve.js"
import { publicKeyOf } from "../zmtp/mechanisms/curve-crypto.js"
import type { Mechanism, MechanismHost } from "../zmtp/mechanisms/mechanism.js"
import { NullMechanism } from "../zmtp/mechanisms/null.js"
import { PlainClient, PlainServer } from "../zmtp/mechanisms/plain.js"
import { z85Decode } from "../zmtp/z85.js"

export type SecurityMechanism = null | "plain" | "curve"

/**
 * ZMQ_MECHANISM: CURVE once any CURVE option is set (libzmq's set_curve_key
 * switches the mechanism), else PLAIN once any PLAIN option is set, else NULL.
 * A half-configured role then fails with EINVAL instead of running NULL.
 */
export function securityOf(options: SocketOptionValues): SecurityMechanism {
  const { curveServer, curveServerKey, curveSecretKey, curvePublicKey } = options
  if (curveServer || curveServerKey !== null || curveSecretKey !== null || curvePublicKey !== null) return "curve"
  if (options.plainServer || options.plainUsername !== null || options.plainPassword !== null) return "plain"
  return null
}

/**
 * A fresh mechanism for one connection. When the options do not make a
 * whole role (a CURVE server without its secret key, a client without the
 * server's key), the connection still greets as that mechanism, so a peer
 * of another mechanism sees the mismatch, and then fails its handshake with
 * EINVAL naming the missing option. libzmq would run with an all-zero key;
 * zmesh never runs CURVE, or NULL, in place of a role left half-configured.
 */
export function createMechanism(options: SocketOptionValues): Mechanism {
  try {
    return createRole(options)
  } catch (err) {
    const curve = securityOf(options) === "curve"
    return new Misconfigured(curve ? "CURVE" : "PLAIN", curve ? options.curveServer : options.plainServer, err as ZmeshError)
  }
}

function createRole(options: SocketOptionValues): Mechanism {
  switch (securityOf(options)) {
    case "curve": {
      const secret = key("curveSecretKey", options.curveSecretKey)
      if (options.curveServer) {
        const server = new CurveServer(secret)
        server.zapRequired = options.zapEnforceDomain
        return server
      }
      const serverKey = key("curveServerKey", options.curveServerKey)
      // libzmq needs the public key set too; derive it when only the secret is given.
      const publicKey = options.curvePublicKey === null ? publicKeyOf(secret) : key("curvePublicKey", options.curvePublicKey)
      return new CurveClient(serverKey, publicKey, secret)
    }
    case "plain":
      if (options.plainServer) return new PlainServer()
      return new PlainClient(options.plainUsername ?? "", options.plainPassword ?? "")
    default: {
      const mechanism = new NullMechanism(options.zapDomain !== null)
      mechanism.zapRequired = options.zapEnforceDomain
      return mechanism
    }
  }
}

/** A CURVE key as 32 bytes, from raw bytes or 40 Z85 characters. */
export function key(name: string, value: string | Uint8Array | null): Buffer {
  if (value === null) throw new ZmeshError("EINVAL", `CURVE needs ${name}`)
  return typeof value === "string" ? z85Decode(value) : Buffer.from(value)
}

/** A role the options leave incomplete: greets, then fails the handshake with why. */
class Misconfigured implements Mechanism {
  readonly name: "CURVE" | "PLAIN"
  readonly asServer: boolean
  private readonly failure: ZmeshError

  constructor(name: "CURVE" | "PLAIN", asServer: boolean, failure: ZmeshError) {
    this.name = name
    this.asServer = asServer
    this.failure = failure
  }

  start(host: MechanismHost): void {
    host.fail("other", this.failure)
  }

  onCommand(): void {}
}
