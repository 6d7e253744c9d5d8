/**
 * CPU time of a CURVE server's side of one handshake: building the
 * mechanism (its permanent key imported), reading HELLO and answering
 * WELCOME, reading INITIATE (cookie, vouch, metadata) and answering READY,
 * with no ZAP handler. A CurveClient and a CurveServer talk through a
 * minimal in-memory host; only the server's sections are timed, with
 * process.cpuUsage (so other processes on a shared machine do not count).
 * Also the X25519 operation alone, node:crypto against @noble/curves.
 *
 *     npx tsc -p bench/micro && node dist/bench-micro/bench/micro/curve-handshake.bench.js [--count N]
 */
import { x25519 } from "@noble/curves/ed25519"
import { randomBytes } from "node:crypto"
import { cpus, loadavg } from "node:os"
import { parseArgs } from "node:util"
import { CurveClient, CurveServer } from "../../src/zmtp/mechanisms/curve.js"
import { generateKeyPair, loadSodium, precompute } from "../../src/zmtp/mechanisms/curve-crypto.js"
import type { Mechanism, MechanismHost } from "../../src/zmtp/mechanisms/mechanism.js"

const { values: flags } = parseArgs({ options: { count: { type: "string", default: "300" } } })
const COUNT = Number(flags.count)

/** CPU µs of this process (all threads) since `from`. */
function cpuSince(from: NodeJS.CpuUsage): number {
  const { user, system } = process.cpuUsage(from)
  return user + system
}

/** A ZMTP command frame's name and data. */
function parseCommand(frame: Buffer): { name: string; data: Buffer } {
  const long = (frame[0]! & 0x02) !== 0
  const body = frame.subarray(long ? 9 : 2)
  return { name: body.toString("latin1", 1, 1 + body[0]!), data: body.subarray(1 + body[0]!) }
}

interface Side {
  readonly host: MechanismHost
  readonly sent: Buffer[]
  ready: boolean
}

function side(): Side {
  const s: Side = {
    sent: [],
    ready: false,
    host: {
      localMetadata: [["Socket-Type", "DEALER"], ["Identity", ""]],
      sendCommand: (frame) => void s.sent.push(frame),
      checkPeer: () => undefined,
      ready: () => {
        s.ready = true
      },
      fail: (_kind, error) => {
        throw error
      },
      zap: () => Promise.resolve(undefined),
      open: true,
    },
  }
  return s
}

/** One handshake; returns the server's CPU µs. */
async function handshake(serverSecret: Buffer, serverPublic: Buffer, client: { publicKey: Buffer; secretKey: Buffer }): Promise<number> {
  const clientSide = side()
  const serverSide = side()
  const clientMechanism: Mechanism = new CurveClient(serverPublic, client.publicKey, client.secretKey)
  let start = process.cpuUsage()
  const server: Mechanism = new CurveServer(serverSecret)
  server.start(serverSide.host)
  let serverCpu = cpuSince(start)
  clientMechanism.start(clientSide.host)
  while (!clientSide.ready || !serverSide.ready) {
    const toServer = clientSide.sent.shift()
    if (toServer !== undefined) {
      const { name, data } = parseCommand(toServer)
      start = process.cpuUsage()
      server.onCommand(name, data)
      // INITIATE's answer (READY) follows the ZAP step, a few microtasks later.
      if (name === "INITIATE") while (!serverSide.ready) await Promise.resolve()
      serverCpu += cpuSince(start)
      continue
    }
    const toClient = serverSide.sent.shift()
    if (toClient === undefined) throw new Error("handshake stalled")
    const { name, data } = parseCommand(toClient)
    clientMechanism.onCommand(name, data)
  }
  return serverCpu
}

async function main(): Promise<void> {
  await loadSodium()
  console.log(`CURVE server handshake, CPU time per handshake (process.cpuUsage), ${COUNT} handshakes after ${COUNT / 10} warm-up`)
  console.log(`${cpus().length} x ${cpus()[0]?.model.trim()}, Node ${process.version}, load average ${loadavg().map((l) => l.toFixed(2)).join(" ")}`)
  const server = generateKeyPair()
  const client = generateKeyPair()
  for (let i = 0; i < COUNT / 10; i++) await handshake(server.secretKey, server.publicKey, client)
  const samples: number[] = []
  const wallStart = performance.now()
  for (let i = 0; i < COUNT; i++) samples.push(await handshake(server.secretKey, server.publicKey, client))
  const wall = (performance.now() - wallStart) / COUNT
  samples.sort((a, b) => a - b)
  const ms = (us: number) => (us / 1000).toFixed(3)
  console.log(`server CPU per handshake: median ${ms(samples[samples.length >> 1]!)} ms, p90 ${ms(samples[Math.floor(samples.length * 0.9)]!)} ms, min ${ms(samples[0]!)} ms`)
  console.log(`whole handshake (client and server, one process), wall: ${wall.toFixed(3)} ms`)

  // A new server key each time: the first connection of a socket also imports its permanent key.
  const cold: number[] = []
  for (let i = 0; i < COUNT / 3; i++) {
    const fresh = generateKeyPair()
    cold.push(await handshake(fresh.secretKey, fresh.publicKey, client))
  }
  cold.sort((a, b) => a - b)
  console.log(`server CPU, first handshake with a new server key: median ${ms(cold[cold.length >> 1]!)} ms, p90 ${ms(cold[Math.floor(cold.length * 0.9)]!)} ms`)

  // X25519 alone: crypto_box_beforenm (X25519 + HSalsa20) as zmesh does it, against noble's X25519.
  const secret = randomBytes(32)
  const other = generateKeyPair()
  const time = (n: number, fn: () => void) => {
    fn()
    const start = process.cpuUsage()
    for (let i = 0; i < n; i++) fn()
    return cpuSince(start) / n
  }
  console.log(`X25519 + HSalsa20, node:crypto (precompute, secret imported each time): ${(time(300, () => precompute(other.publicKey, secret)) / 1000).toFixed(3)} ms`)
  console.log(`X25519 + HSalsa20, node:crypto (secret already a KeyObject): ${(time(300, () => precompute(other.publicKey, other.secret)) / 1000).toFixed(3)} ms`)
  console.log(`X25519, @noble/curves (before): ${(time(20, () => x25519.getSharedSecret(secret, other.publicKey)) / 1000).toFixed(3)} ms`)
}

await main()
