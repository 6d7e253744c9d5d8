#!/usr/bin/env node
// @ts-check
/**
 * End-to-end PUB/SUB fan-out, zmesh against the `zeromq` package (libzmq) in
 * the same run: one publisher and N subscribers, each in its own child
 * process, both libraries driven by the same code and default options
 * (HWM 1000 on both sides).
 *
 *     npm run bench:pubsub                         # build, then the full run
 *     node bench/e2e/pubsub.js --quick             # a tenth of the messages
 *     node bench/e2e/pubsub.js --subs 1,2,4 --transports tcp --reps 5
 *
 * Per cell (transport, subscribers, library) the parent forks the publisher
 * (PUB binds, reports `lastEndpoint`), then the subscribers (SUB connects,
 * subscribes to everything). The publisher sends probe messages every 5 ms
 * until every subscriber has told the parent it received one, so no timed
 * message goes to a subscriber that is not yet subscribed. Then a warm-up
 * round and `--reps` timed rounds: the publisher sends the round's messages
 * with `for (...) await pub.send(msg)`, then repeats an end marker carrying
 * the round number every 5 ms until every subscriber has reported the round
 * (PUB drops at the HWM, so any single marker may be lost; a repeated one
 * gets through once the queues drain).
 *
 * Each subscriber counts the round's data messages and notes when it got the
 * first and the last. Its delivered rate is received / (its last message -
 * the publisher's first send), on CLOCK_MONOTONIC, which all processes share:
 * messages that reached it per second of the round. A round's figure is the
 * median over subscribers (and, in brackets, the slowest subscriber's), a
 * cell's the median over rounds. PUB drops when a
 * subscriber's queue is full, by design, so "delivered" is also given as the
 * share of sent messages the subscribers got (all of them, all timed rounds),
 * beside the publisher's own send rate; the progress lines add each
 * subscriber's rate over its own first-to-last window and its count.
 *
 * The publisher's loop is the plain `for (...) await pub.send(msg)`; with
 * `--pace N` it yields to the event loop every N sends instead.
 *
 * "net" is the raw node:net baseline of raw-net.js with the same roles: a
 * 4-byte length before each message, every message written to every
 * subscriber (no topic filtering), and a send that waits for the slowest
 * subscriber's buffer instead of dropping: its delivered share is always 100%.
 *
 * Children exit on their own after closing their socket; the parent kills any
 * child that outlives a timeout, a failure, SIGINT/SIGTERM or its own exit,
 * and removes its ipc directory.
 */
import { setTimeout as sleep } from "node:timers/promises"
import { fileURLToPath } from "node:url"
import { parseArgs } from "node:util"
import {
  LIBS, bindAddress, childIO, childSpec, commonOptions, commonUsage, failer, installCleanup, isChild, list, loadLib,
  loadavg, log, machine, median, num, parseSize, pick, positiveInt, profileChildren, ratio, reap, removeEndpoint, sizeName,
  spread, startChild, table, target,
} from "./lib.js"

const SELF = fileURLToPath(import.meta.url)
const TRANSPORTS = /** @type {const} */ (["tcp", "ipc"])
/** The libraries plus "net", the raw node:net baseline of raw-net.js (no drops, no filtering: it waits for the slowest). */
const KINDS = /** @type {const} */ ([...LIBS, "net"])
/** First byte of each kind of message; a data message is FILL throughout. */
const FILL = 0x5a
const PROBE = 0x50
const END = 0x45
/**
 * Adds to `performance.now()` to give CLOCK_MONOTONIC in ms, which all
 * processes share, so the parent can set a subscriber's last message against
 * the publisher's first.
 */
const CLOCK = Number(process.hrtime.bigint()) / 1e6 - performance.now()
/** Messages per timed round (a tenth with --quick), for both libraries and every subscriber count. */
const COUNT = 200_000

/**
 * @typedef {(typeof KINDS)[number]} Lib
 * @typedef {import("./lib.js").Msg} Msg
 * @typedef {import("./lib.js").Child} Child
 * @typedef {"tcp" | "ipc"} Transport
 * @typedef {{ role: "pub" | "sub", lib: Lib, address: string, size: number, rounds: number[], pace: number }} ChildSpec
 * @typedef {{ received: number, seconds: number, delivered: number }} SubRound
 * @typedef {{ sendSeconds: number, count: number, subs: SubRound[], rate: number, slowest: number }} Round
 * @typedef {{ lib: Lib, transport: Transport, subs: number, size: number, count: number,
 *             rounds?: Round[], rate?: number, slowest?: number, delivered?: number, sendRate?: number, error?: string }} Result
 */

// ---- children --------------------------------------------------------------

