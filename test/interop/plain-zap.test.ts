/**
 * PLAIN (RFC 24) and ZAP (RFC 27) against libzmq (the zeromq package), over
 * tcp and ipc: a zmesh PLAIN server asks a zmesh ZAP handler (a zmesh Reply
 * bound at inproc://zeromq.zap.01) about a libzmq client, and a libzmq PLAIN
 * server asks a libzmq handler (a zeromq Reply bound at the same name, but in
 * libzmq's context: the two registries are separate) about a zmesh client.
 * Accepted clients exchange messages; refused ones report auth events, pass
 * nothing, and (for zmesh) redial no faster than reconnectInterval.
 */
import net from "node:net"
import * as zmq from "zeromq"
import { afterEach, describe, expect, it } from "vitest"
import * as zmesh from "../../src/index.js"
import { bindOn, cleanupIpc, transports } from "../helpers/endpoints.js"
import { hex } from "../helpers/feed.js"
import { bindZapHandler, checkPassword, expectPacedRedials, fileZapHandler, Recorder, type Verdict, type ZapRequest } from "../helpers/security.js"
import { closeAll } from "../helpers/sockets.js"
import { greeting } from "./raw-peer.js"

type Library = "zmesh" | "libzmq"

interface Peer {
  bind(address: string): Promise<void>
  readonly lastEndpoint: string | null
  connect(address: string): void
  send(message: Buffer | string | Array<Buffer | string>): Promise<void>
  receive(): Promise<Buffer[]>
  readonly readable: boolean
  readonly securityMechanism: string | null
  readonly events: unknown
  close(): void
}

interface PlainOptions {
  plainServer?: boolean
  plainUsername?: string
  plainPassword?: string
  reconnectInterval?: number
}

const sockets: Array<{ close(): void }> = []

afterEach(() => {
  closeAll(...sockets.splice(0))
  cleanupIpc()
})

function open(library: Library, kind: "REQ" | "REP", options: PlainOptions = {}): Peer {
  const socket =
    library === "zmesh"
      ? kind === "REQ"
        ? new zmesh.Request(options)
        : new zmesh.Reply(options)
      : kind === "REQ"
        ? new zmq.Request(options)
        : new zmq.Reply(options)
  sockets.push(socket)
  return socket
}

const server = (library: Library) => open(library, "REP", { plainServer: true })
const client = (library: Library, password: string, reconnectInterval = 100) =>
  open(library, "REQ", { plainUsername: "admin", plainPassword: password, reconnectInterval })

// ---- ZAP handlers --------------------------------------------------------------------

/** A zmesh ZAP handler (a zmesh Reply at inproc://zeromq.zap.01) for this test; afterEach closes it. */
const zmeshZap = (verdict: Verdict) => bindZapHandler(open("zmesh", "REP"), verdict)

/** libzmq's ZAP handler (a zeromq Reply in libzmq's context), one for the whole file. */
const libzmq = fileZapHandler(() => new zmq.Reply())

/** A request with its credentials as text, to compare with user names and passwords. */
const asText = (request: ZapRequest | undefined) => request && { ...request, credentials: request.credentials.map(String) }

/** A ZMTP 3.1 greeting for PLAIN, as-server 0. */
const PLAIN_CLIENT_GREETING = greeting("PLAIN")

/** Writes `bytes` to a zmesh endpoint over a raw tcp/ipc socket; resolves with all it read once the peer closes. */
function rawExchange(endpoint: string, bytes: Buffer): Promise<Buffer> {
  const tcp = /^tcp:\/\/(.+):(\d+)$/.exec(endpoint)
  const socket = tcp === null ? net.connect({ path: endpoint.slice("ipc://".length) }) : net.connect({ host: tcp[1]!, port: Number(tcp[2]) })
  const chunks: Buffer[] = []
  socket.on("data", (chunk: Buffer) => chunks.push(chunk))
  socket.write(bytes)
  return new Promise((resolve, reject) => {
    socket.on("error", reject)
    socket.on("close", () => resolve(Buffer.concat(chunks)))
  })
}

/** A request from the client and a reply from the server: both directions pass. */
async function roundTrip(req: Peer, rep: Peer): Promise<void> {
  await req.send(["hello", "plain"])
  expect((await rep.receive()).map(String)).toEqual(["hello", "plain"])
  await rep.send("world")
  expect((await req.receive()).map(String)).toEqual(["world"])
}

