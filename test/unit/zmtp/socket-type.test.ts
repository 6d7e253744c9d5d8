import { describe, expect, it } from "vitest"
import { SocketType, isCompatible, sendsIdentity } from "../../../src/zmtp/socket-type.js"

/** 23/ZMTP's table of valid socket combinations (libzmq's check_socket_type). */
const VALID: Record<SocketType, readonly string[]> = {
  REQ: ["REP", "ROUTER"],
  REP: ["REQ", "DEALER"],
  DEALER: ["REP", "DEALER", "ROUTER"],
  ROUTER: ["REQ", "DEALER", "ROUTER"],
  PUB: ["SUB", "XSUB"],
  XPUB: ["SUB", "XSUB"],
  SUB: ["PUB", "XPUB"],
  XSUB: ["PUB", "XPUB"],
  PUSH: ["PULL"],
  PULL: ["PUSH"],
  PAIR: ["PAIR"],
  // ZMQ_STREAM speaks raw bytes, never ZMTP: no ZMTP peer is compatible with it.
  STREAM: [],
}

describe("socket type compatibility (23/ZMTP)", () => {
  const all = Object.values(SocketType)

  it("\"The peer SHOULD enforce that the other peer is using a valid socket type\": exactly the RFC table, all 144 pairs (STREAM with none)", () => {
    for (const ours of all) {
      for (const theirs of all) {
        expect([ours, theirs, isCompatible(ours, theirs)]).toEqual([ours, theirs, VALID[ours].includes(theirs)])
      }
    }
  })

  it("is symmetric: if A may talk to B then B may talk to A", () => {
    for (const a of all) for (const b of all) expect(isCompatible(a, b)).toBe(isCompatible(b, a))
  })

  it("compares the Socket-Type value byte-exactly, as libzmq does", () => {
    expect(isCompatible("PUSH", "pull")).toBe(false)
    expect(isCompatible("PUSH", "PULL ")).toBe(false)
    expect(isCompatible("PUSH", "")).toBe(false)
    expect(isCompatible("PAIR", "STREAM")).toBe(false)
  })

  it("sends Identity from REQ, DEALER and ROUTER only (libzmq, ROUTER included)", () => {
    expect(all.filter(sendsIdentity).sort()).toEqual(["DEALER", "REQ", "ROUTER"])
  })
})
