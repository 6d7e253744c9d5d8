/**
 * `zmesh relay`: runs a relay node until SIGINT or SIGTERM, logging a line
 * per start, recovery, error and stop, and a periodic line of queue depths
 * and rates.
 */
import { resolve } from "node:path"
import { parseArgs } from "node:util"
import { RelayNode, type RelayNodeStats } from "./node.js"
import { LogStore } from "./store/log/log-store.js"
import { PostgresStore } from "./store/postgres/postgres-store.js"
import type { RelayStore } from "./store/store.js"

const usage = `usage: zmesh relay [options]

options:
  --bind ENDPOINT          where to listen (default tcp://127.0.0.1:7400; tcp://127.0.0.1:* picks a port)
  --data DIR               data folder, created if missing (default ./zmesh-data)
  --store URL              keep the queues in PostgreSQL instead: postgres://user:password@host:port/database
                           (or set ZMESH_RELAY_STORE); several relays on one database serve the same queues
  --schema NAME            PostgreSQL schema of the tables, created if missing (default zmesh)
  --hold-timeout MS        PostgreSQL: how long a stopped relay's claimed messages wait before the
                           other relays take them (default 10000)
  --max-delay MS           longest delay accepted (default 30 days)
  --max-message-size N     largest message in bytes, body plus headers (default 1048576)
  --max-bytes N            store capacity in bytes; sends are refused beyond it (default: no limit)
  --segment-size N         bytes per log segment file (default 67108864; the embedded log only)
  --session-timeout MS     silence after which a client's session ends (default 10000)
  --dedup-window MS        ms a message id is remembered; a resend within it is not stored again (default 120000, 0 = off)
  --stats-interval MS      ms between stats lines, 0 for none (default 10000)
  -h, --help`

