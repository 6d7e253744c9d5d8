// @ts-check
/**
 * What the e2e benchmarks share: forking a script's own child processes and
 * always cleaning them up, the IPC mailbox between parent and children, the
 * common flags, the machine header and the Markdown tables.
 *
 * Each benchmark is one file that forks itself with `--child <json spec>`;
 * `isChild()` tells the roles apart, `childIO()` is the child's end of the
 * channel and `startChild()` the parent's.
 */
import { execFileSync, fork } from "node:child_process"
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs"
import os from "node:os"
import path from "node:path"
import { fileURLToPath } from "node:url"

export const LIBS = /** @type {const} */ (["zmesh", "zeromq"])

/**
 * @typedef {"zmesh" | "zeromq"} Lib
 * @typedef {{ type: string, [key: string]: any }} Msg
 * @typedef {{ next(type: string, timeoutMs?: number): Promise<Msg>, has(type: string): boolean,
 *             fail(err: Error): void, close(): void }} Mailbox
 * @typedef {{ inbox: Mailbox, post(msg: Msg): void, done(): void }} ChildIO
 */

/**
 * The library under test: zmesh from dist/ (its own package name; also for
 * "zmesh-try", zmesh driven through trySend/tryReceive), the `zeromq`
 * package, or the raw node:net baseline ("net", "net-batch": see raw-net.js).
 * @param {string} lib
 * @returns {Promise<any>}
 */
export async function loadLib(lib) {
  if (lib === "zeromq") return await import("zeromq")
  if (lib === "net" || lib === "net-batch") return (await import("./raw-net.js")).rawLib(lib === "net-batch")
  return await import("zmesh")
}

// ---- the child's side ----------------------------------------------------------

/** True in a process forked by `startChild`. */
export function isChild() {
  return process.argv[2] === "--child"
}

/** The spec the parent forked this child with. */
export function childSpec() {
  return JSON.parse(process.argv[3] ?? "{}")
}

/**
 * The child's end of the IPC channel. The child exits at once if the parent
 * goes away (nobody would read its results); `done()` lets go of the channel
 * so that the child ends when its sockets let go of the event loop, never by
 * `process.exit()`, which would hide a socket that does not close.
 * @returns {ChildIO}
 */
export function childIO() {
  let finishing = false
  process.on("disconnect", () => {
    if (!finishing) process.exit(2)
  })
  const inbox = mailbox(process)
  return {
    inbox,
    /** @param {Msg} msg */
    post(msg) {
      process.send?.(msg)
    },
    done() {
      finishing = true
      inbox.close()
      process.disconnect()
    },
  }
}

// ---- the parent's side ---------------------------------------------------------

/** Every live child, so that any way out of the parent can kill them. */
const children = new Set()

/** Node flags for every child: `--cpu-prof` and its directory with `--cpu-prof DIR`. */
let childArgv = /** @type {string[]} */ ([])

/**
 * Children write a V8 CPU profile each (`node --cpu-prof`) into `dir`, named
 * by role; `node bench/profile.js DIR` summarises them.
 * @param {string | undefined} dir
 */
export function profileChildren(dir) {
  if (dir === undefined || dir === "") return
  mkdirSync(dir, { recursive: true })
  childArgv = ["--cpu-prof", "--cpu-prof-dir", path.resolve(dir)]
}

/**
 * @typedef {{ name: string, readonly alive: boolean, post(msg: Msg): void,
 *   next(type: string, timeoutMs?: number): Promise<Msg>, peek(type: string, round: number): Msg | undefined,
 *   exited(timeoutMs: number): Promise<boolean>, kill(): void }} Child
 */

/**
 * Forks `script --child <spec>`; `name` ("zmesh receiver") goes into errors.
 * @param {string} script @param {object} spec @param {string} name @returns {Child}
 */
