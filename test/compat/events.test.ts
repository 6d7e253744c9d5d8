/**
 * zeromq.js compatibility: socket events. Whole event sequences of a bound
 * socket, bind:error, the observer's two modes and its end, and the
 * handshake failures of PLAIN, ZAP and mismatched mechanisms with zeromq.js's
 * codes, messages and ZAP status. Each check runs against both libraries,
 * with both peers (and the ZAP handler) from the same library.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest"
import { Pair } from "../../src/index.js"
import { cleanupIpc, inprocEndpoint, ipcEndpoint } from "../helpers/endpoints.js"
import { type Api, EventLog, failure, libraries, socketTracker, thrown, ZAP_ENDPOINT } from "./helpers.js"

const track = socketTracker()
afterEach(cleanupIpc)

/** A ZAP handler of one library for a whole describe block (libzmq frees an inproc name lazily, so it is bound once). */
function zapHandlerFor(zmq: Api): { reply: (request: Buffer[]) => Array<string | Buffer> } {
  const state = { reply: (request: Buffer[]): Array<string | Buffer> => ["1.0", request[1]!, "200", "OK", "", ""] }
  let router: InstanceType<Api["Router"]> | undefined
  beforeAll(async () => {
    router = new zmq.Router({ linger: 0 })
    await router.bind(ZAP_ENDPOINT)
    const handler = router
    void (async () => {
      for await (const [peer, delimiter, ...request] of handler) {
        await handler.send([peer!, delimiter!, ...state.reply(request)]).catch(() => undefined)
      }
    })()
  })
  afterAll(() => router?.close())
  return state
}

