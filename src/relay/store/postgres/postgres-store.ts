/**
 * PostgresStore: the relay's store in a PostgreSQL database, shareable by
 * several relay nodes. Group commit as in the embedded log (everything
 * committed in one event-loop turn, and while a transaction is in flight,
 * is the next transaction); consumers on different nodes compete through
 * `claim` (row locks with SKIP LOCKED, holds that last while their node
 * renews them); nodes wake each other with LISTEN/NOTIFY. docs/relay.md has
 * the schema, docs/scaling.md when and how to use it.
 */
import { ZmeshError } from "../../../errors.js"
import { PRODUCER_TTL } from "../producer-table.js"
import { type DueMessage, PRODUCER_RECEIPTS, type PendingMessage, type QueueInfo, type Recovery, type RelayStore, type StoreOp, type StoreStats, type StoredMessage } from "../store.js"
import { type BatchContext, lockHash, writeBatch } from "./batch-writer.js"
import { ClaimFrontier } from "./claim-frontier.js"
import { Connection, type ConnectionOptions, loadDriver, storeError } from "./connection.js"
import { Listener } from "./listener.js"
import * as Q from "./queries.js"
import { QueueBook } from "./queue-book.js"
import { decodeText, nodeInfo, pending, positive, settingsOf, stored } from "./rows.js"
import { migrate } from "./schema.js"

export interface PostgresStoreOptions {
  /** e.g. `postgres://user:password@host:5432/database` (libpq's forms, as node-postgres reads them). */
  readonly connectionString: string
  /** The schema holding the tables, created if missing (default "zmesh"): lower-case letters, digits, `_`. */
  readonly schema?: string
  /**
   * ms a node's holds on claimed messages outlive its last heartbeat (default
   * 10000): how long the messages a crashed node held wait before other nodes
   * take them. Heartbeats go every quarter of it.
   */
  readonly holdTimeout?: number
  /** ms to wait for a connection to the server (default 10000). */
  readonly connectTimeout?: number
  /** Capacity in bytes of the store's tables: sends are refused (ERR_RELAY_STORE_FULL) beyond it (default: no limit). */
  readonly maxBytes?: number
}

interface Waiter {
  readonly start: number
  readonly count: number
  resolve(results: readonly number[]): void
  reject(err: Error): void
}

/** ms between recounts of the whole picture while other nodes change it too, and between retention sweeps. */
const RECOUNT_MS = 10_000
const SWEEP_MS = 60_000

/**
 * The relay's store in PostgreSQL.
 *
 * @example
 * ```ts
 * const store = new PostgresStore({ connectionString: "postgres://relay@db.internal/zmesh" })
 * const node = await RelayNode.start({ bind: "tcp://0.0.0.0:7400", dataDir: "", store })
 * ```
 */
export class PostgresStore implements RelayStore {
  private readonly connectionString: string
  private readonly schema: string
  private readonly holdTimeout: number
  private readonly connectTimeout: number
  private readonly maxBytes: number
  private readonly lockKey: number
  private readonly channel: string
  private readonly book = new QueueBook()
  /** Where each group's next claim starts, by group id. */
  private readonly frontiers = new Map<number, ClaimFrontier>()
  private writer: Connection | undefined
  private reader: Connection | undefined
  private listener: Listener | undefined
  private readonly watchers = new Set<(queues: readonly string[] | undefined) => void>()
  private escapeLiteral: (s: string) => string = (s) => s
  private escapeIdentifier: (s: string) => string = (s) => s
  private nodeId = 0
  /** Other live nodes, as of the last heartbeat or join/leave notice. */
  private peers = 0
  private staged: StoreOp[] = []
  private stagedBytes = 0
  private waiters: Waiter[] = []
  private flushing = false
  private scheduled = false
  private idleWaiters: Array<() => void> = []
  private opened = false
  private closed = false
  private heartbeat: NodeJS.Timeout | undefined
  private lastRecount = 0
  private lastSweep = 0
  private lastSize = 0
  private lastExpiry = 0
  private bytes = 0
  private readonly counters = { commits: 0, ops: 0 }

