/**
 * Security helpers shared by the socket and interop tests: CURVE options for a
 * key pair, a recorder of connection events (zmesh and zeromq sockets alike),
 * ZAP handlers (RFC 27) that answer from a verdict and record what they were
 * asked, and the check that a refused client does not redial in a tight loop.
 */
import { afterAll, beforeAll, beforeEach, expect } from "vitest"
import { closeAll } from "./sockets.js"

// ---- CURVE keys ---------------------------------------------------------------------

export interface KeyPair {
  readonly publicKey: string
  readonly secretKey: string
}

/** The options of a CURVE server with this key pair. */
export const curveServerOptions = (server: KeyPair) => ({ curveServer: true, curveSecretKey: server.secretKey })

/** The options of a CURVE client with this key pair that expects the server key `serverKey`. */
export const curveClientOptions = (client: KeyPair, serverKey: string) => ({
  curveServerKey: serverKey,
  curvePublicKey: client.publicKey,
  curveSecretKey: client.secretKey,
})

// ---- events of either library ---------------------------------------------------------

/** The connection events a Recorder listens for. */
export const RECORDED_EVENTS = [
  "connect",
  "connect:retry",
  "accept",
  "handshake",
  "handshake:error:protocol",
  "handshake:error:auth",
  "handshake:error:other",
  "disconnect",
] as const

export type RecordedType = (typeof RECORDED_EVENTS)[number]

export interface Recorded {
  readonly type: RecordedType
  /** performance.now() when the event came. */
  readonly at: number
  readonly interval?: number
  readonly code?: string
  readonly message?: string
  /** The ZAP status of an authentication failure (zeromq.js's AuthError.status). */
  readonly status?: number
}

interface LooseEvent {
  interval?: number
  error?: { code?: string; message?: string; status?: number }
}

interface LooseObserver {
  on(type: string, listener: (event: LooseEvent) => void): unknown
}

/** Records a socket's connection events (zmesh or libzmq) and waits for counts of them. */
export class Recorder {
  readonly log: Recorded[] = []
  private readonly waiters: Array<{ done: () => boolean; resolve: () => void }> = []

  constructor(socket: { readonly events: unknown }) {
    const events = socket.events as LooseObserver
    for (const type of RECORDED_EVENTS) {
      events.on(type, (event) => {
        this.log.push({
          type,
          at: performance.now(),
          ...(event.interval === undefined ? {} : { interval: event.interval }),
          ...(event.error === undefined ? {} : { code: event.error.code, message: event.error.message }),
          ...(event.error?.status === undefined ? {} : { status: event.error.status }),
        })
        for (const waiter of this.waiters.splice(0)) {
          if (waiter.done()) waiter.resolve()
          else this.waiters.push(waiter)
        }
      })
    }
  }

  of(type: RecordedType): Recorded[] {
    return this.log.filter((e) => e.type === type)
  }

  /** Resolves once `count` events of `type` were seen. */
  until(type: RecordedType, count = 1): Promise<Recorded[]> {
    const done = () => this.of(type).length >= count
    if (done()) return Promise.resolve(this.of(type))
    return new Promise((resolve) => this.waiters.push({ done, resolve: () => resolve(this.of(type)) }))
  }
}

/**
 * Waits for 4 retries and 5 connects of a refused client, and checks that it
 * does not spin: each retry announces at least `reconnectInterval` ms, each
 * redial waits its interval out, and it dials fewer than 15 times a second.
 */
export async function expectPacedRedials(events: Recorder, reconnectInterval = 100): Promise<void> {
  const retries = await events.until("connect:retry", 4)
  const connects = await events.until("connect", 5)
  for (const retry of retries) expect(retry.interval).toBeGreaterThanOrEqual(reconnectInterval)
  for (let i = 0; i < 4; i++) {
    // 10 ms of slack: libuv measures timers from the loop time cached at the start of the tick.
    expect(connects[i + 1]!.at - retries[i]!.at).toBeGreaterThanOrEqual(retries[i]!.interval! - 10)
  }
  const perSecond = (connects.length - 1) / ((connects.at(-1)!.at - connects[0]!.at) / 1000)
  expect(perSecond).toBeLessThan(15)
}

