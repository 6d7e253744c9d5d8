/**
 * CURVE and PLAIN between zmesh sockets: traffic over tcp and ipc (inproc
 * carries no security, as in libzmq), ZAP refusals and the events they give,
 * refused clients redialling no faster than reconnectInterval,
 * `securityMechanism`, half-configured roles (EINVAL at bind/connect), the
 * accepted key forms, and `curveKeyPair()`.
 */
import { afterEach, describe, expect, it } from "vitest"
import * as zmesh from "../../src/index.js"
import * as extras from "../../src/extras.js"
import { publicKeyOf } from "../../src/zmtp/mechanisms/curve-crypto.js"
import { bindOn, cleanupIpc, inprocEndpoint, transports } from "../helpers/endpoints.js"
import {
  bindZapHandler,
  checkPassword,
  curveClientOptions,
  curveServerOptions,
  expectPacedRedials,
  Recorder,
  type Verdict,
} from "../helpers/security.js"
import { closeAll } from "../helpers/sockets.js"

const sockets: zmesh.Socket[] = []

afterEach(() => {
  closeAll(...sockets.splice(0))
  cleanupIpc()
})

function track<T extends zmesh.Socket>(socket: T): T {
  sockets.push(socket)
  return socket
}

/** The ZmeshError code `fn` throws or rejects with. */
async function codeOf(fn: () => unknown): Promise<string> {
  try {
    await fn()
  } catch (err) {
    expect(err).toBeInstanceOf(extras.ZmeshError)
    return (err as zmesh.ZmeshError).code
  }
  throw new Error("expected an error")
}

/** A zmesh ZAP handler at inproc://zeromq.zap.01 for this test; afterEach closes it. */
const zapHandler = (verdict: Verdict) => bindZapHandler(track(new zmesh.Reply()), verdict)

async function roundTrip(req: zmesh.Request, rep: zmesh.Reply): Promise<void> {
  await req.send(["hello", "", "multi"])
  expect((await rep.receive()).map(String)).toEqual(["hello", "", "multi"])
  await rep.send("world")
  expect((await req.receive()).map(String)).toEqual(["world"])
}

// ---- traffic -------------------------------------------------------------------------

