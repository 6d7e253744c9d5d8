#!/usr/bin/env node
// @ts-check
/**
 * Durable relay throughput, end to end and the store alone, in one run:
 *
 * - confirmed sends/s of 256 B messages with 1, 16 and 256 sends in flight:
 *   a producer process -> the relay process (`node dist/src/cli.js relay`) ->
 *   fdatasync -> confirm. Every confirm is a durable message.
 * - drain with acks: a consumer process takes everything back, acking each
 *   message (acks in flight together, each resolving once durable).
 * - the store alone: LogStore.commit() of one message per call with the same
 *   numbers in flight, in one process, no network; the messages are the ops
 *   the relay hands its store for a client's send (a random UUID the client
 *   made up, marked fresh, and the relay's de-duplication window), so the
 *   ratio relay/store is what the network and the node add.
 * - idempotency (issue 12; see idempotency.js): confirmed sends/s at 256 in
 *   flight with the de-duplication window on, off, and with an idempotent
 *   producer; prepare + commit pairs/s at 1 and 64 in flight.
 * - with --pg (a throwaway PostgreSQL cluster, fsync and synchronous_commit
 *   on) or --store postgres://...: the first three for PostgresStore, in the
 *   same run (a relay started with --store; a fresh schema per round).
 *
 *   npm run build && node bench/relay/throughput.js          # ~3 min here
 *   node bench/relay/throughput.js --quick --reps 1
 *   node bench/relay/throughput.js --pg                      # the embedded log and PostgreSQL side by side
 *   node bench/relay/throughput.js --pg --dedup-window 0     # ... without the de-duplication window
 *   node bench/relay/throughput.js --skip-idempotency        # without idempotency.js's part
 *   node bench/relay/throughput.js --strace                  # also count syscalls of the relay (needs strace)
 *
 * Each cell is the median of --reps rounds (default 3); a round uses a fresh
 * data folder under the OS temp folder (the same disk as /tmp). Beside the
 * rates, the CPU time (user + system, all threads) each process spent per
 * message in the timed part: steadier than the rates while other processes
 * load the machine (the producer and consumer read the relay's from /proc,
 * Linux only; a PostgreSQL server's own CPU is not in it).
 */
import { spawn } from "node:child_process"
import { randomUUID } from "node:crypto"
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs"
import os from "node:os"
import path from "node:path"
import { fileURLToPath } from "node:url"
import { parseArgs } from "node:util"
import { childIO, childSpec, installCleanup, isChild, log, machine, median, num, startChild, table } from "../e2e/lib.js"
import { idempotencyCounts, idempotencyReport, idempotencyRound } from "./idempotency.js"
import { startPg } from "./pg-cluster.js"

const SCRIPT = fileURLToPath(import.meta.url)
const ROOT = fileURLToPath(new URL("../..", import.meta.url))
const CLI = path.join(ROOT, "dist/src/cli.js")
const SIZE = 256
const INFLIGHT = [1, 16, 256]
/**
 * After the three levels, 1 in flight again with four times the count: the
 * first run at 1 in flight still pays V8's warm-up of that path (the
 * warm-up before it is mostly batches), this one shows the steady rate.
 */
const STEADY = "1 steady"
/** @type {Array<number | string>} */
const LEVELS = [...INFLIGHT, STEADY]
/** Sends or commits in flight at a level. @param {number | string} level */
const inFlight = (level) => (level === STEADY ? 1 : Number(level))
/** The relay node's default dedupWindow (src/relay/node.ts), what a relay without --dedup-window does. */
const DEFAULT_DEDUP_WINDOW = 120_000

if (isChild()) await child(childSpec())
else await parent()

// ---- children ------------------------------------------------------------------------

/**
 * CPU µs (user + system) a process has used: this one, or another by pid (from /proc; undefined elsewhere).
 * @param {number} [pid]
 */
