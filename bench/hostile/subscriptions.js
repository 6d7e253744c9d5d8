// @ts-check
/**
 * What one peer's subscriptions cost a publisher: the longest event-loop
 * block while a peer subscribes and when it disconnects, and heap bytes per
 * subscribed byte. The peer is a raw ZMTP 3.1 SUB in a child process
 * (greeting, READY, SUBSCRIBEs in one write, then a PING whose PONG proves
 * the publisher applied them), so none of its work shows in the publisher's
 * figures.
 *
 *   npm run build && node --expose-gc bench/hostile/subscriptions.js
 *   node --expose-gc bench/hostile/subscriptions.js --sizes 16k,32k,1m --total 1048576 --count 100000 --json
 *
 * --sizes: topic sizes; for each, enough distinct topics to total --total
 * bytes (1 MiB; --total 1 makes it one topic). --count: the number of short
 * topics (`market.<8 chars>.quote`, 21 bytes) in the last row.
 */
import { fork } from "node:child_process"
import net from "node:net"
import { monitorEventLoopDelay } from "node:perf_hooks"
import { fileURLToPath } from "node:url"

const args = process.argv.slice(2)
const flag = (/** @type {string} */ name, /** @type {string} */ fallback) => {
  const i = args.indexOf(name)
  return i < 0 ? fallback : (args[i + 1] ?? fallback)
}
const parseSize = (/** @type {string} */ s) => Number.parseInt(s, 10) * (s.endsWith("m") ? 1 << 20 : s.endsWith("k") ? 1024 : 1)

// ---- the peer (child process) ---------------------------------------------------

function frame(/** @type {number} */ flags, /** @type {Buffer} */ body) {
  if (body.length <= 255) return Buffer.concat([Buffer.from([flags, body.length]), body])
  const head = Buffer.alloc(9)
  head[0] = flags | 0x02
  head.writeBigUInt64BE(BigInt(body.length), 1)
  return Buffer.concat([head, body])
}
const command = (/** @type {string} */ name, /** @type {Buffer} */ data) =>
  frame(0x04, Buffer.concat([Buffer.from([name.length]), Buffer.from(name, "latin1"), data]))

function greeting() {
  const g = Buffer.alloc(64)
  g[0] = 0xff
  g[9] = 0x7f
  g[10] = 3
  g[11] = 1
  g.write("NULL", 12, "latin1")
  return g
}

/** Topics of `size` bytes, distinct in their first 4 bytes. */
function longTopics(/** @type {number} */ size, /** @type {number} */ count) {
  return Array.from({ length: count }, (_, n) => {
    const topic = Buffer.alloc(size)
    for (let i = 0; i < size; i++) topic[i] = (i * 7919 + n) & 0xff
    topic.writeUInt32BE(n, 0)
    return topic
  })
}

const shortTopics = (/** @type {number} */ count) =>
  Array.from({ length: count }, (_, i) => Buffer.from(`market.${i.toString(36).padStart(8, "0")}.quote`))

async function peer(/** @type {string} */ endpoint) {
  const socket = net.connect(Number(endpoint.split(":").pop()), "127.0.0.1")
  socket.on("error", () => {})
  const PONG = Buffer.from("\x04PONG", "latin1")
  let tail = Buffer.alloc(0)
  socket.on("data", (chunk) => {
    const seen = Buffer.concat([tail, chunk])
    for (let at = seen.indexOf(PONG); at >= 0; at = seen.indexOf(PONG, at + 1)) process.send?.({ type: "pong" })
    tail = seen.subarray(Math.max(0, seen.length - 4))
  })
  await new Promise((resolve) => socket.once("connect", resolve))
  const props = Buffer.concat([Buffer.from([11]), Buffer.from("Socket-Type"), Buffer.from([0, 0, 0, 3]), Buffer.from("SUB")])
  socket.write(Buffer.concat([greeting(), command("READY", props)]))
  process.on("message", (/** @type {any} */ msg) => {
    if (msg.type === "close") {
      socket.destroy()
      process.disconnect()
      return
    }
    const topics = msg.type === "long" ? longTopics(msg.size, msg.count) : msg.type === "short" ? shortTopics(msg.count) : []
    socket.write(Buffer.concat([...topics.map((t) => command("SUBSCRIBE", t)), command("PING", Buffer.from([0, 0]))]))
  })
  process.send?.({ type: "ready" })
}

// ---- the publisher (this process) ---------------------------------------------------

/** Raises a subscription limit to `value` where the build has it (older builds have no limits). */
function raise(/** @type {any} */ pub, /** @type {string} */ option, /** @type {number} */ value) {
  if (option in pub && pub[option] < value) pub[option] = value
}

