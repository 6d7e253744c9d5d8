#!/usr/bin/env node
// @ts-check
/**
 * End-to-end PUSH/PULL throughput, zmesh against the `zeromq` package (libzmq)
 * in the same run: transport x message size, sender and receiver each in its
 * own child process, both libraries driven by the same code.
 *
 *     npm run bench                                  # build, then the full run
 *     node bench/e2e/throughput.js --quick           # a tenth of the messages
 *     node bench/e2e/throughput.js --sizes 16,64k --transports ipc --reps 5
 *
 * Per cell (transport, size, library) the parent forks a receiver (PULL binds
 * `tcp://127.0.0.1:*` or a fresh ipc path and reports `lastEndpoint`) and a
 * sender (PUSH connects). They run a warm-up round, then `--reps` timed rounds
 * over the same connection; the parent starts each round only after the
 * receiver has counted the previous one, so rounds never overlap. The receiver
 * times from the first to the last message of a round; the cell's figure is
 * the median round. MB/s counts payload bytes only, 1 MB = 10^6 bytes.
 *
 * Children exit on their own after closing their socket; the parent kills any
 * child that outlives a round's timeout, a failure, SIGINT/SIGTERM or its own
 * exit, and removes its ipc directory.
 */
import { execFileSync, fork } from "node:child_process"
import { mkdtempSync, readFileSync, rmSync } from "node:fs"
import os from "node:os"
import path from "node:path"
import { fileURLToPath } from "node:url"
import { parseArgs } from "node:util"

const SELF = fileURLToPath(import.meta.url)
const LIBS = /** @type {const} */ (["zmesh", "zeromq"])
const TRANSPORTS = /** @type {const} */ (["tcp", "ipc"])
/** Every payload byte is FILL; the receiver checks length and last byte. */
const FILL = 0x5a

/**
 * Messages per timed round, the same for both libraries, chosen on a 2-core
 * AMD EPYC so that the slower one takes about 1-3 s a round. Other sizes
 * interpolate between these on a log scale.
 * @type {Record<number, number>}
 */
const COUNTS = { 16: 300_000, 1024: 150_000, 65536: 15_000 }

/**
 * @typedef {"zmesh" | "zeromq"} Lib
 * @typedef {"tcp" | "ipc"} Transport
 * @typedef {{ role: "recv", lib: Lib, address: string, size: number, rounds: number[] }
 *         | { role: "send", lib: Lib, address: string, size: number, rounds: number[] }} ChildSpec
 * @typedef {{ type: string, [key: string]: any }} Msg
 * @typedef {{ seconds: number, count: number, sendSeconds: number }} Round
 * @typedef {{ lib: Lib, transport: Transport, size: number, count: number,
 *             rounds?: Round[], rate?: number, error?: string }} Result
 */

// ---- children --------------------------------------------------------------

/** @param {ChildSpec} spec */
async function child(spec) {
  let finishing = false
  // The parent is gone (killed, crashed): nobody will read our results.
  process.on("disconnect", () => {
    if (!finishing) process.exit(2)
  })
  const inbox = mailbox(process)
  /** @param {Msg} msg */
  const post = (msg) => process.send?.(msg)

  const lib = spec.lib === "zeromq" ? await import("zeromq") : await import("zmesh")

  if (spec.role === "recv") {
    const pull = new lib.Pull()
    await pull.bind(spec.address)
    let round = 0
    let n = 0
    let bad = 0
    let t0 = 0
    let expected = spec.rounds[0]
    // Answers the parent while a round is stuck, to tell a hang from lost messages.
    process.on("message", (/** @type {Msg} */ m) => {
      if (m.type === "status") post({ type: "status", round, received: n })
    })
    post({ type: "ready", endpoint: pull.lastEndpoint })
    for await (const [msg] of pull) {
      if (n === 0) t0 = performance.now()
      if (msg.length !== spec.size || msg[spec.size - 1] !== FILL) bad++
      if (++n === expected) {
        const seconds = (performance.now() - t0) / 1000
        post({ type: "round", round, seconds, bad })
        n = 0
        bad = 0
        if (++round === spec.rounds.length) break
        expected = spec.rounds[round]
      }
    }
    pull.close()
  } else {
    const push = new lib.Push()
    push.connect(spec.address)
    const msg = Buffer.alloc(spec.size, FILL)
    for (let round = 0; round < spec.rounds.length; round++) {
      await inbox.next("go")
      const count = spec.rounds[round]
      const t0 = performance.now()
      for (let i = 0; i < count; i++) await push.send(msg)
      post({ type: "sent", round, seconds: (performance.now() - t0) / 1000 })
    }
    // Everything has been received by now, so close() has nothing to flush.
    await inbox.next("stop")
    push.close()
  }
  finishing = true
  inbox.close()
  process.disconnect()
  // No process.exit(): the child must end because its sockets let go of the event loop.
}

