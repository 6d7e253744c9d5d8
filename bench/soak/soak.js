#!/usr/bin/env node
// @ts-check
/**
 * Soak: reconnect storms and socket churn between 200 peers on loopback, for
 * a fixed time, watching heap and descriptors for growth. Not part of
 * `npm test`.
 *
 *     npm run build
 *     node --expose-gc bench/soak/soak.js                  # 10 minutes
 *     node --expose-gc bench/soak/soak.js --seconds 60 --sample 5
 *
 * 20 servers (ROUTER, PUB and PULL in turn) bind tcp://127.0.0.1:*; each
 * occasionally unbinds and binds again, on the same port when it can. 200
 * clients (DEALER to a ROUTER, SUB to a PUB, PUSH to a PULL) each live a
 * random 0.2-4 s: connect to one or two servers of their kind, exchange
 * messages, sometimes disconnect and reconnect, then close and are replaced
 * by a new one. Every `--sample` seconds the heap (after global.gc(), so run
 * with --expose-gc), RSS and the open descriptors (/proc/self/fd) are
 * sampled and printed as a table row. At the end everything is closed, the
 * descriptors must come back to where they started, and the verdict is
 * "steady" when the average of the last third of the samples is within
 * `--tolerance` (and a small absolute slack) of the first third's, for heap
 * and descriptors alike. Exits 0 when steady, 1 otherwise.
 */
import { readdirSync } from "node:fs"
import net from "node:net"
import { loadavg } from "node:os"
import { setTimeout as sleep } from "node:timers/promises"
import { parseArgs } from "node:util"
import { Dealer, Publisher, Pull, Push, Router, Subscriber } from "../../dist/src/index.js"

const { values: args } = parseArgs({
  options: {
    seconds: { type: "string", default: "600" },
    sample: { type: "string", default: "10" },
    servers: { type: "string", default: "20" },
    clients: { type: "string", default: "200" },
    tolerance: { type: "string", default: "0.1" },
  },
})
const SECONDS = Number(args.seconds)
const SAMPLE = Number(args.sample)
const SERVERS = Number(args.servers)
const CLIENTS = Number(args.clients)
const TOLERANCE = Number(args.tolerance)
/** Absolute slack beside the relative tolerance: heap in MB, descriptors in count. */
const HEAP_SLACK_MB = 0.5
const FD_SLACK = 10

const gc = /** @type {(() => void) | undefined} */ (globalThis.gc)
if (gc === undefined) console.error("warning: run with --expose-gc for heap figures after a collection")

const descriptors = () => readdirSync("/proc/self/fd").length
const random = (min, max) => min + Math.random() * (max - min)
const chance = (p) => Math.random() < p
const pickOne = (list) => list[Math.floor(Math.random() * list.length)]

const stats = {
  clientsCreated: 0,
  clientsClosed: 0,
  sent: 0,
  received: 0,
  timeouts: 0,
  reconnects: 0,
  rebinds: 0,
  rebindsOnNewPort: 0,
  handshakes: 0,
  disconnects: 0,
  errors: /** @type {Map<string, number>} */ (new Map()),
}

/** An error a churning peer expects (a closed socket, a timeout); anything else is counted by code. */
function expected(err) {
  const code = err?.code ?? String(err)
  if (code === "EAGAIN") {
    stats.timeouts++
    return
  }
  if (code === "EBADF" || code === "ENOENT") return
  stats.errors.set(code, (stats.errors.get(code) ?? 0) + 1)
}

let running = true
const deadline = Date.now() + SECONDS * 1000

// ---- servers --------------------------------------------------------------------

const KINDS = /** @type {const} */ (["router", "pub", "pull"])

/**
 * @typedef {{ kind: typeof KINDS[number], socket: any, endpoint: string, done: Promise<void> }} Server
 */

/** @returns {Promise<Server>} */
async function startServer(kind) {
  const socket = kind === "router" ? new Router({ linger: 0 }) : kind === "pub" ? new Publisher({ linger: 0 }) : new Pull({ linger: 0 })
  socket.events.on("handshake", () => stats.handshakes++)
  socket.events.on("disconnect", () => stats.disconnects++)
  await socket.bind("tcp://127.0.0.1:*")
  /** @type {Server} */
  const server = { kind, socket, endpoint: socket.lastEndpoint, done: Promise.resolve() }
  server.done = serve(server)
  return server
}

async function serve(server) {
  const { socket } = server
  try {
    if (server.kind === "router") {
      for (;;) {
        const [id, seq] = await socket.receive()
        stats.received++
        await socket.send([id, seq])
        stats.sent++
      }
    } else if (server.kind === "pull") {
      for (;;) {
        await socket.receive()
        stats.received++
      }
    } else {
      let seq = 0
      while (!socket.closed) {
        for (let i = 0; i < 10; i++) await socket.send(`tick ${seq++}`)
        stats.sent += 10
        await sleep(20)
      }
    }
  } catch (err) {
    if (!socket.closed) expected(err)
  }
}

