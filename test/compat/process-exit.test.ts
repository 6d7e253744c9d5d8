/**
 * zeromq.js compatibility: when a Node process that uses sockets exits.
 * Each case is a small ES module run in a child process, once importing the
 * built zmesh (dist/src/index.js; `npm ci` builds it, the tests are skipped
 * without it) and once the `zeromq` package. "Stays alive" is shown without
 * timing: the child arms an unref'd timer that can only fire while something
 * else holds the process, and prints "alive" from it.
 */
import { spawn, type ChildProcess } from "node:child_process"
import { existsSync, mkdtempSync, rmSync, statSync, readdirSync, writeFileSync } from "node:fs"
import { createRequire } from "node:module"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath, pathToFileURL } from "node:url"
import { afterAll, beforeAll, describe, it } from "vitest"

const DIST = fileURLToPath(new URL("../../dist/src/index.js", import.meta.url))
const SRC = fileURLToPath(new URL("../../src", import.meta.url))
const ZEROMQ = createRequire(import.meta.url).resolve("zeromq")
const built = existsSync(DIST)

if (!built) console.warn(`test/compat/process-exit: ${DIST} is missing; run \`npm run build\`. Skipping.`)
else if (newestMtime(SRC) > statSync(DIST).mtimeMs) {
  console.warn("test/compat/process-exit: dist/ is older than src/; these tests run the build, so run `npm run build` first.")
}

function newestMtime(dir: string): number {
  let newest = 0
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) newest = Math.max(newest, statSync(join(entry.parentPath, entry.name)).mtimeMs)
  }
  return newest
}

const libraries = [
  { name: "zmesh", load: `await import(${JSON.stringify(pathToFileURL(DIST).href)})` },
  { name: "zeromq", load: `createRequire(import.meta.url)(${JSON.stringify(ZEROMQ)})` },
] as const

interface Exit {
  code: number | null
  signal: NodeJS.Signals | null
  stdout: string
  stderr: string
  pid: number
  /** ms from spawn to exit; only lower bounds are asserted. */
  elapsed: number
}

/** Longest a child may run before it is killed (and its test fails). */
const CHILD_TIMEOUT = 10_000

let dir = ""
let scripts = 0
const children = new Set<ChildProcess>()

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "zmesh-compat-exit-"))
})
// Tests run concurrently, so a child is killed by its own timeout, and any left over after the file.
afterAll(() => {
  for (const child of children) child.kill("SIGKILL")
  children.clear()
  rmSync(dir, { recursive: true, force: true })
})

/** Runs `body` in a child ES module with `zmq` bound to the library; resolves when it exits. */
function run(load: string, body: string): Promise<Exit> {
  const file = join(dir, `case-${++scripts}.mjs`)
  writeFileSync(file, `import { createRequire } from "node:module"\nconst zmq = ${load}\n${body}\n`)
  const started = performance.now()
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [file], { stdio: ["ignore", "pipe", "pipe"] })
    children.add(child)
    let stdout = ""
    let stderr = ""
    child.stdout!.on("data", (chunk: Buffer) => (stdout += chunk.toString()))
    child.stderr!.on("data", (chunk: Buffer) => (stderr += chunk.toString()))
    const timer = setTimeout(() => child.kill("SIGKILL"), CHILD_TIMEOUT)
    child.on("error", reject)
    child.on("close", (code, signal) => {
      clearTimeout(timer)
      children.delete(child)
      resolve({ code, signal, stdout, stderr, pid: child.pid!, elapsed: performance.now() - started })
    })
  })
}

/** A script line: from an unref'd timer (it fires only if something else holds the process), print "alive" and run `then`. */
const whenStillAlive = (then: string) => `setTimeout(() => { console.log("alive"); ${then} }, 200).unref()`

/** A script line: a tcp port nothing listens on (one that was free a moment ago). */
const FREE_PORT = `
import net from "node:net"
const server = net.createServer()
await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve))
const port = server.address().port
await new Promise((resolve) => server.close(resolve))
`

const WARNING = "WARNING: Waiting for queued ZeroMQ messages to be delivered."

