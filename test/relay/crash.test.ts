/**
 * Kill -9 under load: the CLI relay (node dist/src/cli.js relay) takes sends
 * from concurrent producers and acks from a consumer, and is SIGKILLed at a
 * random moment, over and over. After each restart every confirmed message
 * must be delivered, byte for byte, and no durably acked one may come back.
 * Some rounds add a torn tail to the log (it must be repaired); the last one
 * flips a byte inside a sealed segment (it must be reported, not swallowed).
 * ZMESH_CRASH_CYCLES sets the rounds (bench/relay/crash-soak.js runs many).
 */
import { createHash } from "node:crypto"
import { appendFileSync, closeSync, cpSync, openSync, readFileSync, readdirSync, writeSync } from "node:fs"
import { join } from "node:path"
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest"
import { RelayClient, type RelayConsumer } from "../../src/relay/index.js"
import { decodeOp } from "../../src/relay/store/log/op-codec.js"
import { RECORD_HEADER, SEGMENT_HEADER, readSeq } from "../../src/relay/store/log/record.js"
import type { StoreOp } from "../../src/relay/store/store.js"
import { type CliRelay, ensureBuilt, killIfAlive, startCli } from "./cli-helpers.js"
import { removeTempDirs, tempDir } from "./helpers.js"

const CYCLES = Number(process.env.ZMESH_CRASH_CYCLES ?? 20)
const SEGMENT = 64 * 1024

/** The body of message `id`: its length and bytes follow from the id, so any damage shows. */
function bodyOf(id: string): Buffer {
  const digest = createHash("sha256").update(id).digest()
  const size = 16 + (digest.readUInt16BE(0) % 1500)
  const out = Buffer.alloc(size)
  for (let i = 0; i < size; i += digest.length) digest.copy(out, i)
  return out
}

interface Ledger {
  /** Confirmed sends: id -> seq. */
  readonly confirmed: Map<string, number>
  /** Acks that resolved (durable): these must never come back. */
  readonly acked: Set<string>
  /** Acks sent and never answered (the relay died): they may or may not have been applied. */
  readonly acking: Set<string>
  /** Ids the relay reported corrupt (by seq, from its log). */
  readonly reported: Set<string>
  /** Every earlier relay's output lines, for a failure report. */
  readonly logs: string[]
  next: number
}

/** Producers send and a consumer acks half of what it gets, until `stop` resolves. */
async function load(endpoint: string, ledger: Ledger, stop: Promise<void>): Promise<void> {
  let stopped = false
  void stop.then(() => (stopped = true))
  const producers = [new RelayClient({ relay: endpoint, sendTimeout: 5000 }), new RelayClient({ relay: endpoint, sendTimeout: 5000 })]
  const consumerClient = new RelayClient({ relay: endpoint, sendTimeout: 5000 })
  const loops: Promise<void>[] = []
  for (const p of producers) {
    for (let k = 0; k < 8; k++) {
      loops.push(
        (async () => {
          while (!stopped) {
            const id = `c-${ledger.next++}`
            try {
              const r = await p.send("crash", bodyOf(id), { id })
              ledger.confirmed.set(id, r.seq)
            } catch {
              return // the relay died under us: this one is unconfirmed
            }
          }
        })(),
      )
    }
  }
  const consumer = consumerClient.consume("crash", { prefetch: 64, maxDeliveries: 1000, ackTimeout: 60_000 })
  loops.push(
    (async () => {
      let n = 0
      for (;;) {
        const m = await Promise.race([consumer.receive(), stop.then(() => undefined)])
        if (m === undefined) return
        if (n++ % 2 === 1) continue // left unacked: redelivered after the crash
        ledger.acking.add(m.id)
        m.ack().then(
          () => {
            ledger.acking.delete(m.id)
            ledger.acked.add(m.id)
          },
          () => undefined,
        )
      }
    })(),
  )
  await stop
  // The relay is dead: what is still pending is unconfirmed; closing rejects it.
  for (const c of [...producers, consumerClient]) await c.close()
  await Promise.all(loops)
}

