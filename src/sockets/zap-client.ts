/**
 * The client side of ZAP (RFC 27): a DEALER to the handler bound at
 * inproc://zeromq.zap.01 in this process, with requests matched to replies
 * by request id so one connection serves every handshake of a socket.
 */
import type { Message } from "../routing/pipe.js"
import { ZAP_ENDPOINT, type ZapReply, type ZapRequest, encodeZapRequest, parseZapReply } from "../zmtp/zap.js"
import { Dealer } from "./dealer.js"

export class ZapClient {
  private readonly dealer = new Dealer({ linger: 0 })
  private readonly pending = new Map<string, (reply: ZapReply | undefined) => void>()
  private nextId = 1

  constructor() {
    this.dealer.connect(ZAP_ENDPOINT)
    void this.readReplies()
  }

  /** The handler's reply; undefined if the client closes first. */
  async request(request: ZapRequest): Promise<ZapReply | undefined> {
    const id = String(this.nextId++)
    const reply = new Promise<ZapReply | undefined>((resolve) => this.pending.set(id, resolve))
    await this.dealer.send(encodeZapRequest(id, request))
    return reply
  }

  close(): void {
    this.dealer.close()
    for (const resolve of this.pending.values()) resolve(undefined)
    this.pending.clear()
  }

  private async readReplies(): Promise<void> {
    let frames: Message
    for await (frames of this.dealer) {
      try {
        const { requestId, reply } = parseZapReply(frames)
        this.pending.get(requestId)?.(reply)
        this.pending.delete(requestId)
      } catch {
        // A malformed reply answers nothing; its handshake times out (handshakeInterval).
      }
    }
  }
}
