#!/usr/bin/env node
// @ts-check
/**
 * Micro-benchmark of the relay's de-duplication window (src/relay/store/
 * id-index.ts), old against new in one process: "old" is src/ at a git
 * revision (default 069b842: a Map per queue and the id strings kept),
 * transpiled on the fly by baseline.js; "new" is dist/ (npm run build first).
 *
 *     npm run build && node bench/micro/id-index.bench.js
 *     node bench/micro/id-index.bench.js --baseline HEAD~5 --ids 200000 --rounds 3
 *
 * Ids are random UUIDs decoded from bytes inside the timed loop, as the relay
 * gets them (fresh strings, never hashed before), for both builds alike:
 *
 * - grow: `put` of N fresh ids into an empty window (the ring and its table
 *   grow as they go), ns per insert;
 * - steady: `expire` + `put` with a window of N/2 entries, after N inserts to
 *   fill it (what a long-running relay does), ns per insert;
 * - miss: `seqOf` of ids not in a window of N, ns per lookup;
 * - full GC: a forced full collection with 3 x N ids in the window, ms: what
 *   the window adds to every major GC of the relay.
 *
 * Old and new take turns over `--rounds` runs; each cell is the median run.
 */
import { randomUUID } from "node:crypto"
import { parseArgs } from "node:util"
import v8 from "node:v8"
import vm from "node:vm"
import { buildRevision, shortRevision } from "./baseline.js"

const { values: flags } = parseArgs({
  options: {
    baseline: { type: "string", default: "069b842" },
    ids: { type: "string", default: "400000" },
    rounds: { type: "string", default: "5" },
    help: { type: "boolean", short: "h", default: false },
  },
})
if (flags.help) {
  console.log("usage: node bench/micro/id-index.bench.js [--baseline REV] [--ids N] [--rounds N]")
  process.exit(0)
}
const N = Number(flags.ids)
const ROUNDS = Number(flags.rounds)

v8.setFlagsFromString("--expose-gc")
/** @type {() => void} */
const gc = vm.runInNewContext("gc")

const old = buildRevision(flags.baseline)
const builds = [
  { name: `old (${shortRevision(flags.baseline)})`, IdIndex: (await import(`${old.url}/relay/store/id-index.js`)).IdIndex },
  { name: "new (dist/)", IdIndex: (await import(new URL("../../dist/src/relay/store/id-index.js", import.meta.url).href)).IdIndex },
]

// 36-byte UUIDs back to back: the id of number i is bytes [36 i, 36 i + 36).
const raw = Buffer.from(Array.from({ length: 3 * N }, () => randomUUID()).join(""), "latin1")
/** @param {number} i */
const idAt = (i) => raw.latin1Slice(36 * i, 36 * i + 36)

/** ns per call of `step(i)` for i in [from, to). @param {number} from @param {number} to @param {(i: number) => void} step */
function timed(from, to, step) {
  const t0 = process.hrtime.bigint()
  for (let i = from; i < to; i++) step(i)
  return Number(process.hrtime.bigint() - t0) / (to - from)
}

/** One run of every case against one build. @param {any} IdIndex */
function run(IdIndex) {
  const growing = new IdIndex()
  const grow = timed(0, N, (i) => growing.put("q", idAt(i), i + 1, 1e15))
  const miss = timed(N, 2 * N, (i) => growing.seqOf("q", idAt(i), 0))
  const window = N / 2
  const steadyIndex = new IdIndex()
  for (let i = 0; i < N; i++) {
    steadyIndex.expire(i)
    steadyIndex.put("q", idAt(i), i + 1, i + window)
  }
  const steady = timed(N, 2 * N, (i) => {
    steadyIndex.expire(i)
    steadyIndex.put("q", idAt(i), i + 1, i + window)
  })
  let big = new IdIndex()
  for (let i = 0; i < 3 * N; i++) big.put("q", idAt(i), i + 1, 1e15)
  gc()
  const t0 = process.hrtime.bigint()
  gc()
  const fullGc = Number(process.hrtime.bigint() - t0) / 1e6
  if (big.seqOf("q", idAt(0), 0) !== 1) throw new Error("the window lost an id")
  big = undefined
  return { grow, steady, miss, fullGc }
}

/** @type {Record<string, Record<string, number[]>>} */
const results = {}
for (let round = 0; round < ROUNDS; round++) {
  for (const b of builds) {
    const r = run(b.IdIndex)
    for (const [k, v] of Object.entries(r)) ((results[b.name] ??= {})[k] ??= []).push(v)
    gc()
  }
}
const median = (/** @type {number[]} */ xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]
const [a, b] = builds.map((x) => x.name)
const cases = [
  ["grow: put, ns", "grow", 0],
  ["steady: expire + put, ns", "steady", 0],
  ["miss: seqOf, ns", "miss", 0],
  [`full GC with ${3 * N} ids, ms`, "fullGc", 1],
]
console.log(`IdIndex, ${N} fresh UUID ids, median of ${ROUNDS} alternating runs; Node ${process.version}`)
console.log(`| case | ${a} | ${b} | old/new |`)
console.log("|------|---:|---:|---:|")
for (const [label, key, digits] of cases) {
  const o = median(results[a][key])
  const n = median(results[b][key])
  console.log(`| ${label} | ${o.toFixed(Number(digits))} | ${n.toFixed(Number(digits))} | ${(o / n).toFixed(2)}x |`)
}
