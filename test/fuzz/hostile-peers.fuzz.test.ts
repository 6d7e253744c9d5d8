/**
 * A bound PULL over real TCP under hostile raw connections, while a
 * well-behaved PUSH keeps sending. The sans-IO Session fed the same bytes is
 * the oracle for what each connection should end with.
 */
import net from "node:net"
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import type { Event } from "../../src/events.js"
import { Pull } from "../../src/sockets/pull.js"
import { Push } from "../../src/sockets/push.js"
import { closeAll } from "../helpers/sockets.js"
import { runSession } from "./session-run.js"
import {
  PEER_ERROR_CODES,
  commandBody,
  frame,
  greeting,
  hexOf,
  longHeader,
  metadata,
  mutate,
  mutationArb,
  pushHandshake,
  readyFrame,
  runs,
  validStreamArb,
} from "./streams.js"

const MAX_MESSAGE_SIZE = 4096
/** First frame of every good message; no hostile generator can produce it by chance. */
const TOKEN = Buffer.from("good-peer:7f3a9c1e5b2d40aa", "latin1")
const EVIL = Buffer.from("evil:", "latin1")
/** Deadline for anything the test waits on; reaching it is a failure, never a synchronisation. */
const WATCHDOG_MS = 10_000

interface Hostile {
  readonly label: string
  readonly bytes: Buffer
}

const randomBytes = (max: number) => fc.uint8Array({ minLength: 1, maxLength: max }).map((b) => Buffer.from(b))

const hostileArb: fc.Arbitrary<Hostile> = fc.oneof(
  randomBytes(200).map((bytes) => ({ label: "garbage", bytes })),
  fc
    .tuple(fc.integer({ min: 1, max: 64 }), randomBytes(120))
    .map(([n, tail]) => ({ label: "greeting prefix + garbage", bytes: Buffer.concat([greeting().subarray(0, n), tail]) })),
  randomBytes(200).map((tail) => ({ label: "handshake + garbage", bytes: Buffer.concat([pushHandshake(), tail]) })),
  fc
    .tuple(validStreamArb(EVIL), fc.array(mutationArb, { minLength: 1, maxLength: 4 }))
    .map(([stream, ms]) => ({ label: "mutated stream", bytes: mutate(stream, ms) })),
  fc
    .tuple(
      fc.constantFrom(0x00, 0x01),
      fc.oneof(
        fc.constantFrom(2n ** 32n, 2n ** 63n, BigInt(MAX_MESSAGE_SIZE + 1)),
        fc.bigInt({ min: BigInt(MAX_MESSAGE_SIZE + 1), max: 2n ** 64n - 1n }),
      ),
      fc.uint8Array({ maxLength: 32 }),
    )
    .map(([flags, claim, body]) => ({
      label: "huge frame claim",
      bytes: Buffer.concat([pushHandshake(), frame(0x00, Buffer.concat([EVIL, Buffer.from("ok")])), longHeader(flags, claim), body]),
    })),
  fc
    .constantFrom("PUB", "SUB", "PULL", "PAIR", "REQ", "ROUTER", "push", "")
    .map((type) => ({ label: `Socket-Type ${JSON.stringify(type)}`, bytes: Buffer.concat([greeting(), readyFrame(type)]) })),
  fc
    .constantFrom("PLAIN", "CURVE", "NUL", "NULLX")
    .map((mechanism) => ({
      label: `mechanism ${mechanism}`,
      bytes: Buffer.concat([greeting({ mechanism, asServer: 1 }), readyFrame("PUSH")]),
    })),
  fc.constantFrom(
    { label: "READY without properties", bytes: Buffer.concat([greeting(), frame(0x04, commandBody("READY"))]) },
    { label: "ERROR during handshake", bytes: Buffer.concat([greeting(), frame(0x04, commandBody("ERROR", Buffer.from("\x03bye")))]) },
    { label: "data before READY", bytes: Buffer.concat([greeting(), frame(0x00, EVIL)]) },
    { label: "ZMTP 2.0 greeting", bytes: Buffer.from("ff00000000000000017f0200", "hex") },
    { label: "ERROR after handshake", bytes: Buffer.concat([pushHandshake(), frame(0x04, commandBody("ERROR", Buffer.from("\x03bye")))]) },
    {
      label: "malformed metadata",
      bytes: Buffer.concat([greeting(), frame(0x04, commandBody("READY", metadata([["Socket-Type", "PUSH"]]).subarray(0, 15)))]),
    },
  ),
)

/** What the sans-IO oracle says a connection sending these bytes ends with. */
interface Expected {
  /** `handshake/code` of the failure, or undefined when the connection stays healthy. */
  readonly failure: string | undefined
  readonly messages: string[]
  /** The peer sent a PING with a TTL, so the engine may also drop it with ERR_TIMEOUT if it stalls. */
  readonly mayTimeOut: boolean
  /**
   * What the socket reports when the raw side ends a connection the oracle
   * keeps: a close before the handshake completed is a handshake failure
   * (libzmq's HANDSHAKE_FAILED_NO_DETAIL); after it, a plain disconnect.
   */
  readonly onEnd: string | undefined
}