function cpuTime(pid) {
  if (pid === undefined) {
    const u = process.cpuUsage()
    return u.user + u.system
  }
  try {
    // utime and stime, fields 14 and 15, in clock ticks of 10 ms (USER_HZ).
    const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]?.split(" ") ?? []
    return (Number(fields[11]) + Number(fields[12])) * 10_000
  } catch {
    return undefined
  }
}

/** µs per message between two cpuTime() readings, or undefined. @param {number | undefined} a @param {number | undefined} b @param {number} n */
function perMessage(a, b, n) {
  return a === undefined || b === undefined ? undefined : (b - a) / n
}

/** @param {{ role: string, endpoint?: string, relayPid?: number, dir?: string, counts?: Record<string, number>, pg?: string, schema?: string }} spec */
async function child(spec) {
  const io = childIO()
  const relay = await import("zmesh/relay")
  const body = Buffer.alloc(SIZE, 0x61)
  if (spec.role === "producer") {
    const client = new relay.RelayClient({ relay: /** @type {string} */ (spec.endpoint) })
    // Warm-up (JIT, connection, relay): a tenth of each count into another queue, untimed.
    for (const inflight of INFLIGHT) {
      const n = Math.ceil(/** @type {Record<string, number>} */ (spec.counts)[inflight] / 10)
      let next = 0
      await Promise.all(Array.from({ length: inflight }, async () => { while (next++ < n) await client.send("warmup", body) }))
    }
    for (const level of LEVELS) {
      const n = /** @type {Record<string, number>} */ (spec.counts)[level]
      let next = 0
      const cpu0 = cpuTime()
      const relay0 = cpuTime(spec.relayPid)
      const t0 = performance.now()
      await Promise.all(
        Array.from({ length: inFlight(level) }, async () => {
          while (next < n) {
            next++
            await client.send("bench", body)
          }
        }),
      )
      const rate = n / ((performance.now() - t0) / 1000)
      io.post({ type: "sent", inflight: level, rate, cpu: perMessage(cpu0, cpuTime(), n), relayCpu: perMessage(relay0, cpuTime(spec.relayPid), n) })
    }
    await client.close()
  } else if (spec.role === "consumer") {
    const total = Object.values(/** @type {Record<string, number>} */ (spec.counts)).reduce((a, b) => a + b, 0)
    const client = new relay.RelayClient({ relay: /** @type {string} */ (spec.endpoint) })
    // Warm-up: the producer's warm-up queue, drained untimed.
    const warm = client.consume("warmup", { prefetch: 2000 })
    const warmTotal = INFLIGHT.reduce((a, inflight) => a + Math.ceil(/** @type {Record<string, number>} */ (spec.counts)[inflight] / 10), 0)
    let warmed = 0
    for await (const m of warm) {
      void m.ack()
      if (++warmed === warmTotal) break
    }
    await warm.close()
    const consumer = client.consume("bench", { prefetch: 2000 })
    let got = 0
    let bad = 0
    /** @type {Promise<void>[]} */
    const acks = []
    let t0 = 0
    let cpu0 = /** @type {number | undefined} */ (0)
    let relay0 = /** @type {number | undefined} */ (0)
    for await (const m of consumer) {
      if (got === 0) {
        t0 = performance.now()
        cpu0 = cpuTime()
        relay0 = cpuTime(spec.relayPid)
      }
      if (m.body.length !== SIZE) bad++
      acks.push(m.ack())
      if (++got === total) break
    }
    await Promise.all(acks)
    const rate = (total - 1) / ((performance.now() - t0) / 1000)
    io.post({ type: "drained", rate, bad, cpu: perMessage(cpu0, cpuTime(), total), relayCpu: perMessage(relay0, cpuTime(spec.relayPid), total) })
    await consumer.close()
    await client.close()
  } else if (spec.role === "store") {
    for (const level of LEVELS) {
      const inflight = inFlight(level)
      const n = /** @type {Record<string, number>} */ (spec.counts)[level]
      const dir = mkdtempSync(path.join(/** @type {string} */ (spec.dir), `store-${inflight}-`))
      const store = spec.pg ? new relay.PostgresStore({ connectionString: spec.pg, schema: `${spec.schema}_${level === STEADY ? "steady" : level}` }) : new relay.LogStore({ dir })
      await store.open()
      const dedupWindow = /** @type {number} */ (spec.dedupWindow)
      /** The op the relay node builds for a client's send (src/relay/node/commands.ts). @param {string} queue */
      const op = (queue) => ({ type: /** @type {const} */ ("message"), queue, id: randomUUID(), body, headers: null, storedAt: Date.now(), due: 0, dedupWindow, fresh: true })
      let warm = 0
      await Promise.all(Array.from({ length: inflight }, async () => {
        while (warm++ < n / 10) await store.commit([op("warmup")])
      }))
      let next = 0
      const cpu0 = cpuTime()
      const t0 = performance.now()
      await Promise.all(
        Array.from({ length: inflight }, async () => {
          while (next < n) {
            next++
            await store.commit([op("bench")])
          }
        }),
      )
      const rate = n / ((performance.now() - t0) / 1000)
      io.post({ type: "stored", inflight: level, rate, cpu: perMessage(cpu0, cpuTime(), n), commits: store.stats().commits })
      await store.close()
      rmSync(dir, { recursive: true, force: true })
    }
  }
  io.done()
}