describe.each(transports)("security between zmesh sockets over $name", (transport) => {
  describe("CURVE", () => {
    it("REQ/REP: the handshake completes and messages pass both ways", async () => {
      const server = zmesh.curveKeyPair()
      const client = zmesh.curveKeyPair()
      const rep = track(new zmesh.Reply(curveServerOptions(server)))
      const req = track(new zmesh.Request(curveClientOptions(client, server.publicKey)))
      req.connect(await bindOn(transport, rep))
      await roundTrip(req, rep)
    })

    it("DEALER/ROUTER with raw 32-byte keys on the client: routing id and a 1 MiB frame pass", async () => {
      const server = zmesh.curveKeyPair()
      const client = zmesh.curveKeyPair()
      const router = track(new zmesh.Router(curveServerOptions(server)))
      const dealer = track(
        new zmesh.Dealer({
          routingId: "d1",
          curveServerKey: extras.z85Decode(server.publicKey),
          curvePublicKey: new Uint8Array(extras.z85Decode(client.publicKey)),
          curveSecretKey: extras.z85Decode(client.secretKey),
        }),
      )
      dealer.connect(await bindOn(transport, router))
      const big = Buffer.alloc(1024 * 1024, 0x5a)
      await dealer.send(["a", big])
      const [id, a, body] = await router.receive()
      expect([String(id), String(a)]).toEqual(["d1", "a"])
      expect(body!.equals(big)).toBe(true)
      await router.send(["d1", "back"])
      expect((await dealer.receive()).map(String)).toEqual(["back"])
    })

    it("PUSH/PULL: a stream of large and small messages, each with its own bytes, arrives intact and stays so", async () => {
      // Large frames span reads (the receiver reuses one buffer to assemble their boxes) and cover the
      // box's whole Salsa20 groups; the sizes between them change which group layout each box has.
      const server = zmesh.curveKeyPair()
      const client = zmesh.curveKeyPair()
      const pull = track(new zmesh.Pull(curveServerOptions(server)))
      const push = track(new zmesh.Push(curveClientOptions(client, server.publicKey)))
      push.connect(await bindOn(transport, pull))
      const sizes = [70_000, 65_536, 1000, 200_000, 300, 65_537, 224, 225, 480, 100_000]
      const sent = Array.from({ length: 40 }, (_, i) => {
        const body = Buffer.alloc(sizes[i % sizes.length]!)
        for (let j = 0; j < body.length; j++) body[j] = (j * 31 + i * 7) & 0xff
        return body
      })
      const received: Buffer[] = []
      const receiving = (async () => {
        for (let i = 0; i < sent.length; i++) received.push((await pull.receive())[0]!)
      })()
      for (const body of sent) await push.send(body)
      await receiving
      // Compared only once all have arrived: no message may share bytes with a later one.
      expect(received.map((body, i) => body.equals(sent[i]!))).toEqual(sent.map(() => true))
    })

    it("PUB/SUB: the subscription crosses the box and filters at the publisher", async () => {
      const server = zmesh.curveKeyPair()
      const client = zmesh.curveKeyPair()
      const pub = track(new zmesh.Publisher(curveServerOptions(server)))
      const sub = track(new zmesh.Subscriber(curveClientOptions(client, server.publicKey)))
      sub.subscribe("A")
      sub.connect(await bindOn(transport, pub))
      // Probes until the subscription has reached the publisher (it sends nothing before).
      const first = sub.receive()
      let arrived = false
      void first.then(() => (arrived = true))
      while (!arrived) {
        await pub.send(["A.probe"])
        await new Promise<void>((resolve) => setImmediate(resolve))
      }
      await pub.send(["B", "no"])
      await pub.send(["A1", "yes"])
      await pub.send(["A.end"])
      const got: string[] = []
      for (;;) {
        const [topic] = await sub.receive()
        if (String(topic) === "A.probe") continue
        got.push(String(topic))
        if (String(topic) === "A.end") break
      }
      expect(got).toEqual(["A1", "A.end"])
    })

    it("a wrong server key: handshake:error:protocol on the server, handshake:error:other on the client, nothing passes", async () => {
      const server = zmesh.curveKeyPair()
      const client = zmesh.curveKeyPair()
      const rep = track(new zmesh.Reply(curveServerOptions(server)))
      const events = new Recorder(rep)
      const req = track(new zmesh.Request({ ...curveClientOptions(client, zmesh.curveKeyPair().publicKey), reconnectInterval: 20 }))
      const clientEvents = new Recorder(req)
      req.connect(await bindOn(transport, rep))
      await req.send("must not pass")
      const errors = await events.until("handshake:error:protocol", 2)
      expect(errors[0]!.code).toBe("ERR_ZMTP_PROTOCOL")
      // The server closes without a word; the client reports the cut handshake as libzmq does.
      const [clientError] = await clientEvents.until("handshake:error:other")
      expect(clientError!.code).toBe("ERR_CONNECTION_CLOSED")
      expect(events.of("handshake")).toEqual([])
      expect(clientEvents.of("handshake")).toEqual([])
      expect(rep.readable).toBe(false)
    })

    it("a ZAP handler refusing the client key (400): handshake:error:auth on both sides, nothing passes", async () => {
      const server = zmesh.curveKeyPair()
      const client = zmesh.curveKeyPair()
      const requests = await zapHandler(() => "400")
      const rep = track(new zmesh.Reply(curveServerOptions(server)))
      const events = new Recorder(rep)
      const req = track(new zmesh.Request(curveClientOptions(client, server.publicKey)))
      const clientEvents = new Recorder(req)
      req.connect(await bindOn(transport, rep))
      await req.send("must not pass")
      const [error] = await events.until("handshake:error:auth")
      expect(error!.code).toBe("ERR_AUTH")
      // The client is told why: ERROR 400 reaches it before the close.
      const [clientError] = await clientEvents.until("handshake:error:auth")
      expect(clientError!.code).toBe("ERR_AUTH")
      expect(clientError!.status).toBe(400)
      expect(clientEvents.of("handshake")).toEqual([])
      expect(rep.readable).toBe(false)
      expect(requests[0]!.mechanism).toBe("CURVE")
      expect(requests[0]!.credentials[0]!.equals(extras.z85Decode(client.publicKey))).toBe(true)
    })
  })

  describe("PLAIN", () => {
    it("a zmesh ZAP handler accepts the right password; messages pass", async () => {
      const requests = await zapHandler(checkPassword)
      const rep = track(new zmesh.Reply({ plainServer: true }))
      const req = track(new zmesh.Request({ plainUsername: "admin", plainPassword: "secret" }))
      req.connect(await bindOn(transport, rep))
      await roundTrip(req, rep)
      expect(requests.map((r) => [r.mechanism, ...r.credentials.map(String)])).toEqual([["PLAIN", "admin", "secret"]])
    })

    it("a wrong password: handshake:error:auth (400) on both sides, and nothing passes", async () => {
      await zapHandler(checkPassword)
      const rep = track(new zmesh.Reply({ plainServer: true }))
      const events = new Recorder(rep)
      const req = track(new zmesh.Request({ plainUsername: "admin", plainPassword: "wrong" }))
      const clientEvents = new Recorder(req)
      req.connect(await bindOn(transport, rep))
      await req.send("must not pass")
      const [error] = await events.until("handshake:error:auth")
      expect(error!.status).toBe(400)
      const [clientError] = await clientEvents.until("handshake:error:auth")
      expect(clientError!.code).toBe("ERR_AUTH")
      expect(clientError!.status).toBe(400)
      expect(clientEvents.of("handshake")).toEqual([])
      expect(rep.readable).toBe(false)
    })

    it("no ZAP handler: a PLAIN server refuses everyone with handshake:error:other (ERR_AUTH)", async () => {
      const rep = track(new zmesh.Reply({ plainServer: true }))
      const events = new Recorder(rep)
      const req = track(new zmesh.Request({ plainUsername: "admin", plainPassword: "secret" }))
      req.connect(await bindOn(transport, rep))
      const [error] = await events.until("handshake:error:other")
      expect(error!.code).toBe("ERR_AUTH")
      expect(events.of("handshake")).toEqual([])
    })

    it("a client greeting with CURVE is refused by a PLAIN server as a mechanism mismatch", async () => {
      await zapHandler(() => "200")
      const rep = track(new zmesh.Reply({ plainServer: true }))
      const events = new Recorder(rep)
      const server = zmesh.curveKeyPair()
      const req = track(new zmesh.Request({ curveServerKey: server.publicKey, curveSecretKey: zmesh.curveKeyPair().secretKey }))
      req.connect(await bindOn(transport, rep))
      const [error] = await events.until("handshake:error:protocol")
      expect(error!.code).toBe("ERR_ZMTP_MECHANISM_MISMATCH")
    })
  })

  describe("refused clients do not spin", () => {
    it.each([
      ["ZAP 400 (PLAIN, wrong password)", "400"],
      ["ZAP 300 (silent close)", "300"],
    ] as const)("%s: each redial waits at least reconnectInterval (100 ms)", async (_what, status) => {
      await zapHandler(() => status)
      const rep = track(new zmesh.Reply({ plainServer: true }))
      const req = track(new zmesh.Request({ plainUsername: "admin", plainPassword: "x", reconnectInterval: 100 }))
      const events = new Recorder(req)
      req.connect(await bindOn(transport, rep))
      await expectPacedRedials(events, 100)
      expect(events.of("handshake")).toEqual([])
    })
  })
})

