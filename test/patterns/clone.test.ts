/**
 * Clone: a late joiner catches up from the snapshot and then follows the
 * updates; updates are numbered by the server and reach every client once;
 * subtrees filter; keys with a ttl expire; a restarted server (new uuid) makes
 * clients take a new snapshot; a skipped sequence number does too.
 */
import { afterEach, describe, expect, it } from "vitest"
import { Publisher, Pull, Push, Router } from "../../src/index.js"
import { CloneClient, CloneServer, type CloneClientOptions, type CloneEndpoints } from "../../patterns/index.js"
import { cleanupIpc, ipcEndpoint } from "../helpers/endpoints.js"
import { closeAll } from "../helpers/sockets.js"

const open: Array<{ close(): void }> = []
afterEach(() => {
  closeAll(...open.splice(0))
  cleanupIpc()
})

function track<T extends { close(): void }>(thing: T): T {
  open.push(thing)
  return thing
}

const fast = { heartbeatInterval: 20, heartbeatLiveness: 5 }
const tcp: CloneEndpoints = { snapshot: "tcp://127.0.0.1:*", updates: "tcp://127.0.0.1:*", collector: "tcp://127.0.0.1:*" }

async function startServer(endpoints = tcp): Promise<CloneServer> {
  const server = track(new CloneServer(fast))
  await server.bind(endpoints)
  return server
}

async function startClient(endpoints: CloneEndpoints, options: CloneClientOptions = {}): Promise<CloneClient> {
  const client = track(new CloneClient(endpoints, { ...fast, ...options }))
  await client.start()
  return client
}

const textOf = (client: CloneClient) => Object.fromEntries([...client.entries].map(([key, entry]) => [key, String(entry.body)]))

