#!/usr/bin/env node
// @ts-check
/**
 * End-to-end throughput, zmesh against the `zeromq` package (libzmq) in the
 * same run: transport x message size, sender and receiver each in its own
 * child process, both libraries driven by the same code.
 *
 *     npm run bench                                  # build, then the full PUSH/PULL run
 *     node bench/e2e/throughput.js --quick           # a tenth of the messages
 *     node bench/e2e/throughput.js --sizes 16,64k --transports ipc --reps 5
 *     node bench/e2e/throughput.js --pattern dealer-router --sizes 16
 *     node bench/e2e/throughput.js --curve --sizes 16,64k --transports tcp
 *     node bench/e2e/throughput.js --transports inproc --sizes 16
 *     node bench/e2e/throughput.js --sizes 64k --one-process   # both sockets in one process, over tcp/ipc
 *
 * Libraries ("--libs"): zmesh (`await send()`, `for await`), zmesh-try (the
 * same sockets through `trySend()`/`tryReceive()`, falling back to the
 * awaited calls only when they say no), zeromq (libzmq), and the raw node:net
 * baseline of raw-net.js with the same roles and a 4-byte length prefix:
 * net (one write per message) and net-batch (writes batched into 64 KiB
 * blocks). zmesh is compared with zeromq and net, zmesh-try with net-batch.
 *
 * Per cell (transport, size, library) the parent forks a receiver (PULL or
 * ROUTER binds `tcp://127.0.0.1:*` or a fresh ipc path and reports
 * `lastEndpoint`) and a sender (PUSH or DEALER connects). They run a warm-up
 * round, then `--reps` timed rounds over the same connection; the parent
 * starts each round only after the receiver has counted the previous one, so
 * rounds never overlap. The receiver times from the first to the last message
 * of a round; the cell's figure is the median round. MB/s counts payload bytes
 * only, 1 MB = 10^6 bytes. With `--curve` the receiver is the CURVE server
 * (keys from its own library's `curveKeyPair()`) and the sender a client with
 * its own pair. inproc, and tcp/ipc with `--one-process`, run both sockets in
 * one child process.
 *
 * Children exit on their own after closing their socket; the parent kills any
 * child that outlives a round's timeout, a failure, SIGINT/SIGTERM or its own
 * exit, and removes its ipc directory.
 */
import { fileURLToPath } from "node:url"
import { parseArgs } from "node:util"
import {
  bindAddress, childIO, childSpec, commonOptions, commonUsage, failer, installCleanup, isChild, list, loadLib,
  loadavg, log, machine, median, num, parseSize, pick, positiveInt, profileChildren, ratio, reap, removeEndpoint, sizeName,
  spread, startChild as fork, table, target,
} from "./lib.js"

const SELF = fileURLToPath(import.meta.url)
const TRANSPORTS = /** @type {const} */ (["tcp", "ipc", "inproc"])
const PATTERNS = /** @type {const} */ (["push-pull", "dealer-router"])
const KINDS = /** @type {const} */ (["zmesh", "zmesh-try", "zeromq", "net", "net-batch"])
/** The raw node:net baseline speaks neither ROUTER envelopes nor CURVE. */
const RAW = /** @type {readonly string[]} */ (["net", "net-batch"])
/** Every payload byte is FILL; the receiver checks length and last byte. */
const FILL = 0x5a

/**
 * Messages per timed round, the same for both libraries, chosen on a 2-core
 * AMD EPYC so that the slower one takes about 1-3 s a round. Other sizes
 * interpolate between these on a log scale. CURVE encrypts every message, so
 * it gets fewer.
 * @type {Record<"plain" | "curve", Record<number, number>>}
 */
const COUNTS = {
  plain: { 16: 300_000, 1024: 150_000, 65536: 15_000 },
  curve: { 16: 100_000, 1024: 40_000, 65536: 3_000 },
}