describe("inproc carries no security (as in libzmq)", () => {
  it("CURVE-configured sockets still exchange messages over inproc", async () => {
    const server = zmesh.curveKeyPair()
    const client = zmesh.curveKeyPair()
    const rep = track(new zmesh.Reply(curveServerOptions(server)))
    const req = track(new zmesh.Request(curveClientOptions(client, server.publicKey)))
    const address = inprocEndpoint()
    await rep.bind(address)
    req.connect(address)
    await roundTrip(req, rep)
  })

  it("even a CURVE server and a client whose keys do not match talk over inproc", async () => {
    const rep = track(new zmesh.Reply({ curveServer: true, curveSecretKey: zmesh.curveKeyPair().secretKey }))
    const req = track(new zmesh.Request({ curveServerKey: zmesh.curveKeyPair().publicKey, curveSecretKey: zmesh.curveKeyPair().secretKey }))
    const address = inprocEndpoint()
    await rep.bind(address)
    req.connect(address)
    await roundTrip(req, rep)
  })
})

// ---- options -------------------------------------------------------------------------

describe("securityMechanism (ZMQ_MECHANISM)", () => {
  const key = () => zmesh.curveKeyPair()
  it.each([
    ["no security option", {}, null],
    ["curveServer", { curveServer: true, curveSecretKey: key().secretKey }, "curve"],
    ["curveServerKey (a CURVE client)", { curveServerKey: key().publicKey }, "curve"],
    // libzmq's set_curve_key switches ZMQ_MECHANISM to CURVE for any CURVE key.
    ["curveSecretKey alone", { curveSecretKey: key().secretKey }, "curve"],
    ["curvePublicKey alone", { curvePublicKey: key().publicKey }, "curve"],
    ["plainServer", { plainServer: true }, "plain"],
    ["plainUsername", { plainUsername: "admin" }, "plain"],
    ["plainPassword", { plainPassword: "secret" }, "plain"],
    ["curveServer: false", { curveServer: false }, null],
    ["plainServer: false", { plainServer: false }, null],
    ["a CURVE role and a PLAIN role", { plainUsername: "admin", curveServerKey: key().publicKey }, "curve"],
  ] as Array<[string, zmesh.SocketOptionValues | object, string | null]>)("%s -> %s", (_what, options, expected) => {
    const socket = track(new zmesh.Dealer(options))
    expect(socket.securityMechanism).toBe(expected)
  })

  it("follows options set after construction", () => {
    const socket = track(new zmesh.Dealer())
    socket.plainServer = true
    expect(socket.securityMechanism).toBe("plain")
    socket.plainServer = false
    expect(socket.securityMechanism).toBe(null)
    socket.curveServer = true
    expect(socket.securityMechanism).toBe("curve")
    socket.curveServer = false
    expect(socket.securityMechanism).toBe(null)
  })

  // zmesh used to look only at curveServer/curveServerKey, so a server that forgot curveServer: true (or a
  // client that forgot curveServerKey) silently ran NULL, in plaintext (fixed in 37f8d41).
  it("a socket with only curveSecretKey and curvePublicKey is CURVE, never NULL", () => {
    const pair = zmesh.curveKeyPair()
    const socket = track(new zmesh.Router({ curveSecretKey: pair.secretKey, curvePublicKey: pair.publicKey }))
    expect(socket.securityMechanism).toBe("curve")
  })
})