describe("Clone", () => {
  it("a late joiner catches up from the snapshot, then follows the updates", async () => {
    const server = await startServer()
    const early = await startClient(server.endpoints)
    await server.set("colour", "red")
    await early.set("size", "42")
    await early.set("colour", "blue")
    expect(textOf(early)).toEqual({ colour: "blue", size: "42" })

    const late = await startClient(server.endpoints)
    expect(textOf(late)).toEqual({ colour: "blue", size: "42" })
    expect(late.sequence).toBe(server.sequence)
    expect(late.sequence).toBe(3)

    const seen = late.events.next("update")
    await early.delete("size")
    expect(await seen).toEqual({ type: "update", key: "size", sequence: 4, deleted: true })
    expect(textOf(late)).toEqual({ colour: "blue" })
    expect(textOf(early)).toEqual({ colour: "blue" })
  })

  it("numbers every update once, in one order for every client", async () => {
    const server = await startServer()
    const a = await startClient(server.endpoints)
    const b = await startClient(server.endpoints)
    const seenByB: number[] = []
    b.events.on("update", (e) => seenByB.push(e.sequence))
    await Promise.all([a.set("x", "1"), b.set("y", "2"), a.set("z", "3"), server.set("w", "4")])
    while (b.sequence < 4) await b.events.next("update")
    expect(seenByB).toEqual([1, 2, 3, 4])
    expect(textOf(a)).toEqual(textOf(b))
    expect([...a.entries.values()].map((e) => e.sequence).sort()).toEqual([1, 2, 3, 4])
  })

  it("mirrors only its subtree", async () => {
    const server = await startServer()
    await server.set("config/mode", "fast")
    await server.set("stats/hits", "7")
    const config = await startClient(server.endpoints, { subtree: "config/" })
    expect(textOf(config)).toEqual({ "config/mode": "fast" })
    const seen = config.events.next("update")
    await server.set("stats/hits", "8")
    await server.set("config/mode", "safe")
    expect(await seen).toMatchObject({ key: "config/mode" })
    expect(textOf(config)).toEqual({ "config/mode": "safe" })
    await config.set("stats/other", "outside the subtree") // resolves at once: it will not come back here
    expect(config.get("stats/other")).toBeUndefined()
  })

  it("expires a key whose ttl ran out, on the server and in every client", async () => {
    const server = await startServer()
    const client = await startClient(server.endpoints)
    const gone = client.events.next("update", (e) => e.deleted)
    await client.set("session", "abc", { ttl: 30, properties: { owner: "me" } })
    expect(client.entries.get("session")?.properties).toEqual({ ttl: "30", owner: "me" })
    expect(await gone).toMatchObject({ key: "session", deleted: true })
    expect(server.get("session")).toBeUndefined()
  })

  it("takes a new snapshot when the server restarts (a new uuid in HUGZ)", async () => {
    const endpoints = { snapshot: ipcEndpoint(), updates: ipcEndpoint(), collector: ipcEndpoint() }
    const first = await startServer(endpoints)
    // Liveness far beyond the test: the new uuid alone must trigger the snapshot.
    const client = await startClient(endpoints, { heartbeatInterval: 20, heartbeatLiveness: 100_000 })
    await client.set("old", "state")
    first.close()
    const second = await startServer(endpoints)
    await second.set("new", "state")
    const snapshot = await client.events.next("snapshot")
    expect(snapshot).toMatchObject({ reason: "restart" })
    expect(textOf(client)).toEqual({ new: "state" })
  })

  it("reports a silent server and takes a new snapshot when it is back", async () => {
    const endpoints = { snapshot: ipcEndpoint(), updates: ipcEndpoint(), collector: ipcEndpoint() }
    const first = await startServer(endpoints)
    const client = await startClient(endpoints)
    const lost = client.events.next("server:lost")
    first.close()
    await lost
    const second = await startServer(endpoints)
    await second.set("after", "silence")
    expect(await client.events.next("snapshot")).toMatchObject({ reason: "silent" })
    expect(textOf(client)).toEqual({ after: "silence" })
  })

  it("takes a new snapshot when a sequence number is skipped", async () => {
    // A hand-made server: its publisher skips update 2, its snapshot socket knows the truth.
    const snapshots = track(new Router())
    const updates = track(new Publisher())
    await snapshots.bind("tcp://127.0.0.1:*")
    await updates.bind("tcp://127.0.0.1:*")
    const collector = track(new Pull())
    await collector.bind("tcp://127.0.0.1:*")
    const uuid = Buffer.alloc(16, 7)
    const seq = (n: number) => {
      const frame = Buffer.alloc(8)
      frame.writeBigUInt64BE(BigInt(n))
      return frame
    }
    let truth: Array<[string, number]> = []
    void (async () => {
      for await (const [client] of snapshots) {
        for (const [key, n] of truth) await snapshots.send([client!, key, seq(n), uuid, "", `value ${n}`])
        await snapshots.send([client!, "KTHXBAI", seq(truth.at(-1)?.[1] ?? 0), uuid, "", ""])
      }
    })()
    const hugz = setInterval(() => void updates.send(["HUGZ", seq(0), uuid, "", ""]), 10)
    try {
      const client = await startClient({ snapshot: snapshots.lastEndpoint!, updates: updates.lastEndpoint!, collector: collector.lastEndpoint! })
      clearInterval(hugz)
      await updates.send(["a", seq(1), uuid, "", "value 1"])
      await client.events.next("update")
      truth = [["a", 1], ["b", 2], ["c", 3]]
      const snapshot = client.events.next("snapshot")
      await updates.send(["c", seq(3), uuid, "", "value 3"])
      expect(await snapshot).toEqual({ type: "snapshot", sequence: 3, keys: 3, reason: "gap" })
      expect(textOf(client)).toEqual({ a: "value 1", b: "value 2", c: "value 3" })
    } finally {
      clearInterval(hugz)
    }
  })

  it("reports a malformed snapshot and asks again", async () => {
    const snapshots = track(new Router())
    const updates = track(new Publisher())
    const collector = track(new Pull())
    for (const socket of [snapshots, updates, collector]) await socket.bind("tcp://127.0.0.1:*")
    const uuid = Buffer.alloc(16, 1)
    let asked = 0
    void (async () => {
      for await (const [client] of snapshots) {
        if (++asked === 1) await snapshots.send([client!, "KTHXBAI", "not a sequence"])
        else await snapshots.send([client!, "KTHXBAI", Buffer.alloc(8), uuid, "", ""])
      }
    })()
    const hugz = setInterval(() => void updates.send(["HUGZ", Buffer.alloc(8), uuid, "", ""]), 10)
    try {
      const client = track(new CloneClient({ snapshot: snapshots.lastEndpoint!, updates: updates.lastEndpoint!, collector: collector.lastEndpoint! }, fast))
      const error = client.events.next("protocol:error")
      await client.start()
      expect((await error).error.code).toBe("ERR_PATTERN_PROTOCOL")
      expect(asked).toBe(2)
    } finally {
      clearInterval(hugz)
    }
  })

  it("drops a malformed update and reports it", async () => {
    const server = await startServer()
    const push = track(new Push())
    push.connect(server.endpoints.collector)
    const error = server.events.next("protocol:error")
    await push.send(["key", "not 8 bytes", "x", "", "body"])
    expect((await error).error.message).toContain("8")
    const reserved = server.events.next("protocol:error")
    await push.send(["HUGZ", Buffer.alloc(8), Buffer.alloc(16), "", "spoof"])
    expect((await reserved).error.code).toBe("ERR_PATTERN_PROTOCOL")
    expect(server.sequence).toBe(0)
  })
})