/**
 * @typedef {(typeof KINDS)[number]} Lib
 * @typedef {import("./lib.js").Msg} Msg
 * @typedef {import("./lib.js").Child} Child
 * @typedef {"tcp" | "ipc" | "inproc"} Transport
 * @typedef {"push-pull" | "dealer-router"} Pattern
 * @typedef {{ role: "recv" | "send" | "both", lib: Lib, pattern: Pattern, curve: boolean, reverse: boolean,
 *             address: string, size: number, rounds: number[], serverKey?: string }} ChildSpec
 * @typedef {{ seconds: number, count: number, sendSeconds: number }} Round
 * @typedef {{ lib: Lib, transport: Transport, size: number, count: number,
 *             rounds?: Round[], rate?: number, error?: string }} Result
 */

// ---- children --------------------------------------------------------------

/** @param {ChildSpec} spec */
async function child(spec) {
  const io = childIO()
  const lib = await loadLib(spec.lib)
  const [Receiver, Sender] = spec.pattern === "dealer-router" ? [lib.Router, lib.Dealer] : [lib.Pull, lib.Push]

  if (spec.reverse) {
    // The sender binds and the receiver connects (PULL workers dialing a PUSH, SUB dialing a PUB).
    if (spec.role === "send" || spec.role === "both") {
      const send = new Sender()
      await send.bind(spec.address)
      io.post({ type: "ready", endpoint: send.lastEndpoint })
      if (spec.role === "send") {
        await transmit(send, spec, io)
      } else {
        const recv = new Receiver()
        recv.connect(send.lastEndpoint)
        await Promise.all([receive(recv, spec, io), transmit(send, spec, io)])
      }
    } else {
      const recv = new Receiver()
      recv.connect(spec.address)
      await receive(recv, spec, io)
    }
  } else if (spec.role === "recv" || spec.role === "both") {
    /** @type {Record<string, unknown>} */
    let options = {}
    let serverKey
    if (spec.curve) {
      const keys = lib.curveKeyPair()
      options = { curveServer: true, curveSecretKey: keys.secretKey }
      serverKey = keys.publicKey
    }
    const recv = new Receiver(options)
    await recv.bind(spec.address)
    io.post({ type: "ready", endpoint: recv.lastEndpoint, serverKey })
    if (spec.role === "recv") {
      await receive(recv, spec, io)
    } else {
      const send = new Sender(senderOptions(lib, spec.curve, serverKey))
      send.connect(recv.lastEndpoint)
      await Promise.all([receive(recv, spec, io), transmit(send, spec, io)])
    }
  } else {
    const send = new Sender(senderOptions(lib, spec.curve, spec.serverKey))
    send.connect(spec.address)
    await transmit(send, spec, io)
  }
  io.done()
}

/** A CURVE client's options, with its own key pair; none without CURVE. */
function senderOptions(/** @type {any} */ lib, /** @type {boolean} */ curve, /** @type {string | undefined} */ serverKey) {
  if (!curve) return {}
  const keys = lib.curveKeyPair()
  return { curveServerKey: serverKey, curvePublicKey: keys.publicKey, curveSecretKey: keys.secretKey }
}

/**
 * Counts each round's messages, timing from its first to its last.
 * @param {any} sock @param {ChildSpec} spec @param {import("./lib.js").ChildIO} io
 */
async function receive(sock, spec, io) {
  // A ROUTER prefixes the sender's routing id.
  const frames = spec.pattern === "dealer-router" ? 2 : 1
  let round = 0
  let n = 0
  let bad = 0
  let t0 = 0
  let expected = spec.rounds[0]
  // Answers the parent while a round is stuck, to tell a hang from lost messages.
  process.on("message", (/** @type {Msg} */ m) => {
    if (m.type === "status") io.post({ type: "status", round, received: n })
  })
  /** Counts one message; true after the last round's last. @param {Buffer[]} message */
  const count = (message) => {
    if (n === 0) t0 = performance.now()
    const msg = message[frames - 1]
    if (message.length !== frames || msg.length !== spec.size || msg[spec.size - 1] !== FILL) bad++
    if (++n !== expected) return false
    const seconds = (performance.now() - t0) / 1000
    io.post({ type: "round", round, seconds, bad })
    n = 0
    bad = 0
    if (++round === spec.rounds.length) return true
    expected = spec.rounds[round]
    return false
  }
  if (spec.lib === "zmesh-try") {
    // The synchronous path: take what is queued, wait only when nothing is.
    for (;;) {
      const message = sock.tryReceive() ?? (await sock.receive())
      if (count(message)) break
    }
  } else {
    for await (const message of sock) if (count(message)) break
  }
  sock.close()
}

