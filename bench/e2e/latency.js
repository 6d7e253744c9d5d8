#!/usr/bin/env node
// @ts-check
/**
 * End-to-end REQ/REP round-trip latency, zmesh against the `zeromq` package
 * (libzmq) in the same run: a REP echo server and a REQ client, each in its
 * own child process, both libraries driven by the same code.
 *
 *     npm run bench:latency                        # build, then the full run
 *     node bench/e2e/latency.js --quick            # 1,000 round trips a round
 *     node bench/e2e/latency.js --transports ipc --count 50000 --sizes 16,1k
 *
 * Per cell (transport, size, library) the parent forks the server (REP binds
 * and reports `lastEndpoint`) and the client (REQ connects). The client runs
 * a warm-up round of half the count, then `--reps` timed rounds; in each it
 * times every round trip (`send` to the reply's arrival) with
 * `performance.now()` and reports the round's median and 99th percentile.
 * A cell's figure is the median over its timed rounds of each. The ratios
 * are zmesh / zeromq and zmesh / node:net: below 1 means zmesh answers faster.
 *
 * For tcp and ipc a third pair, "node:net", does the same with no ZMTP: the
 * raw node:net REQ and REP of raw-net.js (a 4-byte length before each
 * message, setNoDelay, one write per message), driven by the same code. Its
 * median is about what two processes waking each other costs on this
 * machine; zmesh's median minus it is zmesh's own overhead.
 *
 * Children exit on their own after closing their socket; the parent kills any
 * child that outlives a timeout, a failure, SIGINT/SIGTERM or its own exit,
 * and removes its ipc directory.
 */
import { fileURLToPath } from "node:url"
import { parseArgs } from "node:util"
import {
  LIBS, bindAddress, childIO, childSpec, commonOptions, commonUsage, failer, installCleanup, isChild, list, loadLib,
  loadavg, log, machine, median, parseSize, pick, positiveInt, profileChildren, ratio, reap, removeEndpoint, sizeName,
  spread, startChild, table, target,
} from "./lib.js"

const SELF = fileURLToPath(import.meta.url)
const TRANSPORTS = /** @type {const} */ (["tcp", "ipc", "inproc"])
const FILL = 0x5a
/** Round trips per timed round (a tenth with --quick). */
const COUNT = 10_000

/** The libraries plus "net", the raw node:net baseline (tcp and ipc only). */
const KINDS = /** @type {const} */ ([...LIBS, "net"])
const FLOOR = "node:net"

/**
 * @typedef {import("./lib.js").Lib | "net"} Lib
 * @typedef {import("./lib.js").Child} Child
 * @typedef {"tcp" | "ipc" | "inproc"} Transport
 * @typedef {{ role: "server" | "client" | "both", lib: Lib, address: string, size: number, rounds: number[] }} ChildSpec
 * @typedef {{ median: number, p99: number, mean: number, min: number, max: number, count: number }} Round
 * @typedef {{ lib: Lib, transport: Transport, size: number, count: number,
 *             rounds?: Round[], median?: number, p99?: number, error?: string }} Result
 */

// ---- children --------------------------------------------------------------

/** @param {ChildSpec} spec */
async function child(spec) {
  const io = childIO()
  const lib = await loadLib(spec.lib)
  if (spec.role === "client") {
    const req = new lib.Request()
    req.connect(spec.address)
    await client(req, spec, io)
  } else {
    const rep = new lib.Reply()
    await rep.bind(spec.address)
    io.post({ type: "ready", endpoint: rep.lastEndpoint })
    if (spec.role === "server") {
      await server(rep, spec, io)
    } else {
      const req = new lib.Request()
      req.connect(rep.lastEndpoint)
      await Promise.all([server(rep, spec, io), client(req, spec, io)])
    }
  }
  io.done()
}

/**
 * Echoes every request, then waits for the parent's "stop" to close: the
 * client has had the last reply by then.
 * @param {any} rep @param {ChildSpec} spec @param {import("./lib.js").ChildIO} io
 */
async function server(rep, spec, io) {
  const total = spec.rounds.reduce((a, b) => a + b, 0)
  let i = 0
  process.on("message", (/** @type {import("./lib.js").Msg} */ m) => {
    if (m.type === "status") io.post({ type: "status", answered: i })
  })
  for (; i < total; i++) {
    const [msg] = await rep.receive()
    await rep.send(msg)
  }
  await io.inbox.next("stop")
  rep.close()
}

/**
 * Times each round trip of each round when the parent says "go".
 * @param {any} req @param {ChildSpec} spec @param {import("./lib.js").ChildIO} io
 */
async function client(req, spec, io) {
  const msg = Buffer.alloc(spec.size, FILL)
  for (let round = 0; round < spec.rounds.length; round++) {
    await io.inbox.next("go")
    const n = spec.rounds[round]
    const samples = new Float64Array(n)
    let bad = 0
    for (let i = 0; i < n; i++) {
      const t0 = performance.now()
      await req.send(msg)
      const [reply] = await req.receive()
      samples[i] = performance.now() - t0
      if (reply.length !== spec.size || reply[spec.size - 1] !== FILL) bad++
    }
    samples.sort()
    const us = (/** @type {number} */ ms) => ms * 1000
    let sum = 0
    for (const s of samples) sum += s
    io.post({
      type: "round", round, bad, count: n,
      median: us(samples[n >> 1]), p99: us(samples[Math.max(0, Math.ceil(n * 0.99) - 1)]),
      mean: us(sum / n), min: us(samples[0]), max: us(samples[n - 1]),
    })
  }
  await io.inbox.next("stop")
  req.close()
}