  constructor(options: PostgresStoreOptions) {
    if (typeof options?.connectionString !== "string" || options.connectionString === "") {
      throw new ZmeshError("EINVAL", "PostgresStore: connectionString is required")
    }
    const schema = options.schema ?? "zmesh"
    if (!/^[a-z_][a-z0-9_]{0,62}$/.test(schema)) {
      throw new ZmeshError("EINVAL", `PostgresStore: schema ${JSON.stringify(schema)} must be 1-63 lower-case letters, digits or _, not starting with a digit`)
    }
    this.connectionString = options.connectionString
    this.schema = schema
    this.holdTimeout = positive("holdTimeout", options.holdTimeout, 10_000)
    this.connectTimeout = positive("connectTimeout", options.connectTimeout, 10_000)
    this.maxBytes = options.maxBytes ?? Infinity
    this.lockKey = lockHash(`zmesh:${schema}`)
    // A channel name is an identifier: at most 63 bytes (two schemas sharing a long prefix only wake each other for nothing).
    this.channel = `zmesh_${schema}`.slice(0, 63)
  }

  async open(): Promise<Recovery> {
    const started = performance.now()
    const pg = await loadDriver()
    this.escapeLiteral = (s) => pg.escapeLiteral(s)
    this.escapeIdentifier = (s) => pg.escapeIdentifier(s)
    const writer = (this.writer = new Connection(this.connection("writer")))
    // Claims and heartbeats: losing one in a server crash costs a redelivery, never a message.
    const reader = (this.reader = new Connection(this.connection("reader", ["synchronous_commit = off"])))
    try {
      const [from, to] = await migrate(writer, this.schema, this.lockKey)
      const { rows } = await writer.query(Q.prepared("register", Q.REGISTER_NODE, [this.holdTimeout, nodeInfo()]), "register this node")
      this.nodeId = rows[0]!.id as number
      await writer.query(Q.FORGET_NODES, "forget old nodes")
      for (const g of (await reader.query(Q.GROUPS, "read the groups")).rows) {
        this.book.addGroup(g.queue as string, g.id as number, g.name as string, settingsOf(g), 0)
      }
      await this.recount()
      await this.beat()
      await this.measure()
      const notes = [
        `PostgreSQL schema ${this.schema} at version ${to}${from < to ? ` (migrated from ${from})` : ""}; node ${this.nodeId}; ${this.peers} other live nodes`,
      ]
      this.opened = true
      this.heartbeat = setInterval(() => void this.tick(), Math.max(50, Math.floor(this.holdTimeout / 4)))
      this.heartbeat.unref()
      // Tell the others a node joined (they start notifying it).
      await writer.query(`SELECT pg_notify(${this.escapeLiteral(this.channel)}, ${this.escapeLiteral(`${this.nodeId} +`)})`, "announce this node")
      return { queues: this.book.infos(), corruption: [], notes, durationMs: performance.now() - started }
    } catch (err) {
      await writer.close()
      await reader.close()
      throw storeError(err, "open the store")
    }
  }

  admit(bytes: number): boolean {
    return this.maxBytes === Infinity || this.bytes + this.stagedBytes + bytes <= this.maxBytes
  }

  commit(ops: readonly StoreOp[]): Promise<readonly number[]> {
    if (!this.opened || this.closed) return Promise.reject(new ZmeshError("ERR_RELAY_STORE_FAILED", "the store is not open"))
    let bytes = 0
    for (const op of ops) if (op.type === "message") bytes += op.body.length
    if (bytes > 0 && !this.admit(bytes)) return Promise.reject(new ZmeshError("ERR_RELAY_STORE_FULL", `the store is full (capacity ${this.maxBytes} bytes)`))
    const start = this.staged.length
    for (const op of ops) this.staged.push(op)
    this.stagedBytes += bytes
    return new Promise((resolve, reject) => {
      this.waiters.push({ start, count: ops.length, resolve, reject })
      if (!this.flushing && !this.scheduled) {
        this.scheduled = true
        // The end of this turn: everything committed in it is one transaction.
        setImmediate(() => {
          this.scheduled = false
          void this.flush()
        })
      }
    })
  }

  async claim(queue: string, group: string, max: number): Promise<PendingMessage[]> {
    const gid = this.book.groupId(queue, group) ?? (await this.findGroup(queue, group))
    if (gid === undefined) return []
    // Without a watch, nothing tells this store what other nodes free: every claim looks from the start.
    const frontier = this.listener === undefined ? new ClaimFrontier() : this.frontier(gid)
    const now = Date.now()
    const from = frontier.start(now)
    const { rows } = await this.reader!.query(Q.prepared("claim", Q.CLAIM, [gid, max, now, this.nodeId, from]), `claim messages of ${queue}`)
    const out = rows.map((r) => pending(r, queue))
    frontier.claimed(
      from,
      max,
      out.map((p) => p.pos),
    )
    return out
  }