/** Waits for the first handshake:error:other of a socket. */
function handshakeFailure(socket: zmesh.Socket): Promise<zmesh.ZmeshError> {
  return new Promise((resolve) => socket.events.on("handshake:error:other", (event) => resolve(event.error)))
}

// libzmq runs a half-configured CURVE role with an all-zero key; zmesh binds and connects as libzmq does
// (zeromq.js's tests rely on it), greets as CURVE so a peer of another mechanism sees the mismatch, and
// then fails every handshake with EINVAL naming the missing key (docs/migrating.md).
describe("half-configured roles bind and connect, and fail every handshake with EINVAL", () => {
  it.each(transports)("a curveServer without curveSecretKey ($name): a CURVE client is refused, nothing passes", async (transport) => {
    const server = track(new zmesh.Reply({ curveServer: true }))
    const failed = handshakeFailure(server)
    const client = track(new zmesh.Request(curveClientOptions(zmesh.curveKeyPair(), zmesh.curveKeyPair().publicKey)))
    client.connect(await bindOn(transport, server))
    await client.send("must not pass")
    const error = await failed
    expect(error.code).toBe("EINVAL")
    expect(error.detail).toMatch(/curveSecretKey/)
    expect(server.readable).toBe(false)
  })

  it.each([
    ["curveServerKey only", { curveServerKey: zmesh.curveKeyPair().publicKey }],
    ["curveServerKey and curvePublicKey, no curveSecretKey", { curveServerKey: zmesh.curveKeyPair().publicKey, curvePublicKey: zmesh.curveKeyPair().publicKey }],
  ])("a client with %s connects, and its handshake fails with EINVAL", async (_what, options) => {
    const server = track(new zmesh.Reply(curveServerOptions(zmesh.curveKeyPair())))
    const client = track(new zmesh.Request(options))
    const failed = handshakeFailure(client)
    client.connect(await bindOn(transports[0]!, server))
    const error = await failed
    expect(error.code).toBe("EINVAL")
    expect(error.detail).toMatch(/curveSecretKey/)
  })

  it("a client with curveServerKey and curveSecretKey but no curvePublicKey is whole (the public key is derived)", async () => {
    const server = zmesh.curveKeyPair()
    const rep = track(new zmesh.Reply(curveServerOptions(server)))
    const req = track(new zmesh.Request({ curveServerKey: server.publicKey, curveSecretKey: zmesh.curveKeyPair().secretKey }))
    req.connect(await bindOn(transports[0]!, rep))
    await roundTrip(req, rep)
  })
})