// ---- ZAP handlers ---------------------------------------------------------------------

/** Where a ZAP handler binds, in each library's own inproc registry. */
const ZAP_ADDRESS = "inproc://zeromq.zap.01"

export interface ZapRequest {
  readonly version: string
  readonly requestId: string
  readonly domain: string
  readonly address: string
  readonly mechanism: string
  readonly credentials: Buffer[]
}

export type ZapStatus = "200" | "300" | "400" | "500"
export type Verdict = (request: ZapRequest) => ZapStatus

/** What a ZAP handler needs of a REP socket from either library. */
export interface ZapSocket {
  bind(address: string): Promise<void>
  receive(): Promise<Buffer[]>
  send(message: Array<Buffer | string>): Promise<void>
  close(): void
}

/** Accepts admin/secret, refuses anything else with 400. */
export const checkPassword: Verdict = (r) => (String(r.credentials[0]) === "admin" && String(r.credentials[1]) === "secret" ? "200" : "400")

/** Answers ZAP requests on `rep` with ["1.0", requestId, status, text, userId, ""] until it closes. */
async function serveZap(rep: ZapSocket, verdict: () => Verdict, requests: () => ZapRequest[]): Promise<void> {
  try {
    for (;;) {
      const [version, requestId, domain, address, _identity, mechanism, ...credentials] = await rep.receive()
      const request: ZapRequest = {
        version: String(version),
        requestId: String(requestId),
        domain: String(domain),
        address: String(address),
        mechanism: String(mechanism),
        credentials,
      }
      requests().push(request)
      const status = verdict()(request)
      await rep.send(["1.0", requestId!, status, status === "200" ? "OK" : "refused", status === "200" ? "user" : "", ""])
    }
  } catch {
    // The handler was closed.
  }
}

/**
 * Binds `rep` as the ZAP handler of its library for one test and answers with
 * `verdict`; returns the requests it sees. The caller closes `rep`.
 */
export async function bindZapHandler(rep: ZapSocket, verdict: Verdict): Promise<ZapRequest[]> {
  await rep.bind(ZAP_ADDRESS)
  const requests: ZapRequest[] = []
  void serveZap(rep, () => verdict, () => requests)
  return requests
}

/** A ZAP handler bound once for the whole file (see fileZapHandler). */
export interface FileZapHandler {
  /** The requests it saw in this test. */
  readonly requests: ZapRequest[]
  /** Sets its verdict for this test; returns the requests it sees. */
  answer(verdict: Verdict): ZapRequest[]
}

/**
 * One ZAP handler (`create()`, bound at inproc://zeromq.zap.01) for the whole
 * file, for libzmq: it releases an inproc name asynchronously once peers have
 * connected to it, and rebinding it per test raced (EADDRINUSE). Each test sets
 * its verdict; the default accepts everyone. Registers the file's hooks, so
 * call it at the top level of a test file.
 */
export function fileZapHandler(create: () => ZapSocket): FileZapHandler {
  const state = { verdict: (() => "200") as Verdict, requests: [] as ZapRequest[], socket: undefined as ZapSocket | undefined }

  beforeAll(async () => {
    const rep = create()
    state.socket = rep
    await rep.bind(ZAP_ADDRESS)
    void serveZap(rep, () => state.verdict, () => state.requests)
  })

  afterAll(() => closeAll(state.socket))

  beforeEach(() => {
    state.verdict = () => "200"
    state.requests = []
  })

  return {
    get requests() {
      return state.requests
    },
    answer(verdict) {
      state.verdict = verdict
      return state.requests
    },
  }
}
