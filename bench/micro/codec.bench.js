#!/usr/bin/env node
// @ts-check
/**
 * Micro-benchmark of the ZMTP codec, old against new in one process: the
 * frame decoder, the session's receive path (decoder + message assembly up
 * to the handler), and the frame encoder. "old" is src/ at a git revision
 * (default: the commit before issue 10's work), transpiled on the fly by
 * baseline.js; "new" is dist/ (build first: npm run build).
 *
 *     npm run build && node bench/micro/codec.bench.js
 *     node bench/micro/codec.bench.js --baseline HEAD~3 --time 1000
 *     node bench/micro/codec.bench.js --filter decode
 *
 * Every case prints ns per frame or message (tinybench's median sample
 * divided by the frames or messages a sample handles), old and new, and
 * old/new (above 1: the new code is faster). Old and new take turns over
 * `--rounds` runs (the median run counts), so that load from elsewhere and
 * JIT warm-up fall on both.
 */
import { parseArgs } from "node:util"
import { Bench } from "tinybench"
import { buildRevision, shortRevision } from "./baseline.js"

const { values: flags } = parseArgs({
  options: {
    baseline: { type: "string", default: "17e102c" },
    time: { type: "string", default: "400" },
    rounds: { type: "string", default: "5" },
    filter: { type: "string" },
    help: { type: "boolean", short: "h", default: false },
  },
})
if (flags.help) {
  console.log("usage: node bench/micro/codec.bench.js [--baseline REV] [--time MS per sample run] [--rounds N] [--filter TEXT]")
  process.exit(0)
}

const NEW_URL = new URL("../../dist/src", import.meta.url).href
const old = buildRevision(flags.baseline)
const builds = [
  { name: "old", lib: await load(old.url) },
  { name: "new", lib: await load(NEW_URL) },
]

/** @param {string} base */
async function load(base) {
  const [{ FrameDecoder }, { FrameEncoder }, { Session }, { NullMechanism }] = await Promise.all([
    import(`${base}/zmtp/frame-decoder.js`),
    import(`${base}/zmtp/frame-encoder.js`),
    import(`${base}/zmtp/session.js`),
    import(`${base}/zmtp/mechanisms/null.js`),
  ])
  return { FrameDecoder, FrameEncoder, Session, NullMechanism }
}

// ---- inputs ----------------------------------------------------------------------

/** The wire bytes of one frame. @param {number} flags @param {Buffer} body */
function frame(flags, body) {
  const long = body.length > 255
  const header = Buffer.alloc(long ? 9 : 2)
  header[0] = flags | (long ? 2 : 0)
  if (long) header.writeBigUInt64BE(BigInt(body.length), 1)
  else header[1] = body.length
  return Buffer.concat([header, body])
}

/** `count` messages of `parts` frames of `size` bytes each, as one byte string. */
function stream(/** @type {number} */ count, /** @type {number} */ size, /** @type {number} */ parts = 1) {
  const frames = []
  for (let i = 0; i < count; i++) {
    for (let p = 0; p < parts; p++) frames.push(frame(p < parts - 1 ? 1 : 0, Buffer.alloc(p === parts - 1 ? size : p === 0 ? 5 : 0, 0x5a)))
  }
  return Buffer.concat(frames)
}

/** Cuts bytes into chunks of `size`, as socket reads would. @param {Buffer} bytes @param {number} size */
function chunks(bytes, size) {
  const out = []
  for (let i = 0; i < bytes.length; i += size) out.push(Buffer.from(bytes.subarray(i, i + size)))
  return out
}

/**
 * @typedef {{ name: string, unit: string, per: number, run: (lib: any) => () => void }} Case
 */

/** Decoder cases: push the chunks, take every frame. @type {Case[]} */
const cases = []
for (const [label, size, chunkSize, count] of /** @type {const} */ ([
  ["16 B frames, 64 KiB reads", 16, 65536, 3641],
  ["16 B frames, 1000 B reads (frames split across reads)", 16, 1000, 3641],
  ["1 KiB frames, 64 KiB reads", 1024, 65536, 63],
  ["64 KiB frames, 64 KiB reads (bodies span reads)", 65536, 65536, 16],
])) {
  const input = chunks(stream(count, size), chunkSize)
  cases.push({
    name: `decode ${label}`, unit: "frame", per: count,
    run: (lib) => () => {
      const dec = new lib.FrameDecoder(-1)
      let n = 0
      for (const c of input) {
        dec.push(c)
        while (dec.next()) n += dec.body.length
      }
      if (n !== count * size) throw new Error(`decoded ${n} bytes`)
    },
  })
}