// ---- parent ----------------------------------------------------------------

async function main() {
  const { values: flags } = parseArgs({
    options: {
      quick: { type: "boolean", default: false },
      sizes: { type: "string", default: "16,1k,64k" },
      transports: { type: "string", default: TRANSPORTS.join(",") },
      libs: { type: "string", default: LIBS.join(",") },
      reps: { type: "string", default: "3" },
      count: { type: "string" },
      timeout: { type: "string", default: "60" },
      verbose: { type: "boolean", short: "v", default: false },
      json: { type: "boolean", default: false },
      help: { type: "boolean", short: "h", default: false },
    },
  })
  if (flags.help) {
    console.log(usage())
    return
  }
  const sizes = list(flags.sizes).map(parseSize)
  const transports = /** @type {Transport[]} */ (pick(list(flags.transports), TRANSPORTS, "transport"))
  const libs = /** @type {Lib[]} */ (pick(list(flags.libs), LIBS, "library"))
  const reps = positiveInt(flags.reps, "--reps")
  const timeoutMs = positiveInt(flags.timeout, "--timeout") * 1000
  const fixedCount = flags.count === undefined ? undefined : positiveInt(flags.count, "--count")

  const tmp = mkdtempSync(path.join(os.tmpdir(), "zmesh-bench-"))
  installCleanup(tmp)

  const started = performance.now()
  const log = (/** @type {string} */ line) => process.stderr.write(line + "\n")
  const header = machine(reps, flags.quick)
  log(header)

  /** @type {Result[]} */
  const results = []
  for (const transport of transports) {
    for (const size of sizes) {
      const count = fixedCount ?? Math.max(1, Math.round(countFor(size) / (flags.quick ? 10 : 1)))
      for (const lib of libs) {
        const result = await runCell({ lib, transport, size, count, reps, timeoutMs, tmp })
        results.push(result)
        log(progressLine(result, flags.verbose))
      }
    }
  }
  const elapsed = (performance.now() - started) / 1000

  if (flags.json) {
    console.log(JSON.stringify({ machine: header, reps, quick: flags.quick, elapsed, results }, null, 2))
  } else {
    console.log(header)
    console.log()
    console.log(table(results, transports, sizes))
    const notes = targets(results, transports, sizes)
    if (notes.length > 0) console.log("\n" + notes.join("\n"))
    console.log(`\ntotal ${elapsed.toFixed(1)} s, load average at end ${loadavg()}`)
  }
  if (results.some((r) => r.error !== undefined)) process.exitCode = 1
}

/**
 * One library on one transport at one size: fork the pair, run warm-up + reps.
 * @param {{ lib: Lib, transport: Transport, size: number, count: number, reps: number, timeoutMs: number, tmp: string }} cell
 * @returns {Promise<Result>}
 */
