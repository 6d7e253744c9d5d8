/**
 * Every example runs to completion as its own process, against the built
 * dist/ (through the package's self-reference "zmesh", "zmesh/patterns",
 * "zmesh/msgpack"), and prints what it promises; the tour (`npm start`) runs
 * them all and passes, except the slow extras, which have npm scripts of
 * their own. Skipped, loudly, when dist/ is missing.
 */
import { spawn } from "node:child_process"
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { describe, expect, it } from "vitest"

const root = fileURLToPath(new URL("../..", import.meta.url))
const built = ["dist/src/index.js", "dist/patterns/index.js", "dist/src/msgpack/index.js"]
const missing = built.filter((file) => !existsSync(join(root, file)))
if (missing.length > 0) {
  console.warn(`\n*** SKIPPING the example tests: ${missing.join(", ")} not built. Run \`npm run build\` (npm ci runs it). ***\n`)
} else if (newest(join(root, "src")) > newest(join(root, "dist")) || newest(join(root, "patterns")) > newest(join(root, "dist"))) {
  console.warn("\n*** The example tests run against dist/, which is older than src/ or patterns/: run `npm run build`. ***\n")
}

/** The newest modification time of any file under `dir`. */
function newest(dir: string): number {
  let time = 0
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) time = Math.max(time, statSync(join(entry.parentPath, entry.name)).mtimeMs)
  }
  return time
}

function run(args: string[], timeout = 30_000): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, args, { cwd: root, stdio: ["ignore", "pipe", "pipe"] })
    let output = ""
    child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()))
    child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()))
    const timer = setTimeout(() => child.kill("SIGKILL"), timeout)
    child.on("close", (code) => {
      clearTimeout(timer)
      resolve({ code, output })
    })
  })
}