describe("CURVE keys: 32 raw bytes or 40 Z85 characters", () => {
  const pair = zmesh.curveKeyPair()

  it.each([
    ["40 Z85 characters", pair.secretKey],
    ["a 32-byte Buffer", extras.z85Decode(pair.secretKey)],
    ["a 32-byte Uint8Array", new Uint8Array(extras.z85Decode(pair.secretKey))],
  ] as Array<[string, string | Uint8Array]>)("accepts %s in the constructor and as a property", (_what, value) => {
    const socket = track(new zmesh.Dealer({ curveSecretKey: value, curvePublicKey: value, curveServerKey: value }))
    socket.curveSecretKey = value
    socket.curvePublicKey = value
    socket.curveServerKey = value
    expect(socket.securityMechanism).toBe("curve")
  })

  it.each([
    ["31 bytes", Buffer.alloc(31)],
    ["33 bytes", Buffer.alloc(33)],
    ["39 characters", pair.secretKey.slice(1)],
    ["41 characters", `${pair.secretKey}0`],
    ["the empty string", ""],
  ] as Array<[string, unknown]>)("refuses %s with EINVAL, in the constructor and as a property", async (_what, value) => {
    for (const name of ["curveSecretKey", "curvePublicKey", "curveServerKey"] as const) {
      expect(await codeOf(() => new zmesh.Dealer({ [name]: value as string }))).toBe("EINVAL")
      const socket = track(new zmesh.Dealer())
      expect(await codeOf(() => (socket[name] = value as string))).toBe("EINVAL")
      expect(socket[name]).toBe(null)
    }
  })

  it.each([
    ["a number", 42],
    ["an array of 32 numbers", Array.from({ length: 32 }, () => 1)],
  ] as Array<[string, unknown]>)("refuses %s with TypeError (not a string or buffer, as zeromq.js), in the constructor and as a property", (_what, value) => {
    for (const name of ["curveSecretKey", "curvePublicKey", "curveServerKey"] as const) {
      expect(() => new zmesh.Dealer({ [name]: value as string })).toThrow(new TypeError("Option value must be a string or buffer"))
      const socket = track(new zmesh.Dealer())
      expect(() => (socket[name] = value as string)).toThrow(TypeError)
      expect(socket[name]).toBe(null)
    }
  })

  // zmesh used to check only the length and let a bad key fail later, at bind/connect (fixed in 37f8d41).
  it.each([
    ["a character outside the alphabet", "~".repeat(40)],
    ["a group above 2^32 - 1", "#".repeat(40)],
  ])("refuses 40 characters that are not Z85 (%s) with EINVAL when the option is set, as libzmq does", async (_what, value) => {
    for (const name of ["curveSecretKey", "curvePublicKey", "curveServerKey"] as const) {
      expect(await codeOf(() => new zmesh.Dealer({ [name]: value }))).toBe("EINVAL")
      const socket = track(new zmesh.Dealer())
      expect(await codeOf(() => (socket[name] = value))).toBe("EINVAL")
      expect(socket[name]).toBe(null)
    }
  })
})

describe("curveKeyPair()", () => {
  it("returns two 40-character Z85 keys; the decoded public key is the X25519 public key of the decoded secret", () => {
    const { publicKey, secretKey } = zmesh.curveKeyPair()
    expect(publicKey).toMatch(/^[0-9a-zA-Z.\-:+=^!/*?&<>()[\]{}@%$#]{40}$/)
    expect(secretKey).toMatch(/^[0-9a-zA-Z.\-:+=^!/*?&<>()[\]{}@%$#]{40}$/)
    expect(publicKeyOf(extras.z85Decode(secretKey)).equals(extras.z85Decode(publicKey))).toBe(true)
  })

  it("returns a fresh pair on every call", () => {
    const keys = new Set(Array.from({ length: 20 }, () => zmesh.curveKeyPair().secretKey))
    expect(keys.size).toBe(20)
  })

  it.each(transports)("its keys make a working CURVE connection over $name", async (transport) => {
    const server = zmesh.curveKeyPair()
    const client = zmesh.curveKeyPair()
    const rep = track(new zmesh.Reply({ curveServer: true, curveSecretKey: server.secretKey, curvePublicKey: server.publicKey }))
    const req = track(new zmesh.Request(curveClientOptions(client, server.publicKey)))
    req.connect(await bindOn(transport, rep))
    await roundTrip(req, rep)
  })
})
