/** Helpers for the relay tests: temp folders, nodes and clients that are always closed, bounded waits. */
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Dealer } from "../../src/index.js"
import { Op, PROTOCOL_VERSION, decodeFrame, encodeFrame } from "../../src/relay/protocol.js"
import { RelayClient, type RelayClientOptions, type RelayConsumer, type RelayMessage, RelayNode, type RelayNodeOptions, type RelayStore } from "../../src/relay/index.js"

/** Makes the store under test over a folder (the embedded log), or over a schema named after it (PostgreSQL). */
export interface StoreFactory {
  readonly name: string
  make(dir: string): RelayStore
}

const dirs: string[] = []

export function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "zmesh-relay-test-"))
  dirs.push(dir)
  return dir
}

export function removeTempDirs(): void {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true })
}

/** Everything a test opened, closed in afterEach whatever happened. */
export class Harness {
  private readonly nodes = new Set<RelayNode>()
  private readonly clients = new Set<RelayClient>()
  private readonly dealers = new Set<Dealer>()
  readonly factory: StoreFactory

  constructor(factory: StoreFactory) {
    this.factory = factory
  }

  async node(dir: string, options: Partial<RelayNodeOptions> = {}): Promise<RelayNode> {
    const node = await RelayNode.start({ bind: "tcp://127.0.0.1:*", dataDir: dir, store: this.factory.make(dir), sessionTimeout: 1000, ...options })
    this.nodes.add(node)
    return node
  }

  async stop(node: RelayNode): Promise<void> {
    this.nodes.delete(node)
    await node.close()
  }

  client(relay: string, options: Partial<RelayClientOptions> = {}): RelayClient {
    const client = new RelayClient({ relay, ...options })
    this.clients.add(client)
    return client
  }

  /** A raw protocol peer, for what the RelayClient would never send. */
  raw(relay: string): RawPeer {
    const dealer = new Dealer({ routingId: `raw-${Math.random().toString(36).slice(2)}`, linger: 0 })
    dealer.connect(relay)
    this.dealers.add(dealer)
    return new RawPeer(dealer)
  }

  async close(): Promise<void> {
    for (const c of this.clients) await c.close()
    for (const d of this.dealers) d.close()
    for (const n of this.nodes) await n.close()
    this.clients.clear()
    this.dealers.clear()
    this.nodes.clear()
  }
}

/** Speaks the relay protocol by hand. */
export class RawPeer {
  readonly dealer: Dealer
  private rid = 0

  constructor(dealer: Dealer) {
    this.dealer = dealer
  }

  nextRid(): number {
    return ++this.rid
  }

  sendFrame(frame: Buffer | Buffer[]): Promise<void> {
    return this.dealer.send(frame)
  }

  send(...commands: unknown[][]): Promise<void> {
    return this.dealer.send(encodeFrame(commands))
  }

  hello(): Promise<void> {
    return this.send([Op.HELLO, this.nextRid(), PROTOCOL_VERSION])
  }

  /** Commands received and not yet matched. */
  private readonly backlog: unknown[][] = []

  /** The next command the node sends that matches `pick` (others are kept for later calls). */
  async expect(pick: (c: unknown[]) => boolean): Promise<unknown[]> {
    for (;;) {
      const i = this.backlog.findIndex(pick)
      if (i >= 0) return this.backlog.splice(i, 1)[0]!
      const [frame] = await this.dealer.receive()
      for (const c of decodeFrame(frame!)) if (Array.isArray(c)) this.backlog.push(c)
    }
  }

  /** The node's answer (OK or ERROR) to request `rid`; a send's confirm inside CONFIRMS comes back as [OK, rid, seq, false]. */
  async answer(rid: number): Promise<unknown[]> {
    const confirmIndex = (c: unknown[]) => (c[0] === Op.CONFIRMS && Array.isArray(c[1]) ? (c[1] as unknown[]).findIndex((x, i) => i % 2 === 0 && x === rid) : -1)
    const c = await this.expect((c) => ((c[0] === Op.OK || c[0] === Op.ERROR) && c[1] === rid) || confirmIndex(c) >= 0)
    if (c[0] !== Op.CONFIRMS) return c
    const pairs = c[1] as number[]
    const i = confirmIndex(c)
    // Keep the other confirms of that command for later calls.
    if (pairs.length > 2) this.backlogPush([Op.CONFIRMS, [...pairs.slice(0, i), ...pairs.slice(i + 2)]])
    return [Op.OK, rid, pairs[i + 1], false]
  }

  private backlogPush(c: unknown[]): void {
    this.backlog.push(c)
  }
}

/** Polls `check` until it is true, failing after `ms` (for on-disk or node state, never as a sleep). */
export async function waitFor(check: () => boolean | Promise<boolean>, what: string, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
}

/** The next `n` messages of a consumer, failing after `ms`. */
export async function take(consumer: RelayConsumer, n: number, ms = 5000): Promise<RelayMessage[]> {
  const out: RelayMessage[] = []
  const deadline = Date.now() + ms
  while (out.length < n) {
    const left = deadline - Date.now()
    let timer: NodeJS.Timeout | undefined
    const timeout = new Promise<"timeout">((resolve) => (timer = setTimeout(resolve, Math.max(0, left), "timeout")))
    const next = await Promise.race([consumer.receive(), timeout])
    clearTimeout(timer)
    if (next === "timeout") throw new Error(`timed out after ${ms} ms with ${out.length} of ${n} messages`)
    if (next === undefined) throw new Error(`consumer ended after ${out.length} of ${n} messages`)
    out.push(next)
  }
  return out
}

/** Resolves "pending" if `promise` has not settled by the time already-queued work is done. */
export async function stillPending<T>(promise: Promise<T>): Promise<T | "pending"> {
  return Promise.race([promise, new Promise<"pending">((resolve) => setImmediate(resolve, "pending"))])
}

export function texts(messages: readonly RelayMessage[]): string[] {
  return messages.map((m) => m.body.toString())
}