describe.each(libraries)("events ($name)", ({ zmq }) => {
  it("a socket closed without endpoints emits only end", async () => {
    const sock = new zmq.Dealer({ linger: 0 })
    const log = new EventLog(sock)
    sock.close()
    await log.until("end")
    expect(log.seen).toEqual([{ type: "end" }])
  })

  it("events is the same observer on every read", () => {
    const sock = track(new zmq.Dealer({ linger: 0 }))
    expect(sock.events).toBe(sock.events)
  })

  it.each([
    { name: "tcp", address: () => "tcp://127.0.0.1:*" },
    { name: "ipc", address: ipcEndpoint },
  ])("over $name a bound socket emits bind, accept, handshake, then close for its endpoint and end", async ({ address }) => {
    const server = new zmq.Dealer({ linger: 0 })
    const client = track(new zmq.Dealer({ linger: 0 }))
    const log = new EventLog(server)
    await server.bind(address())
    const endpoint = server.lastEndpoint!
    client.connect(endpoint)
    await log.until("handshake")
    server.close()
    await log.until("end")
    expect(log.seen).toEqual([
      { type: "bind", address: endpoint },
      { type: "accept", address: endpoint },
      { type: "handshake", address: endpoint },
      { type: "close", address: endpoint },
      { type: "end" },
    ])
  })

  it("over inproc a socket emits no bind, accept or close events, only end", async () => {
    const server = new zmq.Dealer({ linger: 0 })
    const client = track(new zmq.Dealer({ linger: 0 }))
    const log = new EventLog(server)
    await server.bind(inprocEndpoint())
    client.connect(server.lastEndpoint!)
    await client.send("over inproc")
    await server.receive()
    // libzmq ends an inproc socket once its peer lets go of their pipes.
    server.close()
    client.close()
    await log.until("end")
    expect(log.seen).toEqual([{ type: "end" }])
  })

  it("bind:error carries the tcp address without tcp:// and an EADDRINUSE error", async () => {
    const first = track(new zmq.Dealer({ linger: 0 }))
    const second = track(new zmq.Dealer({ linger: 0 }))
    await first.bind("tcp://127.0.0.1:*")
    const log = new EventLog(second)
    await expect(second.bind(first.lastEndpoint!)).rejects.toMatchObject({ code: "EADDRINUSE" })
    await log.until("bind:error")
    // libzmq also reports closing the descriptor of the failed listener, as a close without address.
    expect(log.of("bind:error")).toEqual([
      { type: "bind:error", address: first.lastEndpoint!.slice("tcp://".length), error: { code: "EADDRINUSE", message: "Address already in use" } },
    ])
  })

  it("after events.on(), events.receive() throws at once: the observer is in emitter mode", () => {
    const sock = track(new zmq.Dealer({ linger: 0 }))
    sock.events.on("bind", () => undefined)
    const err = thrown(() => sock.events.receive())
    expect(err).toBeInstanceOf(Error)
    expect(err.message).toBe(
      "Observer is in event emitter mode. After a call to events.on() it is not possible to read events with events.receive().",
    )
  })

  it("events.receive() yields end after close, then rejects with EBADF; the observer is closed", async () => {
    const sock = new zmq.Dealer({ linger: 0 })
    const events = sock.events
    sock.close()
    expect(await events.receive()).toEqual({ type: "end" })
    expect(await failure(() => events.receive())).toMatchObject({ code: "EBADF", errno: 9, message: "Socket is closed" })
    expect(events.closed).toBe(true)
  })

  it("async iteration over events ends after end", async () => {
    const sock = new zmq.Dealer({ linger: 0 })
    const types: string[] = []
    const reading = (async () => {
      for await (const event of sock.events) types.push(event.type)
    })()
    sock.close()
    await reading
    expect(types).toEqual(["end"])
  })

  describe("handshake failures", () => {
    const zap = zapHandlerFor(zmq)

    /** A PLAIN server and client over tcp; resolves with both event logs once each saw `type`. */
    async function plainPair(type: "handshake:error:auth" | "handshake:error:protocol", clientToo = true) {
      const server = track(new zmq.Dealer({ linger: 0, plainServer: true }))
      const client = track(new zmq.Dealer({ linger: 0, plainUsername: "user", plainPassword: "wrong", reconnectInterval: 1000 }))
      const serverLog = new EventLog(server)
      const clientLog = new EventLog(client)
      await server.bind("tcp://127.0.0.1:*")
      client.connect(server.lastEndpoint!)
      await Promise.all([serverLog.until(type), clientToo ? clientLog.until(type) : undefined])
      return { serverLog, clientLog }
    }

    it("a PLAIN client the ZAP handler refuses (400): handshake:error:auth with status 400 on both sides", async () => {
      zap.reply = (request) => ["1.0", request[1]!, "400", "no", "", ""]
      const { serverLog, clientLog } = await plainPair("handshake:error:auth")
      expect(serverLog.of("handshake:error:auth")[0]!.error).toMatchObject({ status: 400 })
      expect(clientLog.of("handshake:error:auth")[0]!.error).toMatchObject({ status: 400 })
      expect(serverLog.of("handshake")).toEqual([])
    })

    it("a ZAP reply of version 9.9: the server reports handshake:error:protocol, ERR_ZAP_BAD_VERSION", async () => {
      zap.reply = (request) => ["9.9", request[1]!, "200", "OK", "", ""]
      const { serverLog } = await plainPair("handshake:error:protocol", false)
      expect(serverLog.of("handshake:error:protocol")[0]!.error).toEqual({ code: "ERR_ZAP_BAD_VERSION", message: "ZAP protocol error" })
    })

    it("a ZAP reply of too few frames: the server reports handshake:error:protocol, ERR_ZAP_MALFORMED_REPLY", async () => {
      zap.reply = (request) => ["1.0", request[1]!, "200"]
      const { serverLog } = await plainPair("handshake:error:protocol", false)
      expect(serverLog.of("handshake:error:protocol")[0]!.error).toEqual({ code: "ERR_ZAP_MALFORMED_REPLY", message: "ZAP protocol error" })
    })

    it("a PLAIN server and a CURVE server: handshake:error:protocol, ERR_ZMTP_MECHANISM_MISMATCH, on both sides", async () => {
      const plain = track(new zmq.Dealer({ linger: 0, plainServer: true }))
      const curve = track(new zmq.Dealer({ linger: 0, curveServer: true, reconnectInterval: 1000 }))
      const plainLog = new EventLog(plain)
      const curveLog = new EventLog(curve)
      await plain.bind("tcp://127.0.0.1:*")
      curve.connect(plain.lastEndpoint!)
      await Promise.all([plainLog.until("handshake:error:protocol"), curveLog.until("handshake:error:protocol")])
      const mismatch = { code: "ERR_ZMTP_MECHANISM_MISMATCH", message: "ZMTP protocol error" }
      expect(plainLog.of("handshake:error:protocol")[0]!.error).toEqual(mismatch)
      expect(curveLog.of("handshake:error:protocol")[0]!.error).toEqual(mismatch)
    })
  })
})

describe("a throwing event listener in zmesh", () => {
  let saved: NodeJS.UncaughtExceptionListener[] = []
  afterEach(() => {
    process.removeAllListeners("uncaughtException")
    for (const listener of saved) process.on("uncaughtException", listener)
  })

  it("does not break the socket: messages still flow, and the throw reaches uncaughtException", async () => {
    saved = process.listeners("uncaughtException")
    process.removeAllListeners("uncaughtException")
    const uncaught = new Promise<Error>((resolve) => process.once("uncaughtException", resolve))

    const server = track(new Pair({ linger: 0 }))
    const client = track(new Pair({ linger: 0 }))
    server.events.on("accept", () => {
      throw new Error("listener failed")
    })
    await server.bind("tcp://127.0.0.1:*")
    client.connect(server.lastEndpoint!)
    expect((await uncaught).message).toBe("listener failed")
    await client.send("still")
    expect((await server.receive()).map(String)).toEqual(["still"])
    await server.send("working")
    expect((await client.receive()).map(String)).toEqual(["working"])
  })
})
