/**
 * Connection order and restarts with libzmq on the other side, over ipc where
 * the address is known before anyone binds: connect before bind, and a peer
 * that goes away and comes back on the same address.
 */
import * as zmq from "zeromq"
import { afterEach, describe, expect, it } from "vitest"
import * as zmesh from "../../src/index.js"
import { cleanupIpc, ipcEndpoint } from "../helpers/endpoints.js"
import { closeAll, nextEvent } from "../helpers/sockets.js"

const sockets: Array<zmesh.Socket | zmq.Socket> = []

afterEach(() => {
  closeAll(...sockets.splice(0))
  cleanupIpc()
})

describe("connect before bind with libzmq (ipc)", () => {
  it("zmesh PUSH connects first and queues; a libzmq PULL binds later and gets every message", async () => {
    const address = ipcEndpoint()
    const push = new zmesh.Push()
    sockets.push(push)
    push.connect(address)
    // Queued on the pending pipe: they resolve before any peer exists.
    for (let i = 0; i < 10; i++) await push.send(String(i))

    const pull = new zmq.Pull()
    sockets.push(pull)
    await pull.bind(address)
    const got: string[] = []
    for (let i = 0; i < 10; i++) got.push(String((await pull.receive())[0]))
    expect(got).toEqual(Array.from({ length: 10 }, (_, i) => String(i)))
  })

  it("a libzmq PUSH connects first; a zmesh PULL binds later and gets every message", async () => {
    const address = ipcEndpoint()
    const push = new zmq.Push()
    sockets.push(push)
    push.connect(address)
    for (let i = 0; i < 10; i++) await push.send(String(i))

    const pull = new zmesh.Pull()
    sockets.push(pull)
    await pull.bind(address)
    const got: string[] = []
    for (let i = 0; i < 10; i++) got.push(String((await pull.receive())[0]))
    expect(got).toEqual(Array.from({ length: 10 }, (_, i) => String(i)))
  })
})

describe("a libzmq peer that restarts on the same address (ipc)", () => {
  it("zmesh PUSH reconnects to a new libzmq PULL and delivers what it sends after the restart", async () => {
    const address = ipcEndpoint()
    const push = new zmesh.Push()
    sockets.push(push)
    const first = new zmq.Pull()
    sockets.push(first)
    await first.bind(address)
    const disconnected = nextEvent(push.events, "disconnect")
    push.connect(address)
    await push.send("one")
    expect(await first.receive()).toEqual([Buffer.from("one")])

    closeAll(first)
    await disconnected
    const reconnected = nextEvent(push.events, "handshake")
    const second = new zmq.Pull()
    sockets.push(second)
    await second.bind(address)
    await reconnected
    await push.send("two")
    expect(await second.receive()).toEqual([Buffer.from("two")])
  })

  it("a libzmq PUSH reconnects to a new zmesh PULL and delivers what it sends after the restart", async () => {
    const address = ipcEndpoint()
    const push = new zmq.Push()
    sockets.push(push)
    const first = new zmesh.Pull()
    sockets.push(first)
    await first.bind(address)
    push.connect(address)
    await push.send("one")
    expect(await first.receive()).toEqual([Buffer.from("one")])

    const disconnected = new Promise<void>((resolve) => push.events.on("disconnect", () => resolve()))
    closeAll(first)
    await disconnected
    const second = new zmesh.Pull()
    sockets.push(second)
    await second.bind(address)
    await push.send("two")
    expect(await second.receive()).toEqual([Buffer.from("two")])
  })
})