/** Runs the command; resolves with the exit code once the relay has stopped. */
export async function runRelay(args: readonly string[]): Promise<number> {
  let values: Record<string, string | boolean | undefined>
  try {
    values = parseArgs({
      args: [...args],
      strict: true,
      allowPositionals: false,
      options: {
        bind: { type: "string", default: "tcp://127.0.0.1:7400" },
        data: { type: "string", default: "./zmesh-data" },
        store: { type: "string" },
        schema: { type: "string" },
        "hold-timeout": { type: "string" },
        "max-delay": { type: "string" },
        "max-message-size": { type: "string" },
        "max-bytes": { type: "string" },
        "segment-size": { type: "string" },
        "session-timeout": { type: "string" },
        "dedup-window": { type: "string" },
        "stats-interval": { type: "string", default: "10000" },
        help: { type: "boolean", short: "h", default: false },
      },
    }).values
  } catch (err) {
    return usageError((err as Error).message)
  }
  if (values.help === true) {
    process.stdout.write(`${usage}\n`)
    return 0
  }
  const numbers: Record<string, number | undefined> = {}
  const zeroAllowed = ["stats-interval", "dedup-window"]
  for (const flag of ["max-delay", "max-message-size", "max-bytes", "segment-size", "session-timeout", "dedup-window", "stats-interval", "hold-timeout"]) {
    const raw = values[flag] as string | undefined
    if (raw === undefined) continue
    const n = Number(raw)
    const min = zeroAllowed.includes(flag) ? 0 : 1
    if (!Number.isInteger(n) || n < min) return usageError(`--${flag} wants a ${min === 0 ? "non-negative" : "positive"} integer, not ${JSON.stringify(raw)}`)
    numbers[flag] = n
  }
  const url = (values.store as string | undefined) ?? (process.env.ZMESH_RELAY_STORE || undefined)
  const dataDir = resolve(values.data as string)
  let store: RelayStore
  let where: string
  if (url !== undefined) {
    if (!/^postgres(ql)?:\/\//.test(url)) return usageError(`--store wants a postgres:// or postgresql:// URL, not ${JSON.stringify(redact(url))}`)
    if (numbers["segment-size"] !== undefined) return usageError("--segment-size is for the embedded log, not with --store")
    const schema = (values.schema as string | undefined) ?? "zmesh"
    try {
      store = new PostgresStore({
        connectionString: url,
        schema,
        ...(numbers["hold-timeout"] === undefined ? {} : { holdTimeout: numbers["hold-timeout"] }),
        ...(numbers["max-bytes"] === undefined ? {} : { maxBytes: numbers["max-bytes"] }),
      })
    } catch (err) {
      return usageError(describe(err))
    }
    where = `store ${redact(url)} schema ${schema}`
  } else {
    if (values.schema !== undefined || numbers["hold-timeout"] !== undefined) return usageError("--schema and --hold-timeout are for --store (PostgreSQL)")
    store = new LogStore({
      dir: dataDir,
      ...(numbers["max-bytes"] === undefined ? {} : { maxBytes: numbers["max-bytes"] }),
      ...(numbers["segment-size"] === undefined ? {} : { segmentSize: numbers["segment-size"], checkpointBytes: numbers["segment-size"] }),
    })
    where = `data ${dataDir}`
  }
  let node: RelayNode
  try {
    node = await RelayNode.start({
      bind: values.bind as string,
      dataDir,
      store,
      ...(numbers["max-delay"] === undefined ? {} : { maxDelay: numbers["max-delay"] }),
      ...(numbers["max-message-size"] === undefined ? {} : { maxMessageSize: numbers["max-message-size"] }),
      ...(numbers["session-timeout"] === undefined ? {} : { sessionTimeout: numbers["session-timeout"] }),
      ...(numbers["dedup-window"] === undefined ? {} : { dedupWindow: numbers["dedup-window"] }),
      log: (level, message) => (level === "error" ? error(message) : info(message)),
    })
  } catch (err) {
    error(`could not start: ${describe(err)}`)
    return 1
  }
  const r = node.recovery
  const stats = node.stats()
  const messages = stats.queues.reduce((n, q) => n + q.depth, 0)
  const delayed = stats.queues.reduce((n, q) => n + q.delayed, 0)
  info(`recovered ${stats.queues.length} queues, ${messages} messages, ${delayed} delayed in ${r.durationMs.toFixed(0)} ms${r.notes.length > 0 ? `: ${r.notes.join("; ")}` : ""}`)
  for (const c of r.corruption) error(`corruption: ${c.where}${c.seq === undefined ? "" : ` (seq ${c.seq})`}: ${c.reason}`)
  // Last, so that a reader waiting for this line has seen the recovery lines too.
  info(`listening on ${node.endpoint} (${where}, pid ${process.pid})`)
  const interval = numbers["stats-interval"] ?? 10_000
  let last = { at: Date.now(), counters: stats.counters }
  const timer = interval > 0 ? setInterval(() => (last = statsLine(node.stats(), last)), interval) : undefined
  const signal = await new Promise<NodeJS.Signals>((done) => {
    process.once("SIGINT", () => done("SIGINT"))
    process.once("SIGTERM", () => done("SIGTERM"))
  })
  // A second signal does not wait for the clean stop.
  const force = () => process.exit(130)
  process.once("SIGINT", force)
  process.once("SIGTERM", force)
  clearInterval(timer)
  info(`stopping (${signal}): finishing the commit in flight`)
  try {
    await node.close()
  } catch (err) {
    error(`error while stopping: ${describe(err)}`)
    return 1
  }
  const final = node.stats()
  info(`stopped after ${final.store.commits} group commits of ${final.store.ops} operations`)
  process.off("SIGINT", force)
  process.off("SIGTERM", force)
  return 0
}

function statsLine(stats: RelayNodeStats, last: { at: number; counters: RelayNodeStats["counters"] }) {
  const now = Date.now()
  const secs = Math.max(0.001, (now - last.at) / 1000)
  const rate = (k: keyof RelayNodeStats["counters"]) => Math.round((stats.counters[k] - last.counters[k]) / secs)
  const queues = [...stats.queues]
    .sort((a, b) => b.depth + b.delayed - (a.depth + a.delayed))
    .slice(0, 5)
    .map((q) => `${q.name} ${q.depth}${q.delayed > 0 ? `+${q.delayed} delayed` : ""}`)
  const more = stats.queues.length > 5 ? ` and ${stats.queues.length - 5} more` : ""
  info(
    `stats: ${rate("confirmed")}/s stored, ${rate("delivered")}/s delivered, ${rate("acked")}/s acked; ` +
      `${stats.sessions} clients, ${stats.consumers} consumers, ${stats.leases} unacked; ` +
      `queues: ${queues.length > 0 ? queues.join(", ") + more : "none"}; store ${(stats.store.bytes / 1048576).toFixed(1)} MiB`,
  )
  return { at: now, counters: stats.counters }
}

function stamp(): string {
  return new Date().toISOString()
}

function info(message: string): void {
  process.stdout.write(`${stamp()} zmesh relay: ${message}\n`)
}

function error(message: string): void {
  process.stderr.write(`${stamp()} zmesh relay: error: ${message}\n`)
}

function usageError(message: string): number {
  process.stderr.write(`zmesh relay: ${message}\n\n${usage}\n`)
  return 2
}

/** A connection string without its password, for the log. */
function redact(url: string): string {
  try {
    const u = new URL(url)
    if (u.password !== "") u.password = "***"
    return u.toString()
  } catch {
    return url.replace(/:[^:@/]*@/, ":***@")
  }
}

/** zmesh's own words for an error (its `detail`), else the message: a log line should say what failed. */
function describe(err: unknown): string {
  return (err as { detail?: string }).detail ?? (err as Error).message
}
