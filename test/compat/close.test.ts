/**
 * zeromq.js compatibility: close(): pending send() and receive() calls
 * reject with EAGAIN, the socket lets go of its context, a second close()
 * does nothing, and every later operation fails with EBADF. Each check
 * runs against zmesh and the `zeromq` package.
 */
import { afterEach, describe, expect, it } from "vitest"
import { cleanupIpc, ipcEndpoint } from "../helpers/endpoints.js"
import { failure, libraries, socketTracker } from "./helpers.js"

const track = socketTracker()
afterEach(cleanupIpc)

const EAGAIN = { code: "EAGAIN", errno: 11, message: "Operation was not possible or timed out" }
const EBADF = { code: "EBADF", errno: 9, message: "Socket is closed" }

describe.each(libraries)("close ($name)", ({ zmq }) => {
  it("closed turns from false to true at once", () => {
    const sock = new zmq.Dealer({ linger: 0 })
    expect(sock.closed).toBe(false)
    sock.close()
    expect(sock.closed).toBe(true)
  })

  it("a pending send() rejects with EAGAIN", async () => {
    const sock = new zmq.Dealer({ linger: 0 })
    const sent = sock.send(Buffer.from("foo"))
    sock.close()
    expect(await failure(() => sent)).toMatchObject(EAGAIN)
  })

  it("a pending receive() rejects with EAGAIN", async () => {
    const sock = new zmq.Dealer({ linger: 0 })
    const received = sock.receive()
    sock.close()
    expect(await failure(() => received)).toMatchObject(EAGAIN)
  })

  it("after close, context is undefined", () => {
    const sock = new zmq.Dealer({ linger: 0 })
    expect(sock.context).toBe(zmq.context)
    sock.close()
    expect(sock.context).toBeUndefined()
  })

  it("a second close() does nothing", () => {
    const sock = new zmq.Dealer({ linger: 0 })
    sock.close()
    expect(() => sock.close()).not.toThrow()
    expect(sock.closed).toBe(true)
  })

  // zeromq.js throws these synchronously; zmesh's send() and receive() reject instead.
  it("send() and receive() after close fail with EBADF", async () => {
    const sock = new zmq.Dealer({ linger: 0 })
    sock.close()
    expect(await failure(() => sock.send("x"))).toMatchObject(EBADF)
    expect(await failure(() => sock.receive())).toMatchObject(EBADF)
  })

  it("bind, unbind, connect and disconnect after close fail with EBADF", async () => {
    const sock = new zmq.Dealer({ linger: 0 })
    sock.close()
    expect(await failure(() => sock.bind("tcp://127.0.0.1:*"))).toMatchObject(EBADF)
    expect(await failure(() => sock.unbind("tcp://127.0.0.1:5555"))).toMatchObject(EBADF)
    expect(await failure(() => sock.connect("tcp://127.0.0.1:5555"))).toMatchObject(EBADF)
    expect(await failure(() => sock.disconnect("tcp://127.0.0.1:5555"))).toMatchObject(EBADF)
  })

  it("a closed socket is neither readable nor writable", () => {
    const sock = new zmq.Router({ linger: 0 })
    sock.close()
    expect([sock.readable, sock.writable]).toEqual([false, false])
  })

  it("async iteration ends when the socket closes", async () => {
    const sender = track(new zmq.Pair({ linger: 0 }))
    const sock = new zmq.Pair({ linger: 0 })
    await sock.bind("tcp://127.0.0.1:*")
    sender.connect(sock.lastEndpoint!)
    await sender.send("one")
    const got: string[] = []
    for await (const [part] of sock) {
      got.push(String(part))
      sock.close()
    }
    expect(got).toEqual(["one"])
  })

  it("close() of a socket with queued output and linger 0 returns at once", () => {
    const sock = new zmq.Dealer({ linger: 0 })
    sock.connect(ipcEndpoint())
    void sock.send("queued").catch(() => undefined)
    sock.close()
    expect(sock.closed).toBe(true)
  })
})
