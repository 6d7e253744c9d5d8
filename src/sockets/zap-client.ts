/**
 * The client side of ZAP (RFC 27): a DEALER to the handler bound at
 * inproc://zeromq.zap.01 in this process, with requests matched to replies
 * by request id so one connection serves every handshake of a socket.
 */
import type { Message } from "../routing/pipe.js"
import { ZAP_ENDPOINT, type ZapReply, ZapReplyError, type ZapRequest, encodeZapRequest, parseZapReply } from "../zmtp/zap.js"
import { Dealer } from "./dealer.js"

export class ZapClient {
  private readonly dealer = new Dealer({ linger: 0 })
  private readonly pending = new Map<string, { resolve(reply: ZapReply | undefined): void; reject(err: Error): void }>()
  private nextId = 1

  constructor() {
    this.dealer.connect(ZAP_ENDPOINT)
    void this.readReplies()
  }

  /**
   * The handler's reply; undefined if the client closes first. Rejects with
   * a ZapReplyError (ERR_ZAP_*) when the handler answers with a bad reply.
   */
  async request(request: ZapRequest, signal: AbortSignal): Promise<ZapReply | undefined> {
    const id = String(this.nextId++)
    const reply = new Promise<ZapReply | undefined>((resolve, reject) => this.pending.set(id, { resolve, reject }))
    // The handshake ended first (timeout, disconnect, close): forget the request.
    const withdraw = () => {
      this.pending.get(id)?.resolve(undefined)
      this.pending.delete(id)
    }
    signal.addEventListener("abort", withdraw, { once: true })
    await this.dealer.send(encodeZapRequest(id, request))
    return reply.finally(() => signal.removeEventListener("abort", withdraw))
  }

  /** Requests waiting for the handler's reply. */
  get pendingCount(): number {
    return this.pending.size
  }



  close(): void {
    this.dealer.close()
    for (const waiter of this.pending.values()) waiter.resolve(undefined)
    this.pending.clear()
  }

  /**
   * A reply that names no pending request still answers one: libzmq has one
   * ZAP exchange per handshake, so it fails that handshake. Handlers answer
   * in order, so the oldest request is the one it meant.
   */
  private failOldest(failure: Error): void {
    const oldest = this.pending.keys().next()
    if (oldest.done === true) return
    const waiter = this.pending.get(oldest.value)!
    this.pending.delete(oldest.value)
    waiter.reject(failure)
  }

  private async readReplies(): Promise<void> {
    let frames: Message
    for await (frames of this.dealer) {
      try {
        const { requestId, reply } = parseZapReply(frames)
        const waiter = this.pending.get(requestId)
        if (waiter === undefined) {
          this.failOldest(new ZapReplyError("ERR_ZAP_BAD_REQUEST_ID", `ZAP reply to unknown request ${JSON.stringify(requestId)}`, undefined))
          continue
        }
        this.pending.delete(requestId)
        waiter.resolve(reply)
      } catch (err) {
        const failure = err as ZapReplyError
        const id = failure.requestId
        const waiter = id === undefined ? undefined : this.pending.get(id)
        if (waiter === undefined) this.failOldest(failure)
        else {
          this.pending.delete(id!)
          waiter.reject(failure)
        }
      }
    }
  }
}
