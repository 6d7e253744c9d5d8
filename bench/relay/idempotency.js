#!/usr/bin/env node
// @ts-check
/**
 * What the relay's idempotency costs (issue 12), measured in throughput.js's
 * run (each of its rounds calls `idempotencyRound`) or alone:
 *
 * - confirmed sends/s of 256 B messages at 256 in flight: with the
 *   de-duplication window on (the node's default dedupWindow of 120000 ms,
 *   default random ids), off (`--dedup-window 0`), and on with an idempotent
 *   producer (a client with a `producerId`: numbered sends, a producer table);
 *   target: the window on costs at most 10% (on/off >= 0.90);
 * - prepare + commit pairs/s: a producer with a `producerId` doing
 *   `await (await p.prepare(...)).commit()` loops, 1 and 64 in flight (each
 *   pair is two durable operations, so two group commits at 1 in flight).
 *
 * Besides confirmed msg/s (wall clock), the send variants report the CPU time
 * the relay process and the producer process spent per message during the
 * timed phase (Linux /proc and process.cpuUsage()): on a machine shared with
 * other work, wall-clock rates swing by 2x between rounds, CPU per message
 * much less.
 *
 * Each variant gets a fresh CLI relay (`node dist/src/cli.js relay`, a fresh
 * data folder) and a fresh producer process that first does an untimed tenth
 * of its work on another queue; the variants' order rotates per round.
 *
 *   npm run build && node bench/relay/idempotency.js           # alone, median of 3 (~1 min here)
 *   node bench/relay/idempotency.js --quick --reps 1
 */
import { execFileSync, spawn } from "node:child_process"
import { mkdtempSync, readFileSync, rmSync } from "node:fs"
import os from "node:os"
import path from "node:path"
import { fileURLToPath } from "node:url"
import { parseArgs } from "node:util"
import { childIO, childSpec, installCleanup, isChild, log, machine, median, num, startChild, table } from "../e2e/lib.js"

const SCRIPT = fileURLToPath(import.meta.url)
const CLI = fileURLToPath(new URL("../../dist/src/cli.js", import.meta.url))
const SIZE = 256
const SEND_INFLIGHT = 256
const TX_INFLIGHT = [1, 64]

/** The send variants: the relay's extra flags and the producer's id. */
const VARIANTS = /** @type {const} */ ([
  { key: "dedup off", relayArgs: ["--dedup-window", "0"], producerId: undefined },
  { key: "dedup on", relayArgs: [], producerId: undefined },
  { key: "dedup on + producerId", relayArgs: [], producerId: "bench-producer" },
])

/** Messages per variant and pairs per in-flight level, scaled like throughput.js's counts (`scale` 1, or 0.1 for --quick). */
export function idempotencyCounts(scale = 1) {
  return { send: Math.round(400_000 * scale), tx: { 1: Math.round(1500 * scale), 64: Math.round(30_000 * scale) } }
}

/**
 * One round of every variant and the transactions, each on its own relay;
 * `add(key, value)` collects the rates.
 * @param {string} tmp @param {number} round @param {ReturnType<typeof idempotencyCounts>} counts
 * @param {(key: string, value: number) => void} add
 */
export async function idempotencyRound(tmp, round, counts, add) {
  const jobs = [...VARIANTS.map((v) => /** @type {const} */ (["send", v])), /** @type {const} */ (["tx", undefined])]
  const rotated = [...jobs.slice(round % jobs.length), ...jobs.slice(0, round % jobs.length)]
  for (const [kind, variant] of rotated) {
    const relay = await startRelay(tmp, variant?.relayArgs ?? [])
    try {
      if (kind === "send" && variant !== undefined) {
        const producer = startChild(SCRIPT, { role: "send", endpoint: relay.endpoint, n: counts.send, producerId: variant.producerId }, "idempotency producer")
        await producer.next("start", 600_000)
        const cpu0 = cpuMs(relay.pid)
        const m = await producer.next("sent", 600_000)
        const relayUs = ((cpuMs(relay.pid) - cpu0) * 1000) / counts.send
        const producerUs = (m.cpuMs * 1000) / counts.send
        add(variant.key, m.rate)
        add(`${variant.key} relay cpu`, relayUs)
        add(`${variant.key} producer cpu`, producerUs)
        log(`round ${round + 1}: ${variant.key}, ${SEND_INFLIGHT} in flight: ${num(m.rate)} confirmed msg/s; CPU per message: relay ${relayUs.toFixed(1)} µs, producer ${producerUs.toFixed(1)} µs`)
        await producer.exited(10_000)
      } else {
        const producer = startChild(SCRIPT, { role: "tx", endpoint: relay.endpoint, counts: counts.tx }, "transaction producer")
        for (const inflight of TX_INFLIGHT) {
          const m = await producer.next("pairs", 600_000)
          add(`tx ${inflight}`, m.rate)
          log(`round ${round + 1}: prepare + commit, ${inflight} in flight: ${num(m.rate)} pairs/s`)
        }
        await producer.exited(10_000)
      }
    } finally {
      await relay.stop()
    }
  }
}