  private frontier(gid: number): ClaimFrontier {
    let f = this.frontiers.get(gid)
    if (f === undefined) this.frontiers.set(gid, (f = new ClaimFrontier()))
    return f
  }

  /** A group another node created since this one opened. */
  private async findGroup(queue: string, group: string): Promise<number | undefined> {
    const { rows } = await this.reader!.query(Q.prepared("find_group", Q.GROUP, [queue, group]), `find group ${group} of ${queue}`)
    const g = rows[0]
    if (g === undefined) return undefined
    this.book.addGroup(queue, g.id as number, group, settingsOf(g), 0)
    return g.id as number
  }

  async fetch(queue: string, group: string, after: number, max: number): Promise<PendingMessage[]> {
    const { rows } = await this.reader!.query(Q.prepared("fetch", Q.FETCH, [queue, group, after, max]), `read ${queue}`)
    return rows.map((r) => pending(r, queue))
  }

  async due(now: number, max: number): Promise<DueMessage[]> {
    const { rows } = await this.reader!.query(Q.prepared("due", Q.DUE, [now, max]), "read the delay index")
    return rows.map((r): DueMessage => {
      const d = { queue: r.queue as string, seq: r.seq as number, due: r.due as number }
      return r.half === true ? { ...d, half: true, id: decodeText(r.id as string), producerId: (r.producer_id as string | null) ?? null, checks: r.checks as number } : d
    })
  }

  async nextDue(): Promise<number | undefined> {
    const { rows } = await this.reader!.query(Q.prepared("next_due", Q.NEXT_DUE, []), "read the delay index")
    return rows[0]?.due as number | undefined
  }

  async read(queue: string, seq: number): Promise<StoredMessage | undefined> {
    const { rows } = await this.reader!.query(Q.prepared("read", Q.READ, [seq]), `read ${queue} seq ${seq}`)
    const r = rows[0]
    return r === undefined ? undefined : stored(r, queue)
  }

  watch(onChange: (queues: readonly string[] | undefined) => void): () => void {
    this.watchers.add(onChange)
    if (this.listener === undefined && this.opened && !this.closed) {
      const handlers = { changed: (queues: readonly string[] | undefined) => this.changed(queues), peers: () => void this.beat().catch(() => undefined) }
      this.listener = new Listener(this.connection("listener"), this.channel, this.nodeId, (s) => this.escapeIdentifier(s), handlers)
      void this.listener.start()
    }
    return () => this.watchers.delete(onChange)
  }

  queues(): QueueInfo[] {
    return this.book.infos()
  }

  stats(): StoreStats {
    return { bytes: this.bytes, commits: this.counters.commits, ops: this.counters.ops }
  }

  async close(): Promise<void> {
    if (this.closed || !this.opened) return
    this.closed = true
    while (this.flushing || this.scheduled || this.staged.length > 0) await new Promise<void>((resolve) => this.idleWaiters.push(resolve))
    clearInterval(this.heartbeat)
    await this.listener?.close()
    const writer = this.writer!
    try {
      // This node's holds end now, not when they would expire: the others take its messages at once.
      await writer.query(Q.prepared("release_holds", Q.RELEASE_HOLDS, [this.nodeId]), "release this node's holds")
      await writer.query(Q.prepared("remove_node", Q.REMOVE_NODE, [this.nodeId]), "remove this node")
      await writer.query(`SELECT pg_notify(${this.escapeLiteral(this.channel)}, ${this.escapeLiteral(`${this.nodeId} -`)})`, "announce the stop")
    } catch {
      // The server is gone: the holds expire by themselves.
    }
    await writer.close()
    await this.reader!.close()
  }

  // ---- group commit -----------------------------------------------------------

  private async flush(): Promise<void> {
    if (this.flushing) return
    if (this.staged.length === 0) return this.becameIdle()
    this.flushing = true
    const ops = this.staged
    const waiters = this.waiters
    this.staged = []
    this.waiters = []
    const ctx: BatchContext = {
      book: this.book,
      lookBack: (gid, at) => this.frontier(gid).lookBack(at),
      nodeId: this.nodeId,
      channel: this.peers > 0 ? this.channel : undefined,
    }
    try {
      const results = await writeBatch(this.writer!, ops, ctx)
      this.counters.commits++
      this.counters.ops += ops.length
      for (const w of waiters) w.resolve(w.count === results.length ? results : results.slice(w.start, w.start + w.count))
    } catch (err) {
      const error = storeError(err, "commit")
      for (const w of waiters) w.reject(error)
    } finally {
      let bytes = 0
      for (const op of ops) if (op.type === "message") bytes += op.body.length
      this.stagedBytes -= bytes
      this.flushing = false
    }
    // What arrived during the transaction goes out at once, as the next one.
    void this.flush()
  }

