/**
 * zeromq.js compatibility: connect() and disconnect(): synchronous errors
 * with libzmq's codes, messages and the address; Router.connect with a
 * routing id; connect before bind. Each check runs against both libraries.
 */
import { afterEach, describe, expect, it } from "vitest"
import { cleanupIpc, inprocEndpoint, ipcEndpoint } from "../helpers/endpoints.js"
import { libraries, socketTracker, thrown } from "./helpers.js"

const track = socketTracker()
afterEach(cleanupIpc)

const transports = [
  { name: "tcp", address: () => "tcp://127.0.0.1:*" },
  { name: "ipc", address: ipcEndpoint },
  { name: "inproc", address: inprocEndpoint },
] as const

describe.each(libraries)("connect/disconnect ($name)", ({ zmq }) => {
  it.each([
    ["an invalid endpoint", "foo-bar", { code: "EINVAL", errno: 22, message: "Invalid argument" }],
    ["an unknown transport", "foo://bar", { code: "EPROTONOSUPPORT", errno: 93, message: "Protocol not supported" }],
  ])("connect and disconnect of %s throw libzmq's error with the address at once", (_name, endpoint, expected) => {
    const sock = track(new zmq.Dealer({ linger: 0 }))
    expect(thrown(() => sock.connect(endpoint))).toMatchObject({ ...expected, address: endpoint })
    expect(thrown(() => sock.disconnect(endpoint))).toMatchObject({ ...expected, address: endpoint })
  })

  it("disconnect of an endpoint it is not connected to throws ENOENT with the address", () => {
    const sock = track(new zmq.Dealer({ linger: 0 }))
    const endpoint = "tcp://127.0.0.1:5555"
    expect(thrown(() => sock.disconnect(endpoint))).toMatchObject({ code: "ENOENT", errno: 2, message: "No such endpoint", address: endpoint })
  })

  it("connect and disconnect on a closed socket throw EBADF", () => {
    const sock = new zmq.Dealer({ linger: 0 })
    sock.close()
    expect(thrown(() => sock.connect("tcp://127.0.0.1:5555"))).toMatchObject({ code: "EBADF", message: "Socket is closed" })
    expect(thrown(() => sock.disconnect("tcp://127.0.0.1:5555"))).toMatchObject({ code: "EBADF", message: "Socket is closed" })
  })

  it("an address that is not a string is a TypeError", () => {
    const sock = track(new zmq.Dealer({ linger: 0 })) as unknown as { connect(a: unknown): unknown; disconnect(a: unknown): unknown }
    for (const call of [() => sock.connect(5555), () => sock.disconnect(null)]) {
      const err = thrown(call)
      expect(err).toBeInstanceOf(TypeError)
      expect(err.message).toBe("Address must be a string")
    }
  })

  describe.each(transports)("over $name", ({ address }) => {
    it("a Router connecting with { routingId } can send to that id at once (mandatory)", async () => {
      const peer = track(new zmq.Dealer({ linger: 0 }))
      await peer.bind(address())
      const router = track(new zmq.Router({ mandatory: true, linger: 0 }))
      router.connect(peer.lastEndpoint!, { routingId: "remoteId" })
      await router.send(["remoteId", "hi"])
      expect((await peer.receive()).map(String)).toEqual(["hi"])
    })

    it("disconnect of a connected endpoint succeeds; a second disconnect is ENOENT", async () => {
      const peer = track(new zmq.Dealer({ linger: 0 }))
      await peer.bind(address())
      const sock = track(new zmq.Dealer({ linger: 0 }))
      const endpoint = peer.lastEndpoint!
      sock.connect(endpoint)
      sock.disconnect(endpoint)
      expect(thrown(() => sock.disconnect(endpoint))).toMatchObject({ code: "ENOENT" })
    })
  })

  // zeromq.js does not pin this for inproc (a receive() waiting from before the bind is not woken there).
  it("a message sent before the peer binds over ipc arrives once it does", async () => {
    const endpoint = ipcEndpoint()
    const sender = track(new zmq.Dealer({ linger: 0 }))
    const receiver = track(new zmq.Dealer({ linger: 0 }))
    sender.connect(endpoint)
    const received = receiver.receive()
    const sent = sender.send("early")
    await receiver.bind(endpoint)
    await sent
    expect((await received).map(String)).toEqual(["early"])
  })
})
