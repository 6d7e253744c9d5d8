/**
 * CURVE (RFC 26 CurveZMQ over RFC 25 ZMTP-CURVE), byte-exact to libzmq:
 * HELLO, WELCOME with its cookie, INITIATE with the vouch, READY, then every
 * frame (commands included) boxed in a MESSAGE. Short nonces start at 1 on
 * each side and must strictly increase; anything else drops the connection.
 * The boxes are libsodium's (WebAssembly, loaded on first use): the client
 * sends HELLO, and the server reads it, only once that is loaded.
 */
import { randomBytes as systemRandom } from "node:crypto"
import { ZmeshError } from "../../errors.js"
import { encodeCommand, encodeError, parseErrorReason } from "../command.js"
import { FLAG_COMMAND, FLAG_MORE } from "../frame.js"
import { decodeMetadata, encodeMetadata } from "../metadata.js"
import {
  generateKeyPair,
  type KeyPair,
  keyPairFrom,
  permanentKeyPair,
  loadSodium,
  nonce,
  open,
  precompute,
  readShortNonce,
  seal,
  sodiumLoaded,
  writeShortNonce,
} from "./curve-crypto.js"
import { openBox, plaintextArea, sealArea } from "./curve-sodium.js"
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
  /** The 24-byte nonces of our MESSAGE boxes and the peer's: the 16-byte prefix, then the short nonce. */
  private readonly sendNonce: Buffer
  private readonly receiveNonce: Buffer
  /** Where transient keys, cookie keys and long nonces come from (fixed in layout tests). */
  protected readonly random: (size: number) => Buffer

  constructor(sendPrefix: string, receivePrefix: string, random: (size: number) => Buffer) {
    this.sendNonce = nonce(sendPrefix, Buffer.alloc(8))
    this.receiveNonce = nonce(receivePrefix, Buffer.alloc(8))
    this.random = random
    // Start compiling libsodium now, so that it is ready by the time the greetings are exchanged.
    loadSodium().catch(() => undefined)
  }

  abstract start(host: MechanismHost): void
  abstract onCommand(name: string, data: Buffer): void

  readonly wrap = {
    encode: (flags: number, body: Buffer): Buffer => {
      // The plaintext (flags byte, body) goes straight into libsodium's heap, the box straight out of it.
      const length = 1 + body.length
      const plain = plaintextArea(length)
      plain[0] = ((flags & FLAG_MORE) !== 0 ? CURVE_MORE : 0) | ((flags & FLAG_COMMAND) !== 0 ? CURVE_COMMAND : 0)
      plain.set(body, 1)
      const nonce = this.sendNonce
      writeShortNonce(nonce, 16, this.nextNonce++)
      const box = sealArea(this.key!, nonce, length)
      // "\x07MESSAGE" + short nonce(8) + box.
      const out = Buffer.allocUnsafe(16 + box.length)
      MESSAGE_NAME.copy(out, 0)
      nonce.copy(out, 8, 16, 24)
      out.set(box, 16)
      return out
    },
    decode: (body: Buffer): { flags: number; body: Buffer } => {
      // "\x07MESSAGE" + nonce(8) + box(>= 17).
      if (body.length < 33 || !body.subarray(0, 8).equals(MESSAGE_NAME)) {
        throw new ZmeshError("ERR_ZMTP_PROTOCOL", "CURVE: expected a MESSAGE command of at least 33 bytes")
      }
      const short = body.subarray(8, 16)
      this.checkNonce(short)
      const nonce = this.receiveNonce
      nonce.set(short, 16)
      const plain = openBox(this.key!, nonce, body.subarray(16))
      if (plain === undefined) {
        throw new ZmeshError("ERR_ZMTP_PROTOCOL", "CURVE: MESSAGE box did not open (bad MAC)")
      }
      const flags = ((plain[0]! & CURVE_MORE) !== 0 ? FLAG_MORE : 0) | ((plain[0]! & CURVE_COMMAND) !== 0 ? FLAG_COMMAND : 0)
      const out = Buffer.allocUnsafe(plain.length - 1)
      out.set(plain.subarray(1))
      return { flags, body: out }
    },
  }

  /**
   * A transient key pair: node:crypto's own when the random source is the
   * system's (no import of a raw secret, ~0.4 ms less), else one made from
   * `random` (fixed in layout tests).
   */
  protected transientKeyPair(): KeyPair {
    return this.random === systemRandom ? generateKeyPair() : keyPairFrom(this.random(32))
  }

  /**
   * Runs a handshake step once libsodium is loaded: at once when it is, else
   * when it is and only if the connection is still open. A step that throws
   * later fails the handshake, as a synchronous throw does in the session.
   */
  protected whenLoaded(step: () => void): void {
    if (sodiumLoaded()) return step()
    const host = this.host!
    loadSodium().then(
      () => {
        if (!host.open) return
        try {
          step()
        } catch (err) {
          host.fail("protocol", err instanceof ZmeshError ? err : new ZmeshError("ERR_ZMTP_PROTOCOL", `CURVE: ${String(err)}`))
        }
      },
      (err: unknown) => {
        if (host.open) host.fail("other", new ZmeshError("ENOTSUP", "CURVE: could not load libsodium's WebAssembly build", { cause: err }))
      },
    )
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
  private readonly permanent: { readonly publicKey: Buffer; readonly secretKey: Buffer }
  private readonly transient: KeyPair
  private state: "welcome" | "ready" | "done" = "welcome"

  /** @param serverKey the server's permanent public key; @param secretKey our permanent secret key. */
  constructor(serverKey: Buffer, publicKey: Buffer, secretKey: Buffer, random: (size: number) => Buffer = systemRandom) {
    super("CurveZMQMESSAGEC", "CurveZMQMESSAGES", random)
    this.serverKey = serverKey
    this.permanent = { publicKey, secretKey }
    this.transient = this.transientKeyPair()
  }

  start(host: MechanismHost): void {
    this.host = host
    this.whenLoaded(() => this.sendHello())
  }

  private sendHello(): void {
    const host = this.host!
    const short = this.takeNonce()
    const box = seal(this.helloKey(), nonce("CurveZMQHELLO---", short), Buffer.alloc(64))
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

  /** crypto_box_beforenm(S, c'): the key of HELLO and WELCOME, computed once. */
  private helloKeyCache: Uint8Array | undefined
  private helloKey(): Uint8Array {
    return (this.helloKeyCache ??= precompute(this.serverKey, this.transient.secret))
  }

  private onWelcome(data: Buffer): void {
    if (data.length !== 16 + 144) return this.fail("protocol", `WELCOME of ${data.length} bytes, expected 160`)
    const plain = open(this.helloKey(), nonce("WELCOME-", data.subarray(0, 16)), data.subarray(16))
    // A box that does not open means the server is not who curveServerKey says.
    if (plain === undefined) return this.fail("protocol", "WELCOME box did not open: wrong curveServerKey?")
    const serverTransient = plain.subarray(0, 32)
    const cookie = plain.subarray(32, 128)
    this.key = precompute(serverTransient, this.transient.secret)
    const vouchNonce = this.random(16)
    const vouch = seal(
      precompute(serverTransient, permanentKeyPair(this.permanent.secretKey).secret),
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
  /** Our permanent key pair. */
  private readonly permanent: KeyPair
  /** Key of this connection's cookie; the cookie proves INITIATE follows our WELCOME. */
  private readonly cookieKey: Buffer
  private clientTransient: Buffer | undefined
  private transient: KeyPair | undefined
  private state: "hello" | "loading" | "initiate" | "zap" | "done" = "hello"
  /** ZMQ_ZAP_ENFORCE_DOMAIN: without a ZAP handler, refuse every client instead of accepting any key. */
  zapRequired = false

  constructor(secretKey: Buffer, random: (size: number) => Buffer = systemRandom) {
    super("CurveZMQMESSAGES", "CurveZMQMESSAGEC", random)
    this.permanent = permanentKeyPair(secretKey)
    this.cookieKey = random(32)
  }

  start(host: MechanismHost): void {
    this.host = host
  }

  onCommand(name: string, data: Buffer): void {
    if (this.state === "hello" && name === "HELLO") {
      if (sodiumLoaded()) return this.onHello(data)
      // Hold HELLO (a copy: the decoder's buffers are not ours to keep) until libsodium is loaded.
      const hello = Buffer.from(data)
      this.state = "loading"
      return this.whenLoaded(() => {
        this.state = "hello"
        this.onHello(hello)
      })
    }
    if (this.state === "initiate" && name === "INITIATE") return this.onInitiate(data)
    this.fail("protocol", `unexpected ${name} command in the handshake`)
  }

  private onHello(data: Buffer): void {
    if (data.length !== 194) return this.fail("protocol", `HELLO of ${data.length + 6} bytes, expected 200`)
    if (data[0] !== 1) return this.fail("protocol", `HELLO version ${data[0]}.${data[1]}, expected 1.0`)
    const clientTransient = data.subarray(74, 106)
    const short = data.subarray(106, 114)
    const helloKey = precompute(clientTransient, this.permanent.secret)
    const plain = open(helloKey, nonce("CurveZMQHELLO---", short), data.subarray(114))
    if (plain === undefined || !plain.equals(Buffer.alloc(64))) return this.fail("protocol", "HELLO box did not open")
    this.checkNonce(short)
    this.clientTransient = Buffer.from(clientTransient)
    this.transient = this.transientKeyPair()
    const cookieNonce = this.random(16)
    const cookieBox = seal(this.cookieKey, nonce("COOKIE--", cookieNonce), Buffer.concat([this.clientTransient, this.transient.secretKey]))
    const welcomeNonce = this.random(16)
    const box = seal(
      helloKey,
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
    this.key = precompute(this.clientTransient!, this.transient!.secret)
    const plain = open(this.key, nonce("CurveZMQINITIATE", short), data.subarray(104))
    if (plain === undefined || plain.length < 128) return this.fail("protocol", "INITIATE box did not open")
    const clientKey = plain.subarray(0, 32)
    const vouch = open(precompute(clientKey, this.transient!.secret), nonce("VOUCH---", plain.subarray(32, 48)), plain.subarray(48, 128))
    if (vouch === undefined || !vouch.equals(Buffer.concat([this.clientTransient!, this.permanent.publicKey]))) {
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