/**
 * Sends each round when the parent says "go", with one preallocated buffer.
 * @param {any} sock @param {ChildSpec} spec @param {import("./lib.js").ChildIO} io
 */
async function transmit(sock, spec, io) {
  const msg = Buffer.alloc(spec.size, FILL)
  for (let round = 0; round < spec.rounds.length; round++) {
    await io.inbox.next("go")
    const count = spec.rounds[round]
    const t0 = performance.now()
    if (spec.lib === "zmesh-try") {
      for (let i = 0; i < count; i++) if (!sock.trySend(msg)) await sock.send(msg)
    } else {
      for (let i = 0; i < count; i++) await sock.send(msg)
    }
    io.post({ type: "sent", round, seconds: (performance.now() - t0) / 1000 })
  }
  // Everything has been received by now, so close() has nothing to flush.
  await io.inbox.next("stop")
  sock.close()
}

// ---- parent ----------------------------------------------------------------

async function main() {
  const { values: flags } = parseArgs({
    options: {
      ...commonOptions,
      libs: { type: "string", default: KINDS.join(",") },
      pattern: { type: "string", default: "push-pull" },
      curve: { type: "boolean", default: false },
      sizes: { type: "string", default: "16,1k,64k" },
      transports: { type: "string", default: "tcp,ipc" },
      count: { type: "string" },
      long: { type: "boolean", default: false },
      cold: { type: "boolean", default: false },
      "receiver-connects": { type: "boolean", default: false },
      cycles: { type: "string", default: "1" },
      "one-process": { type: "boolean", default: false },
      verbose: { type: "boolean", short: "v", default: false },
    },
  })
  if (flags.help) return void console.log(usage())
  const sizes = list(flags.sizes).map((s) => parseSize(s, fail))
  const transports = pick(flags.transports, TRANSPORTS, "transport", fail)
  const [pattern] = pick(flags.pattern, PATTERNS, "pattern", fail)
  const curve = flags.curve
  let libs = pick(flags.libs, KINDS, "library", fail)
  // The raw baseline has no ROUTER envelope, no CURVE and no inproc: leave it out there.
  if (pattern !== "push-pull" || curve) libs = libs.filter((lib) => !RAW.includes(lib))
  const reps = positiveInt(flags.reps, "--reps", fail)
  const cycles = positiveInt(flags.cycles, "--cycles", fail)
  const timeoutMs = positiveInt(flags.timeout, "--timeout", fail) * 1000
  const fixedCount = flags.count === undefined ? undefined : positiveInt(flags.count, "--count", fail)
  const scale = flags.quick ? 0.1 : flags.long ? 5 : 1
  const together = flags["one-process"]
  const cold = flags.cold
  const reverse = flags["receiver-connects"]
  if (reverse && (curve || transports.includes("inproc"))) fail("--receiver-connects is for plain tcp and ipc")
  profileChildren(flags["cpu-prof"])

  const tmp = installCleanup()
  const started = performance.now()
  const title = `${pattern === "push-pull" ? "PUSH/PULL" : "DEALER/ROUTER"} throughput${curve ? " under CURVE" : ""}` +
    `${together ? ", sender and receiver in one process" : ""}${reverse ? ", the sender binds and the receiver connects" : ""}`
  const warm = cold ? "no warm-up (fresh processes, cold JIT)" : "warm-up"
  const runs = cycles > 1 ? `${cycles} cycles of ${warm} + ${reps} rounds, median of all ${cycles * reps}` : `${warm} + median of ${reps}`
  const header = machine(`${title}, ${flags.quick ? "--quick, " : flags.long ? "--long, " : ""}${runs}`)
  log(header)

  /** @type {Result[]} */
  const results = []
  // With --cycles, every library takes its turn in each cycle, so that load from elsewhere falls on all of them.
  for (let cycle = 0; cycle < cycles; cycle++) {
    for (const transport of transports) {
      for (const size of sizes) {
        const count = fixedCount ?? Math.max(1, Math.round(countFor(COUNTS[curve ? "curve" : "plain"], size) * scale))
        for (const lib of libs) {
          if (transport === "inproc" && RAW.includes(lib)) continue
          const result = await runCell({ lib, pattern, curve, transport, size, count, reps, timeoutMs, tmp, together, cold, reverse })
          log(progressLine(result, flags.verbose))
          merge(results, result)
        }
      }
    }
  }
  const elapsed = (performance.now() - started) / 1000

  if (flags.json) {
    console.log(JSON.stringify({ machine: header, pattern, curve, reps, cycles, quick: flags.quick, together, elapsed, results }, null, 2))
  } else {
    console.log(header)
    console.log()
    console.log(resultTable(results, transports, sizes, libs))
    console.log()
    console.log(ratioTable(results, transports, sizes))
    // The brief's goals are for plain PUSH/PULL; other modes print ratios only.
    const notes = pattern === "push-pull" && !curve ? targets(results, transports, sizes, together) : []
    for (const r of results) if (r.error !== undefined) notes.push(`${r.transport} ${sizeName(r.size)} ${r.lib}: ${r.error}`)
    if (notes.length > 0) console.log("\n" + notes.join("\n"))
    console.log(`\ntotal ${elapsed.toFixed(1)} s, load average at end ${loadavg()}`)
  }
  if (results.some((r) => r.error !== undefined)) process.exitCode = 1
}