function expectFor(bytes: Buffer): Expected {
  const run = runSession([bytes], { maxMessageSize: MAX_MESSAGE_SIZE })
  expect(run.violations, hexOf(bytes)).toEqual([])
  const f = run.failures[0]
  return {
    failure: f === undefined ? undefined : `${String(f.handshake)}/${f.error.code}`,
    messages: run.messages.map((m) => m.map((b) => b.toString("hex")).join("|")),
    mayTimeOut: f === undefined && run.pingTtls.some((ttl) => ttl > 0),
    onEnd: f === undefined && run.readyCount === 0 ? "other/ERR_CONNECTION_CLOSED" : undefined,
  }
}

/** Events in emit order, read through listeners, plus wake-ups for whoever waits on them. */
class Recorder {
  readonly events: Event[] = []
  readonly good: number[] = []
  readonly other: string[] = []
  readonly oversized: string[] = []
  private readonly waiters = new Set<() => void>()

  record(event: Event): void {
    this.events.push(event)
    this.wake()
  }

  wake(): void {
    for (const w of [...this.waiters]) w()
  }

  /** Resolves once `ready()` holds, re-checked on every event and message; fails at the watchdog. */
  until(ready: () => boolean, what: () => string): Promise<void> {
    return new Promise((resolve, reject) => {
      const check = () => {
        if (!ready()) return
        this.waiters.delete(check)
        clearTimeout(timer)
        resolve()
      }
      const timer = setTimeout(() => {
        this.waiters.delete(check)
        reject(new Error(`watchdog: still waiting for ${what()}`))
      }, WATCHDOG_MS)
      this.waiters.add(check)
      check()
    })
  }

  count(type: Event["type"]): number {
    return this.events.filter((e) => e.type === type).length
  }

  /** `handshake/code` of every disconnect with an error since `from`, sorted. */
  failuresSince(from: number): string[] {
    const out: string[] = []
    for (let i = from; i < this.events.length; i++) {
      const e = this.events[i]!
      if (e.type !== "disconnect" || e.error === undefined) continue
      // linkClosed() emits handshake:error:<kind> and then disconnect, back to back, with the same error.
      const prev = this.events[i - 1]
      const kind = prev !== undefined && prev.type.startsWith("handshake:error:") && "error" in prev && prev.error === e.error
        ? prev.type.slice("handshake:error:".length)
        : "undefined"
      const local = e.error.code === "ERR_TIMEOUT" || e.error.code === "ERR_CONNECTION_CLOSED"
      expect(PEER_ERROR_CODES.has(e.error.code) || local, e.error.code).toBe(true)
      out.push(`${kind}/${e.error.code}`)
    }
    return out.sort()
  }
}

/**
 * Opens a raw connection, writes the bytes and, when the oracle expects the
 * connection to stay healthy, half-closes. Resolves on the raw side's close
 * (the server must close it by itself when the bytes are bad).
 */
function attack(port: number, hostile: Hostile, end: boolean, open: Set<net.Socket>): Promise<void> {
  return new Promise((resolve, reject) => {
    const raw = net.connect({ host: "127.0.0.1", port })
    open.add(raw)
    const timer = setTimeout(() => {
      reject(new Error(`watchdog: the socket never closed the ${hostile.label} connection (end=${end}): ${hexOf(hostile.bytes)}`))
    }, WATCHDOG_MS)
    raw.on("error", () => {
      // ECONNRESET / EPIPE when the socket drops us mid-write: expected.
    })
    raw.on("data", () => {
      // The server's greeting and READY; read them so nothing backs up.
    })
    raw.on("connect", () => {
      raw.write(hostile.bytes)
      if (end) raw.end()
    })
    raw.on("close", () => {
      open.delete(raw)
      clearTimeout(timer)
      resolve()
    })
  })
}

/** Default HWM, and an HWM of 1 so that every connection keeps pausing and resuming mid-stream. */
const configs = [
  { name: "receiveHighWaterMark 1000", receiveHighWaterMark: 1000 },
  { name: "receiveHighWaterMark 1", receiveHighWaterMark: 1 },
] as const

