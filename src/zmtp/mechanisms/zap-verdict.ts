/** How a server mechanism acts on a ZAP reply (libzmq's zap_client.cpp). */
import { ZmeshError } from "../../errors.js"
import type { ZapReply } from "../zap.js"
import type { HandshakeFailure, MechanismHost } from "./mechanism.js"

export interface Refusal {
  readonly kind: HandshakeFailure
  readonly failure: ZmeshError
  /** The reason for an ERROR command to the client, or undefined to close silently. */
  readonly error: string | undefined
}

/**
 * Asks the ZAP handler and judges its reply: undefined when the client is
 * accepted. A reply that is not a valid ZAP reply fails the handshake as a
 * protocol error with libzmq's ERR_ZAP_* code, and tells the client nothing.
 */
export async function askZap(
  host: MechanismHost,
  mechanism: "NULL" | "PLAIN" | "CURVE",
  credentials: readonly Buffer[],
  required: boolean,
): Promise<Refusal | undefined> {
  let reply: ZapReply | undefined
  try {
    reply = await host.zap(mechanism, credentials)
  } catch (err) {
    if (err instanceof ZmeshError) return { kind: "protocol", failure: err, error: undefined }
    reply = undefined
  }
  return zapVerdict(reply, required)
}

/**
 * Undefined when the client is accepted. `required` says what happens with
 * no handler: PLAIN refuses, CURVE and NULL accept.
 */
export function zapVerdict(reply: ZapReply | undefined, required: boolean): Refusal | undefined {
  if (reply === undefined) {
    if (!required) return undefined
    return {
      kind: "other",
      failure: new ZmeshError("ERR_AUTH", "no ZAP handler is bound at inproc://zeromq.zap.01 to check the client"),
      error: undefined,
    }
  }
  if (reply.status === "200") return undefined
  const failure = new ZmeshError("ERR_AUTH", `ZAP handler refused the client: ${reply.status} ${reply.text}`.trim(), {
    message: authMessage(reply.status),
    status: Number(reply.status),
  })
  // 300 is a temporary failure: close without ERROR so the client retries.
  return { kind: "auth", failure, error: reply.status === "300" ? undefined : reply.status }
}

/**
 * What a client makes of the ERROR a server refused it with. A ZAP status
 * as the reason (libzmq's handle_error_reason: "300", "400", "500") is an
 * authentication failure carrying that status; any other reason is the
 * peer's error.
 */
export function peerRefusal(reason: string): { kind: HandshakeFailure; error: ZmeshError } {
  if (/^[345]00$/.test(reason)) {
    const error = new ZmeshError("ERR_AUTH", `the server refused us: ZAP status ${reason}`, {
      message: authMessage(reason),
      status: Number(reason),
    })
    return { kind: "auth", error }
  }
  return { kind: "protocol", error: new ZmeshError("ERR_PEER_ERROR", `the server refused us: ${reason}`) }
}

/** zeromq.js's messages for ZAP statuses. */
function authMessage(status: string): string {
  switch (status) {
    case "300":
      return "Temporary error"
    case "400":
      return "Authentication failure"
    case "500":
      return "Internal error"
    default:
      return "Unknown error"
  }
}