// ---- parent --------------------------------------------------------------------------

async function parent() {
  const { values } = parseArgs({
    options: {
      quick: { type: "boolean", default: false },
      reps: { type: "string", default: "3" },
      strace: { type: "boolean", default: false },
      pg: { type: "boolean", default: false },
      "dedup-window": { type: "string" },
      store: { type: "string" },
      "skip-idempotency": { type: "boolean", default: false },
      help: { type: "boolean", short: "h", default: false },
    },
  })
  if (values.help) {
    process.stdout.write("usage: node bench/relay/throughput.js [--quick] [--reps N] [--strace] [--pg | --store postgres://...] [--dedup-window MS] [--skip-idempotency]\n")
    return
  }
  if (!existsSync(CLI)) throw new Error("build first: npm run build")
  const reps = Number(values.reps)
  const scale = values.quick ? 0.1 : 1
  /** @type {Record<string, number>} */
  const counts = { 1: Math.round(3000 * scale), 16: Math.round(40_000 * scale), 256: Math.round(400_000 * scale), [STEADY]: Math.round(12_000 * scale) }
  const idemCounts = values["skip-idempotency"] ? undefined : idempotencyCounts(scale)
  const tmp = installCleanup()
  /** @type {{ url: string, version: string, stop(): void } | undefined} */
  let cluster
  if (values.pg) {
    cluster = await startPg()
    process.on("exit", () => cluster?.stop())
  }
  const pgUrl = values.store ?? cluster?.url
  /** @type {Array<"log" | "pg">} */
  const kinds = pgUrl === undefined ? ["log"] : ["log", "pg"]
  const header = machine("Relay throughput, 256 B messages, durable (fdatasync before confirm)")
  log(header)
  /** @type {Record<string, number[]>} */
  const results = {}
  const add = (/** @type {string} */ key, /** @type {number} */ v) => (results[key] ??= []).push(v)
  let straceReport = ""
  for (let rep = 0; rep < reps; rep++) {
    for (const kind of kinds) {
      const name = kind === "pg" ? "PostgreSQL" : "embedded log"
      const schema = `bench_${process.pid}_${rep}`
      // The store alone.
      const dedupWindow = values["dedup-window"] === undefined ? DEFAULT_DEDUP_WINDOW : Number(values["dedup-window"])
      const store = startChild(SCRIPT, { role: "store", dir: tmp, counts, dedupWindow, ...(kind === "pg" ? { pg: pgUrl, schema } : {}) }, "store")
      for (const inflight of LEVELS) {
        const m = await store.next("stored", 600_000)
        add(`${kind} store ${inflight}`, m.rate)
        if (m.cpu !== undefined) add(`${kind} store cpu ${inflight}`, m.cpu)
        log(`round ${rep + 1}, ${name}: store alone, ${inflight} in flight: ${num(m.rate)} msg/s (${m.commits} group commits, ${cpuText(m.cpu)} CPU per message)`)
      }
      await store.exited(10_000)
      // End to end.
      const dir = mkdtempSync(path.join(tmp, "relay-"))
      const straceOut = path.join(tmp, `strace-${rep}.txt`)
      const where = kind === "pg" ? ["--store", /** @type {string} */ (pgUrl), "--schema", `${schema}_relay`] : ["--data", dir]
      const dedup = values["dedup-window"] === undefined ? [] : ["--dedup-window", values["dedup-window"]]
      const relayArgs = [CLI, "relay", "--bind", "tcp://127.0.0.1:*", ...where, ...dedup, "--stats-interval", "0"]
      const useStrace = values.strace && rep === 0 && kind === "log"
      const relay = useStrace
        ? spawn("strace", ["-f", "-qq", "-o", straceOut, "-e", "trace=fdatasync,fsync,pwrite64,pwritev,write,writev", process.execPath, ...relayArgs], { stdio: ["ignore", "pipe", "inherit"] })
        : spawn(process.execPath, [...process.execArgv, ...relayArgs], { stdio: ["ignore", "pipe", "inherit"] })
      let relayOut = ""
      const endpoint = await new Promise((resolve, reject) => {
        relay.stdout.on("data", (d) => {
          relayOut += d.toString()
          const m = /listening on (\S+)/.exec(relayOut)
          if (m) resolve(m[1])
        })
        relay.on("exit", (code) => reject(new Error(`relay exited (${code}): ${relayOut}`)))
      })
      // The relay's own pid (under strace, `relay` is strace).
      const relayPid = Number(/pid (\d+)\)/.exec(relayOut)?.[1] ?? relay.pid)
      const producer = startChild(SCRIPT, { role: "producer", endpoint, relayPid, counts }, "producer")
      for (const inflight of LEVELS) {
        const m = await producer.next("sent", 600_000)
        add(`${kind} relay ${inflight}`, m.rate)
        if (m.cpu !== undefined) add(`${kind} producer cpu ${inflight}`, m.cpu)
        if (m.relayCpu !== undefined) add(`${kind} relay cpu ${inflight}`, m.relayCpu)
        log(`round ${rep + 1}, ${name}: relay, ${inflight} in flight: ${num(m.rate)} confirmed msg/s (CPU per message: producer ${cpuText(m.cpu)}, relay ${cpuText(m.relayCpu)})`)
      }
      await producer.exited(10_000)
      const consumer = startChild(SCRIPT, { role: "consumer", endpoint, relayPid, counts }, "consumer")
      const drained = await consumer.next("drained", 600_000)
      if (drained.bad > 0) throw new Error(`${drained.bad} messages came back with the wrong size`)
      add(`${kind} drain`, drained.rate)
      if (drained.cpu !== undefined) add(`${kind} consumer cpu`, drained.cpu)
      if (drained.relayCpu !== undefined) add(`${kind} relay cpu drain`, drained.relayCpu)
      log(`round ${rep + 1}, ${name}: drain with acks: ${num(drained.rate)} msg/s (CPU per message: consumer ${cpuText(drained.cpu)}, relay ${cpuText(drained.relayCpu)})`)
      await consumer.exited(10_000)
      const exited = new Promise((resolve) => relay.on("exit", resolve))
      process.kill(relayPid, "SIGTERM")
      await exited
      const commits = /(\d+) group commits/.exec(relayOut)?.[1]
      if (useStrace) {
        straceReport = syncReport(readFileSync(straceOut, "utf8"), relayOut.split("\n").find((l) => /stopped/.test(l)) ?? "", String(relayPid))
        log(straceReport)
      }
      log(`round ${rep + 1}, ${name}: the relay made ${commits ?? "?"} group commits`)
      rmSync(dir, { recursive: true, force: true })
      if (kind === "pg") await dropSchemas(/** @type {string} */ (pgUrl), schema)
    }
    // Idempotency: relays and producers of its own (idempotency.js), on the embedded log.
    if (idemCounts !== undefined) await idempotencyRound(tmp, rep, idemCounts, add)
  }
  const m = (/** @type {string} */ k) => median(results[k] ?? [0])
  const rows = [["in flight", ...kinds.flatMap((k) => (k === "pg" ? ["PostgreSQL store alone", "PostgreSQL relay e2e confirmed msg/s"] : ["log store alone msg/s", "log relay e2e confirmed msg/s", "relay/store"]))]]
  for (const inflight of LEVELS) {
    const row = [String(inflight), num(m(`log store ${inflight}`)), num(m(`log relay ${inflight}`)), `${(m(`log relay ${inflight}`) / m(`log store ${inflight}`)).toFixed(2)}x`]
    if (kinds.includes("pg")) row.push(num(m(`pg store ${inflight}`)), num(m(`pg relay ${inflight}`)))
    rows.push(row)
  }
  const mc = (/** @type {string} */ k) => (results[k] === undefined ? "-" : median(results[k]).toFixed(1))
  const cpuRows = [["in flight", "store alone", "producer", "relay", "producer + relay"]]
  for (const kind of kinds) {
    const label = (/** @type {string} */ s) => (kinds.length > 1 ? `${kind === "pg" ? "PostgreSQL" : "log"} ${s}` : s)
    for (const inflight of LEVELS) {
      const producerCpu = results[`${kind} producer cpu ${inflight}`]
      const relayCpu = results[`${kind} relay cpu ${inflight}`]
      const both = producerCpu === undefined || relayCpu === undefined ? "-" : (median(producerCpu) + median(relayCpu)).toFixed(1)
      cpuRows.push([label(String(inflight)), mc(`${kind} store cpu ${inflight}`), mc(`${kind} producer cpu ${inflight}`), mc(`${kind} relay cpu ${inflight}`), both])
    }
    cpuRows.push([label("drain"), "", `${mc(`${kind} consumer cpu`)} (consumer)`, mc(`${kind} relay cpu drain`), ""])
  }
  const out = [
    header,
    `counts: ${counts[1]} / ${counts[16]} / ${counts[256]} messages at 1 / 16 / 256 in flight, then ${counts[STEADY]} at 1 again ("1 steady"); median of ${reps}; load average at end ${os.loadavg().map((x) => x.toFixed(2)).join(" ")}`,
    `the relays' de-duplication window: ${values["dedup-window"] === undefined ? "the default (120000 ms): every send is checked against, and recorded in, the window" : `${values["dedup-window"]} ms`}`,
    ...(kinds.includes("pg") ? [`PostgreSQL: ${cluster !== undefined ? `a throwaway cluster (PostgreSQL ${cluster.version}, fsync and synchronous_commit on, defaults otherwise) on this machine` : "the server given with --store"}`] : []),
    "",
    table(rows, 1),
    "",
    `drain with acks (consumer process, prefetch 2000, every message acked durably): embedded log ${num(m("log drain"))} msg/s` +
      (kinds.includes("pg") ? `, PostgreSQL ${num(m("pg drain"))} msg/s` : ""),
    "",
    "CPU time per message, µs (user + system, all of the process's threads, median of the rounds):",
    "",
    table(cpuRows, 1),
    "",
    `targets: >= 100k at 256 in flight: ${m("log relay 256") >= 100_000 ? "met" : "MISSED"}; >= 3k at 1: ${m("log relay 1") >= 3000 ? "met" : "MISSED"} (steady: ${m(`log relay ${STEADY}`) >= 3000 ? "met" : "MISSED"}); ` +
      `drain >= 100k: ${m("log drain") >= 100_000 ? "met" : "MISSED"}; relay >= half the store at 256: ${m("log relay 256") >= m("log store 256") / 2 ? "met" : "MISSED"}` +
      (kinds.includes("pg") ? `; PostgreSQL >= 30k at 256: ${m("pg relay 256") >= 30_000 ? "met" : "MISSED"}` : ""),
  ]
  if (idemCounts !== undefined) out.push("", ...idempotencyReport(m, idemCounts, reps))
  if (straceReport) out.push("", straceReport)
  process.stdout.write(out.join("\n") + "\n")
  rmSync(tmp, { recursive: true, force: true })
  cluster?.stop()
  cluster = undefined
}

