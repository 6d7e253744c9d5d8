/**
 * CURVE (RFC 26 CurveZMQ over RFC 25 ZMTP-CURVE), byte-exact to libzmq:
 * HELLO, WELCOME with its cookie, INITIATE with the vouch, READY, then every
 * frame (commands included) boxed in a MESSAGE. Short nonces start at 1 on
 * each side and must strictly increase; anything else drops the connection.
 */
import { randomBytes as systemRandom } from "node:crypto"
import { ZmeshError } from "../../errors.js"
import { encodeCommand, encodeError, parseErrorReason } from "../command.js"
import { FLAG_COMMAND, FLAG_MORE } from "../frame.js"
import { decodeMetadata, encodeMetadata } from "../metadata.js"
import {
  type KeyPair,
  keyPairFrom,
  nonce,
  open,
  precompute,
  publicKeyOf,
  readShortNonce,
  seal,
  writeShortNonce,
} from "./curve-crypto.js"
import type { Mechanism, MechanismHost } from "./mechanism.js"
import { askZap, peerRefusal } from "./zap-verdict.js"

/** Inside a MESSAGE box the flags byte uses bit 0 for MORE and bit 1 for a command (RFC 25). */
const CURVE_MORE = 0x01
const CURVE_COMMAND = 0x02
const MESSAGE_NAME = Buffer.from("\x07MESSAGE", "latin1")

/** What client and server share after the handshake: the boxing of traffic. */
abstract class CurveBase implements Mechanism {
  readonly name = "CURVE"
  abstract readonly asServer: boolean
  protected host: MechanismHost | undefined
  /** The next short nonce we send. */
  protected nextNonce = 1
  /** The last short nonce the peer used. */
  protected peerNonce = 0
  /** crypto_box_beforenm of the two transient keys. */
  protected key: Uint8Array | undefined
  private readonly sendPrefix: string
  private readonly receivePrefix: string
  /** Where transient keys, cookie keys and long nonces come from (fixed in layout tests). */
  protected readonly random: (size: number) => Buffer

  constructor(sendPrefix: string, receivePrefix: string, random: (size: number) => Buffer) {
    this.sendPrefix = sendPrefix
    this.receivePrefix = receivePrefix
    this.random = random
  }

  abstract start(host: MechanismHost): void
  abstract onCommand(name: string, data: Buffer): void

  readonly wrap = {
    encode: (flags: number, body: Buffer): Buffer => {
      const plain = Buffer.allocUnsafe(1 + body.length)
      plain[0] = ((flags & FLAG_MORE) !== 0 ? CURVE_MORE : 0) | ((flags & FLAG_COMMAND) !== 0 ? CURVE_COMMAND : 0)
      body.copy(plain, 1)
      const short = Buffer.allocUnsafe(8)
      writeShortNonce(short, 0, this.nextNonce++)
      const box = seal(this.key!, nonce(this.sendPrefix, short), plain)
      return Buffer.concat([MESSAGE_NAME, short, box])
    },
    decode: (body: Buffer): { flags: number; body: Buffer } => {
      // "\x07MESSAGE" + nonce(8) + box(>= 17).
      if (body.length < 33 || !body.subarray(0, 8).equals(MESSAGE_NAME)) {
        throw new ZmeshError("ERR_ZMTP_PROTOCOL", "CURVE: expected a MESSAGE command of at least 33 bytes")
      }
      const short = body.subarray(8, 16)
      this.checkNonce(short)
      const plain = open(this.key!, nonce(this.receivePrefix, short), body.subarray(16))
      if (plain === undefined || plain.length < 1) {
        throw new ZmeshError("ERR_ZMTP_PROTOCOL", "CURVE: MESSAGE box did not open (bad MAC)")
      }
      const flags = ((plain[0]! & CURVE_MORE) !== 0 ? FLAG_MORE : 0) | ((plain[0]! & CURVE_COMMAND) !== 0 ? FLAG_COMMAND : 0)
      return { flags, body: plain.subarray(1) }
    },
  }

  /** RFC 26: a short nonce that does not increase is a replay; the connection is dropped. */
  protected checkNonce(short: Buffer): void {
    const value = readShortNonce(short, 0)
    if (!(value > this.peerNonce)) {
      throw new ZmeshError("ERR_ZMTP_PROTOCOL", `CURVE: short nonce ${value} does not follow ${this.peerNonce} (replay or reorder)`)
    }
    this.peerNonce = value
  }