/** For a failure report: what the log holds about some seqs (their MESSAGE, and ACK/RETRY records naming them). */
function logAbout(dir: string, seqs: readonly number[]): string {
  const out: string[] = []
  const wanted = new Set(seqs)
  for (const name of readdirSync(join(dir, "log")).filter((n) => n.endsWith(".seg")).sort()) {
    const data = readFileSync(join(dir, "log", name))
    for (let at = SEGMENT_HEADER; at + RECORD_HEADER <= data.length; at += RECORD_HEADER + data.readUInt32BE(at)) {
      const len = data.readUInt32BE(at)
      if (len === 0 || at + RECORD_HEADER + len > data.length) break
      const seq = readSeq(data, at + 8)
      let op: StoreOp
      try {
        op = decodeOp(data.subarray(at + RECORD_HEADER, at + RECORD_HEADER + len))
      } catch {
        continue
      }
      const hit = wanted.has(seq) || (op.type === "ack" && op.positions.some((p) => wanted.has(p))) || (op.type === "retry" && wanted.has(op.pos))
      if (hit) out.push(`${name}@${at} seq ${seq}: ${op.type}${op.type === "message" ? ` ${op.id}` : op.type === "ack" ? ` of ${op.positions.filter((p) => wanted.has(p))}` : ""}`)
    }
  }
  return out.length > 0 ? out.join("\n") : "nothing in the log names them"
}

/** After a restart: every confirmed, unacked message comes, intact; no acked one does. */
async function verify(endpoint: string, dir: string, ledger: Ledger, stderr: () => string): Promise<void> {
  const client = new RelayClient({ relay: endpoint, sendTimeout: 10_000 })
  const consumer: RelayConsumer = client.consume("crash", { prefetch: 500, maxDeliveries: 1000, ackTimeout: 60_000 })
  const missing = new Set([...ledger.confirmed.keys()].filter((id) => !ledger.acked.has(id) && !ledger.acking.has(id) && !ledger.reported.has(id)))
  const deadline = Date.now() + 15_000
  const acks: Promise<void>[] = []
  // One receive at a time: a receive abandoned after a wait would take the next message with it.
  let next = consumer.receive()
  while (missing.size > 0) {
    const left = deadline - Date.now()
    if (left <= 0) {
      const lost = [...missing].slice(0, 5)
      const seqs = lost.map((id) => ledger.confirmed.get(id)!)
      const earlier = ledger.logs.filter((l) => seqs.some((q) => l.includes(String(q))))
      throw new Error(
        `${missing.size} confirmed messages never came back, e.g. ${lost.map((id, i) => `${id} (seq ${seqs[i]})`).join(", ")}\n` +
          `the log: ${logAbout(dir, seqs)}\nstderr now:\n${stderr()}\nearlier relays' log lines naming them:\n${earlier.join("\n")}`,
      )
    }
    let timer: NodeJS.Timeout | undefined
    const m = await Promise.race([next, new Promise<"wait">((resolve) => (timer = setTimeout(resolve, Math.min(left, 500), "wait")))])
    clearTimeout(timer)
    if (m === "wait") {
      // Report corrupt messages by seq, from the relay's log, before giving up on them.
      const log = stderr()
      for (const [id, seq] of ledger.confirmed) {
        if (missing.has(id) && (log.includes(`at position ${seq} `) || log.includes(`(seq ${seq})`))) {
          missing.delete(id)
          ledger.reported.add(id)
        }
      }
      continue
    }
    if (m === undefined) throw new Error("the consumer ended")
    next = consumer.receive()
    if (ledger.acked.has(m.id)) throw new Error(`${m.id} was acked durably and came back (deliveryCount ${m.deliveryCount})`)
    if (!m.body.equals(bodyOf(m.id))) throw new Error(`${m.id} came back damaged: ${m.body.length} bytes`)
    missing.delete(m.id)
    const id = m.id
    ledger.acking.delete(id)
    acks.push(m.ack().then(() => void ledger.acked.add(id)))
  }
  await Promise.all(acks)
  await client.close()
}