async function runCell({ lib, transport, size, count, reps, timeoutMs, tmp }) {
  const rounds = [Math.max(1, Math.ceil(count / 2)), ...Array(reps).fill(count)]
  const address = transport === "tcp" ? "tcp://127.0.0.1:*" : `ipc://${path.join(tmp, `${lib}-${size}.sock`)}`
  const base = { lib, transport, size, count }
  /** @type {Child[]} */
  const pair = []
  try {
    const recv = startChild({ role: "recv", lib, address, size, rounds })
    pair.push(recv)
    const { endpoint } = await recv.next("ready", timeoutMs)
    const send = startChild({ role: "send", lib, address: endpoint, size, rounds })
    pair.push(send)
    /** @type {Round[]} */
    const timed = []
    for (let round = 0; round < rounds.length; round++) {
      send.post({ type: "go" })
      let got, sent
      try {
        // Either child dying fails the round at once instead of at the timeout.
        ;[got, sent] = await Promise.all([recv.next("round", timeoutMs), send.next("sent", timeoutMs)])
      } catch (err) {
        throw new Error(await diagnose(err, recv, send, round, rounds[round], timeoutMs))
      }
      if (got.bad > 0) throw new Error(`round ${round}: ${got.bad} of ${rounds[round]} messages had a wrong length or content`)
      if (round > 0) timed.push({ seconds: got.seconds, count: rounds[round], sendSeconds: sent.seconds })
    }
    send.post({ type: "stop" })
    // Each child must end by itself once its socket is closed.
    const late = []
    for (const c of pair) if (!(await c.exited(5000))) late.push(c.spec.role === "recv" ? "receiver" : "sender")
    const rates = timed.map((r) => (r.count - 1) / r.seconds)
    /** @type {Result} */
    const result = { ...base, rounds: timed, rate: median(rates) }
    if (late.length > 0) result.error = `${late.join(" and ")} did not exit within 5 s of close(); killed`
    return result
  } catch (err) {
    return { ...base, error: err instanceof Error ? err.message : String(err) }
  } finally {
    for (const c of pair) c.kill()
    if (transport === "ipc") rmSync(address.slice("ipc://".length), { force: true })
  }
}

/**
 * Explains a round that did not finish: the receiver's count tells lost
 * messages (sender done, receiver short) from a stall (sender still sending).
 * @param {unknown} err @param {Child} recv @param {Child} send
 * @param {number} round @param {number} expected @param {number} timeoutMs
 */
async function diagnose(err, recv, send, round, expected, timeoutMs) {
  const why = err instanceof Error ? err.message : String(err)
  if (!recv.alive || !send.alive) return `round ${round}: ${why}`
  recv.post({ type: "status" })
  const status = await recv.next("status", 2000).catch(() => undefined)
  const sent = send.peek("sent", round)
  const got = status === undefined ? "receiver did not answer" : `receiver got ${status.received} of ${expected}`
  const sender = sent === undefined ? "sender had not finished sending" : `sender had sent all ${expected} in ${sent.seconds.toFixed(2)} s`
  return `round ${round}: ${why}; ${got}, ${sender}`
}

// ---- child processes ---------------------------------------------------------

/** Every live child, so that any way out of the parent can kill them. */
const children = new Set()

/**
 * @typedef {{ spec: ChildSpec, readonly alive: boolean, post(msg: Msg): void,
 *   next(type: string, timeoutMs: number): Promise<Msg>, peek(type: string, round: number): Msg | undefined,
 *   exited(timeoutMs: number): Promise<boolean>, kill(): void }} Child
 */

/** @param {ChildSpec} spec @returns {Child} */
function startChild(spec) {
  const proc = fork(SELF, ["--child", JSON.stringify(spec)], { stdio: ["ignore", "inherit", "inherit", "ipc"] })
  children.add(proc)
  const inbox = mailbox(proc)
  /** @type {Msg[]} */
  const seen = []
  proc.on("message", (/** @type {Msg} */ m) => seen.push(m))
  const name = `${spec.lib} ${spec.role === "recv" ? "receiver" : "sender"}`
  /** @type {string | undefined} */
  let exit
  const exitPromise = new Promise((resolve) => {
    proc.on("exit", (code, signal) => {
      children.delete(proc)
      exit = signal === null ? `code ${code}` : `signal ${signal}`
      inbox.fail(new Error(`${name} exited (${exit})`))
      resolve(undefined)
    })
  })
  proc.on("error", (err) => inbox.fail(new Error(`${name}: ${err.message}`)))
  return {
    spec,
    get alive() {
      return exit === undefined
    },
    post(msg) {
      if (proc.connected) proc.send(msg)
    },
    async next(type, timeoutMs) {
      try {
        return await inbox.next(type, timeoutMs)
      } catch (err) {
        throw new Error(`waiting for "${type}" from the ${name}: ${err instanceof Error ? err.message : err}`)
      }
    },
    peek(type, round) {
      return seen.find((m) => m.type === type && m.round === round)
    },
    async exited(timeoutMs) {
      if (exit !== undefined) return true
      let timer
      const timedOut = new Promise((resolve) => (timer = setTimeout(resolve, timeoutMs, false)))
      const done = await Promise.race([exitPromise.then(() => true), timedOut])
      clearTimeout(timer)
      return /** @type {boolean} */ (done)
    },
    kill() {
      if (exit === undefined) proc.kill("SIGKILL")
    },
  }
}