/** What each example must print (each pattern somewhere in its output). */
const expected: Record<string, RegExp[]> = {
  "demo.js": [/pipeline: worker 1 got task/, /pipeline: worker 2 got task/, /request-reply \(CURVE over ipc\): .*you asked: what time is it\?/, /publish-subscribe \(inproc\): paris\.temp = 12/, /pair: right got pong/],
  "hello.js": [/client got: Hello, Ada!/, /client got: Hello, Grace!/, /client got: Hello, Linus!/],
  "weather.js": [/subscriber got only zip 10001: (-?\d+, ){9}-?\d+$/m, /average temperature for 10001: -?\d+\.\d C/],
  "pipeline.js": [/ventilator sent 30 tasks/, /worker 1 did \d+ tasks/, /worker 2 did \d+ tasks/, /worker 3 did \d+ tasks/, /sink got all 30 results/],
  "async-server.js": [/alice got: worker \d answered "request 1 of alice"/, /alice got: worker \d answered "request 2 of alice"/, /bob got: .*request 1 of bob/, /carol got: .*request 2 of carol/],
  "ipc.js": [/listening on ipc:\/\//, /asked "what is 6 x 7\?", parent said "42"/, /3 questions answered/],
  "libzmq-peer.js": [/libzmq client got: hello from zmesh \(you said "hello from libzmq"\)/, /zmesh subscriber got: \[news\] zmesh and libzmq interoperate/],
  "msgpack.js": [/pull got order 1 \(bigint\), placed 2024-05-01T12:00:00\.000Z, 3 apples/, /router got \{"op":"add","args":\[2,40\]\} from client-7/, /dealer got \{"result":42\}/, /refused: ERR_DECODE/],
  "lazy-pirate.js": [/client: request 2 done/, /crashes/, /retrying on a new socket \(try 2 of 3\)/, /client: request 3 done/, /client: request 5 done/, /gave up \(EAGAIN\): no reply from the server after 3 tries/],
  "simple-pirate.js": [/worker-a: 1 squared is 1/, /worker-b: 2 squared is 4/, /worker-a: 3 squared is 9/],
  "paranoid-pirate.js": [/fragile: got "important job" \.\.\. and crashes/, /fragile went silent \(expired\)/, /request fragile held goes to another worker/, /client: sturdy did "important job"/],
  "majordomo.js": [/broker listening on tcp:\/\//, /"nobody" does not/, /partial reply "working on it"/, /final reply "HELLO MAJORDOMO"/, /worker: stopped/, /broker: stopped/],
  "relay-store-and-forward.js": [/producer: order 3 is durable/, /consumer: got "order 1" \(delivery 1\)/, /consumer: got "order 3" \(delivery 1\)/, /all 3 orders sent while no consumer ran were delivered/],
  "relay-delay.js": [/got "send the invoice now" after 0\.\d s/, /got "call the customer back" after (1\.[5-9]|[2-9]\.\d) s/, /the delayed reminder came when it was due/],
  "relay-outbox.js": [
    /order service: A-1 placed and published/,
    /order service: placing A-2, crashed after the database commit/,
    /order service: check-back for A-2: in the database -> commit/,
    /order service: placing A-3, crashed before the database commit/,
    /order service: check-back for A-3: not in the database -> rollback/,
    /order service: A-4 placed and published/,
    /shipping: A-1 shipped \(delivery 1\), but its ack was lost/,
    /shipping: A-1 \(delivery 2\) was shipped before: skipped and acked/,
    /shipping: A-2 \(delivery 1\) shipped/,
    /^database: orders A-1, A-2, A-4; shipments A-1 x1, A-2 x1, A-4 x1$/m,
    /^relay: 3 half messages committed, 1 rolled back$/m,
  ],
  "clone.js": [/late client caught up at sequence 4: thermostat=21, kitchen=on/, /"lights\/" client sees only: lights\/garden, lights\/kitchen$/m, /late client has garden=on, "lights\/" client has garden=on/, /session\/visitor=undefined/],
}

/** ms an example may take (the default 30 s; PGlite's first start alone takes 5-15 s on a busy machine). */
const slow: Record<string, number> = { "relay-outbox.js": 90_000 }

const tourSource = readFileSync(join(root, "examples/tour.js"), "utf8")
const tourStops = [...tourSource.matchAll(/^\s*\["([\w./-]+\.js)", "/gm)].map((match) => match[1]!)
const tourExtras = [...tourSource.matchAll(/^\s*\{ file: "([\w./-]+\.js)", script: "([\w:-]+)"/gm)].map((match) => ({ file: match[1]!, script: match[2]! }))

describe.skipIf(missing.length > 0)("examples", () => {
  describe.concurrent("each example runs to completion and prints what it promises", () => {
    for (const [file, patterns] of Object.entries(expected)) {
      const timeout = slow[file] ?? 30_000
      it(file, async () => {
        const { code, output } = await run([`examples/${file}`], timeout)
        expect(code, output).toBe(0)
        for (const pattern of patterns) expect(output).toMatch(pattern)
      }, timeout + 5_000)
    }
  })

  it("the tour visits every example, or names it as an extra with an npm script that runs it", () => {
    const files = readdirSync(join(root, "examples")).filter((file) => file.endsWith(".js") && file !== "tour.js")
    expect([...tourStops, ...tourExtras.map((extra) => extra.file)].sort()).toEqual(files.sort())
    for (const file of Object.keys(expected)) expect([...tourStops, ...tourExtras.map((extra) => extra.file)]).toContain(file)
    const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as { scripts: Record<string, string> }
    for (const { file, script } of tourExtras) expect(pkg.scripts[script]).toBe(`node examples/${file}`)
  })

  it("npm start runs the tour, and every stop passes", async () => {
    const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as { scripts: Record<string, string> }
    expect(pkg.scripts.start).toBe("node examples/tour.js")
    const { code, output } = await run(["examples/tour.js"], 60_000)
    expect(code, output).toBe(0)
    expect(output).toContain(`all ${tourStops.length} examples passed`)
    expect(output).not.toContain("FAILED")
    for (const { file, script } of tourExtras) expect(output).toContain(`not in the tour (slow): ${file}, run it with \`npm run ${script}\``)
  }, 60_000)

  it("the stand-alone Majordomo scripts explain their arguments", async () => {
    for (const script of ["broker.js", "worker.js", "client.js"]) {
      const { code, output } = await run([`examples/majordomo/${script}`])
      expect(code).toBe(2)
      expect(output).toMatch(/^usage: node examples\/majordomo\//)
    }
  })
})