/**
 * The report's lines from the medians.
 * @param {(key: string) => number} m the median of a key @param {ReturnType<typeof idempotencyCounts>} counts @param {number} reps
 */
export function idempotencyReport(m, counts, reps) {
  const off = m("dedup off")
  const rows = [["sender", "relay", "confirmed msg/s", "vs window off", "relay CPU µs/msg", "vs window off", "producer CPU µs/msg"]]
  const label = { "dedup off": ["client, random ids", "--dedup-window 0 (off)"], "dedup on": ["client, random ids", "default (dedupWindow 120000)"], "dedup on + producerId": ["client with a producerId", "default (dedupWindow 120000)"] }
  const offCpu = m("dedup off relay cpu")
  for (const { key } of VARIANTS) {
    const cpu = m(`${key} relay cpu`)
    rows.push([...label[key], num(m(key)), `${(m(key) / off).toFixed(2)}x`, cpu.toFixed(1), `${(cpu / offCpu).toFixed(2)}x`, m(`${key} producer cpu`).toFixed(1)])
  }
  const onOff = m("dedup on") / off
  const txRows = [["in flight", "prepare + commit pairs/s", "durable operations/s"]]
  for (const inflight of TX_INFLIGHT) txRows.push([String(inflight), num(m(`tx ${inflight}`)), num(2 * m(`tx ${inflight}`))])
  return [
    `de-duplication: ${counts.send} messages of ${SIZE} B at ${SEND_INFLIGHT} in flight per variant, a fresh relay each; median of ${reps}`,
    "",
    table(rows, 2),
    "",
    `target: the window on costs at most 10% (on/off >= 0.90): got ${onOff.toFixed(2)}x, ${onOff >= 0.9 ? "met" : "MISSED"}; ` +
      `idempotent producer/off ${(m("dedup on + producerId") / off).toFixed(2)}x; relay CPU per message, window on/off: ${(m("dedup on relay cpu") / offCpu).toFixed(2)}x`,
    "",
    `transactions: a producer with a producerId, \`await (await p.prepare(queue, body)).commit()\` loops; ${counts.tx[1]} / ${counts.tx[64]} pairs at 1 / 64 in flight; median of ${reps}`,
    "",
    table(txRows, 1),
  ]
}

// ---- the relay process --------------------------------------------------------------

/** Live relays, killed if the run ends early. */
const relays = new Set()
process.on("exit", () => {
  for (const proc of relays) proc.kill("SIGKILL")
})

/** Starts the CLI relay on a fresh data folder; `stop()` ends it with SIGTERM and removes the folder. @param {string} tmp @param {readonly string[]} args */
async function startRelay(tmp, args) {
  const dir = mkdtempSync(path.join(tmp, "relay-idem-"))
  const proc = spawn(process.execPath, [CLI, "relay", "--bind", "tcp://127.0.0.1:*", "--data", dir, "--stats-interval", "0", ...args], { stdio: ["ignore", "pipe", "inherit"] })
  relays.add(proc)
  let out = ""
  const exited = new Promise((resolve) => proc.on("exit", resolve))
  /** @type {string} */
  const endpoint = await new Promise((resolve, reject) => {
    proc.stdout.on("data", (d) => {
      out += d.toString()
      const match = /listening on (\S+)/.exec(out)
      if (match) resolve(match[1])
    })
    proc.on("exit", (code) => reject(new Error(`relay exited (${code}): ${out}`)))
  })
  return {
    endpoint,
    pid: /** @type {number} */ (proc.pid),
    async stop() {
      proc.kill("SIGTERM")
      await exited
      relays.delete(proc)
      rmSync(dir, { recursive: true, force: true })
    },
  }
}

