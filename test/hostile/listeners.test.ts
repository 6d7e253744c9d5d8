/**
 * A listener that throws, on any event type, must neither corrupt its socket
 * nor drop a connection: zmesh calls listeners where a throw cannot unwind
 * through its state, and the throw reaches the process as an uncaught
 * exception, later. Vitest reports uncaught exceptions as failures, so the
 * sockets run in a child process (fixtures/listeners-child.mjs, on the built
 * dist/) that catches them and prints what it saw.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { Child, type Exit, distBuilt, fixture, killChildren } from "./fixtures/probes.js"

afterAll(killChildren)

interface Summary {
  /** `name:type` of every listener that threw, in order. */
  thrown: string[]
  caught: Array<{ origin: string; message: string }>
  /** zmesh calls that threw or rejected (none may). */
  callsThrew: string[]
  flows: Array<{ tag: string; ok: boolean }>
  warnings: number
  otherCode: string
}

const SERVER_EVENTS = [
  "bind",
  "close",
  "accept",
  "handshake",
  "handshake:error:protocol",
  "handshake:error:other",
  "handshake:error:auth",
  "disconnect",
  "end",
]
const CLIENT_EVENTS = [
  "connect:delay",
  "close",
  "connect:retry",
  "connect",
  "handshake",
  "handshake:error:protocol",
  "handshake:error:auth",
  "handshake:error:other",
  "disconnect",
  "end",
]

describe.skipIf(!distBuilt)("listeners that throw", () => {
  let summary: Summary
  let exit: Exit

  beforeAll(async () => {
    const child = new Child(fixture("listeners-child.mjs"))
    summary = JSON.parse(await child.line("summary ", 15_000)) as Summary
    exit = await child.exited(5000)
  })

  it("leave the child process able to exit by itself once its sockets are closed", () => {
    expect(exit).toMatchObject({ code: 0, signal: null })
  })

  it("are called for every event type a PULL server and a PUSH client emit", () => {
    const types = (name: string) => new Set(summary.thrown.filter((t) => t.startsWith(`${name}:`)).map((t) => t.slice(name.length + 1)))
    expect([...types("server")].sort()).toEqual([...SERVER_EVENTS].sort())
    expect([...types("client")].sort()).toEqual([...CLIENT_EVENTS].sort())
  })

  it("each surface once as an uncaught exception, not as a rejection or a throw from a zmesh call", () => {
    expect(summary.caught.map((c) => c.message).sort()).toEqual([...summary.thrown].sort())
    for (const caught of summary.caught) expect(caught.origin).toBe("uncaughtException")
    expect(summary.callsThrew).toEqual([])
  })

  it("leave the connections working: messages flow in order after every kind of event", () => {
    expect(summary.flows.map((f) => f.tag)).toEqual([
      "handshake",
      "client handshake:error:protocol",
      "client handshake:error:auth",
      "client handshake:error:other",
      "server protocol",
      "server other",
      "server auth",
      "reconnected",
      "after client end",
    ])
    for (const flow of summary.flows) expect(flow, flow.tag).toMatchObject({ ok: true })
  })

  it("setting curveServer after bind fails the next CURVE handshake with EINVAL (no secret key), and the process lives on", () => {
    expect(summary.otherCode).toBe("EINVAL")
    // curveServer and zapDomain, each set and reset after bind, apply from the next connection: zeromq.js warns.
    expect(summary.warnings).toBe(4)
  })
})
