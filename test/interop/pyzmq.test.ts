/**
 * PUSH/PULL against pyzmq (Debian's python3-zmq, its own libzmq build) as a
 * second peer independent of the zeromq npm package. Skipped when
 * /usr/bin/python3 cannot import zmq; CI installs python3-zmq.
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process"
import { createHash, randomBytes } from "node:crypto"
import { createInterface } from "node:readline"
import { afterEach, describe, expect, it } from "vitest"
import * as zmesh from "../../src/index.js"
import { closeAll } from "../helpers/sockets.js"

const PYTHON = "/usr/bin/python3"
const hasPyzmq = spawnSync(PYTHON, ["-c", "import zmq"], { stdio: "ignore" }).status === 0

/** Prints the bound endpoint, then one JSON line per received message (frames in hex), then exits. */
const PULL_SCRIPT = `
import json, sys, zmq
ctx = zmq.Context()
s = ctx.socket(zmq.PULL)
s.rcvtimeo = 10000
s.linger = 0
s.bind("tcp://127.0.0.1:*")
print(s.getsockopt_string(zmq.LAST_ENDPOINT), flush=True)
for _ in range(int(sys.argv[1])):
    print(json.dumps([f.hex() for f in s.recv_multipart()]), flush=True)
s.close()
ctx.term()
`

/** Connects, sends the messages given as a JSON list of hex-frame lists, and waits (linger) until they are out. */
const PUSH_SCRIPT = `
import json, sys, zmq
ctx = zmq.Context()
s = ctx.socket(zmq.PUSH)
s.linger = 10000
s.connect(sys.argv[1])
for message in json.loads(sys.stdin.read()):
    s.send_multipart([bytes.fromhex(f) for f in message])
s.close()
ctx.term()
`

const children: ChildProcess[] = []
const sockets: zmesh.Socket[] = []

afterEach(() => {
  closeAll(...sockets.splice(0))
  for (const child of children.splice(0)) if (child.exitCode === null && child.signalCode === null) child.kill()
})

function python(script: string, args: string[]): { child: ChildProcess; lines: AsyncIterator<string>; exited: Promise<number | null> } {
  const child = spawn(PYTHON, ["-c", script, ...args], { stdio: ["pipe", "pipe", "pipe"] })
  children.push(child)
  let stderr = ""
  child.stderr!.on("data", (chunk: Buffer) => (stderr += chunk.toString()))
  const exited = new Promise<number | null>((resolve) =>
    child.on("exit", (code) => {
      if (code !== 0) process.stderr.write(`python exited with ${code}: ${stderr}`)
      resolve(code)
    }),
  )
  const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]()
  return { child, lines, exited }
}

const big = randomBytes(100 * 1024)
/** Multipart with empty frames, a 0-byte message, a long frame, then numbered messages. */
const messages: Buffer[][] = [
  [Buffer.from("from"), Buffer.alloc(0), Buffer.from("zmesh"), Buffer.alloc(0)],
  [Buffer.alloc(0)],
  [Buffer.from("big"), big],
  ...Array.from({ length: 100 }, (_, i) => [Buffer.from(String(i))]),
]
const digest = (message: Buffer[]) => message.map((f) => createHash("sha256").update(f).digest("hex")).join(",")

describe.skipIf(!hasPyzmq)("PUSH/PULL interop with pyzmq over tcp", () => {
  it("zmesh PUSH connects to a pyzmq PULL that binds: every frame arrives byte-exact, in order", async () => {
    const { lines, exited } = python(PULL_SCRIPT, [String(messages.length)])
    const endpoint = (await lines.next()).value as string
    expect(endpoint).toMatch(/^tcp:\/\/127\.0\.0\.1:\d+$/)

    const push = new zmesh.Push()
    sockets.push(push)
    push.connect(endpoint)
    for (const message of messages) await push.send(message)

    const received: Buffer[][] = []
    for (let i = 0; i < messages.length; i++) {
      const line = await lines.next()
      if (line.done === true) break
      received.push((JSON.parse(line.value) as string[]).map((f) => Buffer.from(f, "hex")))
    }
    expect(await exited).toBe(0)
    expect(received.map(digest)).toEqual(messages.map(digest))
  })

  it("a pyzmq PUSH connects to a zmesh PULL that binds: every frame arrives byte-exact, in order", async () => {
    const pull = new zmesh.Pull()
    sockets.push(pull)
    await pull.bind("tcp://127.0.0.1:*")
    const { child, exited } = python(PUSH_SCRIPT, [pull.lastEndpoint!])
    child.stdin!.end(JSON.stringify(messages.map((m) => m.map((f) => f.toString("hex")))))

    const received: Buffer[][] = []
    for (let i = 0; i < messages.length; i++) received.push(await pull.receive())
    expect(received.map(digest)).toEqual(messages.map(digest))
    expect(await exited).toBe(0)
  })
})