  protected takeNonce(): Buffer {
    const short = Buffer.allocUnsafe(8)
    writeShortNonce(short, 0, this.nextNonce++)
    return short
  }

  protected fail(kind: "protocol" | "auth", message: string): void {
    this.host!.fail(kind, new ZmeshError("ERR_ZMTP_PROTOCOL", `CURVE: ${message}`))
  }
}

export class CurveClient extends CurveBase {
  readonly asServer = false
  private readonly serverKey: Buffer
  private readonly permanent: KeyPair
  private readonly transient: KeyPair
  private state: "welcome" | "ready" | "done" = "welcome"

  /** @param serverKey the server's permanent public key; @param secretKey our permanent secret key. */
  constructor(serverKey: Buffer, publicKey: Buffer, secretKey: Buffer, random: (size: number) => Buffer = systemRandom) {
    super("CurveZMQMESSAGEC", "CurveZMQMESSAGES", random)
    this.serverKey = serverKey
    this.permanent = { publicKey, secretKey }
    this.transient = keyPairFrom(random(32))
  }

  start(host: MechanismHost): void {
    this.host = host
    const short = this.takeNonce()
    const box = seal(precompute(this.serverKey, this.transient.secretKey), nonce("CurveZMQHELLO---", short), Buffer.alloc(64))
    // version 1.0, 72 bytes of anti-amplification padding, C', nonce, box.
    const data = Buffer.concat([Buffer.of(1, 0), Buffer.alloc(72), this.transient.publicKey, short, box])
    host.sendCommand(encodeCommand("HELLO", data))
  }

  onCommand(name: string, data: Buffer): void {
    const host = this.host!
    if (name === "ERROR") return host.fail("auth", peerRefusal(parseErrorReason(data)).error)
    if (this.state === "welcome" && name === "WELCOME") return this.onWelcome(data)
    if (this.state === "ready" && name === "READY") {
      if (data.length < 8 + 16) return this.fail("protocol", "READY too short")
      const short = data.subarray(0, 8)
      this.checkNonce(short)
      const plain = open(this.key!, nonce("CurveZMQREADY---", short), data.subarray(8))
      if (plain === undefined) return this.fail("protocol", "READY box did not open")
      const metadata = decodeMetadata(plain)
      const refused = host.checkPeer(metadata)
      if (refused !== undefined) return host.fail("protocol", refused)
      this.state = "done"
      return host.ready(metadata)
    }
    this.fail("protocol", `unexpected ${name} command in the handshake`)
  }

  private onWelcome(data: Buffer): void {
    if (data.length !== 16 + 144) return this.fail("protocol", `WELCOME of ${data.length} bytes, expected 160`)
    const plain = open(precompute(this.serverKey, this.transient.secretKey), nonce("WELCOME-", data.subarray(0, 16)), data.subarray(16))
    // A box that does not open means the server is not who curveServerKey says.
    if (plain === undefined) return this.fail("protocol", "WELCOME box did not open: wrong curveServerKey?")
    const serverTransient = plain.subarray(0, 32)
    const cookie = plain.subarray(32, 128)
    this.key = precompute(serverTransient, this.transient.secretKey)
    const vouchNonce = this.random(16)
    const vouch = seal(
      precompute(serverTransient, this.permanent.secretKey),
      nonce("VOUCH---", vouchNonce),
      Buffer.concat([this.transient.publicKey, this.serverKey]),
    )
    const metadata = encodeMetadata(this.host!.localMetadata)
    const short = this.takeNonce()
    const box = seal(
      this.key,
      nonce("CurveZMQINITIATE", short),
      Buffer.concat([this.permanent.publicKey, vouchNonce, vouch, metadata]),
    )
    this.state = "ready"
    this.host!.sendCommand(encodeCommand("INITIATE", Buffer.concat([cookie, short, box])))
  }
}

export class CurveServer extends CurveBase {
  readonly asServer = true
  private readonly secretKey: Buffer
  private readonly publicKey: Buffer
  /** Key of this connection's cookie; the cookie proves INITIATE follows our WELCOME. */
  private readonly cookieKey: Buffer
  private clientTransient: Buffer | undefined
  private transient: KeyPair | undefined
  private state: "hello" | "initiate" | "zap" | "done" = "hello"
  /** ZMQ_ZAP_ENFORCE_DOMAIN: without a ZAP handler, refuse every client instead of accepting any key. */
  zapRequired = false

