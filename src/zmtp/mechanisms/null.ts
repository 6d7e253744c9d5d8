/** The NULL mechanism (23/ZMTP): both sides send READY at once, as libzmq does. */
import { ZmeshError } from "../../errors.js"
import { encodeReady, parseErrorReason } from "../command.js"
import { decodeMetadata } from "../metadata.js"
import type { Mechanism, MechanismHost } from "./mechanism.js"

export class NullMechanism implements Mechanism {
  readonly name = "NULL"
  readonly asServer = false
  private host: MechanismHost | undefined

  start(host: MechanismHost): void {
    this.host = host
    host.sendCommand(encodeReady(host.localMetadata))
  }

  onCommand(name: string, data: Buffer): void {
    const host = this.host!
    if (name === "ERROR") {
      return host.fail("protocol", new ZmeshError("ERR_PEER_ERROR", `peer sent ERROR: ${parseErrorReason(data)}`))
    }
    if (name !== "READY") {
      return host.fail("protocol", new ZmeshError("ERR_ZMTP_PROTOCOL", `unexpected ${name} command during the NULL handshake`))
    }
    const metadata = decodeMetadata(data)
    const refused = host.checkPeer(metadata)
    if (refused !== undefined) return host.fail("protocol", refused)
    host.ready(metadata)
  }
}