/** Unbinds and binds again, on the same port if it is free, else on a new one. */
async function rebind(server) {
  try {
    await server.socket.unbind(server.endpoint)
    await sleep(random(10, 200))
    if (!running) return
    try {
      await server.socket.bind(server.endpoint)
    } catch {
      await server.socket.bind("tcp://127.0.0.1:*")
      server.endpoint = server.socket.lastEndpoint
      stats.rebindsOnNewPort++
    }
    stats.rebinds++
  } catch (err) {
    expected(err)
  }
}

// ---- clients --------------------------------------------------------------------

const PARTNER = { router: "dealer", pub: "sub", pull: "push" }

function createClient(kind) {
  const linger = pickOne([0, 0, 100])
  const heartbeats = chance(0.2) ? { heartbeatInterval: 200, heartbeatTimeout: 1000 } : {}
  const common = { linger, reconnectInterval: 20, reconnectMaxInterval: pickOne([0, 200]), ...heartbeats }
  if (kind === "dealer") return new Dealer({ ...common, receiveTimeout: 500, sendTimeout: 500 })
  if (kind === "sub") {
    const sub = new Subscriber({ ...common, receiveTimeout: 500 })
    sub.subscribe(pickOne(["", "tick", "tick 1"]))
    return sub
  }
  return new Push({ ...common, sendTimeout: 500, sendHighWaterMark: pickOne([1, 10, 1000]) })
}

/** One client's life: connect, talk, maybe reconnect, close. */
async function live(servers, serverKind) {
  const kind = PARTNER[serverKind]
  const socket = createClient(kind)
  stats.clientsCreated++
  const ofKind = servers.filter((s) => s.kind === serverKind)
  const targets = chance(0.3) ? [pickOne(ofKind), pickOne(ofKind)] : [pickOne(ofKind)]
  const connected = [...new Set(targets.map((s) => s.endpoint))]
  try {
    for (const endpoint of connected) socket.connect(endpoint)
    const lifetime = Date.now() + random(200, 4000)
    let seq = 0
    while (running && Date.now() < lifetime) {
      try {
        if (kind === "dealer") {
          await socket.send(String(seq++))
          stats.sent++
          await socket.receive()
          stats.received++
        } else if (kind === "sub") {
          await socket.receive()
          stats.received++
        } else {
          await socket.send(String(seq++))
          stats.sent++
          await sleep(random(1, 20))
        }
      } catch (err) {
        expected(err)
      }
      if (chance(0.02)) {
        // A reconnect storm in miniature: drop an endpoint and dial it (or another) again.
        const endpoint = connected.pop()
        if (endpoint !== undefined) socket.disconnect(endpoint)
        const next = pickOne(ofKind).endpoint
        if (!connected.includes(next)) {
          socket.connect(next)
          connected.push(next)
        }
        stats.reconnects++
      }
    }
  } catch (err) {
    expected(err)
  } finally {
    socket.close()
    stats.clientsClosed++
  }
}

/** Keeps one client slot busy until the deadline: each client is replaced when it closes. */
async function slot(servers, serverKind) {
  while (running) await live(servers, serverKind)
}

// ---- sampling -------------------------------------------------------------------

const mb = (bytes) => bytes / (1024 * 1024)

function sample(startedAt) {
  gc?.()
  const memory = process.memoryUsage()
  return {
    t: Math.round((Date.now() - startedAt) / 1000),
    heap: mb(memory.heapUsed),
    rss: mb(memory.rss),
    fds: descriptors(),
    live: stats.clientsCreated - stats.clientsClosed,
    clients: stats.clientsCreated,
    handshakes: stats.handshakes,
    received: stats.received,
    load: loadavg()[0],
  }
}

const HEADER = "|  t (s) | heap MB | rss MB | fds | live clients | clients made | handshakes | msgs received | load 1m |"
const RULE = "|-------:|--------:|-------:|----:|-------------:|-------------:|-----------:|--------------:|--------:|"
const row = (s) =>
  `| ${String(s.t).padStart(6)} | ${s.heap.toFixed(1).padStart(7)} | ${s.rss.toFixed(0).padStart(6)} | ${String(s.fds).padStart(3)} | ` +
  `${String(s.live).padStart(12)} | ${String(s.clients).padStart(12)} | ${String(s.handshakes).padStart(10)} | ` +
  `${String(s.received).padStart(13)} | ${s.load.toFixed(2).padStart(7)} |`

const average = (list, key) => list.reduce((sum, s) => sum + s[key], 0) / list.length

/** Least-squares slope of `key` against `by` over the samples. */
function slope(samples, by, key) {
  const n = samples.length
  if (n < 2) return 0
  const mx = average(samples, by)
  const my = average(samples, key)
  let num = 0
  let den = 0
  for (const s of samples) {
    num += (s[by] - mx) * (s[key] - my)
    den += (s[by] - mx) ** 2
  }
  return den === 0 ? 0 : num / den
}