/** The offset of a message record in a sealed segment whose seq is a confirmed, unacked message. */
function flipInSealedSegment(dir: string, ledger: Ledger): { file: string; seq: number } | undefined {
  const files = readdirSync(join(dir, "log")).filter((n) => n.endsWith(".seg")).sort()
  const wanted = new Set([...ledger.confirmed].filter(([id]) => !ledger.acked.has(id) && !ledger.acking.has(id)).map(([, seq]) => seq))
  for (const name of files.slice(0, -1)) {
    const path = join(dir, "log", name)
    const data = readFileSync(path)
    for (let at = SEGMENT_HEADER; at + RECORD_HEADER <= data.length; at += RECORD_HEADER + data.readUInt32BE(at)) {
      const seq = readSeq(data, at + 8)
      if (!wanted.has(seq)) continue
      const fd = openSync(path, "r+")
      writeSync(fd, Buffer.from([data[at + RECORD_HEADER + 20]! ^ 0x01]), 0, 1, at + RECORD_HEADER + 20)
      closeSync(fd)
      return { file: name, seq }
    }
  }
  return undefined
}

describe("the CLI relay killed with SIGKILL under load", () => {
  let relay: CliRelay | undefined
  beforeAll(() => ensureBuilt(), 120_000)
  afterEach(() => killIfAlive(relay))
  afterAll(() => {
    if (!process.env.ZMESH_CRASH_KEEP) removeTempDirs()
  })

  it(`loses no confirmed message over ${CYCLES} kill -9 rounds, repairs torn tails, reports a flipped byte`, async () => {
    const dir = tempDir()
    const args = ["--bind", "tcp://127.0.0.1:*", "--data", dir, "--segment-size", String(SEGMENT), "--stats-interval", "0"]
    const ledger: Ledger = { confirmed: new Map(), acked: new Set(), acking: new Set(), reported: new Set(), logs: [], next: 0 }
    let torn = 0
    let flipped: { file: string; seq: number } | undefined
    for (let cycle = 0; cycle <= CYCLES; cycle++) {
      const t0 = Date.now()
      if (process.env.ZMESH_CRASH_KEEP) cpSync(dir, `${dir}-cycle-${cycle}`, { recursive: true })
      relay = await startCli(args)
      const t1 = Date.now()
      expect(relay.endpoint, relay.stderr()).not.toBe("")
      if (cycle > 0 && cycle % 4 === 0) {
        // Ours, plus whatever the kill itself cut short (a write stops at a page when SIGKILL is pending).
        const bytes = Number(/truncated a torn tail of (\d+) bytes/.exec(relay.stdout())?.[1])
        expect(bytes, relay.stdout()).toBeGreaterThanOrEqual(37)
      }
      const r = relay
      await verify(relay.endpoint, dir, ledger, () => r.stderr()).catch((err: Error) => {
        throw new Error(`cycle ${cycle} (data ${dir}): ${err.message}\nstdout:\n${r.stdout()}`)
      })
      if (process.env.ZMESH_CRASH_DEBUG) console.log(`cycle ${cycle}: start ${t1 - t0} ms, verify ${Date.now() - t1} ms`)
      if (cycle === CYCLES) break
      const run = 100 + Math.floor(Math.random() * 300)
      await load(relay.endpoint, ledger, new Promise((resolve) => setTimeout(resolve, run)).then(() => void relay!.proc.kill("SIGKILL")))
      await relay.exited
      ledger.logs.push(...`${relay.stdout()}${relay.stderr()}`.split("\n").filter((l) => l !== "").map((l) => `cycle ${cycle}: ${l}`))
      if ((cycle + 1) % 4 === 0) {
        // A write cut short by a power cut: a record header promising more than follows.
        const last = readdirSync(join(dir, "log")).filter((n) => n.endsWith(".seg")).sort().at(-1)!
        const tail = Buffer.alloc(37, 0x5a)
        tail.writeUInt32BE(4000, 0)
        appendFileSync(join(dir, "log", last), tail)
        torn++
      }
      if (cycle === CYCLES - 1) flipped = flipInSealedSegment(dir, ledger)
    }
    expect(torn).toBeGreaterThanOrEqual(Math.floor(CYCLES / 4))
    expect(flipped, "a sealed segment with an unacked message to damage").toBeDefined()
    // The damaged message was reported (at open if replayed, else when read) and not delivered as good data.
    expect(relay!.stderr()).toMatch(new RegExp(`corrupt.*(position ${flipped!.seq} .*${flipped!.file}|${flipped!.file}.*seq ${flipped!.seq}\\))`))
    expect(ledger.reported.size).toBe(1)
    expect(ledger.confirmed.size).toBeGreaterThan(CYCLES * 10)
    relay!.proc.kill("SIGTERM")
    expect(await relay!.exited).toBe(0)
  }, 30_000 + CYCLES * 3000)
})
