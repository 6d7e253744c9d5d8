/**
 * PAIR against libzmq (the zeromq package): zmesh binding or connecting, over
 * tcp and ipc, with messages flowing each way and both ways at once.
 */
import * as zmq from "zeromq"
import { afterEach, describe, expect, it } from "vitest"
import * as zmesh from "../../src/index.js"
import { cleanupIpc, transports } from "../helpers/endpoints.js"
import { closeAll } from "../helpers/sockets.js"
import { exchangeTests, type QueueOptions } from "./exchange.js"
import { type Library, link } from "./link.js"

interface Case {
  readonly name: string
  readonly binds: Library
}

const cases: readonly Case[] = [
  { name: "zmesh PAIR binds, libzmq PAIR connects", binds: "zmesh" },
  { name: "libzmq PAIR binds, zmesh PAIR connects", binds: "libzmq" },
]

const directions: ReadonlyArray<{ readonly name: string; readonly sender: Library }> = [
  { name: "zmesh sends, libzmq receives", sender: "zmesh" },
  { name: "libzmq sends, zmesh receives", sender: "libzmq" },
]

describe.each(transports)("PAIR interop over $name", (transport) => {
  describe.each(cases)("$name", (c) => {
    const sockets: Array<zmesh.Socket | zmq.Socket> = []
    afterEach(() => {
      closeAll(...sockets.splice(0))
      cleanupIpc()
    })

    async function pairs(options?: QueueOptions): Promise<{ ours: zmesh.Pair; theirs: zmq.Pair }> {
      const ours = new zmesh.Pair(options)
      const theirs = new zmq.Pair(options)
      sockets.push(ours, theirs)
      if (c.binds === "zmesh") await link(transport, ours, theirs)
      else await link(transport, theirs, ours)
      return { ours, theirs }
    }

    describe.each(directions)("$name", (d) => {
      exchangeTests(async (options) => {
        const { ours, theirs } = await pairs(options)
        return d.sender === "zmesh" ? { sender: ours, receiver: theirs } : { sender: theirs, receiver: ours }
      })
    })

    it("carries traffic both ways at once: 1,000 round trips and two concurrent streams", async () => {
      const { ours, theirs } = await pairs()
      for (let i = 0; i < 1000; i++) {
        await ours.send(["ping", String(i)])
        const [, n] = await theirs.receive()
        await theirs.send(["pong", n!])
        const reply = await ours.receive()
        if (reply[0]!.toString() !== "pong" || reply[1]!.toString() !== String(i)) {
          expect(reply.map(String)).toEqual(["pong", String(i)])
        }
      }

      const count = 5000
      const stream = async (from: zmesh.Pair | zmq.Pair, to: zmesh.Pair | zmq.Pair, tag: string) => {
        const got: string[] = []
        const receiving = (async () => {
          for (let i = 0; i < count; i++) got.push((await to.receive()).map(String).join("/"))
        })()
        const sending = (async () => {
          for (let i = 0; i < count; i++) await from.send([tag, String(i)])
        })()
        await Promise.all([sending, receiving])
        return got
      }
      const [toTheirs, toOurs] = await Promise.all([stream(ours, theirs, "a"), stream(theirs, ours, "b")])
      expect(toTheirs).toEqual(Array.from({ length: count }, (_, i) => `a/${i}`))
      expect(toOurs).toEqual(Array.from({ length: count }, (_, i) => `b/${i}`))
    })
  })
})