  constructor(secretKey: Buffer, random: (size: number) => Buffer = systemRandom) {
    super("CurveZMQMESSAGES", "CurveZMQMESSAGEC", random)
    this.secretKey = secretKey
    this.publicKey = publicKeyOf(secretKey)
    this.cookieKey = random(32)
  }

  start(host: MechanismHost): void {
    this.host = host
  }

  onCommand(name: string, data: Buffer): void {
    if (this.state === "hello" && name === "HELLO") return this.onHello(data)
    if (this.state === "initiate" && name === "INITIATE") return this.onInitiate(data)
    this.fail("protocol", `unexpected ${name} command in the handshake`)
  }

  private onHello(data: Buffer): void {
    if (data.length !== 194) return this.fail("protocol", `HELLO of ${data.length + 6} bytes, expected 200`)
    if (data[0] !== 1) return this.fail("protocol", `HELLO version ${data[0]}.${data[1]}, expected 1.0`)
    const clientTransient = data.subarray(74, 106)
    const short = data.subarray(106, 114)
    const plain = open(precompute(clientTransient, this.secretKey), nonce("CurveZMQHELLO---", short), data.subarray(114))
    if (plain === undefined || !plain.equals(Buffer.alloc(64))) return this.fail("protocol", "HELLO box did not open")
    this.checkNonce(short)
    this.clientTransient = Buffer.from(clientTransient)
    this.transient = keyPairFrom(this.random(32))
    const cookieNonce = this.random(16)
    const cookieBox = seal(this.cookieKey, nonce("COOKIE--", cookieNonce), Buffer.concat([this.clientTransient, this.transient.secretKey]))
    const welcomeNonce = this.random(16)
    const box = seal(
      precompute(this.clientTransient, this.secretKey),
      nonce("WELCOME-", welcomeNonce),
      Buffer.concat([this.transient.publicKey, cookieNonce, cookieBox]),
    )
    this.state = "initiate"
    this.host!.sendCommand(encodeCommand("WELCOME", Buffer.concat([welcomeNonce, box])))
  }

  private onInitiate(data: Buffer): void {
    const host = this.host!
    if (data.length < 96 + 8 + 16 + 128) return this.fail("protocol", "INITIATE too short")
    const cookie = open(this.cookieKey, nonce("COOKIE--", data.subarray(0, 16)), data.subarray(16, 96))
    const expected = Buffer.concat([this.clientTransient!, this.transient!.secretKey])
    if (cookie === undefined || !cookie.equals(expected)) return this.fail("protocol", "INITIATE cookie is not ours")
    const short = data.subarray(96, 104)
    this.checkNonce(short)
    this.key = precompute(this.clientTransient!, this.transient!.secretKey)
    const plain = open(this.key, nonce("CurveZMQINITIATE", short), data.subarray(104))
    if (plain === undefined || plain.length < 128) return this.fail("protocol", "INITIATE box did not open")
    const clientKey = plain.subarray(0, 32)
    const vouch = open(precompute(clientKey, this.transient!.secretKey), nonce("VOUCH---", plain.subarray(32, 48)), plain.subarray(48, 128))
    if (vouch === undefined || !vouch.equals(Buffer.concat([this.clientTransient!, this.publicKey]))) {
      return this.fail("protocol", "INITIATE vouch does not prove the client's key")
    }
    const metadata = decodeMetadata(plain.subarray(128))
    const refused = host.checkPeer(metadata)
    if (refused !== undefined) return host.fail("protocol", refused)
    this.state = "zap"
    void this.authenticate(Buffer.from(clientKey), metadata)
  }

  private async authenticate(clientKey: Buffer, metadata: Map<string, Buffer>): Promise<void> {
    const host = this.host!
    // Without a ZAP handler a CURVE server accepts any client key, as libzmq does.
    const verdict = await askZap(host, "CURVE", [clientKey], this.zapRequired)
    if (!host.open) return
    if (verdict !== undefined) {
      if (verdict.error !== undefined) host.sendCommand(encodeError(verdict.error))
      return host.fail(verdict.kind, verdict.failure)
    }
    const short = this.takeNonce()
    const box = seal(this.key!, nonce("CurveZMQREADY---", short), encodeMetadata(host.localMetadata))
    this.state = "done"
    host.sendCommand(encodeCommand("READY", Buffer.concat([short, box])))
    host.ready(metadata)
  }
}
