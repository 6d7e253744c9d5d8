/**
 * CURVE MESSAGE boxes, candidate against candidate: the cost of turning one
 * frame body into the bytes of its MESSAGE command (seal) and back (open),
 * at 16 B, 1 KiB and 64 KiB, each candidate doing all the copying and
 * allocation the wire needs:
 *
 * - noble xsalsa20poly1305, as zmesh did before (HSalsa20 per call, the box
 *   allocated, then Buffer.concat behind the command name and nonce);
 * - noble's salsa20 and poly1305 with the HSalsa20 subkey derived once;
 * - libsodium-wrappers (libsodium 1.0.x as WebAssembly), crypto_box_easy_afternm
 *   and its open through the wrappers' API, when installed
 *   (`npm i --no-save libsodium-wrappers@0.8.4`);
 * - the same libsodium build used raw, as zmesh does now (curve-sodium.ts):
 *   the plaintext written straight into one preallocated area of its heap,
 *   boxed in place there, the box copied out once;
 * - a hand-tuned TypeScript box (candidates/): subkey once per direction,
 *   sealed and opened in place in the one buffer each message needs.
 *
 *     npx tsc -p bench/micro && node dist/bench-micro/bench/micro/curve-box.bench.js [--time ms]
 *
 * Prints CPU µs per box (the median sample of tinybench timed with
 * process.cpuUsage; small boxes run in batches so that a sample is well
 * above the clock's resolution) and MB/s of frame body per CPU second.
 */
import { poly1305 as noblePoly1305 } from "@noble/ciphers/_poly1305"
import { salsa20, xsalsa20poly1305 } from "@noble/ciphers/salsa"
import { randomBytes } from "node:crypto"
import { cpus, loadavg } from "node:os"
import { parseArgs } from "node:util"
import { Bench } from "tinybench"
import { loadSodium, openBox, plaintextArea, sealArea } from "../../src/zmtp/mechanisms/curve-sodium.js"
import { MessageBox } from "./candidates/message-box.js"
import { hsalsa20 } from "./candidates/salsa20.js"

const { values: flags } = parseArgs({ options: { time: { type: "string", default: "400" } } })
const TIME = Number(flags.time)

const SIZES = [16, 1024, 65536]
const NAME = Buffer.from("\x07MESSAGE", "latin1")
const PREFIX = Buffer.from("CurveZMQMESSAGEC", "latin1")
const KEY = randomBytes(32)

/** One candidate: how it seals a frame body into a MESSAGE command body and opens one. */
interface Candidate {
  readonly name: string
  seal(nonce: Buffer, body: Buffer): Buffer
  open(message: Buffer): Buffer
}

function longNonce(short: Uint8Array): Buffer {
  const nonce = Buffer.allocUnsafe(24)
  PREFIX.copy(nonce, 0)
  nonce.set(short, 16)
  return nonce
}

/** What curve.ts did before: a plaintext copy, noble's box, Buffer.concat. */
const nobleBox: Candidate = {
  name: "noble xsalsa20poly1305 (before)",
  seal(short, body) {
    const plain = Buffer.allocUnsafe(1 + body.length)
    plain[0] = 0
    body.copy(plain, 1)
    const box = xsalsa20poly1305(KEY, longNonce(short)).encrypt(plain)
    return Buffer.concat([NAME, short, Buffer.from(box.buffer, box.byteOffset, box.byteLength)])
  },
  open(message) {
    const plain = xsalsa20poly1305(KEY, longNonce(message.subarray(8, 16))).decrypt(message.subarray(16))
    return Buffer.from(plain.buffer, plain.byteOffset + 1, plain.byteLength - 1)
  },
}

/**
 * noble's salsa20 works on whole 64-byte keystream blocks from its start, so
 * the poly key (bytes 0-31) and the plaintext (from byte 32) go in one buffer.
 */