/** Drops the round's schemas (the store-alone ones and the relay's). @param {string} url @param {string} prefix */
async function dropSchemas(url, prefix) {
  const { default: pg } = await import("pg")
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  try {
    for (const suffix of [...INFLIGHT.map(String), "steady", "relay"]) await client.query(`DROP SCHEMA IF EXISTS ${prefix}_${suffix} CASCADE`)
  } finally {
    await client.end()
  }
}

/** @param {number | undefined} us */
function cpuText(us) {
  return us === undefined ? "?" : `${us.toFixed(1)} µs`
}

/**
 * Reads `strace -f` output of the relay: per file descriptor, the data writes
 * (pwrite64/pwritev; zero fills written ahead are told apart by their zeros)
 * and the fdatasyncs (on the event loop's thread `mainTid`, or a pool thread),
 * and the most writes seen between two fdatasyncs of one fd.
 * @param {string} trace @param {string} stopped @param {string} mainTid
 */
function syncReport(trace, stopped, mainTid) {
  /** @type {Map<string, { syncs: number, onLoop: number, writes: number, zeroFills: number, maxBetween: number, since: number }>} */
  const fds = new Map()
  const calls = /** @type {Record<string, number>} */ ({})
  for (const line of trace.split("\n")) {
    // A call's start line ("... = n", or "<unfinished ...>" when another thread interleaves); "resumed" lines are skipped.
    const m = /^(\d+)\s+(\w+)\((\d+)(.*)$/.exec(line)
    if (m === null) continue
    const [, tid, name, fd, rest] = m
    calls[name] = (calls[name] ?? 0) + 1
    if (name !== "fdatasync" && name !== "pwrite64" && name !== "pwritev") continue
    const f = fds.get(fd) ?? { syncs: 0, onLoop: 0, writes: 0, zeroFills: 0, maxBetween: 0, since: 0 }
    fds.set(fd, f)
    if (name === "fdatasync") {
      f.syncs++
      if (tid === mainTid) f.onLoop++
      f.maxBetween = Math.max(f.maxBetween, f.since)
      f.since = 0
    } else if (/^, "(\\0)+"\.\.\./.test(rest)) {
      f.zeroFills++
    } else {
      f.writes++
      f.since++
    }
  }
  const rows = [["fd", "fdatasync", "on the loop's thread / on the pool", "data writes", "zero-fill writes", "most data writes between two fdatasyncs"]]
  for (const [fd, f] of [...fds].sort((a, b) => b[1].syncs - a[1].syncs)) {
    if (f.syncs + f.writes < 3) continue
    rows.push([fd, String(f.syncs), `${f.onLoop} / ${f.syncs - f.onLoop}`, String(f.writes), String(f.zeroFills), String(Math.max(f.maxBetween, f.since))])
  }
  return [
    "strace -f -e trace=fdatasync,fsync,pwrite64,pwritev,write,writev of the relay process (round 1, all phases):",
    `calls: ${Object.entries(calls).map(([k, v]) => `${k} ${v}`).join(", ")} (write/writev are the sockets)`,
    table(rows, 1),
    `relay: ${stopped.replace(/^\S+ /, "")}`,
  ].join("\n")
}