/** @param {ChildSpec} spec */
async function child(spec) {
  const io = childIO()
  const lib = await loadLib(spec.lib)
  if (spec.role === "pub") await publisher(new lib.Publisher(), spec, io)
  else await subscriber(new lib.Subscriber(), spec, io)
  io.done()
}

/**
 * Probes until the parent says "go", then per round: the data, then end
 * markers until the parent says "ended".
 * @param {any} pub @param {ChildSpec} spec @param {import("./lib.js").ChildIO} io
 */
async function publisher(pub, spec, io) {
  await pub.bind(spec.address)
  io.post({ type: "ready", endpoint: pub.lastEndpoint })
  const probe = Buffer.alloc(spec.size, PROBE)
  while (!io.inbox.has("go")) {
    await pub.send(probe)
    await sleep(5)
  }
  const msg = Buffer.alloc(spec.size, FILL)
  for (let round = 0; round < spec.rounds.length; round++) {
    await io.inbox.next("go")
    const count = spec.rounds[round]
    const t0 = performance.now()
    if (spec.pace === 0) {
      for (let i = 0; i < count; i++) await pub.send(msg)
    } else {
      for (let i = 0; i < count; i++) {
        await pub.send(msg)
        if ((i + 1) % spec.pace === 0) await new Promise(setImmediate)
      }
    }
    const t1 = performance.now()
    io.post({ type: "sent", round, seconds: (t1 - t0) / 1000, start: t0 + CLOCK })
    const marker = Buffer.alloc(spec.size)
    marker[0] = END
    marker.writeUInt32LE(round, 1)
    while (!io.inbox.has("ended")) {
      await pub.send(marker)
      await sleep(5)
    }
    await io.inbox.next("ended")
  }
  await io.inbox.next("stop")
  pub.close()
}

/**
 * Says "subscribed" at the first probe; counts and times each round's data
 * and reports it at the round's first end marker.
 * @param {any} sub @param {ChildSpec} spec @param {import("./lib.js").ChildIO} io
 */
async function subscriber(sub, spec, io) {
  sub.connect(spec.address)
  sub.subscribe()
  let subscribed = false
  let round = 0
  let n = 0
  let bad = 0
  let first = 0
  let last = 0
  process.on("message", (/** @type {Msg} */ m) => {
    if (m.type === "status") io.post({ type: "status", round, received: n })
  })
  for await (const [msg] of sub) {
    const kind = msg[0]
    if (kind === FILL) {
      last = performance.now()
      if (n++ === 0) first = last
      if (msg.length !== spec.size || msg[spec.size - 1] !== FILL) bad++
    } else if (kind === PROBE) {
      if (!subscribed) io.post({ type: "subscribed" })
      subscribed = true
    } else if (kind === END && msg.readUInt32LE(1) === round) {
      io.post({ type: "round", round, received: n, seconds: (last - first) / 1000, last: last + CLOCK, bad })
      n = bad = 0
      if (++round === spec.rounds.length) break
    }
  }
  sub.close()
}

// ---- parent ----------------------------------------------------------------

