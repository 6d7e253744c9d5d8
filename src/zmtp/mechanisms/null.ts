/**
 * The NULL mechanism (23/ZMTP): both sides send READY at once, as libzmq
 * does. With a ZAP domain set, READY waits for the ZAP handler's verdict.
 */
import { ZmeshError } from "../../errors.js"
import { encodeError, encodeReady, parseErrorReason } from "../command.js"
import { type Metadata, decodeMetadata } from "../metadata.js"
import type { Mechanism, MechanismHost } from "./mechanism.js"
import { askZap, peerRefusal } from "./zap-verdict.js"

export class NullMechanism implements Mechanism {
  readonly name = "NULL"
  readonly asServer = false
  private host: MechanismHost | undefined
  private readonly useZap: boolean
  /** ZMQ_ZAP_ENFORCE_DOMAIN: without a ZAP handler, refuse the peer instead of accepting it. */
  zapRequired = false
  /** Our READY is out (at once, or after ZAP accepted the peer). */
  private readySent = false
  /** The peer's READY, kept until ours is out. */
  private peer: Metadata | undefined

  /** @param useZap ask the ZAP handler first (libzmq does for NULL only when ZMQ_ZAP_DOMAIN is set). */
  constructor(useZap = false) {
    this.useZap = useZap
  }

  start(host: MechanismHost): void {
    this.host = host
    if (!this.useZap) return this.sendReady()
    void this.authenticate()
  }

  onCommand(name: string, data: Buffer): void {
    const host = this.host!
    if (name === "ERROR") {
      const refusal = peerRefusal(parseErrorReason(data))
      return host.fail(refusal.kind, refusal.error)
    }
    if (name !== "READY" || this.peer !== undefined) {
      return host.fail("protocol", new ZmeshError("ERR_ZMTP_PROTOCOL", `unexpected ${name} command during the NULL handshake`))
    }
    const metadata = decodeMetadata(data)
    const refused = host.checkPeer(metadata)
    if (refused !== undefined) return host.fail("protocol", refused)
    this.peer = metadata
    if (this.readySent) host.ready(metadata)
  }

  private sendReady(): void {
    const host = this.host!
    host.sendCommand(encodeReady(host.localMetadata))
    this.readySent = true
    if (this.peer !== undefined) host.ready(this.peer)
  }

  private async authenticate(): Promise<void> {
    const host = this.host!
    const verdict = await askZap(host, "NULL", [], this.zapRequired)
    if (!host.open) return
    if (verdict === undefined) return this.sendReady()
    if (verdict.error !== undefined) host.sendCommand(encodeError(verdict.error))
    host.fail(verdict.kind, verdict.failure)
  }
}