  private becameIdle(): void {
    for (const resolve of this.idleWaiters.splice(0)) resolve()
  }

  // ---- heartbeat, other nodes, upkeep ------------------------------------------

  private changed(queues: readonly string[] | undefined): void {
    // Their commits may sit below this node's claim frontiers.
    if (queues === undefined) for (const f of this.frontiers.values()) f.lookBack()
    else for (const q of queues) for (const gid of this.book.groupIds(q)) this.frontiers.get(gid)?.lookBack()
    for (const watcher of this.watchers) {
      try {
        watcher(queues)
      } catch {
        // A watcher's failure is its own.
      }
    }
  }

  private async tick(): Promise<void> {
    try {
      const before = this.peers
      await this.beat()
      const now = Date.now()
      // A node stopped renewing its holds (it died) or left: what it held can be claimed now.
      if (this.peers < before) this.changed(undefined)
      if (this.peers > 0) {
        // The slow fallback poll: a lost notification, or a dead node whose holds expired.
        this.changed(undefined)
        if (now - this.lastRecount > RECOUNT_MS) await this.recount()
        if (now - this.lastSweep > SWEEP_MS) await this.sweep()
      }
      if (now - this.lastSize > RECOUNT_MS) await this.measure()
      if (now - this.lastExpiry > RECOUNT_MS) await this.expire(now)
    } catch {
      // The server is away; commits report it. The next tick tries again.
    }
  }

  /** Renews this node's holds and learns how many other nodes are alive. */
  private async beat(): Promise<void> {
    const { rows } = await this.reader!.query(Q.prepared("heartbeat", Q.HEARTBEAT, [this.nodeId, this.holdTimeout]), "renew this node's holds")
    if (Number(rows[0]!.renewed) === 0) {
      await this.reader!.query(Q.prepared("revive", Q.REVIVE_NODE, [this.nodeId, this.holdTimeout, nodeInfo()]), "register this node again")
    }
    this.peers = Number(rows[0]!.others)
  }

  private async recount(): Promise<void> {
    const messages = await this.reader!.query(Q.COUNT_MESSAGES, "count messages")
    const pendingRows = await this.reader!.query(Q.COUNT_PENDING, "count deliveries")
    if (this.peers > 0 || !this.opened) {
      // Groups another node created since.
      for (const g of (await this.reader!.query(Q.GROUPS, "read the groups")).rows) {
        this.book.addGroup(g.queue as string, g.id as number, g.name as string, settingsOf(g), 0)
      }
    }
    this.book.recount(messages.rows, pendingRows.rows)
    this.lastRecount = Date.now()
  }

  private async sweep(): Promise<void> {
    this.lastSweep = Date.now()
    const { rows } = await this.writer!.query(Q.prepared("sweep", Q.SWEEP, [this.lockKey]), "sweep acknowledged messages")
    const dropped: Record<string, number> = {}
    for (const r of rows) dropped[r.queue as string] = (dropped[r.queue as string] ?? 0) + 1
    this.book.dropped(dropped)
  }

  /** De-duplication upkeep: ids out of their window, receipts beyond their bound or a day old. */
  private async expire(now: number): Promise<void> {
    this.lastExpiry = now
    await this.writer!.query(Q.prepared("expire_ids", Q.EXPIRE_IDS, [now]), "expire de-duplication ids")
    await this.writer!.query(Q.prepared("trim_receipts", Q.TRIM_RECEIPTS, [now, PRODUCER_RECEIPTS, PRODUCER_TTL]), "trim producer receipts")
  }

  private async measure(): Promise<void> {
    this.lastSize = Date.now()
    const { rows } = await this.reader!.query(Q.prepared("size", Q.SIZE, [this.schema]), "measure the tables")
    this.bytes = Number(rows[0]!.bytes)
  }

  private connection(role: string, settings?: readonly string[]): ConnectionOptions {
    return { connectionString: this.connectionString, schema: this.schema, connectTimeout: this.connectTimeout, name: `zmesh relay ${role}`, ...(settings === undefined ? {} : { settings }) }
  }
}