const nobleSubkeyBox: Candidate = (() => {
  const words = new Int32Array(8)
  hsalsa20(KEY, PREFIX, words)
  const subkey = new Uint8Array(words.buffer)
  return {
    name: "noble salsa20 + poly1305, subkey once",
    seal(short, body) {
      // work: [poly key 32][flags][body]; the command: [name 8][nonce 8][tag 16][ciphertext]
      const work = new Uint8Array(33 + body.length)
      work.set(body, 33)
      salsa20(subkey, short, work, work)
      const tag = noblePoly1305(work.subarray(32), work.subarray(0, 32))
      const out = Buffer.allocUnsafe(32 + 1 + body.length)
      NAME.copy(out, 0)
      out.set(short, 8)
      out.set(tag, 16)
      out.set(work.subarray(32), 32)
      return out
    },
    open(message) {
      const short = message.subarray(8, 16)
      const work = new Uint8Array(message.length)
      work.set(message.subarray(32), 32)
      salsa20(subkey, short, work, work, 0)
      // Keystream block 0 XORed the first 32 ciphertext bytes already; tag over the ciphertext itself.
      const tag = noblePoly1305(message.subarray(32), work.subarray(0, 32))
      if (Buffer.compare(Buffer.from(tag), message.subarray(16, 32)) !== 0) throw new Error("bad tag")
      return Buffer.from(work.buffer, work.byteOffset + 33, work.byteLength - 33)
    },
  }
})()

/** libsodium raw through one heap area: what curve.ts does. */
const sodiumRawBox: Candidate = (() => {
  const nonce = longNonce(new Uint8Array(8))
  return {
    name: "libsodium raw, heap area (zmesh now)",
    seal(short, body) {
      const length = 1 + body.length
      const plain = plaintextArea(length)
      plain[0] = 0
      plain.set(body, 1)
      nonce.set(short, 16)
      const box = sealArea(KEY, nonce, length)
      const out = Buffer.allocUnsafe(16 + box.length)
      NAME.copy(out, 0)
      out.set(short, 8)
      out.set(box, 16)
      return out
    },
    open(message) {
      nonce.set(message.subarray(8, 16), 16)
      const plain = openBox(KEY, nonce, message.subarray(16))
      if (plain === undefined) throw new Error("bad tag")
      const out = Buffer.allocUnsafe(plain.length - 1)
      out.set(plain.subarray(1))
      return out
    },
  }
})()

/** The hand-tuned candidate. */
const zmeshBox: Candidate = (() => {
  const sender = new MessageBox(KEY, PREFIX)
  const receiver = new MessageBox(KEY, PREFIX)
  return {
    name: "hand-tuned TypeScript, in place",
    seal(short, body) {
      const out = Buffer.allocUnsafe(33 + body.length)
      NAME.copy(out, 0)
      out.set(short, 8)
      out[32] = 0
      body.copy(out, 33)
      sender.seal(out, 8, out, 32, 1 + body.length)
      return out
    },
    open(message) {
      const length = message.length - 32
      const plain = Buffer.allocUnsafe(length)
      message.copy(plain, 0, 32)
      if (!receiver.open(message, 8, message, 16, plain, 0, length)) throw new Error("bad tag")
      return plain.subarray(1)
    },
  }
})()

interface Sodium {
  ready: Promise<void>
  crypto_box_easy_afternm(message: Uint8Array, nonce: Uint8Array, key: Uint8Array): Uint8Array
  crypto_box_open_easy_afternm(box: Uint8Array, nonce: Uint8Array, key: Uint8Array): Uint8Array
}

