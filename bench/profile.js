#!/usr/bin/env node
// @ts-check
/**
 * Summarises V8 CPU profiles (`node --cpu-prof`, or an e2e benchmark run
 * with `--cpu-prof DIR`): per profile, where the busy time went, by function
 * (self time) and by source file, with the idle and GC shares.
 *
 *     node bench/e2e/throughput.js --libs zmesh --sizes 16 --transports tcp --cpu-prof /tmp/prof
 *     node bench/profile.js /tmp/prof                  # every profile in the directory
 *     node bench/profile.js --top 25 --match receiver /tmp/prof
 *     node bench/profile.js --messages 1050000 /tmp/prof/03-*.cpuprofile   # adds ns per message
 *
 * Self time is the time a function was on top of the stack; "by file" adds
 * up the self time of every function of a file (node's own modules as
 * `node:net` etc., native code as "(native)"). Percentages are of the busy
 * time: the profile's span minus "(idle)".
 */
import { readFileSync, readdirSync, statSync } from "node:fs"
import path from "node:path"
import { parseArgs } from "node:util"

const { values: flags, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    top: { type: "string", default: "20" },
    match: { type: "string" },
    messages: { type: "string" },
    help: { type: "boolean", short: "h", default: false },
  },
})
if (flags.help || positionals.length === 0) {
  console.log("usage: node bench/profile.js [--top N] [--match TEXT] [--messages N] DIR|FILE...")
  process.exit(flags.help ? 0 : 2)
}
const top = Number(flags.top)
const messages = flags.messages === undefined ? undefined : Number(flags.messages)

/** @type {string[]} */
const files = []
for (const p of positionals) {
  if (statSync(p).isDirectory()) {
    for (const f of readdirSync(p).sort()) if (f.endsWith(".cpuprofile")) files.push(path.join(p, f))
  } else files.push(p)
}
for (const file of files) {
  if (flags.match !== undefined && !path.basename(file).includes(flags.match)) continue
  summarise(file)
}

/** @param {string} file */
function summarise(file) {
  /** @type {{ nodes: { id: number, callFrame: { functionName: string, url: string, lineNumber: number }, children?: number[] }[],
   *           samples: number[], timeDeltas: number[], startTime: number, endTime: number }} */
  const profile = JSON.parse(readFileSync(file, "utf8"))
  const byId = new Map(profile.nodes.map((n) => [n.id, n]))
  /** Self microseconds per node id. */
  const self = new Map()
  for (let i = 0; i < profile.samples.length; i++) {
    const id = profile.samples[i]
    // A sample's time is the delta to the next sample.
    const dt = profile.timeDeltas[i + 1] ?? 0
    self.set(id, (self.get(id) ?? 0) + dt)
  }
  let total = 0
  let idle = 0
  let gc = 0
  /** @type {Map<string, number>} */
  const byFunction = new Map()
  /** @type {Map<string, number>} */
  const byFile = new Map()
  for (const [id, us] of self) {
    const { functionName, url, lineNumber } = byId.get(id).callFrame
    total += us
    if (functionName === "(idle)") {
      idle += us
      continue
    }
    if (functionName === "(garbage collector)") gc += us
    const where = sourceName(url)
    const fn = `${functionName || "(anonymous)"} ${where}${url ? `:${lineNumber + 1}` : ""}`
    byFunction.set(fn, (byFunction.get(fn) ?? 0) + us)
    byFile.set(where, (byFile.get(where) ?? 0) + us)
  }
  const busy = total - idle
  const pct = (/** @type {number} */ us) => `${((us / busy) * 100).toFixed(1).padStart(5)}%`
  const perMessage = (/** @type {number} */ us) => (messages === undefined ? "" : `  ${((us * 1000) / messages).toFixed(0).padStart(6)} ns/msg`)
  console.log(`\n== ${path.basename(file)}: ${(total / 1e6).toFixed(2)} s sampled, busy ${(busy / 1e6).toFixed(2)} s` +
    ` (idle ${((idle / total) * 100).toFixed(0)}%), GC ${pct(gc).trim()} of busy${perMessage(busy)}`)
  console.log("  by file (self time):")
  for (const [name, us] of sorted(byFile).slice(0, Math.min(top, 12))) console.log(`    ${pct(us)}${perMessage(us)}  ${name}`)
  console.log("  by function (self time):")
  for (const [name, us] of sorted(byFunction).slice(0, top)) console.log(`    ${pct(us)}${perMessage(us)}  ${name}`)
}

/** @param {Map<string, number>} map */
function sorted(map) {
  return [...map].sort((a, b) => b[1] - a[1])
}

/** A short name for a script URL: node's modules as node:x, zmesh's as their path from dist/. @param {string} url */
function sourceName(url) {
  if (url === "") return "(native)"
  if (url.startsWith("node:")) return url
  const dist = url.indexOf("/dist/")
  if (dist >= 0) return url.slice(dist + 1)
  const nm = url.lastIndexOf("/node_modules/")
  if (nm >= 0) return url.slice(nm + "/node_modules/".length)
  const bench = url.indexOf("/bench/")
  if (bench >= 0) return url.slice(bench + 1)
  return url
}