/**
 * Queues the IPC messages of a process (ours or a child's) by arrival; `next`
 * takes the oldest of a type, waiting for it if need be.
 * @param {NodeJS.Process | import("node:child_process").ChildProcess} source
 */
function mailbox(source) {
  /** @type {Msg[]} */
  const queued = []
  /** @type {{ type: string, resolve: (m: Msg) => void, reject: (e: Error) => void, timer?: NodeJS.Timeout }[]} */
  const waiting = []
  /** @type {Error | undefined} */
  let failure
  /** @param {Msg} m */
  const onMessage = (m) => {
    const i = waiting.findIndex((w) => w.type === m.type)
    if (i < 0) return void queued.push(m)
    const [w] = waiting.splice(i, 1)
    clearTimeout(w.timer)
    w.resolve(m)
  }
  source.on("message", onMessage)
  return {
    /** @param {string} type @param {number} [timeoutMs] @returns {Promise<Msg>} */
    next(type, timeoutMs) {
      const i = queued.findIndex((m) => m.type === type)
      if (i >= 0) return Promise.resolve(queued.splice(i, 1)[0])
      if (failure !== undefined) return Promise.reject(failure)
      return new Promise((resolve, reject) => {
        /** @type {(typeof waiting)[number]} */
        const w = { type, resolve, reject }
        if (timeoutMs !== undefined) {
          w.timer = setTimeout(() => {
            waiting.splice(waiting.indexOf(w), 1)
            reject(new Error(`timed out after ${timeoutMs / 1000} s`))
          }, timeoutMs)
        }
        waiting.push(w)
      })
    },
    /** @param {Error} err */
    fail(err) {
      failure = err
      for (const w of waiting.splice(0)) {
        clearTimeout(w.timer)
        w.reject(err)
      }
    },
    close() {
      source.off("message", onMessage)
    },
  }
}

/** @param {string} tmp */
function installCleanup(tmp) {
  const killAll = () => {
    for (const c of children) c.kill("SIGKILL")
    children.clear()
    rmSync(tmp, { recursive: true, force: true })
  }
  process.on("exit", killAll)
  for (const signal of /** @type {const} */ (["SIGINT", "SIGTERM", "SIGHUP"])) {
    process.on(signal, () => {
      killAll()
      process.stderr.write(`\ninterrupted (${signal})\n`)
      process.exit(128 + os.constants.signals[signal])
    })
  }
  process.on("uncaughtException", (err) => {
    killAll()
    process.stderr.write(`${err.stack ?? err}\n`)
    process.exit(1)
  })
  process.on("unhandledRejection", (err) => {
    killAll()
    process.stderr.write(`${err instanceof Error ? err.stack : err}\n`)
    process.exit(1)
  })
}

// ---- output --------------------------------------------------------------------

/** @param {number} reps @param {boolean} quick */
function machine(reps, quick) {
  const read = (/** @type {string} */ file) => {
    try {
      return JSON.parse(readFileSync(new URL(file, import.meta.url), "utf8")).version
    } catch {
      return "?"
    }
  }
  const cpu = os.cpus()[0]?.model.trim() ?? "unknown CPU"
  return [
    `PUSH/PULL throughput, ${quick ? "--quick, " : ""}warm-up + median of ${reps}`,
    `${os.availableParallelism()} x ${cpu}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, ${os.type()} ${os.release()}`,
    `Node ${process.version}, zmesh ${read("../../package.json")}, zeromq ${read("../../node_modules/zeromq/package.json")}, ${new Date().toISOString().slice(0, 16).replace("T", " ")} UTC`,
    `zmesh from dist/ built off ${revision()}; load average at start ${loadavg()}`,
  ].join("\n")
}