const TICKS = (() => {
  try {
    return Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" })) || 100
  } catch {
    return 100
  }
})()

/** CPU ms (user + system) a process has used so far, from /proc (NaN where there is none). @param {number} pid */
function cpuMs(pid) {
  try {
    // Fields after the command name, which is in parentheses and may hold spaces: utime and stime are the 12th and 13th.
    const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" ")
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / TICKS
  } catch {
    return Number.NaN
  }
}

// ---- the producer processes ---------------------------------------------------------

/** @param {{ role: string, endpoint: string, n?: number, producerId?: string, counts?: Record<string, number> }} spec */
async function child(spec) {
  const io = childIO()
  const { RelayClient } = await import("zmesh/relay")
  const body = Buffer.alloc(SIZE, 0x61)
  if (spec.role === "send") {
    const client = new RelayClient({ relay: spec.endpoint, ...(spec.producerId === undefined ? {} : { producerId: spec.producerId }) })
    const n = /** @type {number} */ (spec.n)
    await loops(SEND_INFLIGHT, Math.ceil(n / 10), () => client.send("warmup", body))
    io.post({ type: "start" })
    const cpu0 = process.cpuUsage()
    const t0 = performance.now()
    await loops(SEND_INFLIGHT, n, () => client.send("bench", body))
    const rate = n / ((performance.now() - t0) / 1000)
    const cpu = process.cpuUsage(cpu0)
    io.post({ type: "sent", rate, cpuMs: (cpu.user + cpu.system) / 1000 })
    await client.close()
  } else if (spec.role === "tx") {
    const counts = /** @type {Record<string, number>} */ (spec.counts)
    const client = new RelayClient({ relay: spec.endpoint, producerId: "bench-tx-producer" })
    const pair = async (/** @type {string} */ queue) => (await client.prepare(queue, body)).commit()
    for (const inflight of TX_INFLIGHT) await loops(inflight, Math.ceil(counts[inflight] / 10), () => pair("warmup"))
    for (const inflight of TX_INFLIGHT) {
      const t0 = performance.now()
      await loops(inflight, counts[inflight], () => pair("bench"))
      io.post({ type: "pairs", inflight, rate: counts[inflight] / ((performance.now() - t0) / 1000) })
    }
    await client.close()
  }
  io.done()
}

/** Runs `call` n times from `inflight` loops that each await their call. @param {number} inflight @param {number} n @param {() => Promise<unknown>} call */
async function loops(inflight, n, call) {
  let next = 0
  await Promise.all(
    Array.from({ length: inflight }, async () => {
      while (next < n) {
        next++
        await call()
      }
    }),
  )
}

// ---- alone --------------------------------------------------------------------------

async function alone() {
  const { values } = parseArgs({ options: { quick: { type: "boolean", default: false }, reps: { type: "string", default: "3" } } })
  const reps = Number(values.reps)
  const counts = idempotencyCounts(values.quick ? 0.1 : 1)
  const tmp = installCleanup()
  const header = machine("Relay idempotency costs, 256 B messages, durable (fdatasync before confirm)")
  log(header)
  /** @type {Record<string, number[]>} */
  const results = {}
  for (let round = 0; round < reps; round++) await idempotencyRound(tmp, round, counts, (key, v) => (results[key] ??= []).push(v))
  const m = (/** @type {string} */ key) => median(results[key] ?? [0])
  const report = [header, `load average at end ${os.loadavg().map((x) => x.toFixed(2)).join(" ")}`, "", ...idempotencyReport(m, counts, reps)]
  process.stdout.write(report.join("\n") + "\n")
  rmSync(tmp, { recursive: true, force: true })
}

if (process.argv[1] === SCRIPT) {
  if (isChild()) await child(childSpec())
  else await alone()
}