async function main() {
  const { values: flags } = parseArgs({
    options: {
      ...commonOptions,
      subs: { type: "string", default: "1,4" },
      size: { type: "string", default: "16" },
      transports: { type: "string", default: "tcp,ipc" },
      count: { type: "string" },
      pace: { type: "string", default: "0" },
      libs: { type: "string", default: KINDS.join(",") },
    },
  })
  if (flags.help) return void console.log(usage())
  const subCounts = list(flags.subs).map((s) => positiveInt(s, "--subs", fail))
  const size = parseSize(flags.size, fail)
  if (size < 5) fail("--size must be at least 5 bytes, to hold an end marker's round number")
  const transports = pick(flags.transports, TRANSPORTS, "transport", fail)
  const libs = pick(flags.libs, KINDS, "library", fail)
  const reps = positiveInt(flags.reps, "--reps", fail)
  const timeoutMs = positiveInt(flags.timeout, "--timeout", fail) * 1000
  const count = flags.count === undefined ? (flags.quick ? COUNT / 10 : COUNT) : positiveInt(flags.count, "--count", fail)
  const pace = flags.pace === "0" ? 0 : positiveInt(flags.pace, "--pace", fail)

  profileChildren(flags["cpu-prof"])
  const tmp = installCleanup()
  const started = performance.now()
  const header = machine(`PUB/SUB fan-out at ${sizeName(size)}, default HWM, ${pace > 0 ? `publisher yields every ${pace} sends, ` : ""}${flags.quick ? "--quick, " : ""}warm-up + median of ${reps} rounds of ${num(count)} messages`)
  log(header)

  /** @type {Result[]} */
  const results = []
  for (const transport of transports) {
    for (const subs of subCounts) {
      for (const lib of libs) {
        const result = await runCell({ lib, transport, subs, size, count, pace, reps, timeoutMs, tmp })
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
    console.log(resultTable(results, transports, subCounts))
    const notes = []
    for (const transport of transports) {
      for (const subs of subCounts) {
        const [mine, theirs] = LIBS.map((lib) => results.find((r) => r.lib === lib && r.transport === transport && r.subs === subs)?.rate)
        if (mine === undefined || theirs === undefined) continue
        // The brief: zmesh at least 5x zeromq's per-subscriber rate.
        notes.push(target(`${transport} ${subs} sub${subs === 1 ? "" : "s"}`, ">= 5x zeromq per subscriber", mine / theirs, mine / theirs >= 5))
      }
    }
    for (const r of results) if (r.error !== undefined) notes.push(`${r.transport} ${r.subs} subs ${r.lib}: ${r.error}`)
    if (notes.length > 0) console.log("\n" + notes.join("\n"))
    console.log(`\ntotal ${elapsed.toFixed(1)} s, load average at end ${loadavg()}`)
  }
  if (results.some((r) => r.error !== undefined)) process.exitCode = 1
}

/**
 * One library on one transport with `subs` subscribers: fork them all, wait
 * until every subscriber has a probe, run warm-up + reps.
 * @param {{ lib: Lib, transport: Transport, subs: number, size: number, count: number, pace: number, reps: number,
 *           timeoutMs: number, tmp: string }} cell
 * @returns {Promise<Result>}
 */
async function runCell({ lib, transport, subs, size, count, pace, reps, timeoutMs, tmp }) {
  const rounds = [Math.max(1, Math.ceil(count / 2)), ...Array(reps).fill(count)]
  const address = bindAddress(transport, tmp, `pub-${lib}-${subs}`)
  const base = { lib, transport, subs, size, count }
  /** @type {Child[]} */
  const group = []
  try {
    const pub = startChild(SELF, { role: "pub", lib, address, size, rounds, pace }, `${lib} publisher`)
    group.push(pub)
    const { endpoint } = await pub.next("ready", timeoutMs)
    /** @type {Child[]} */
    const readers = []
    for (let i = 0; i < subs; i++) readers.push(startChild(SELF, { role: "sub", lib, address: endpoint, size, rounds, pace }, `${lib} subscriber ${i + 1}`))
    group.push(...readers)
    await Promise.all(readers.map((s) => s.next("subscribed", timeoutMs)))
    /** @type {Round[]} */
    const timed = []
    for (let round = 0; round < rounds.length; round++) {
      pub.post({ type: "go" })
      let sent, got
      try {
        ;[sent, ...got] = await Promise.all([pub.next("sent", timeoutMs), ...readers.map((s) => s.next("round", timeoutMs))])
      } catch (err) {
        throw new Error(await diagnose(err, pub, readers, round, rounds[round]))
      }
      pub.post({ type: "ended" })
      const bad = got.reduce((a, g) => a + g.bad, 0)
      if (bad > 0) throw new Error(`round ${round}: ${bad} messages had a wrong length or content`)
      // Delivered: what reached the subscriber over the time from the first send to its last message.
      const perSub = got.map((g) => ({ received: g.received, seconds: g.seconds, delivered: g.received / ((g.last - sent.start) / 1000) }))
      const rate = median(perSub.map((s) => s.delivered))
      const slowest = Math.min(...perSub.map((s) => s.delivered))
      if (round > 0) timed.push({ sendSeconds: sent.seconds, count: rounds[round], subs: perSub, rate, slowest })
    }
    pub.post({ type: "stop" })
    const late = await reap(group)
    const received = timed.reduce((a, r) => a + r.subs.reduce((b, s) => b + s.received, 0), 0)
    /** @type {Result} */
    const result = {
      ...base, rounds: timed, rate: median(timed.map((r) => r.rate)), slowest: median(timed.map((r) => r.slowest)),
      delivered: received / (count * subs * timed.length), sendRate: median(timed.map((r) => r.count / r.sendSeconds)),
    }
    if (late.length > 0) result.error = `${late.join(", ")} did not exit within 5 s of close(); killed`
    return result
  } catch (err) {
    return { ...base, error: err instanceof Error ? err.message : String(err) }
  } finally {
    for (const c of group) c.kill()
    removeEndpoint(address)
  }
}

/**
 * Explains a round that did not finish: what each subscriber had counted,
 * and whether the publisher had sent everything.
 * @param {unknown} err @param {Child} pub @param {Child[]} readers @param {number} round @param {number} expected
 */
async function diagnose(err, pub, readers, round, expected) {
  const why = err instanceof Error ? err.message : String(err)
  if (!pub.alive || readers.some((s) => !s.alive)) return `round ${round}: ${why}`
  const counts = []
  for (const s of readers) {
    s.post({ type: "status" })
    const status = await s.next("status", 2000).catch(() => undefined)
    counts.push(status === undefined ? "no answer" : status.round === round ? `${status.received}` : `at round ${status.round}`)
  }
  const sent = pub.peek("sent", round)
  const publisher = sent === undefined ? "publisher had not finished sending" : `publisher had sent all ${expected} in ${sent.seconds.toFixed(2)} s`
  return `round ${round}: ${why}; subscribers had ${counts.join(", ")} of ${expected}, ${publisher}`
}

// ---- output --------------------------------------------------------------------

/** @param {number} x */
function percent(x) {
  return x >= 0.9995 ? "100%" : `${(x * 100).toFixed(1)}%`
}

/** A subscriber's own rate: from its first to its last message of the round. @param {SubRound} s */
function receiveRate(s) {
  return s.received > 1 && s.seconds > 0 ? (s.received - 1) / s.seconds : 0
}

/** @param {Result} r */
function progressLine(r) {
  const what = `${r.transport} ${String(r.subs).padStart(2)} sub${r.subs === 1 ? " " : "s"} ${r.lib.padEnd(6)} x${r.count}`
  if (r.error !== undefined && r.rounds === undefined) return `${what}: FAILED: ${r.error}`
  const rounds = r.rounds ?? []
  let line = `${what}: ${num(r.rate ?? 0)} msg/s delivered per sub (${percent(r.delivered ?? 0)}), pub sent ${num(r.sendRate ?? 0)} msg/s` +
    `\n    reps delivered/s ${rounds.map((x) => x.subs.map((s) => num(s.delivered)).join("+")).join(" / ")}` +
    `\n    received/s over the subscriber's own window ${rounds.map((x) => x.subs.map((s) => num(receiveRate(s))).join("+")).join(" / ")}` +
    `\n    received of ${num(r.count)} ${rounds.map((x) => x.subs.map((s) => num(s.received)).join("+")).join(" / ")}`
  if (r.error !== undefined) line += `  WARNING: ${r.error}`
  return line
}

/** @param {Result[]} results @param {Transport[]} transports @param {number[]} subCounts */
function resultTable(results, transports, subCounts) {
  const shown = KINDS.filter((lib) => results.some((r) => r.lib === lib))
  /** @type {string[][]} */
  const rows = [[
    "transport", "subs", ...shown.flatMap((lib) => [`${lib} delivered/s per sub (slowest)`, `${lib} delivered`, `${lib} pub sent/s`]),
    "zmesh/zeromq", "zmesh/net", "slowest zmesh/net", `spread ${shown.join("/")}`,
  ]]
  for (const transport of transports) {
    for (const subs of subCounts) {
      const cell = (/** @type {Lib} */ lib) => results.find((r) => r.lib === lib && r.transport === transport && r.subs === subs)
      const cols = (/** @type {Result | undefined} */ r) =>
        r?.rate === undefined
          ? [r === undefined ? "-" : "FAILED", "-", "-"]
          : [`${num(r.rate)} (${num(r.slowest ?? 0)})`, percent(r.delivered ?? 0), num(r.sendRate ?? 0)]
      const spreads = (/** @type {Result | undefined} */ r) => (r?.rate === undefined ? "-" : spread(r.rounds?.map((x) => x.rate)))
      rows.push([
        transport, String(subs), ...shown.flatMap((lib) => cols(cell(lib))),
        ratio(cell("zmesh")?.rate, cell("zeromq")?.rate), ratio(cell("zmesh")?.rate, cell("net")?.rate),
        ratio(cell("zmesh")?.slowest, cell("net")?.slowest),
        shown.map((lib) => spreads(cell(lib))).join(" / "),
      ])
    }
  }
  return table(rows, 2)
}

const fail = failer("pubsub", usage)

function usage() {
  return `usage: node bench/e2e/pubsub.js [options]   (build first: npm run build)

  --quick              a tenth of the messages per round (a smoke run)
  --subs LIST          subscriber counts, each subscriber its own process (default 1,4)
  --size N             message size (default 16); k = KiB, m = MiB
  --transports LIST    tcp,ipc (default both)
  --count N            messages per round (default ${num(COUNT)})
  --pace N             the publisher yields to the event loop (setImmediate) every N sends (default 0: never)
${commonUsage}
                       (here also "net", raw node:net with a 4-byte length prefix; default zmesh,zeromq,net)`
}

// Last, so that every declaration above is initialised before either role runs.
if (isChild()) await child(childSpec())
else await main()