export function startChild(script, spec, name) {
  const execArgv = childArgv.length === 0 ? [] : [...childArgv, "--cpu-prof-name", profileFile(name, /** @type {Record<string, unknown>} */ (spec))]
  const proc = fork(script, ["--child", JSON.stringify(spec)], { stdio: ["ignore", "inherit", "inherit", "ipc"], execArgv })
  children.add(proc)
  const inbox = mailbox(proc)
  /** @type {Msg[]} */
  const seen = []
  proc.on("message", (/** @type {Msg} */ m) => seen.push(m))
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
    name,
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

let profiles = 0

/**
 * A profile's file name: a sequence number, the child's role and the cell
 * ("03-zmesh-receiver-tcp-16.cpuprofile").
 * @param {string} name @param {Record<string, unknown>} spec
 */
function profileFile(name, spec) {
  const address = String(spec.address ?? "")
  const transport = address.slice(0, address.indexOf(":"))
  const parts = [String(++profiles).padStart(2, "0"), name, transport, spec.size === undefined ? "" : String(spec.size)]
  return parts.join("-").replace(/[^A-Za-z0-9]+/g, "-").replace(/-+$/, "") + ".cpuprofile"
}

/**
 * Waits up to `timeoutMs` for each child to end on its own, then kills the
 * rest; returns the names of those that had to be killed.
 * @param {Child[]} group @param {number} [timeoutMs]
 */
export async function reap(group, timeoutMs = 5000) {
  const late = []
  for (const c of group) if (!(await c.exited(timeoutMs))) late.push(c.name)
  for (const c of group) c.kill()
  return late
}

/**
 * Queues the IPC messages of a process (ours or a child's) by arrival; `next`
 * takes the oldest of a type, waiting for it if need be.
 * @param {NodeJS.Process | import("node:child_process").ChildProcess} source
 * @returns {Mailbox}
 */
export function mailbox(source) {
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
    /** True if a message of this type has arrived and not been taken. */
    has(/** @type {string} */ type) {
      return queued.some((m) => m.type === type)
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

/**
 * Makes a private directory for ipc endpoints and makes sure that every way
 * out of the parent (normal exit, SIGINT/SIGTERM/SIGHUP, an uncaught error)
 * kills the live children and removes that directory.
 * @returns {string} the directory
 */
export function installCleanup() {
  const tmp = mkdtempSync(path.join(os.tmpdir(), "zmesh-bench-"))
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
  return tmp
}

/** An endpoint for `lib` to bind: a wildcard tcp port, or a fresh path under `tmp`. */
export function bindAddress(/** @type {string} */ transport, /** @type {string} */ tmp, /** @type {string} */ name) {
  if (transport === "tcp") return "tcp://127.0.0.1:*"
  if (transport === "ipc") return `ipc://${path.join(tmp, `${name}.sock`)}`
  return `inproc://${name}`
}

/** Removes an ipc endpoint's file (the directory goes at exit anyway). */
export function removeEndpoint(/** @type {string} */ address) {
  if (address.startsWith("ipc://")) rmSync(address.slice("ipc://".length), { force: true })
}

// ---- flags -----------------------------------------------------------------------

/** The flags every benchmark takes, for `parseArgs`. */
export const commonOptions = /** @type {const} */ ({
  quick: { type: "boolean", default: false },
  libs: { type: "string", default: LIBS.join(",") },
  reps: { type: "string", default: "3" },
  timeout: { type: "string", default: "60" },
  json: { type: "boolean", default: false },
  "cpu-prof": { type: "string" },
  help: { type: "boolean", short: "h", default: false },
})

export const commonUsage = `  --libs LIST          zmesh,zeromq (default both)
  --reps N             timed rounds per cell after the warm-up, median reported (default 3)
  --timeout S          seconds a round may take before the cell is failed (default 60)
  --json               print the results as JSON instead of a table
  --cpu-prof DIR       run every child under node --cpu-prof, one profile per role in DIR
                       (summarise with: node bench/profile.js DIR)
  -h, --help`

/**
 * A usage-error reporter for one script: prints the message and the usage, exits 2.
 * @param {string} tool @param {() => string} usage
 */
export function failer(tool, usage) {
  return (/** @type {string} */ message) => {
    process.stderr.write(`${tool}: ${message}\n\n${usage()}\n`)
    process.exit(2)
  }
}

/** @param {string} s */
export function list(s) {
  return s.split(",").map((x) => x.trim()).filter((x) => x !== "")
}

/**
 * @template {string} T
 * @param {string} s @param {readonly T[]} allowed @param {string} what @param {(m: string) => never} fail
 * @returns {T[]}
 */
export function pick(s, allowed, what, fail) {
  const given = list(s)
  for (const x of given) if (!allowed.includes(/** @type {T} */ (x))) fail(`unknown ${what} ${JSON.stringify(x)}: choose from ${allowed.join(", ")}`)
  return /** @type {T[]} */ (given)
}

/** @param {string | undefined} s @param {string} flag @param {(m: string) => never} fail */
export function positiveInt(s, flag, fail) {
  const n = Number(s)
  if (!Number.isInteger(n) || n < 1) fail(`${flag} wants a positive integer, not ${JSON.stringify(s)}`)
  return n
}

/** "16", "1k", "64K", "1m" -> bytes. @param {string} s @param {(m: string) => never} fail */
export function parseSize(s, fail) {
  const m = /^(\d+)\s*([kKmM]i?[bB]?|[bB])?$/.exec(s)
  const unit = m?.[2]?.[0]?.toLowerCase()
  const n = m === null ? NaN : Number(m[1]) * (unit === "k" ? 1024 : unit === "m" ? 1024 * 1024 : 1)
  if (!Number.isInteger(n) || n < 1) fail(`bad size ${JSON.stringify(s)}: use bytes, or k/m for KiB/MiB`)
  return n
}

// ---- output ------------------------------------------------------------------------

/** The header every benchmark prints: what ran, on what, built from what, under what load. */
export function machine(/** @type {string} */ title) {
  const read = (/** @type {string} */ file) => {
    try {
      return JSON.parse(readFileSync(new URL(file, import.meta.url), "utf8")).version
    } catch {
      return "?"
    }
  }
  const cpu = os.cpus()[0]?.model.trim() ?? "unknown CPU"
  return [
    title,
    `${os.availableParallelism()} x ${cpu}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, ${os.type()} ${os.release()}`,
    `Node ${process.version}, zmesh ${read("../../package.json")}, zeromq ${read("../../node_modules/zeromq/package.json")}, ${new Date().toISOString().slice(0, 16).replace("T", " ")} UTC`,
    `zmesh from dist/ built off ${revision()}; load average at start ${loadavg()}`,
  ].join("\n")
}

/**
 * A Markdown table, the first `left` columns left-aligned, the rest right-aligned.
 * @param {string[][]} rows the header row first @param {number} left
 */
export function table(rows, left) {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((row) => row[i].length)))
  const line = (/** @type {string[]} */ row) =>
    "| " + row.map((cell, i) => (i < left ? cell.padEnd(widths[i]) : cell.padStart(widths[i]))).join(" | ") + " |"
  const rule = "|" + widths.map((w, i) => (i < left ? "-".repeat(w + 2) : "-".repeat(w + 1) + ":")).join("|") + "|"
  return [line(rows[0]), rule, ...rows.slice(1).map(line)].join("\n")
}

/** "2.50x", or "-" when either side is missing. @param {number | undefined} a @param {number | undefined} b */
export function ratio(a, b) {
  return a === undefined || b === undefined ? "-" : `${(a / b).toFixed(2)}x`
}

/** A target line: "target <what>: >= 5x zeromq, got 4.99x (MISSED)". */
export function target(/** @type {string} */ what, /** @type {string} */ goal, /** @type {number} */ got, /** @type {boolean} */ met) {
  return `target ${what}: ${goal}, got ${got.toFixed(2)}x ${met ? "(met)" : "(MISSED)"}`
}

/** (max - min) / median, in percent. @param {number[] | undefined} xs */
export function spread(xs) {
  if (xs === undefined || xs.length === 0) return "-"
  return `${Math.round(((Math.max(...xs) - Math.min(...xs)) / median(xs)) * 100)}%`
}

/** @param {number[]} xs */
export function median(xs) {
  const s = [...xs].sort((a, b) => a - b)
  const mid = s.length >> 1
  return s.length % 2 === 1 ? s[mid] : (s[mid - 1] + s[mid]) / 2
}

/** @param {number} size */
export function sizeName(size) {
  if (size >= 1024 * 1024 && size % (1024 * 1024) === 0) return `${size / (1024 * 1024)} MiB`
  if (size >= 1024 && size % 1024 === 0) return `${size / 1024} KiB`
  return `${size} B`
}

/** @param {number} n */
export function num(n) {
  return Math.round(n).toLocaleString("en-US")
}

/** The 1, 5 and 15 minute load averages. */
export function loadavg() {
  return os.loadavg().map((x) => x.toFixed(2)).join(" ")
}

/** A line for stderr as the run goes. */
export function log(/** @type {string} */ line) {
  process.stderr.write(line + "\n")
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