describe.each(configs)("hostile peers against a bound PULL over tcp ($name)", ({ receiveHighWaterMark }) => {
  it("drops each bad connection with the oracle's error, delivers every good message in order, throws nothing", { timeout: 60_000 }, async () => {
    const uncaught: unknown[] = []
    const onUncaught = (err: unknown) => void uncaught.push(err)
    process.on("uncaughtException", onUncaught)
    process.on("unhandledRejection", onUncaught)

    const pull = new Pull({ maxMessageSize: MAX_MESSAGE_SIZE, receiveHighWaterMark })
    const push = new Push()
    const open = new Set<net.Socket>()
    const rec = new Recorder()
    let receiving: Promise<void> | undefined
    try {
      for (const type of ["accept", "handshake", "handshake:error:protocol", "handshake:error:auth", "handshake:error:other", "disconnect"] as const) {
        pull.events.on(type, (e) => rec.record(e))
      }
      await pull.bind("tcp://127.0.0.1:*")
      const endpoint = pull.lastEndpoint!
      const port = Number(endpoint.slice(endpoint.lastIndexOf(":") + 1))
      receiving = (async () => {
        for await (const message of pull) {
          const size = message.reduce((sum, f) => sum + f.length, 0)
          if (size > MAX_MESSAGE_SIZE) rec.oversized.push(`${size} bytes`)
          if (message.length === 2 && message[0]!.equals(TOKEN)) rec.good.push(Number(message[1]!.toString()))
          else rec.other.push(message.map((b) => b.toString("hex")).join("|"))
          rec.wake()
        }
      })()

      push.connect(endpoint)
      let sent = 0
      const sendGood = async (n: number) => {
        for (let i = 0; i < n; i++) await push.send([TOKEN, String(sent++)])
      }
      await sendGood(5)
      await rec.until(() => rec.good.length === 5, () => "the first good messages")

      let attacks = 0
      const expectedOther: string[] = []
      const runBatch = async (batch: readonly Hostile[]) => {
        const from = rec.events.length
        const expected = batch.map((h) => expectFor(h.bytes))
        const closed = batch.map((h, i) => attack(port, h, expected[i]!.failure === undefined, open))
        attacks += batch.length
        for (const e of expected) expectedOther.push(...e.messages)
        await sendGood(5)
        await Promise.all(closed)
        await sendGood(5)
        // Errors are emitted as the connection is dropped, before its raw side can see the close.
        let real = rec.failuresSince(from)
        const timeouts = expected.filter((e) => e.mayTimeOut).length
        for (let i = 0; i < timeouts; i++) {
          const at = real.indexOf("undefined/ERR_TIMEOUT")
          if (at >= 0) real = real.filter((_, j) => j !== at)
        }
        const wanted = expected.flatMap((e) => [e.failure ?? e.onEnd].filter((f) => f !== undefined)).sort()
        expect(real, batch.map((h) => `${h.label}: ${hexOf(h.bytes)}`).join("\n")).toEqual(wanted)
      }

      // Named cases first, so each kind of error is seen at least once.
      const named: Hostile[] = [
        { label: "garbage", bytes: Buffer.from("GET / HTTP/1.1\r\n\r\n", "latin1") },
        { label: "4 GiB claim", bytes: Buffer.concat([pushHandshake(), longHeader(0x00, 2n ** 32n)]) },
        { label: "2^63 claim", bytes: Buffer.concat([pushHandshake(), longHeader(0x01, 2n ** 63n)]) },
        { label: "PUB peer", bytes: Buffer.concat([greeting(), readyFrame("PUB")]) },
        { label: "PLAIN peer", bytes: Buffer.concat([greeting({ mechanism: "PLAIN" }), readyFrame("PUSH")]) },
        { label: "handshake + bad flags", bytes: Buffer.concat([pushHandshake(), Buffer.from([0xf8, 0x00])]) },
      ]
      await runBatch(named)
      const codes = rec.failuresSince(0)
      expect(codes).toEqual(
        [
          "protocol/ERR_ZMTP_PROTOCOL",
          "undefined/ERR_MESSAGE_TOO_LARGE",
          "undefined/ERR_MESSAGE_TOO_LARGE",
          "protocol/ERR_SOCKET_TYPE",
          "protocol/ERR_ZMTP_MECHANISM_MISMATCH",
          "undefined/ERR_ZMTP_PROTOCOL",
        ].sort(),
      )
      expect(rec.count("handshake:error:protocol")).toBe(3)

      await fc.assert(fc.asyncProperty(fc.array(hostileArb, { minLength: 1, maxLength: 5 }), runBatch), runs(40))

      // Every hostile connection ends in exactly one disconnect; the good one never does.
      await rec.until(
        () => rec.count("disconnect") >= attacks && rec.count("accept") >= attacks + 1,
        () => `${attacks} disconnects and ${attacks + 1} accepts (have ${rec.count("disconnect")} and ${rec.count("accept")})`,
      )
      await rec.until(
        () => rec.good.length === sent && rec.other.length >= expectedOther.length,
        () => `${sent} good messages (have ${rec.good.length}) and ${expectedOther.length} hostile ones (have ${rec.other.length})`,
      )
      expect(rec.count("disconnect")).toBe(attacks)
      expect(rec.count("accept")).toBe(attacks + 1)
      expect(rec.good).toEqual(Array.from({ length: sent }, (_, i) => i))
      expect([...rec.other].sort()).toEqual([...expectedOther].sort())
      expect(rec.oversized).toEqual([])
      expect(uncaught).toEqual([])
    } finally {
      for (const raw of open) raw.destroy()
      closeAll(push, pull)
      await receiving
      process.off("uncaughtException", onUncaught)
      process.off("unhandledRejection", onUncaught)
    }
  })
})