async function sodiumBox(): Promise<Candidate | string> {
  let sodium: Sodium
  try {
    const name = "libsodium-wrappers"
    sodium = ((await import(name)) as { default: Sodium }).default
    await sodium.ready
  } catch {
    return "libsodium-wrappers: not installed, skipped (npm i --no-save libsodium-wrappers@0.8.4)"
  }
  return {
    name: "libsodium-wrappers (WebAssembly)",
    seal(short, body) {
      const plain = Buffer.allocUnsafe(1 + body.length)
      plain[0] = 0
      body.copy(plain, 1)
      const box = sodium.crypto_box_easy_afternm(plain, longNonce(short), KEY)
      const out = Buffer.allocUnsafe(16 + box.length)
      NAME.copy(out, 0)
      out.set(short, 8)
      out.set(box, 16)
      return out
    },
    open(message) {
      const plain = sodium.crypto_box_open_easy_afternm(message.subarray(16), longNonce(message.subarray(8, 16)), KEY)
      return Buffer.from(plain.buffer, plain.byteOffset + 1, plain.byteLength - 1)
    },
  }
}

// ---- run ---------------------------------------------------------------------------

/**
 * The process's CPU time in ms: on a shared machine wall time counts the
 * turns other processes take; CPU time counts only the work (µs resolution).
 */
function cpuNow(): number {
  const { user, system } = process.cpuUsage()
  return (user + system) / 1000
}

/** Boxes per timed call: enough that one sample is well above the timer's resolution. */
const batchFor = (size: number) => Math.max(1, Math.floor(16384 / size))

async function main(): Promise<void> {
  const sodium = await sodiumBox()
  await loadSodium()
  const candidates = [nobleBox, nobleSubkeyBox, ...(typeof sodium === "string" ? [] : [sodium]), sodiumRawBox, zmeshBox]
  console.log(`CURVE MESSAGE box, seal and open per frame body; tinybench on CPU time, ${TIME} ms a task, median sample`)
  console.log(`${cpus().length} x ${cpus()[0]?.model.trim()}, Node ${process.version}, load average ${loadavg().map((l) => l.toFixed(2)).join(" ")}`)
  if (typeof sodium === "string") console.log(sodium)

  // Every candidate must produce the same bytes as the others before it is timed.
  const short = Buffer.from([0, 0, 0, 0, 0, 0, 0, 1])
  for (const size of SIZES) {
    const body = randomBytes(size)
    const reference = nobleBox.seal(short, body)
    for (const c of candidates) {
      const sealed = c.seal(short, body)
      if (!sealed.equals(reference)) throw new Error(`${c.name} seals ${size} B differently from noble`)
      if (!c.open(reference).equals(body)) throw new Error(`${c.name} opens ${size} B differently`)
    }
  }

  const rows: string[][] = []
  for (const size of SIZES) {
    const body = randomBytes(size)
    const sealed = nobleBox.seal(short, body)
    const batch = batchFor(size)
    const bench = new Bench({ time: TIME, warmup: true, now: cpuNow })
    for (const c of candidates) {
      bench.add(`${c.name} seal`, () => {
        for (let i = 0; i < batch; i++) c.seal(short, body)
      })
      bench.add(`${c.name} open`, () => {
        for (let i = 0; i < batch; i++) c.open(sealed)
      })
    }
    await bench.run()
    for (const c of candidates) {
      const perBox = (task: string) => {
        const result = bench.getTask(`${c.name} ${task}`)?.result
        if (result === undefined || !("latency" in result)) throw new Error(`${c.name} ${task}: no result`)
        return (result.latency.p50 * 1000) / batch
      }
      const seal = perBox("seal")
      const open = perBox("open")
      rows.push([
        sizeName(size), c.name, seal.toFixed(2), (size / seal).toFixed(1), open.toFixed(2), (size / open).toFixed(1),
      ])
    }
  }
  printTable(["size", "candidate", "seal µs", "seal MB/s", "open µs", "open MB/s"], rows)
}

function sizeName(size: number): string {
  return size >= 1024 ? `${size / 1024} KiB` : `${size} B`
}

function printTable(head: string[], rows: string[][]): void {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)))
  const line = (cells: string[]) => `| ${cells.map((c, i) => (i < 2 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join(" | ")} |`
  console.log(line(head))
  console.log(`|${widths.map((w, i) => (i < 2 ? "-".repeat(w + 2) : `${"-".repeat(w + 1)}:`)).join("|")}|`)
  for (const row of rows) console.log(line(row))
}

await main()