/** Adds a cell's rounds to the same cell of an earlier cycle, if any. @param {Result[]} results @param {Result} result */
function merge(results, result) {
  const known = find(results, result.lib, result.transport, result.size)
  if (known === undefined) return void results.push(result)
  if (result.error !== undefined) known.error = result.error
  known.rounds = [...(known.rounds ?? []), ...(result.rounds ?? [])]
  known.rate = known.rounds.length > 0 ? median(rates(known.rounds)) : undefined
}

/** @param {Result[]} results @param {Lib} lib @param {Transport} transport @param {number} size */
function find(results, lib, transport, size) {
  return results.find((r) => r.lib === lib && r.transport === transport && r.size === size)
}

/**
 * One library on one transport at one size: fork the pair (one child for
 * inproc or `together`), run warm-up + reps.
 * @param {{ lib: Lib, pattern: Pattern, curve: boolean, transport: Transport, size: number, count: number,
 *           reps: number, timeoutMs: number, tmp: string, together: boolean, cold: boolean, reverse: boolean }} cell
 * @returns {Promise<Result>}
 */
async function runCell({ lib, pattern, curve, transport, size, count, reps, timeoutMs, tmp, together, cold, reverse }) {
  // Without the warm-up, the first timed round meets V8 with nothing compiled yet, as a short-lived program does.
  const warmup = cold ? [] : [Math.max(1, Math.ceil(count / 2))]
  const rounds = [...warmup, ...Array(reps).fill(count)]
  const address = bindAddress(transport, tmp, `${lib}-${size}`)
  const base = { lib, transport, size, count }
  const common = { lib, pattern, curve, size, rounds, reverse }
  /** @type {Child[]} */
  const group = []
  try {
    let recv, send
    if (transport === "inproc" || together) {
      recv = send = startChild({ ...common, role: "both", address }, `${lib} sender+receiver`)
      group.push(recv)
      await recv.next("ready", timeoutMs)
    } else if (reverse) {
      send = startChild({ ...common, role: "send", address }, `${lib} sender`)
      group.push(send)
      const { endpoint } = await send.next("ready", timeoutMs)
      recv = startChild({ ...common, role: "recv", address: endpoint }, `${lib} receiver`)
      group.push(recv)
    } else {
      recv = startChild({ ...common, role: "recv", address }, `${lib} receiver`)
      group.push(recv)
      const { endpoint, serverKey } = await recv.next("ready", timeoutMs)
      send = startChild({ ...common, role: "send", address: endpoint, serverKey }, `${lib} sender`)
      group.push(send)
    }
    /** @type {Round[]} */
    const timed = []
    for (let round = 0; round < rounds.length; round++) {
      send.post({ type: "go" })
      let got, sent
      try {
        // Either child dying fails the round at once instead of at the timeout.
        ;[got, sent] = await Promise.all([recv.next("round", timeoutMs), send.next("sent", timeoutMs)])
      } catch (err) {
        throw new Error(await diagnose(err, recv, send, round, rounds[round]))
      }
      if (got.bad > 0) throw new Error(`round ${round}: ${got.bad} of ${rounds[round]} messages had a wrong length or content`)
      if (round >= warmup.length) timed.push({ seconds: got.seconds, count: rounds[round], sendSeconds: sent.seconds })
    }
    send.post({ type: "stop" })
    // Each child must end by itself once its socket is closed.
    const late = await reap(group)
    /** @type {Result} */
    const result = { ...base, rounds: timed, rate: median(rates(timed)) }
    if (late.length > 0) result.error = `${late.join(" and ")} did not exit within 5 s of close(); killed`
    return result
  } catch (err) {
    return { ...base, error: err instanceof Error ? err.message : String(err) }
  } finally {
    for (const c of group) c.kill()
    removeEndpoint(address)
  }
}

