/**
 * The long fuzz run (not part of `npm test`, which runs each target a few
 * hundred times in test/fuzz/targets.fuzz.test.ts): over a million generated
 * inputs into the frame decoder, the NULL session, PLAIN and CURVE on the
 * server and the client side, and the subscription tables. For each input it
 * checks the target's promises, that no single Buffer allocated while it ran
 * exceeds the target's bound (maxMessageSize, or without one what the peer
 * actually sent, or the fixed 64 KiB buffers), and that it took under 50 ms
 * (see `time`).
 *
 *   npm run fuzz                         # every target, its default count (1.04 million inputs, ~8 min here)
 *   npm run fuzz -- --scale 0.1          # a tenth
 *   npm run fuzz -- --only CURVE --seed 42
 *
 * A failure prints the target, the seed and path to replay it, and the
 * shrunk input; the exit code is 1.
 */
import os from "node:os"
import fc from "fast-check"
import { type FuzzTarget, fuzzTargets } from "../../test/fuzz/targets.js"

const BLOCK_MS = 50

const args = process.argv.slice(2)
const flag = (name: string): string | undefined => {
  const i = args.indexOf(name)
  return i < 0 ? undefined : args[i + 1]
}
const scale = Number(flag("--scale") ?? "1")
const seed = flag("--seed") === undefined ? Date.now() % 2 ** 31 : Number(flag("--seed"))
const only = flag("--only")

// ---- allocation watch: the largest Buffer asked for while an input runs ---------------

let watching = false
let largest = 0
type Allocator = (size: number, ...rest: unknown[]) => Buffer
const allocators = Buffer as unknown as Record<"alloc" | "allocUnsafe" | "allocUnsafeSlow", Allocator>
for (const name of ["alloc", "allocUnsafe", "allocUnsafeSlow"] as const) {
  const original = allocators[name]
  allocators[name] = function (this: unknown, size: number, ...rest: unknown[]): Buffer {
    if (watching && size > largest) largest = size
    return original.call(Buffer, size, ...rest)
  }
}

interface Result {
  readonly name: string
  inputs: number
  ms: number
  /** The longest input, in ms (after a re-run of any input over BLOCK_MS: see `time`). */
  maxInputMs: number
  /** Inputs over BLOCK_MS once that were under it when run again (the machine, not the input). */
  preempted: number
  /** The largest allocation seen, as a share of that input's bound. */
  maxAllocationShare: number
  failure: string | undefined
}

/**
 * Runs and times one prepared input, with allocations watched; re-runs it
 * once if it was slow. An input's time is the lesser of its wall-clock time
 * and the CPU time the process spent on it: on a shared machine the wall
 * clock also counts the time other processes ran (at a load of 7 on 2
 * cores, inputs that take 10 ms alone took 150 ms), and the CPU time also
 * counts V8's helper threads (a parallel GC).
 */
async function time(target: FuzzTarget, prepared: unknown, result: Result): Promise<string[]> {
  const once = async () => {
    largest = 0
    watching = true
    const start = performance.now()
    const cpu = process.cpuUsage()
    try {
      const problems = await target.check(prepared)
      const used = process.cpuUsage(cpu)
      return { problems, ms: Math.min(performance.now() - start, (used.user + used.system) / 1000), largest }
    } finally {
      watching = false
    }
  }
  let run = await once()
  if (run.ms > BLOCK_MS) {
    // On a shared machine a slow input may only have been descheduled: the same input again tells.
    const again = await once()
    if (again.ms <= BLOCK_MS) result.preempted++
    run = { ...run, ms: Math.min(run.ms, again.ms) }
  }
  const problems = [...run.problems]
  if (run.ms > BLOCK_MS) problems.push(`took ${run.ms.toFixed(1)} ms (twice), over ${BLOCK_MS} ms`)
  const bound = target.allocationBound(prepared)
  if (run.largest > bound) problems.push(`allocated a ${run.largest} byte Buffer, over the bound of ${bound}`)
  result.maxInputMs = Math.max(result.maxInputMs, run.ms)
  if (bound > 0) result.maxAllocationShare = Math.max(result.maxAllocationShare, run.largest / bound)
  return problems
}

async function fuzz(target: FuzzTarget): Promise<Result> {
  const result: Result = { name: target.name, inputs: 0, ms: 0, maxInputMs: 0, preempted: 0, maxAllocationShare: 0, failure: undefined }
  const numRuns = Math.max(1, Math.round(target.defaultRuns * scale))
  const start = performance.now()
  const details = await fc.check(
    fc.asyncProperty(target.arbitrary, async (input) => {
      result.inputs++
      const prepared = target.prepare(input)
      const problems = await time(target, prepared, result)
      if (problems.length === 0) return true
      result.failure ??= `${problems.join("; ")}\n  input: ${target.show(prepared)}`
      return false
    }),
    { numRuns, seed },
  )
  result.ms = performance.now() - start
  if (details.failed) {
    result.failure = `seed ${details.seed}, path ${JSON.stringify(details.counterexamplePath)}: ${result.failure}`
  }
  return result
}

const targets = (await fuzzTargets()).filter((t) => only === undefined || t.name.includes(only))
console.log(`fuzz: seed ${seed}, scale ${scale}, node ${process.version}, ${os.cpus()[0]?.model ?? "?"} x ${os.cpus().length}`)
const results: Result[] = []
for (const target of targets) {
  const result = await fuzz(target)
  results.push(result)
  const status = result.failure === undefined ? "ok" : "FAILED"
  console.log(`  ${target.name}: ${result.inputs} inputs in ${(result.ms / 1000).toFixed(1)} s, ${status}`)
}

console.log("\n| target | inputs | time (s) | max per input (ms) | slow once, fast again | largest Buffer / bound |")
console.log("|---|---:|---:|---:|---:|---:|")
for (const r of results) {
  console.log(
    `| ${r.name} | ${r.inputs.toLocaleString("en")} | ${(r.ms / 1000).toFixed(1)} | ${r.maxInputMs.toFixed(1)} | ${r.preempted} | ${r.maxAllocationShare.toFixed(2)} |`,
  )
}
const total = results.reduce((n, r) => n + r.inputs, 0)
console.log(`| total | ${total.toLocaleString("en")} | ${(results.reduce((n, r) => n + r.ms, 0) / 1000).toFixed(1)} | | | |`)

const failed = results.filter((r) => r.failure !== undefined)
for (const r of failed) console.log(`\nFAILED ${r.name}: ${r.failure}`)
process.exitCode = failed.length > 0 ? 1 : 0