// ---- parent ----------------------------------------------------------------

async function main() {
  const { values: flags } = parseArgs({
    options: {
      ...commonOptions,
      libs: { type: "string", default: KINDS.join(",") },
      sizes: { type: "string", default: "16" },
      transports: { type: "string", default: "tcp,ipc" },
      count: { type: "string" },
    },
  })
  if (flags.help) return void console.log(usage())
  const sizes = list(flags.sizes).map((s) => parseSize(s, fail))
  const transports = pick(flags.transports, TRANSPORTS, "transport", fail)
  const libs = pick(flags.libs, KINDS, "library", fail)
  const reps = positiveInt(flags.reps, "--reps", fail)
  const timeoutMs = positiveInt(flags.timeout, "--timeout", fail) * 1000
  const count = flags.count === undefined ? (flags.quick ? COUNT / 10 : COUNT) : positiveInt(flags.count, "--count", fail)

  profileChildren(flags["cpu-prof"])
  const tmp = installCleanup()
  const started = performance.now()
  const header = machine(`REQ/REP round-trip latency, ${flags.quick ? "--quick, " : ""}warm-up + median of ${reps} rounds of ${count} round trips`)
  log(header)

  /** @type {Result[]} */
  const results = []
  for (const transport of transports) {
    for (const size of sizes) {
      for (const lib of libs) {
        if (lib === "net" && transport === "inproc") continue
        const result = await runCell({ lib, transport, size, count, reps, timeoutMs, tmp })
        results.push(result)
        log(progressLine(result))
      }
    }
  }
  const elapsed = (performance.now() - started) / 1000

  if (flags.json) {
    console.log(JSON.stringify({ machine: header, reps, quick: flags.quick, elapsed, results }, null, 2))
  } else {
    console.log(header)
    console.log()
    console.log(resultTable(results, transports, sizes, libs))
    console.log()
    console.log(comparisonTable(results, transports, sizes))
    const notes = []
    for (const transport of transports) {
      for (const size of sizes) {
        const [mine, theirs, floor] = KINDS.map((lib) => find(results, lib, transport, size)?.median)
        if (mine === undefined || size !== 16 || transport === "inproc") continue
        // Issue 10: zmesh's median at most 0.4x zeromq's and at most 1.2x raw node:net's.
        if (theirs !== undefined) notes.push(target(`${transport} ${sizeName(size)} median`, "zmesh/zeromq <= 0.4x", mine / theirs, mine / theirs <= 0.4))
        if (floor !== undefined) notes.push(target(`${transport} ${sizeName(size)} median`, "zmesh/node:net <= 1.2x", mine / floor, mine / floor <= 1.2))
      }
    }
    for (const r of results) if (r.error !== undefined) notes.push(`${r.transport} ${sizeName(r.size)} ${r.lib}: ${r.error}`)
    if (notes.length > 0) console.log("\n" + notes.join("\n"))
    console.log(`\ntotal ${elapsed.toFixed(1)} s, load average at end ${loadavg()}`)
  }
  if (results.some((r) => r.error !== undefined)) process.exitCode = 1
}

/**
 * One library on one transport at one size: fork server and client (one
 * child for inproc), run warm-up + reps.
 * @param {{ lib: Lib, transport: Transport, size: number, count: number, reps: number, timeoutMs: number, tmp: string }} cell
 * @returns {Promise<Result>}
 */