const heap = () => {
  const gc = /** @type {() => void} */ (globalThis.gc)
  gc()
  gc()
  const m = process.memoryUsage()
  // external covers ArrayBuffers and the strings V8 keeps off its heap (those past ~1 MB).
  return m.heapUsed + m.external
}

/** Forks a peer dialing `endpoint`; `send(msg)` resolves at the reply of that type. */
async function startPeer(/** @type {string} */ endpoint) {
  const child = fork(fileURLToPath(import.meta.url), ["--peer", endpoint], { stdio: "inherit" })
  /** @type {Array<(msg: any) => void>} */
  const waiters = []
  child.on("message", () => waiters.shift()?.(undefined))
  const next = () => new Promise((resolve) => waiters.push(resolve))
  await next()
  return {
    /** Sends topics and resolves at the PONG after them. */
    subscribe(/** @type {object} */ msg) {
      child.send(msg)
      return next()
    },
    close() {
      child.send({ type: "close" })
    },
  }
}

/**
 * The publisher's longest event-loop block while `work` runs, in ms: the
 * longest gap between two ticks of a 1 ms timer (and monitorEventLoopDelay's
 * max, if larger). Wall-clock: on a loaded machine it includes the time the
 * OS gave other processes (an idle process sees up to ~30 ms at a load of 7).
 */
async function maxBlock(/** @type {() => Promise<unknown>} */ work) {
  const histogram = monitorEventLoopDelay({ resolution: 1 })
  let longest = 0
  let last = performance.now()
  const probe = setInterval(() => {
    const now = performance.now()
    longest = Math.max(longest, now - last)
    last = now
  }, 1)
  histogram.enable()
  await work()
  // Work that follows the awaited event (a detach) shows in the next few turns.
  for (let i = 0; i < 5; i++) await new Promise((resolve) => setTimeout(resolve, 2))
  histogram.disable()
  clearInterval(probe)
  return Math.max(longest, histogram.max / 1e6)
}

/** One peer subscribes to `msg`'s topics, then disconnects. */
async function measure(/** @type {any} */ Publisher, /** @type {any} */ msg, /** @type {number} */ bytes) {
  const pub = new Publisher({ linger: 0 })
  raise(pub, "maxSubscriptionSize", msg.size ?? 0)
  raise(pub, "maxSubscriptions", msg.count)
  await pub.bind("tcp://127.0.0.1:*")
  const peer = await startPeer(pub.lastEndpoint)
  await peer.subscribe({ type: "none" })
  const before = heap()
  const subscribeMs = await maxBlock(() => peer.subscribe(msg))
  const held = heap() - before
  const gone = new Promise((resolve) => pub.events.on("disconnect", resolve))
  const started = performance.now()
  const disconnectMs = await maxBlock(async () => {
    peer.close()
    await gone
  })
  const elapsed = performance.now() - started
  pub.close()
  return { subscribeMs, disconnectMs, elapsed, heapPerByte: held / bytes, heapPerTopic: held / msg.count }
}

async function main() {
  if (/** @type {any} */ (globalThis).gc === undefined) {
    console.error("run with node --expose-gc")
    process.exit(1)
  }
  const { Publisher } = await import("zmesh")
  const sizes = flag("--sizes", "16k,32k,1m").split(",").map(parseSize)
  const total = Number(flag("--total", String(1 << 20)))
  const count = Number(flag("--count", "100000"))
  const rows = []
  for (const size of sizes) {
    const n = Math.max(1, Math.ceil(total / size))
    rows.push({ topics: `${n} x ${size} B`, ...(await measure(Publisher, { type: "long", size, count: n }, size * n)) })
  }
  rows.push({ topics: `${count} x 21 B`, ...(await measure(Publisher, { type: "short", count }, 21 * count)) })
  if (args.includes("--json")) {
    console.log(JSON.stringify(rows))
    return
  }
  console.log(`node ${process.version}, ${(await import("node:os")).cpus()[0]?.model}`)
  console.log("| topics | max block subscribing (ms) | max block on disconnect (ms) | disconnect to idle (ms) | heap B per subscribed byte | heap B per topic |")
  console.log("|---|---|---|---|---|---|")
  for (const r of rows) {
    const f = (/** @type {number} */ x, /** @type {number} */ d = 1) => x.toFixed(d)
    console.log(`| ${r.topics} | ${f(r.subscribeMs)} | ${f(r.disconnectMs)} | ${f(r.elapsed)} | ${f(r.heapPerByte, 2)} | ${f(r.heapPerTopic, 0)} |`)
  }
}

if (args[0] === "--peer") await peer(args[1] ?? "")
else await main()