describe.each(transports)("PLAIN and ZAP with libzmq over $name", (transport) => {
  describe("zmesh server, zmesh ZAP handler, libzmq client", () => {
    it("the right password passes; the handler gets 1.0, the request id, domain, address, PLAIN, user and password", async () => {
      const requests = await zmeshZap(checkPassword)
      const rep = server("zmesh")
      const req = client("libzmq", "secret")
      expect(rep.securityMechanism).toBe("plain")
      expect(req.securityMechanism).toBe("plain")
      req.connect(await bindOn(transport, rep))
      await roundTrip(req, rep)
      expect(requests).toHaveLength(1)
      const [request] = requests
      expect(asText(request)).toMatchObject({ version: "1.0", domain: "", mechanism: "PLAIN", credentials: ["admin", "secret"] })
      expect(request!.requestId.length).toBeGreaterThan(0)
      if (transport.name === "tcp") expect(request!.address).toBe("127.0.0.1")
    })

    it("a wrong password: the zmesh server reports handshake:error:auth (400), nothing passes", async () => {
      const requests = await zmeshZap(checkPassword)
      const rep = server("zmesh")
      const events = new Recorder(rep)
      const req = client("libzmq", "wrong")
      const refused = new Recorder(req)
      req.connect(await bindOn(transport, rep))
      await req.send("must not pass")
      const [error] = await events.until("handshake:error:auth")
      expect(error!.code).toBe("ERR_AUTH")
      expect(error!.status).toBe(400)
      expect(error!.message).toBe("Authentication failure")
      // The libzmq client sees an authentication failure with the status, as against a libzmq server.
      const [clientError] = await refused.until("handshake:error:auth")
      expect(clientError!.status).toBe(400)
      expect(events.of("handshake")).toEqual([])
      expect(refused.of("handshake")).toEqual([])
      expect(rep.readable).toBe(false)
      expect(requests[0]!.credentials.map(String)).toEqual(["admin", "wrong"])
    })

    // libzmq 4.3.5's PLAIN client only recognises the one-byte-short ERROR its PLAIN server writes
    // (04 09 5e "RROR" 03 "400"), so zmesh's PLAIN server writes that form (docs/options.md); the
    // bytes are pinned here. StreamEngine.destroy() once dropped this ERROR (fixed in 37f8d41).
    it("a wrong password: the zmesh server writes libzmq's PLAIN ERROR 400 before it closes the connection", async () => {
      await zmeshZap(checkPassword)
      const rep = server("zmesh")
      const endpoint = await bindOn(transport, rep)
      const bytes = await rawExchange(endpoint, Buffer.concat([PLAIN_CLIENT_GREETING, hex("04 12 05 48454c4c4f 05 61646d696e 05 77726f6e67")]))
      // The server's 64-byte greeting, then ERROR with the ZAP status as reason.
      expect(bytes.subarray(64).toString("hex")).toBe(hex("04 09 5e 52524f52 03 343030").toString("hex"))
    })

    it("300 (temporary failure): the zmesh server closes without ERROR, reports handshake:error:auth; the client comes back", async () => {
      const requests = await zmeshZap(() => "300")
      const rep = server("zmesh")
      const events = new Recorder(rep)
      const req = client("libzmq", "secret")
      req.connect(await bindOn(transport, rep))
      await req.send("must not pass")
      // A silent close is a connection error for libzmq: it redials, and is refused again.
      const errors = await events.until("handshake:error:auth", 2)
      expect(errors[0]!.code).toBe("ERR_AUTH")
      expect(errors[0]!.status).toBe(300)
      expect(requests.length).toBeGreaterThanOrEqual(2)
      expect(rep.readable).toBe(false)
    })

    it("no zmesh handler bound (libzmq's, in its own context, does not count): handshake:error:other (ERR_AUTH), as libzmq does", async () => {
      const rep = server("zmesh")
      const events = new Recorder(rep)
      const req = client("libzmq", "secret")
      req.connect(await bindOn(transport, rep))
      await req.send("must not pass")
      const [error] = await events.until("handshake:error:other")
      expect(error!.code).toBe("ERR_AUTH")
      expect(events.of("handshake")).toEqual([])
      expect(rep.readable).toBe(false)
      expect(libzmq.requests).toEqual([])
    })
  })

  describe("libzmq server, libzmq ZAP handler, zmesh client", () => {
    it("the right password passes; libzmq's handler gets the zmesh client's user and password", async () => {
      const requests = libzmq.answer(checkPassword)
      const rep = server("libzmq")
      const req = client("zmesh", "secret")
      req.connect(await bindOn(transport, rep))
      await roundTrip(req, rep)
      expect(requests).toHaveLength(1)
      expect(asText(requests[0])).toMatchObject({ version: "1.0", mechanism: "PLAIN", credentials: ["admin", "secret"] })
    })

    it("a wrong password: the zmesh client reports handshake:error:auth with libzmq's ERROR 400, nothing passes", async () => {
      libzmq.answer(checkPassword)
      const rep = server("libzmq")
      const events = new Recorder(rep)
      const req = client("zmesh", "wrong")
      const refused = new Recorder(req)
      req.connect(await bindOn(transport, rep))
      await req.send("must not pass")
      const [error] = await refused.until("handshake:error:auth")
      expect(error!.code).toBe("ERR_AUTH")
      expect(error!.status).toBe(400)
      await events.until("handshake:error:auth")
      expect(refused.of("handshake")).toEqual([])
      expect(rep.readable).toBe(false)
    })

    it("a zmesh ZAP handler is not libzmq's: the libzmq server asks only the handler in its own context", async () => {
      const zmeshRequests = await zmeshZap(() => "400")
      const requests = libzmq.answer(checkPassword)
      const rep = server("libzmq")
      const req = client("zmesh", "secret")
      req.connect(await bindOn(transport, rep))
      await roundTrip(req, rep)
      expect(requests).toHaveLength(1)
      expect(zmeshRequests).toEqual([])
    })

    // (libzmq 4.3.5 does not close the connection promptly after a 300 verdict, so only 400 is
    // measured here; test/sockets/security.test.ts measures a zmesh server's silent 300 close.)
    it.each(["400"] as const)(
      "a zmesh client refused with %s does not spin: each redial waits at least reconnectInterval (100 ms)",
      async (status) => {
        libzmq.answer(() => status)
        const rep = server("libzmq")
        const req = client("zmesh", "secret", 100)
        const events = new Recorder(req)
        req.connect(await bindOn(transport, rep))
        await expectPacedRedials(events, 100)
        expect(events.of("handshake")).toEqual([])
      },
    )
  })
})
