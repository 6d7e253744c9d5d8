/**
 * PLAIN (RFC 24): a user name and password in clear text, checked by the
 * server's ZAP handler. Without a handler a PLAIN server refuses everyone,
 * as libzmq does.
 */
import { ZmeshError } from "../../errors.js"
import { encodeCommand, encodePlainError, encodeReady, parseErrorReason } from "../command.js"
import { decodeMetadata, encodeMetadata } from "../metadata.js"
import type { Mechanism, MechanismHost } from "./mechanism.js"
import { askZap, peerRefusal } from "./zap-verdict.js"

export class PlainClient implements Mechanism {
  readonly name = "PLAIN"
  readonly asServer = false
  private host: MechanismHost | undefined
  private readonly username: Buffer
  private readonly password: Buffer

  constructor(username: string, password: string) {
    this.username = Buffer.from(username)
    this.password = Buffer.from(password)
    if (this.username.length > 255 || this.password.length > 255) {
      throw new ZmeshError("EINVAL", "PLAIN user names and passwords are at most 255 bytes")
    }
  }

  start(host: MechanismHost): void {
    this.host = host
    const data = Buffer.concat([Buffer.of(this.username.length), this.username, Buffer.of(this.password.length), this.password])
    host.sendCommand(encodeCommand("HELLO", data))
  }

  onCommand(name: string, data: Buffer): void {
    const host = this.host!
    switch (name) {
      case "WELCOME":
        return host.sendCommand(encodeCommand("INITIATE", encodeMetadata(host.localMetadata)))
      case "READY": {
        const metadata = decodeMetadata(data)
        const refused = host.checkPeer(metadata)
        return refused === undefined ? host.ready(metadata) : host.fail("protocol", refused)
      }
      case "ERROR": {
        const refusal = peerRefusal(parseErrorReason(data))
        return host.fail("auth", refusal.error)
      }
      default:
        return host.fail("protocol", new ZmeshError("ERR_ZMTP_PROTOCOL", `unexpected ${name} command in the PLAIN handshake`))
    }
  }
}

export class PlainServer implements Mechanism {
  readonly name = "PLAIN"
  readonly asServer = true
  private host: MechanismHost | undefined
  private state: "hello" | "zap" | "initiate" | "done" = "hello"

  start(host: MechanismHost): void {
    this.host = host
  }

  onCommand(name: string, data: Buffer): void {
    const host = this.host!
    if (this.state === "hello" && name === "HELLO") {
      const credentials = parseHello(data)
      if (credentials === undefined) {
        return host.fail("protocol", new ZmeshError("ERR_ZMTP_PROTOCOL", "malformed PLAIN HELLO"))
      }
      this.state = "zap"
      void this.authenticate(credentials)
      return
    }
    if (this.state === "initiate" && name === "INITIATE") {
      const metadata = decodeMetadata(data)
      const refused = host.checkPeer(metadata)
      if (refused !== undefined) return host.fail("protocol", refused)
      this.state = "done"
      host.sendCommand(encodeReady(host.localMetadata))
      return host.ready(metadata)
    }
    host.fail("protocol", new ZmeshError("ERR_ZMTP_PROTOCOL", `unexpected ${name} command in the PLAIN handshake`))
  }

  private async authenticate(credentials: Buffer[]): Promise<void> {
    const host = this.host!
    const verdict = await askZap(host, "PLAIN", credentials, true)
    if (!host.open) return
    if (verdict !== undefined) {
      // libzmq's form, so that libzmq PLAIN clients see an authentication failure with the status.
      if (verdict.error !== undefined) host.sendCommand(encodePlainError(verdict.error))
      return host.fail(verdict.kind, verdict.failure)
    }
    this.state = "initiate"
    host.sendCommand(encodeCommand("WELCOME"))
  }
}

/** HELLO: `ulen(1) user plen(1) password`. */
function parseHello(data: Buffer): Buffer[] | undefined {
  const userLength = data[0]
  if (userLength === undefined || 1 + userLength >= data.length) return undefined
  const passwordLength = data[1 + userLength]!
  if (2 + userLength + passwordLength !== data.length) return undefined
  return [data.subarray(1, 1 + userLength), data.subarray(2 + userLength)]
}
