#!/usr/bin/env node
// @ts-check
/**
 * The kill -9 test of test/relay/crash.test.ts with many more rounds:
 * the CLI relay under load from concurrent producers is SIGKILLed at random
 * moments; after each restart every confirmed message must come back intact,
 * torn tails are injected and must be repaired, and a byte flipped in a
 * sealed segment must be reported.
 *
 *   node bench/relay/crash-soak.js            # 200 rounds (about 2.5 min here)
 *   node bench/relay/crash-soak.js --cycles 1000
 *
 * It builds dist/ first if src/ changed. Set ZMESH_CRASH_KEEP=1 to keep a copy
 * of the data folder before every restart, for a post-mortem.
 */
import { spawnSync } from "node:child_process"
import { fileURLToPath } from "node:url"
import { parseArgs } from "node:util"

const { values } = parseArgs({ options: { cycles: { type: "string", default: "200" }, help: { type: "boolean", short: "h" } } })
if (values.help) {
  process.stdout.write("usage: node bench/relay/crash-soak.js [--cycles N]\n")
  process.exit(0)
}
const cycles = Number(values.cycles)
if (!Number.isInteger(cycles) || cycles < 1) {
  process.stderr.write(`crash-soak: --cycles wants a positive integer, not ${JSON.stringify(values.cycles)}\n`)
  process.exit(2)
}
const root = fileURLToPath(new URL("../..", import.meta.url))
const started = Date.now()
const run = spawnSync(process.execPath, ["node_modules/vitest/vitest.mjs", "run", "test/relay/crash.test.ts"], {
  cwd: root,
  stdio: "inherit",
  env: { ...process.env, ZMESH_CRASH_CYCLES: String(cycles), ZMESH_CRASH_DEBUG: "1" },
})
process.stdout.write(`crash-soak: ${cycles} kill -9 rounds ${run.status === 0 ? "passed" : "FAILED"} in ${((Date.now() - started) / 1000).toFixed(0)} s\n`)
process.exit(run.status ?? 1)
