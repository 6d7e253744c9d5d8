/**
 * Lazy Pirate: a reply ends the request; a lost reply makes the client resend
 * on a new REQ socket (the server sees another routing id); no reply after
 * `retries` tries rejects with EAGAIN having sent exactly `retries` requests.
 */
import { afterEach, describe, expect, it } from "vitest"
import { Router, type ZmeshError } from "../../src/index.js"
import { LazyPirateClient } from "../../patterns/index.js"
import { closeAll } from "../helpers/sockets.js"

const open: Array<{ close(): void }> = []
afterEach(() => closeAll(...open.splice(0)))

/** A ROUTER standing in for a flaky server: it answers only the requests `answer` approves. */
async function flakyServer(answer: (n: number) => boolean) {
  const router = new Router()
  open.push(router)
  await router.bind("tcp://127.0.0.1:*")
  const seen: string[] = []
  void (async () => {
    for await (const [id, empty, body] of router) {
      seen.push(id!.toString("hex"))
      if (answer(seen.length)) await router.send([id!, empty!, `reply to ${body}`])
    }
  })()
  return { endpoint: router.lastEndpoint!, seen }
}

describe("LazyPirateClient", () => {
  it("returns the reply of a server that answers", async () => {
    const server = await flakyServer(() => true)
    const client = new LazyPirateClient(server.endpoint, { timeout: 5000, retries: 1 })
    open.push(client)
    expect((await client.request("one")).map(String)).toEqual(["reply to one"])
    expect((await client.request(["two"])).map(String)).toEqual(["reply to two"])
  })

  it("resends a request whose reply was lost, on a new socket", async () => {
    const server = await flakyServer((n) => n > 1) // the first request gets no answer
    // A timeout long enough that the answered retry never times out, even on a loaded machine.
    const client = new LazyPirateClient(server.endpoint, { timeout: 300, retries: 3 })
    open.push(client)
    const retries: number[] = []
    client.events.on("retry", (e) => retries.push(e.attempt))
    expect((await client.request("job")).map(String)).toEqual(["reply to job"])
    expect(retries).toEqual([2])
    expect(server.seen).toHaveLength(2)
    expect(server.seen[0]).not.toBe(server.seen[1]) // a new REQ socket, so a new routing id
  })

  it("gives up with EAGAIN after `retries` tries, each one sent", async () => {
    const server = await flakyServer(() => false)
    const client = new LazyPirateClient(server.endpoint, { timeout: 30, retries: 3 })
    open.push(client)
    const failed = client.events.next("failed")
    const err = (await client.request("hello?").catch((e: unknown) => e)) as ZmeshError
    expect(err.code).toBe("EAGAIN")
    expect(err.detail).toContain("after 3 tries")
    expect((await failed).attempts).toBe(3)
    expect(server.seen).toHaveLength(3)
  })

  it("serves concurrent requests one after another", async () => {
    const server = await flakyServer(() => true)
    const client = new LazyPirateClient(server.endpoint, { timeout: 5000 })
    open.push(client)
    const replies = await Promise.all(["a", "b", "c"].map((body) => client.request(body)))
    expect(replies.map((r) => String(r[0]))).toEqual(["reply to a", "reply to b", "reply to c"])
  })

  it("rejects a pending request with EBADF on close", async () => {
    const server = await flakyServer(() => false)
    const client = new LazyPirateClient(server.endpoint, { timeout: 5000 })
    const pending = client.request("never answered")
    while (server.seen.length === 0) await new Promise((r) => setImmediate(r))
    client.close()
    await expect(pending).rejects.toMatchObject({ code: "EBADF" })
  })

  it("refuses nonsense options", () => {
    expect(() => new LazyPirateClient("tcp://127.0.0.1:1", { retries: 0 })).toThrow(TypeError)
    expect(() => new LazyPirateClient("tcp://127.0.0.1:1", { timeout: -1 })).toThrow(TypeError)
  })
})
