/**
 * PUSH/PULL against libzmq (the zeromq package): zmesh on either end, binding
 * or connecting, over tcp and ipc.
 */
import * as zmq from "zeromq"
import { afterEach, describe } from "vitest"
import * as zmesh from "../../src/index.js"
import { cleanupIpc, transports } from "../helpers/endpoints.js"
import { closeAll } from "../helpers/sockets.js"
import { exchangeTests, type QueueOptions } from "./exchange.js"
import { type Library, link } from "./link.js"

interface Case {
  readonly name: string
  readonly push: Library
  readonly binds: "PUSH" | "PULL"
}

const cases: readonly Case[] = [
  { name: "zmesh PUSH binds, libzmq PULL connects", push: "zmesh", binds: "PUSH" },
  { name: "libzmq PULL binds, zmesh PUSH connects", push: "zmesh", binds: "PULL" },
  { name: "zmesh PULL binds, libzmq PUSH connects", push: "libzmq", binds: "PULL" },
  { name: "libzmq PUSH binds, zmesh PULL connects", push: "libzmq", binds: "PUSH" },
]

describe.each(transports)("PUSH/PULL interop over $name", (transport) => {
  describe.each(cases)("$name", (c) => {
    const sockets: Array<zmesh.Socket | zmq.Socket> = []
    afterEach(() => {
      closeAll(...sockets.splice(0))
      cleanupIpc()
    })

    exchangeTests(async (options?: QueueOptions) => {
      // zeromq.js has no receive options on PUSH and no send options on PULL.
      const pushOptions = options?.sendHighWaterMark === undefined ? {} : { sendHighWaterMark: options.sendHighWaterMark }
      const pullOptions =
        options?.receiveHighWaterMark === undefined ? {} : { receiveHighWaterMark: options.receiveHighWaterMark }
      const push = c.push === "zmesh" ? new zmesh.Push(pushOptions) : new zmq.Push(pushOptions)
      const pull = c.push === "zmesh" ? new zmq.Pull(pullOptions) : new zmesh.Pull(pullOptions)
      sockets.push(push, pull)
      if (c.binds === "PUSH") await link(transport, push, pull)
      else await link(transport, pull, push)
      return { sender: push, receiver: pull }
    })
  })
})
