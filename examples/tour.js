// The zmesh tour, run by `npm start`: each example runs in its own process,
// one after another, and the tour shows what each one proves and how it
// ended. To add an example, add one line to `stops`; a slow one goes to
// `extras` instead, with an npm script of its own.
// Run: node examples/tour.js [--verbose] [example ...]   (e.g. node examples/tour.js hello clone)
import { spawn } from "node:child_process"
import { fileURLToPath } from "node:url"

/** [file in examples/, what it proves]: one line each. */
const stops = [
  ["demo.js", "the basics in one process: PUSH/PULL, CURVE-encrypted REQ/REP over ipc, PUB/SUB over inproc, PAIR"],
  ["hello.js", "REQ/REP: each request gets its reply, in order"],
  ["weather.js", "PUB/SUB: a subscriber gets only the topic it asked for"],
  ["pipeline.js", "PUSH/PULL: a ventilator spreads tasks over workers, a sink collects the results"],
  ["async-server.js", "DEALER/ROUTER: many requests in flight, each reply back at its own client"],
  ["ipc.js", "ipc://: two local processes talk over a Unix socket"],
  ["libzmq-peer.js", "interop: zmesh and libzmq (the zeromq package) talk both ways"],
  ["msgpack.js", "zmesh/msgpack: JavaScript values in, the same values out"],
  ["lazy-pirate.js", "Lazy Pirate: the client retries lost requests and gives up on a dead server"],
  ["simple-pirate.js", "Simple Pirate: a queue shares requests between workers"],
  ["paranoid-pirate.js", "Paranoid Pirate: a worker dies mid request, the queue requeues it"],
  ["majordomo.js", "Majordomo: a stand-alone MDP/0.2 broker serves requests by service name"],
  ["clone.js", "Clone: shared key-value state; a late joiner catches up from a snapshot"],
  ["relay-store-and-forward.js", "relay: messages sent while no consumer runs are kept on disk and delivered later"],
  ["relay-delay.js", "relay: a delayed message arrives when it is due, not before"],
]

/** Examples left out of the default tour because they take long; each has its npm script, and naming one runs it here too. */
const extras = [
  { file: "relay-outbox.js", script: "example:outbox", proves: "relay + PostgreSQL (PGlite): an outbox with half messages survives crashes; an idempotent consumer ships once" },
]

/** ms an example may run before it is killed; an extra gets more (a database's first start). */
const timeoutOf = (file) => (extras.some((extra) => extra.file === file) ? 60_000 : 20_000)
const args = process.argv.slice(2)
const verbose = args.includes("--verbose")
const wanted = args.filter((arg) => !arg.startsWith("--"))
const all = [...stops, ...extras.map(({ file, proves }) => [file, proves])]
const chosen = wanted.length === 0 ? stops : all.filter(([file]) => wanted.some((name) => file.startsWith(name)))
if (chosen.length === 0) {
  console.error(`no example matches ${wanted.join(", ")}; the examples are: ${all.map(([file]) => file).join(", ")}`)
  process.exit(2)
}

/** Runs one example; resolves with its exit code, output and duration. */
function run(file) {
  const started = Date.now()
  const child = spawn(process.execPath, [fileURLToPath(new URL(file, import.meta.url))], { stdio: ["ignore", "pipe", "pipe"] })
  let output = ""
  child.stdout.on("data", (chunk) => (output += chunk))
  child.stderr.on("data", (chunk) => (output += chunk))
  const timeout = timeoutOf(file)
  const timer = setTimeout(() => child.kill("SIGKILL"), timeout)
  return new Promise((resolve) =>
    child.on("close", (code, signal) => {
      clearTimeout(timer)
      resolve({ code: signal === null ? code : `killed after ${timeout / 1000} s`, output, ms: Date.now() - started })
    }),
  )
}

const width = Math.max(...chosen.map(([file]) => file.length))
console.log(`zmesh tour: ${chosen.length} examples, each in its own process (node examples/<file> runs one alone)\n`)
const started = Date.now()
const failed = []
for (const [index, [file, proves]] of chosen.entries()) {
  console.log(`${String(index + 1).padStart(2)}. ${file.padEnd(width)}  ${proves}`)
  const { code, output, ms } = await run(file)
  const lines = output.trimEnd().split("\n")
  const seconds = `${(ms / 1000).toFixed(1)} s`
  if (code === 0) {
    if (verbose) for (const line of lines) console.log(`      ${line}`)
    console.log(`    ok  ${lines.at(-1)}  (${seconds})`)
  } else {
    failed.push(file)
    for (const line of lines) console.log(`      ${line}`)
    console.log(`    FAILED (exit ${code}, ${seconds})`)
  }
}
const total = `${((Date.now() - started) / 1000).toFixed(1)} s`
if (failed.length === 0) {
  console.log(`\nall ${chosen.length} examples passed in ${total}`)
  if (wanted.length === 0) for (const { file, script } of extras) console.log(`not in the tour (slow): ${file}, run it with \`npm run ${script}\``)
} else {
  console.log(`\n${failed.length} of ${chosen.length} examples failed (${failed.join(", ")}) in ${total}`)
  process.exitCode = 1
}