/** @param {Result} r @param {boolean} verbose */
function progressLine(r, verbose) {
  const what = `${r.transport} ${sizeName(r.size).padStart(6)} ${r.lib.padEnd(6)} x${r.count}`
  if (r.error !== undefined && r.rounds === undefined) return `${what}: FAILED: ${r.error}`
  const rates = /** @type {Round[]} */ (r.rounds).map((x) => (x.count - 1) / x.seconds)
  let line = `${what}: ${num(r.rate ?? 0)} msg/s  reps ${rates.map(num).join(" / ")}`
  if (verbose) line += `  (sender s: ${r.rounds?.map((x) => x.sendSeconds.toFixed(2)).join(" / ")})`
  if (r.error !== undefined) line += `  WARNING: ${r.error}`
  return line
}

/** @param {Result[]} results @param {Transport[]} transports @param {number[]} sizes */
function table(results, transports, sizes) {
  /** @type {string[][]} */
  const rows = [["transport", "size", "zmesh msg/s", "zmesh MB/s", "zeromq msg/s", "zeromq MB/s", "zmesh/zeromq", "spread zmesh/zeromq"]]
  for (const transport of transports) {
    for (const size of sizes) {
      const mine = results.find((r) => r.lib === "zmesh" && r.transport === transport && r.size === size)
      const theirs = results.find((r) => r.lib === "zeromq" && r.transport === transport && r.size === size)
      const cols = (/** @type {Result | undefined} */ r) =>
        r?.rate === undefined ? [r === undefined ? "-" : "FAILED", "-"] : [num(r.rate), ((r.rate * size) / 1e6).toFixed(1)]
      const ratio = mine?.rate !== undefined && theirs?.rate !== undefined ? `${(mine.rate / theirs.rate).toFixed(2)}x` : "-"
      rows.push([transport, sizeName(size), ...cols(mine), ...cols(theirs), ratio, `${spread(mine)} / ${spread(theirs)}`])
    }
  }
  const widths = rows[0].map((_, i) => Math.max(...rows.map((row) => row[i].length)))
  const line = (/** @type {string[]} */ row) =>
    "| " + row.map((cell, i) => (i < 2 ? cell.padEnd(widths[i]) : cell.padStart(widths[i]))).join(" | ") + " |"
  const rule = "|" + widths.map((w, i) => (i < 2 ? "-".repeat(w + 2) : "-".repeat(w + 1) + ":")).join("|") + "|"
  return [line(rows[0]), rule, ...rows.slice(1).map(line)].join("\n")
}

/** The goals from the brief: >= 5x msg/s at 16 B, >= 1x MB/s at 64 KiB. */
function targets(/** @type {Result[]} */ results, /** @type {Transport[]} */ transports, /** @type {number[]} */ sizes) {
  const notes = []
  for (const [size, goal] of /** @type {const} */ ([[16, 5], [65536, 1]])) {
    if (!sizes.includes(size)) continue
    for (const transport of transports) {
      const mine = results.find((r) => r.lib === "zmesh" && r.transport === transport && r.size === size)?.rate
      const theirs = results.find((r) => r.lib === "zeromq" && r.transport === transport && r.size === size)?.rate
      if (mine === undefined || theirs === undefined) continue
      const ratio = mine / theirs
      notes.push(`target ${transport} ${sizeName(size)}: >= ${goal}x zeromq, got ${ratio.toFixed(2)}x ${ratio >= goal ? "(met)" : "(MISSED)"}`)
    }
  }
  for (const r of results) if (r.error !== undefined) notes.push(`${r.transport} ${sizeName(r.size)} ${r.lib}: ${r.error}`)
  return notes
}

/** (max - min) / median of the timed rounds, in percent. */
function spread(/** @type {Result | undefined} */ r) {
  if (r?.rounds === undefined || r.rate === undefined) return "-"
  const rates = r.rounds.map((x) => (x.count - 1) / x.seconds)
  return `${Math.round(((Math.max(...rates) - Math.min(...rates)) / r.rate) * 100)}%`
}

// ---- small helpers -------------------------------------------------------------

