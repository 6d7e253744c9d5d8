/**
 * CURVE's boxes come from libsodium's WebAssembly build, which compiles
 * asynchronously: a handshake that starts before it is loaded must wait for
 * it (the client holds HELLO back, the server holds a HELLO it received) and
 * then complete as usual. This file must run in a process where nothing has
 * loaded libsodium yet, so it holds only this one scenario.
 */
import { xsalsa20poly1305 } from "@noble/ciphers/salsa"
import { describe, expect, it } from "vitest"
import { encodeCommand } from "../../../src/zmtp/command.js"
import { CurveClient, CurveServer } from "../../../src/zmtp/mechanisms/curve.js"
import { keyPairFrom, loadSodium, nonce, precompute, sodiumLoaded } from "../../../src/zmtp/mechanisms/curve-crypto.js"
import { End, settle } from "./session-harness.js"

const SERVER = keyPairFrom(Buffer.alloc(32, 0x41))
const CLIENT = keyPairFrom(Buffer.alloc(32, 0x42))
const TRANSIENT = keyPairFrom(Buffer.alloc(32, 0x43))

const names = (end: End) => end.frames().map((f) => f.body.toString("latin1", 1, 1 + f.body[0]!))

describe("CURVE before libsodium is loaded", () => {
  it("the client holds HELLO and the server a received HELLO until it is; then both handshakes complete", async () => {
    expect(sodiumLoaded()).toBe(false)

    // A client and a server, greeted, with nothing loaded: no HELLO goes out.
    const client = new End({ socketType: "DEALER", mechanism: new CurveClient(SERVER.publicKey, CLIENT.publicKey, CLIENT.secretKey) })
    const server = new End({ socketType: "ROUTER", mechanism: new CurveServer(SERVER.secretKey) })
    client.session.start()
    server.session.start()
    server.session.push(client.output())
    client.session.push(server.output())
    expect(names(client)).toEqual([])

    // A second server gets a whole HELLO (boxed here with @noble/ciphers) before anything is loaded: no WELCOME yet.
    const early = new End({ socketType: "ROUTER", mechanism: new CurveServer(SERVER.secretKey) })
    early.session.start()
    const short = Buffer.from([0, 0, 0, 0, 0, 0, 0, 1])
    const box = xsalsa20poly1305(precompute(SERVER.publicKey, TRANSIENT.secret), nonce("CurveZMQHELLO---", short)).encrypt(Buffer.alloc(64))
    const hello = encodeCommand("HELLO", Buffer.concat([Buffer.of(1, 0), Buffer.alloc(72), TRANSIENT.publicKey, short, box]))
    early.session.push(Buffer.concat([client.allSent().subarray(0, 64), hello]))
    expect(names(early)).toEqual([])
    expect(early.failures).toEqual([])

    await loadSodium()
    await settle(client, server)
    expect(names(client)).toEqual(["HELLO", "INITIATE"])
    expect(names(server)).toEqual(["WELCOME", "READY"])
    expect(client.failures).toEqual([])
    expect(server.failures).toEqual([])
    expect(client.peer?.socketType).toBe("ROUTER")
    expect(server.peer?.socketType).toBe("DEALER")
    expect(names(early)).toEqual(["WELCOME"])
    expect(early.failures).toEqual([])
  })
})