/** A PULL session past its handshake with a PUSH session; returns it and the message counter. */
function readySession(/** @type {any} */ lib) {
  const state = { messages: 0 }
  const handler = () => ({
    flush: () => {},
    ready: () => {},
    message: () => {
      state.messages++
      return true
    },
    pinged: () => {},
    failed: (/** @type {any} */ f) => {
      throw f.error
    },
  })
  const pull = new lib.Session({ socketType: "PULL", mechanism: new lib.NullMechanism(), maxMessageSize: -1 }, handler())
  const push = new lib.Session({ socketType: "PUSH", mechanism: new lib.NullMechanism(), maxMessageSize: -1 }, handler())
  pull.start()
  push.start()
  // Move each side's output to the other until the handshake is done.
  for (let moved = true; moved; ) {
    moved = false
    for (const [from, to] of [[pull, push], [push, pull]]) {
      for (const part of from.encoder.flush()) {
        to.push(part)
        moved = true
      }
    }
  }
  if (!pull.isReady) throw new Error("no handshake")
  return { pull, state }
}

for (const [label, size, parts, chunkSize, count] of /** @type {const} */ ([
  ["16 B messages, 64 KiB reads", 16, 1, 65536, 3641],
  ["3-frame messages (5 B, empty, 16 B), 64 KiB reads", 16, 3, 65536, 2340],
  ["64 KiB messages, 64 KiB reads", 65536, 1, 65536, 16],
])) {
  const input = chunks(stream(count, size, parts), chunkSize)
  cases.push({
    name: `session receive ${label}`, unit: "message", per: count,
    run: (lib) => {
      const { pull, state } = readySession(lib)
      return () => {
        state.messages = 0
        for (const c of input) pull.push(c)
        if (state.messages !== count) throw new Error(`got ${state.messages} messages`)
      }
    },
  })
}

for (const [label, size, parts, count] of /** @type {const} */ ([
  ["16 B messages", 16, 1, 512],
  ["3-frame messages (5 B, empty, 16 B)", 16, 3, 512],
  ["1 KiB messages", 1024, 1, 64],
  ["64 KiB messages", 65536, 1, 16],
])) {
  const message = Array.from({ length: parts }, (_, p) => Buffer.alloc(p === parts - 1 ? size : p === 0 ? 5 : 0, 0x5a))
  cases.push({
    name: `encode ${label}, flushed every ${count}`, unit: "message", per: count,
    run: (lib) => {
      const enc = new lib.FrameEncoder()
      return () => {
        for (let i = 0; i < count; i++) enc.message(message)
        if (enc.flush().length === 0) throw new Error("nothing encoded")
      }
    },
  })
}

// ---- run -----------------------------------------------------------------------------

const selected = cases.filter((c) => flags.filter === undefined || c.name.includes(flags.filter))
/** @type {Map<string, Record<string, number>>} */
const results = new Map()
for (const c of selected) {
  /** @type {Record<string, number[]>} */
  const samples = { old: [], new: [] }
  // Old and new take turns, each first in every other round, so that drift and warm-up fall on both.
  for (let round = 0; round < Number(flags.rounds); round++) {
    for (const build of round % 2 === 0 ? builds : [...builds].reverse()) {
      const bench = new Bench({ time: Number(flags.time), warmupTime: 100 })
      bench.add(`${build.name} ${c.name}`, c.run(build.lib))
      await bench.run()
      const result = /** @type {any} */ (bench.tasks[0].result)
      if (result.state !== "completed") throw result.error ?? new Error(`${c.name}: ${result.state}`)
      samples[build.name].push((result.latency.p50 * 1e6) / c.per)
    }
  }
  const row = { old: middle(samples.old), new: middle(samples.new) }
  results.set(c.name, row)
  process.stderr.write(`${c.name}: old ${row.old.toFixed(1)} ns, new ${row.new.toFixed(1)} ns per ${c.unit}\n`)
}

/** @param {number[]} xs */
function middle(xs) {
  const s = [...xs].sort((a, b) => a - b)
  return s[s.length >> 1]
}

const rows = [["case", "unit", `old (${shortRevision(flags.baseline)}) ns`, "new ns", "old/new"]]
for (const c of selected) {
  const r = /** @type {Record<string, number>} */ (results.get(c.name))
  rows.push([c.name, c.unit, r.old.toFixed(1), r.new.toFixed(1), `${(r.old / r.new).toFixed(2)}x`])
}
const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)))
const line = (/** @type {string[]} */ r) => "| " + r.map((cell, i) => (i < 2 ? cell.padEnd(widths[i]) : cell.padStart(widths[i]))).join(" | ") + " |"
console.log(`\nZMTP codec, ns per unit (median sample), Node ${process.version}`)
console.log(line(rows[0]))
console.log("|" + widths.map((w, i) => (i < 2 ? "-".repeat(w + 2) : "-".repeat(w + 1) + ":")).join("|") + "|")
for (const r of rows.slice(1)) console.log(line(r))
old.cleanup()