/** Messages per round for a size: the table's, or log-interpolated between its sizes. */
function countFor(/** @type {number} */ size) {
  if (COUNTS[size] !== undefined) return COUNTS[size]
  const known = Object.keys(COUNTS).map(Number).sort((a, b) => a - b)
  const lo = [...known].reverse().find((s) => s <= size) ?? known[0]
  const hi = known.find((s) => s >= size) ?? known[known.length - 1]
  if (lo === hi) return Math.max(1000, Math.round((COUNTS[lo] * lo) / size))
  const t = Math.log(size / lo) / Math.log(hi / lo)
  return Math.round(Math.exp(Math.log(COUNTS[lo]) * (1 - t) + Math.log(COUNTS[hi]) * t))
}

/** @param {number[]} xs */
function median(xs) {
  const s = [...xs].sort((a, b) => a - b)
  const mid = s.length >> 1
  return s.length % 2 === 1 ? s[mid] : (s[mid - 1] + s[mid]) / 2
}

/** @param {string} s */
function list(s) {
  return s.split(",").map((x) => x.trim()).filter((x) => x !== "")
}

/** "16", "1k", "64K", "1m" -> bytes. @param {string} s */
function parseSize(s) {
  const m = /^(\d+)\s*([kKmM]i?[bB]?|[bB])?$/.exec(s)
  const unit = m?.[2]?.[0]?.toLowerCase()
  const n = m === null ? NaN : Number(m[1]) * (unit === "k" ? 1024 : unit === "m" ? 1024 * 1024 : 1)
  if (!Number.isInteger(n) || n < 1) fail(`bad size ${JSON.stringify(s)}: use bytes, or k/m for KiB/MiB`)
  return n
}

/** @param {string[]} given @param {readonly string[]} allowed @param {string} what */
function pick(given, allowed, what) {
  for (const x of given) if (!allowed.includes(x)) fail(`unknown ${what} ${JSON.stringify(x)}: choose from ${allowed.join(", ")}`)
  return given
}

/** @param {string | undefined} s @param {string} flag */
function positiveInt(s, flag) {
  const n = Number(s)
  if (!Number.isInteger(n) || n < 1) fail(`${flag} wants a positive integer, not ${JSON.stringify(s)}`)
  return n
}

/** @param {string} message @returns {never} */
function fail(message) {
  process.stderr.write(`throughput: ${message}\n\n${usage()}\n`)
  process.exit(2)
}

/** @param {number} size */
function sizeName(size) {
  if (size >= 1024 * 1024 && size % (1024 * 1024) === 0) return `${size / (1024 * 1024)} MiB`
  if (size >= 1024 && size % 1024 === 0) return `${size / 1024} KiB`
  return `${size} B`
}

/** The commit under test, "+ changes" when src/ differs from it (dist/ is whatever was built last). */
function revision() {
  const git = (/** @type {string[]} */ ...args) =>
    execFileSync("git", args, { cwd: fileURLToPath(new URL("../..", import.meta.url)), encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim()
  try {
    return git("rev-parse", "--short", "HEAD") + (git("status", "--porcelain", "--", "src") === "" ? "" : " + uncommitted src/ changes")
  } catch {
    return "an unknown revision"
  }
}

/** The 1, 5 and 15 minute load averages. */
function loadavg() {
  return os.loadavg().map((x) => x.toFixed(2)).join(" ")
}

/** @param {number} n */
function num(n) {
  return Math.round(n).toLocaleString("en-US")
}

function usage() {
  return `usage: node bench/e2e/throughput.js [options]   (build first: npm run build)

  --quick              a tenth of the messages per round (a smoke run)
  --sizes LIST         message sizes, e.g. 16,1k,64k (default); k = KiB, m = MiB
  --transports LIST    tcp,ipc (default both)
  --libs LIST          zmesh,zeromq (default both)
  --reps N             timed rounds per cell after the warm-up, median reported (default 3)
  --count N            messages per round for every size, instead of the built-in counts
  --timeout S          seconds a round may take before the cell is failed (default 60)
  -v, --verbose        also print the sender's time per round
  --json               print the results as JSON instead of a table
  -h, --help`
}

// Last, so that every declaration above is initialised before either role runs.
if (process.argv[2] === "--child") {
  await child(/** @type {ChildSpec} */ (JSON.parse(process.argv[3] ?? "{}")))
} else {
  await main()
}