describe.skipIf(!built).concurrent.each(libraries)("process exit ($name)", ({ load }) => {
  it("exits (0) when its sockets are closed", async ({ expect }) => {
    const exit = await run(load, `new zmq.Dealer().close(); new zmq.Router().close()`)
    expect(exit).toMatchObject({ code: 0, stderr: "" })
  })

  it("exits (0) when sockets of a custom context are left open", async ({ expect }) => {
    const exit = await run(load, `const context = new zmq.Context(); new zmq.Dealer({ context }); new zmq.Router({ context })`)
    expect(exit).toMatchObject({ code: 0, stderr: "" })
  })

  it("exits (0) with idle sockets left open, bound and connected", async ({ expect }) => {
    const exit = await run(load, `
      const server = new zmq.Dealer()
      await server.bind("tcp://127.0.0.1:*")
      const client = new zmq.Dealer()
      client.connect(server.lastEndpoint)
      await client.send("hello")
      await server.receive()
      console.log("idle")
    `)
    expect(exit).toMatchObject({ code: 0, stdout: "idle\n", stderr: "" })
  })

  it("exits (0) after a send on a Publisher without subscribers (it drops)", async ({ expect }) => {
    const exit = await run(load, `const pub = new zmq.Publisher(); await pub.send("test"); console.log("sent")`)
    expect(exit).toMatchObject({ code: 0, stdout: "sent\n", stderr: "" })
  })

  it("stays alive while a receive() waits, and exits once the socket is closed", async ({ expect }) => {
    const exit = await run(load, `
      const sock = new zmq.Dealer()
      sock.connect("inproc://nobody-binds-this")
      sock.receive().catch((err) => console.log("receive", err.code))
      ${whenStillAlive("sock.close()")}
    `)
    expect(exit).toMatchObject({ code: 0, stdout: "alive\nreceive EAGAIN\n", stderr: "" })
  })

  it("stays alive while a send() on a Dealer without peers waits", async ({ expect }) => {
    const exit = await run(load, `
      const sock = new zmq.Dealer()
      sock.send("test").catch((err) => console.log("send", err.code))
      ${whenStillAlive("sock.close()")}
    `)
    expect(exit).toMatchObject({ code: 0, stdout: "alive\nsend EAGAIN\n", stderr: "" })
  })

  it("stays alive while a for-await reads the socket's events, and exits once the socket is closed", async ({ expect }) => {
    const exit = await run(load, `
      const sock = new zmq.Dealer()
      ;(async () => {
        for await (const event of sock.events) console.log(event.type)
        console.log("done")
      })()
      ${whenStillAlive("sock.close()")}
    `)
    expect(exit).toMatchObject({ code: 0, stdout: "alive\nend\ndone\n", stderr: "" })
  })

  it("exits (0) when the socket whose events are read is closed at once", async ({ expect }) => {
    const exit = await run(load, `
      const sock = new zmq.Dealer()
      ;(async () => {
        for await (const event of sock.events) console.log(event.type)
        console.log("done")
      })()
      sock.close()
    `)
    expect(exit).toMatchObject({ code: 0, stdout: "end\ndone\n", stderr: "" })
  })

  describe("with a message queued for an absent peer", () => {
    it("linger 1000: waits for it at exit, warning with the blocky hint", async ({ expect }) => {
      const exit = await run(load, `${FREE_PORT}
        const sock = new zmq.Dealer({ linger: 1000 })
        sock.connect("tcp://127.0.0.1:" + port)
        sock.send(null).catch((err) => console.log("send", err.code))
      `)
      expect(exit.code).toBe(0)
      expect(exit.stderr).toBe(`(node:${exit.pid}) ${WARNING} Set 'context.blocky = false' to change this behaviour.\n`)
      expect(exit.elapsed).toBeGreaterThanOrEqual(1000)
    })

    it("linger 1000 with context.blocky = false: the warning has no hint", async ({ expect }) => {
      const exit = await run(load, `${FREE_PORT}
        zmq.context.blocky = false
        const sock = new zmq.Dealer({ linger: 1000 })
        sock.connect("tcp://127.0.0.1:" + port)
        sock.send(null).catch((err) => console.log("send", err.code))
      `)
      expect(exit.code).toBe(0)
      expect(exit.stderr).toBe(`(node:${exit.pid}) ${WARNING}\n`)
    })

    it("linger 50: exits without a warning", async ({ expect }) => {
      const exit = await run(load, `${FREE_PORT}
        const sock = new zmq.Dealer({ linger: 50 })
        sock.connect("tcp://127.0.0.1:" + port)
        sock.send(null).catch((err) => console.log("send", err.code))
      `)
      expect(exit).toMatchObject({ code: 0, stderr: "" })
    })
  })
})