/** @param {ChildSpec} spec @param {string} name */
function startChild(spec, name) {
  return fork(SELF, spec, name)
}

/**
 * Explains a round that did not finish: the receiver's count tells lost
 * messages (sender done, receiver short) from a stall (sender still sending).
 * @param {unknown} err @param {Child} recv @param {Child} send
 * @param {number} round @param {number} expected
 */
async function diagnose(err, recv, send, round, expected) {
  const why = err instanceof Error ? err.message : String(err)
  if (!recv.alive || !send.alive) return `round ${round}: ${why}`
  recv.post({ type: "status" })
  const status = await recv.next("status", 2000).catch(() => undefined)
  const sent = send.peek("sent", round)
  const got = status === undefined ? "receiver did not answer" : `receiver got ${status.received} of ${expected}`
  const sender = sent === undefined ? "sender had not finished sending" : `sender had sent all ${expected} in ${sent.seconds.toFixed(2)} s`
  return `round ${round}: ${why}; ${got}, ${sender}`
}

// ---- output --------------------------------------------------------------------

/** @param {Round[] | undefined} rounds */
function rates(rounds) {
  return (rounds ?? []).map((x) => (x.count - 1) / x.seconds)
}

/** @param {Result} r @param {boolean} verbose */
function progressLine(r, verbose) {
  const what = `${r.transport.padEnd(6)} ${sizeName(r.size).padStart(6)} ${r.lib.padEnd(9)} x${r.count}`
  if (r.error !== undefined && r.rounds === undefined) return `${what}: FAILED: ${r.error}`
  let line = `${what}: ${num(r.rate ?? 0)} msg/s  reps ${rates(r.rounds).map(num).join(" / ")}`
  if (verbose) line += `  (sender s: ${r.rounds?.map((x) => x.sendSeconds.toFixed(2)).join(" / ")})`
  if (r.error !== undefined) line += `  WARNING: ${r.error}`
  return line
}

/** One row per cell, msg/s (and MB/s from 1 KiB on) and the spread of rounds for each library. @param {Result[]} results @param {Transport[]} transports @param {number[]} sizes @param {Lib[]} libs */
function resultTable(results, transports, sizes, libs) {
  const shown = libs.filter((lib) => results.some((r) => r.lib === lib))
  /** @type {string[][]} */
  const rows = [["transport", "size", ...shown.map((lib) => `${lib} msg/s (MB/s) spread`)]]
  for (const transport of transports) {
    for (const size of sizes) {
      const cells = shown.map((lib) => {
        const r = find(results, lib, transport, size)
        if (r?.rate === undefined) return r === undefined ? "-" : "FAILED"
        const mb = size >= 1024 ? ` (${((r.rate * size) / 1e6).toFixed(0)})` : ""
        return `${num(r.rate)}${mb} ${spread(rates(r.rounds))}`
      })
      if (cells.some((c) => c !== "-")) rows.push([transport, sizeName(size), ...cells])
    }
  }
  return table(rows, 2)
}