async function runCell({ lib, transport, size, count, reps, timeoutMs, tmp }) {
  const rounds = [Math.max(1, Math.ceil(count / 2)), ...Array(reps).fill(count)]
  const address = bindAddress(transport, tmp, `rep-${lib}-${size}`)
  const base = { lib, transport, size, count }
  const name = lib === "net" ? FLOOR : lib
  /** @type {Child[]} */
  const group = []
  try {
    let server, client
    if (transport === "inproc") {
      server = client = startChild(SELF, { role: "both", lib, address, size, rounds }, `${lib} REP+REQ`)
      group.push(server)
      await server.next("ready", timeoutMs)
    } else {
      server = startChild(SELF, { role: "server", lib, address, size, rounds }, `${name} server`)
      group.push(server)
      const { endpoint } = await server.next("ready", timeoutMs)
      client = startChild(SELF, { role: "client", lib, address: endpoint, size, rounds }, `${name} client`)
      group.push(client)
    }
    /** @type {Round[]} */
    const timed = []
    for (let round = 0; round < rounds.length; round++) {
      client.post({ type: "go" })
      let got
      try {
        got = await client.next("round", timeoutMs)
      } catch (err) {
        const why = err instanceof Error ? err.message : String(err)
        if (!server.alive || !client.alive) throw new Error(`round ${round}: ${why}`)
        server.post({ type: "status" })
        const status = await server.next("status", 2000).catch(() => undefined)
        const done = rounds.slice(0, round).reduce((a, b) => a + b, 0)
        const answered = status === undefined ? "server did not answer" : `server had answered ${status.answered - done} of this round's ${rounds[round]} requests`
        throw new Error(`round ${round}: ${why}; ${answered}`)
      }
      if (got.bad > 0) throw new Error(`round ${round}: ${got.bad} of ${rounds[round]} replies had a wrong length or content`)
      if (round > 0) timed.push({ median: got.median, p99: got.p99, mean: got.mean, min: got.min, max: got.max, count: got.count })
    }
    // Once each: for inproc both are the same child, whose server and client each wait for one.
    server.post({ type: "stop" })
    client.post({ type: "stop" })
    const late = await reap(group)
    /** @type {Result} */
    const result = { ...base, rounds: timed, median: median(timed.map((r) => r.median)), p99: median(timed.map((r) => r.p99)) }
    if (late.length > 0) result.error = `${late.join(" and ")} did not exit within 5 s of close(); killed`
    return result
  } catch (err) {
    return { ...base, error: err instanceof Error ? err.message : String(err) }
  } finally {
    for (const c of group) c.kill()
    removeEndpoint(address)
  }
}

// ---- output --------------------------------------------------------------------

/** @param {number} us */
function micros(us) {
  return us >= 100 ? us.toFixed(0) : us.toFixed(1)
}

/** @param {Result} r */
function progressLine(r) {
  const what = `${r.transport.padEnd(6)} ${sizeName(r.size).padStart(6)} ${(r.lib === "net" ? FLOOR : r.lib).padEnd(14)} x${r.count}`
  if (r.error !== undefined && r.rounds === undefined) return `${what}: FAILED: ${r.error}`
  const rounds = r.rounds ?? []
  let line = `${what}: median ${micros(r.median ?? 0)} us, p99 ${micros(r.p99 ?? 0)} us  ` +
    `reps median ${rounds.map((x) => micros(x.median)).join(" / ")}, p99 ${rounds.map((x) => micros(x.p99)).join(" / ")}, ` +
    `max ${rounds.map((x) => micros(x.max)).join(" / ")}`
  if (r.error !== undefined) line += `  WARNING: ${r.error}`
  return line
}

/** One row per library and cell. @param {Result[]} results @param {Transport[]} transports @param {number[]} sizes @param {Lib[]} libs */
function resultTable(results, transports, sizes, libs) {
  const rows = [["transport", "size", "library", "median µs", "p99 µs", "spread of medians"]]
  for (const transport of transports) {
    for (const size of sizes) {
      for (const r of libs.map((lib) => find(results, lib, transport, size))) {
        if (r === undefined) continue
        const ok = r.median !== undefined && r.p99 !== undefined
        rows.push([
          transport, sizeName(size), r.lib === "net" ? FLOOR : r.lib,
          ok ? micros(r.median ?? 0) : "FAILED", ok ? micros(r.p99 ?? 0) : "-", ok ? spread(r.rounds?.map((x) => x.median)) : "-",
        ])
      }
    }
  }
  return table(rows, 3)
}

/** Per cell: zmesh's median against zeromq's and raw node:net's, and each library's median minus node:net's. @param {Result[]} results @param {Transport[]} transports @param {number[]} sizes */
function comparisonTable(results, transports, sizes) {
  const rows = [["transport", "size", "zmesh/zeromq median", "zmesh/node:net median", "zmesh/zeromq p99", "zmesh over node:net, µs", "zeromq over node:net, µs"]]
  for (const transport of transports) {
    for (const size of sizes) {
      const [mine, theirs, floor] = KINDS.map((lib) => find(results, lib, transport, size))
      const over = (/** @type {Result | undefined} */ r) =>
        r?.median === undefined || floor?.median === undefined ? "-" : micros(r.median - floor.median)
      rows.push([transport, sizeName(size), ratio(mine?.median, theirs?.median), ratio(mine?.median, floor?.median), ratio(mine?.p99, theirs?.p99), over(mine), over(theirs)])
    }
  }
  return table(rows, 2)
}

/** @param {Result[]} results @param {Lib} lib @param {Transport} transport @param {number} size */
function find(results, lib, transport, size) {
  return results.find((r) => r.lib === lib && r.transport === transport && r.size === size)
}

const fail = failer("latency", usage)

function usage() {
  return `usage: node bench/e2e/latency.js [options]   (build first: npm run build)

  --quick              1,000 round trips a round instead of ${COUNT.toLocaleString("en-US")} (a smoke run)
  --sizes LIST         message sizes, e.g. 16,1k (default 16); k = KiB, m = MiB
  --transports LIST    tcp,ipc (default) or inproc (both sockets in one child process)
  --count N            round trips per timed round (warm-up: half of it)
${commonUsage}
                       (here also "net", raw node:net with a 4-byte length prefix; default zmesh,zeromq,net)`
}

// Last, so that every declaration above is initialised before either role runs.
if (isChild()) await child(childSpec())
else await main()