/** Steady when the last third's average is within tolerance (plus slack) of the first third's. */
function steady(samples, key, slack) {
  const third = Math.max(1, Math.floor(samples.length / 3))
  const first = average(samples.slice(0, third), key)
  const last = average(samples.slice(-third), key)
  return { first, last, ok: last <= first * (1 + TOLERANCE) + slack }
}

// ---- run ------------------------------------------------------------------------

/** libuv keeps a descriptor for good after a process's first accept (its EMFILE reserve): take it before counting. */
async function warmUp() {
  const server = net.createServer()
  await new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve(undefined)))
  const accepted = new Promise((resolve) => server.once("connection", resolve))
  const address = /** @type {net.AddressInfo} */ (server.address())
  const client = net.connect(address.port, "127.0.0.1")
  const peer = /** @type {net.Socket} */ (await accepted)
  const closed = (socket) => new Promise((resolve) => socket.once("close", resolve))
  const both = Promise.all([closed(client), closed(peer)])
  client.destroy()
  peer.destroy()
  await both
  await new Promise((resolve) => server.close(() => resolve(undefined)))
}

async function main() {
  await warmUp()
  const fdsAtStart = descriptors()
  const startedAt = Date.now()
  console.log(`soak: ${SECONDS} s, ${SERVERS} servers, ${CLIENTS} clients, sample every ${SAMPLE} s, tolerance ${TOLERANCE * 100}%`)
  console.log(`node ${process.version}, load average at start ${loadavg().map((l) => l.toFixed(2)).join(" ")}, gc ${gc ? "exposed" : "NOT exposed"}`)

  const servers = []
  for (let i = 0; i < SERVERS; i++) servers.push(await startServer(KINDS[i % KINDS.length]))
  const slots = []
  for (let i = 0; i < CLIENTS; i++) slots.push(slot(servers, KINDS[i % KINDS.length]))

  // Servers unbind and bind again now and then: about one in ten per sampling period.
  const rebinding = (async () => {
    while (running) {
      await sleep(random(200, 1000))
      if (running && chance((0.1 * SERVERS) / (SAMPLE * 2))) await rebind(pickOne(servers))
    }
  })()

  console.log(HEADER)
  console.log(RULE)
  const samples = []
  while (Date.now() < deadline) {
    await sleep(Math.min(SAMPLE * 1000, Math.max(0, deadline - Date.now())))
    const s = sample(startedAt)
    samples.push(s)
    console.log(row(s))
  }

  running = false
  await Promise.all(slots)
  await rebinding
  for (const server of servers) server.socket.close()
  await Promise.all(servers.map((s) => s.done))

  // Every descriptor comes back: poll (bounded) while the last closes settle.
  let fdsAtEnd = descriptors()
  for (let i = 0; i < 500 && fdsAtEnd > fdsAtStart; i++) {
    await sleep(10)
    fdsAtEnd = descriptors()
  }

  const heap = steady(samples, "heap", HEAP_SLACK_MB)
  const fds = steady(samples, "fds", FD_SLACK)
  const errors = [...stats.errors].map(([code, n]) => `${code} ${n}`).join(", ") || "none"
  console.log("")
  console.log(`clients made ${stats.clientsCreated}, closed ${stats.clientsClosed}; reconnects ${stats.reconnects}; rebinds ${stats.rebinds} (${stats.rebindsOnNewPort} on a new port)`)
  console.log(`handshakes ${stats.handshakes}, disconnects ${stats.disconnects}; messages sent ${stats.sent}, received ${stats.received}; timeouts ${stats.timeouts}; other errors: ${errors}`)
  console.log(`heap: first third ${heap.first.toFixed(1)} MB, last third ${heap.last.toFixed(1)} MB -> ${heap.ok ? "steady" : "GROWING"}`)
  const perMinute = slope(samples, "t", "heap") * 60
  const perThousandClients = slope(samples, "clients", "heap") * 1024 * 1000
  console.log(`heap trend: ${perMinute >= 0 ? "+" : ""}${perMinute.toFixed(2)} MB/min, ${perThousandClients.toFixed(0)} KB per 1000 clients made`)
  console.log(`fds: first third ${fds.first.toFixed(1)}, last third ${fds.last.toFixed(1)} -> ${fds.ok ? "steady" : "GROWING"}`)
  console.log(`fds after closing everything: ${fdsAtEnd} (at start ${fdsAtStart}) -> ${fdsAtEnd <= fdsAtStart ? "all released" : "LEAKED"}`)
  console.log(`load average at end ${loadavg().map((l) => l.toFixed(2)).join(" ")}`)
  const ok = heap.ok && fds.ok && fdsAtEnd <= fdsAtStart
  console.log(`verdict: ${ok ? "steady" : "NOT steady"}`)
  process.exitCode = ok ? 0 : 1
}

await main()