/** The ratios the brief asks for: zmesh against zeromq and raw node:net, the try path against batched node:net. */
function ratioTable(/** @type {Result[]} */ results, /** @type {Transport[]} */ transports, /** @type {number[]} */ sizes) {
  const pairs = /** @type {const} */ ([["zmesh", "zeromq"], ["zmesh", "net"], ["zmesh-try", "net-batch"], ["zmesh-try", "zmesh"]])
  const rows = [["transport", "size", ...pairs.map(([a, b]) => `${a} / ${b}`)]]
  for (const transport of transports) {
    for (const size of sizes) {
      const cells = pairs.map(([a, b]) => ratio(find(results, a, transport, size)?.rate, find(results, b, transport, size)?.rate))
      if (cells.some((c) => c !== "-")) rows.push([transport, sizeName(size), ...cells])
    }
  }
  return table(rows, 2)
}

/**
 * Issue 10's goals over tcp and ipc: at 16 B zmesh >= 0.9x raw node:net and
 * the try path >= 0.7x batched node:net; at 64 KiB zmesh >= 1.1x zeromq
 * (in separate processes, and with `--one-process` in one).
 */
function targets(/** @type {Result[]} */ results, /** @type {Transport[]} */ transports, /** @type {number[]} */ sizes, /** @type {boolean} */ together) {
  const notes = []
  const goals = /** @type {const} */ ([
    [16, "zmesh", "net", 0.9], [16, "zmesh-try", "net-batch", 0.7], [16, "zmesh", "zeromq", 5], [65536, "zmesh", "zeromq", 1.1],
  ])
  for (const [size, mine, theirs, goal] of goals) {
    if (!sizes.includes(size)) continue
    for (const transport of transports.filter((t) => t !== "inproc")) {
      const a = find(results, mine, transport, size)?.rate
      const b = find(results, theirs, transport, size)?.rate
      if (a === undefined || b === undefined) continue
      const where = `${transport} ${sizeName(size)}${together ? " one process" : ""} ${mine}`
      notes.push(target(where, `>= ${goal}x ${theirs}`, a / b, a / b >= goal))
    }
  }
  return notes
}

/** Messages per round for a size: the table's, or log-interpolated between its sizes. */
function countFor(/** @type {Record<number, number>} */ counts, /** @type {number} */ size) {
  if (counts[size] !== undefined) return counts[size]
  const known = Object.keys(counts).map(Number).sort((a, b) => a - b)
  const lo = [...known].reverse().find((s) => s <= size) ?? known[0]
  const hi = known.find((s) => s >= size) ?? known[known.length - 1]
  if (lo === hi) return Math.max(1000, Math.round((counts[lo] * lo) / size))
  const t = Math.log(size / lo) / Math.log(hi / lo)
  return Math.round(Math.exp(Math.log(counts[lo]) * (1 - t) + Math.log(counts[hi]) * t))
}

const fail = failer("throughput", usage)

function usage() {
  return `usage: node bench/e2e/throughput.js [options]   (build first: npm run build)

  --quick              a tenth of the messages per round (a smoke run)
  --pattern P          push-pull (default) or dealer-router (DEALER sends, ROUTER receives)
  --curve              CURVE security: the receiver is the server, keys from each library's curveKeyPair()
  --sizes LIST         message sizes, e.g. 16,1k,64k (default); k = KiB, m = MiB
  --transports LIST    tcp,ipc (default) or inproc (both sockets in one child process)
  --one-process        tcp/ipc with sender and receiver in one child process
  --receiver-connects  the sender binds and the receiver connects (default: the receiver binds)
  --count N            messages per round for every size, instead of the built-in counts
  --long               five times the built-in counts per round (--quick: a tenth)
  --cold               no warm-up round: with --reps 1 every figure is a fresh process's first round
  --cycles N           run every cell N times, libraries taking turns; median of all rounds (default 1)
  -v, --verbose        also print the sender's time per round
  --libs LIST          any of ${KINDS.join(",")} (default all; net* only for plain PUSH/PULL)
${commonUsage.replace(/^.*--libs.*\n/m, "")}`
}

// Last, so that every declaration above is initialised before either role runs.
if (isChild()) await child(childSpec())
else await main()
