/** ZAP (RFC 27): the request a server sends its authentication handler, and the handler's reply. */
import { type ErrorCode, ZmeshError } from "../errors.js"

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

/** A ZAP reply that could not be used, and the request it answers when that can be read. */
export class ZapReplyError extends ZmeshError {
  readonly requestId: string | undefined

  constructor(code: ErrorCode, detail: string, requestId: string | undefined) {
    super(code, detail)
    this.requestId = requestId
  }
}

/**
 * Parses a reply (with its delimiter), checked as libzmq's zap_client does;
 * throws a ZapReplyError with libzmq's ZAP protocol error code otherwise.
 */
export function parseZapReply(frames: readonly Buffer[]): { requestId: string; reply: ZapReply } {
  if (frames.length !== 7 || frames[0]!.length !== 0) {
    const requestId = frames.length >= 3 && frames[0]!.length === 0 ? frames[2]!.toString() : undefined
    throw new ZapReplyError("ERR_ZAP_MALFORMED_REPLY", `malformed ZAP reply: ${frames.length} frames, expected 7 after an empty delimiter`, requestId)
  }
  const requestId = frames[2]!.toString()
  const version = frames[1]!.toString()
  if (version !== "1.0") throw new ZapReplyError("ERR_ZAP_BAD_VERSION", `ZAP reply version ${JSON.stringify(version)}, expected "1.0"`, requestId)
  const status = frames[3]!.toString()
  if (!/^[2345]00$/.test(status)) {
    throw new ZapReplyError("ERR_ZAP_INVALID_STATUS_CODE", `ZAP reply status ${JSON.stringify(status)}`, requestId)
  }
  return { requestId, reply: { status, text: frames[4]!.toString(), userId: frames[5]!, metadata: frames[6]! } }
}
