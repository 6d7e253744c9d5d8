/** ZAP (RFC 27): the request a server sends its authentication handler, and the handler's reply. */
import { ZmeshError } from "../errors.js"

/** Where libzmq's ZAP handler binds. */
export const ZAP_ENDPOINT = "inproc://zeromq.zap.01"

export interface ZapRequest {
  readonly domain: string
  /** The peer's address (IP for tcp). */
  readonly address: string
  /** Our own routing id, as libzmq sends it. */
  readonly identity: Buffer
  readonly mechanism: "NULL" | "PLAIN" | "CURVE"
  readonly credentials: readonly Buffer[]
}

export interface ZapReply {
  /** "200" accepts, "300" fails temporarily, "400" refuses, "500" is a handler error. */
  readonly status: string
  readonly text: string
  readonly userId: Buffer
  readonly metadata: Buffer
}

/** The request frames after the REQ/REP delimiter. */
export function encodeZapRequest(requestId: string, request: ZapRequest): Buffer[] {
  return [
    Buffer.alloc(0),
    Buffer.from("1.0"),
    Buffer.from(requestId),
    Buffer.from(request.domain),
    Buffer.from(request.address),
    request.identity,
    Buffer.from(request.mechanism),
    ...request.credentials,
  ]
}

/** Parses a reply (with its delimiter); throws ERR_ZMTP_PROTOCOL on a malformed one. */
export function parseZapReply(frames: readonly Buffer[]): { requestId: string; reply: ZapReply } {
  if (frames.length < 7 || frames[0]!.length !== 0 || frames[1]!.toString() !== "1.0") {
    throw new ZmeshError("ERR_ZMTP_PROTOCOL", "malformed ZAP reply: expected 7 frames starting with an empty delimiter and 1.0")
  }
  const status = frames[3]!.toString()
  if (!/^[2345]00$/.test(status)) throw new ZmeshError("ERR_ZMTP_PROTOCOL", `malformed ZAP reply: status ${JSON.stringify(status)}`)
  return {
    requestId: frames[2]!.toString(),
    reply: { status, text: frames[4]!.toString(), userId: frames[5]!, metadata: frames[6]! },
  }
}
