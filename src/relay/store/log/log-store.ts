/**
 * The embedded default store: a segmented append-only log with group commit.
 * Everything committed in one event-loop turn, and everything that arrives
 * while a sync is in flight, becomes one write and one fdatasync; operations
 * take effect in memory (RelayState) only after that sync. Checkpoints bound
 * the replay on reopen; a segment is deleted once no stored message needs it
 * and two checkpoints cover its records.
 */
import { join } from "node:path"
import { ZmeshError } from "../../../errors.js"
import { type PendingEntry, RelayState } from "../relay-state.js"
import type {
  DueMessage,
  MessageOp,
  PendingMessage,
  QueueInfo,
  Recovery,
  RelayStore,
  StoreCorruption,
  StoreOp,
  StoreStats,
  StoredMessage,
} from "../store.js"
import type { Checkpoint } from "./checkpoint.js"
import { Batch } from "./batch.js"
import { Checkpointer } from "./checkpointer.js"
import { lockDataDir, unlockDataDir } from "./data-dir.js"
import { type LogFs, nodeFs, syncDir } from "./log-fs.js"
import { MessageCache } from "./message-cache.js"
import { messageBound, writeMessage } from "./message-encoder.js"
import { encodeOp } from "./op-codec.js"
import { readPayloads } from "./payload-reader.js"
import { replay } from "./recovery.js"
import { SegmentWriter } from "./segment-writer.js"
import { SyncPolicy } from "./sync-policy.js"
import { scanWindow } from "./window-scan.js"
import { type Segment, SegmentList, segmentBases } from "./segments.js"

export interface LogStoreOptions {
  /** The data folder; created if missing. */
  readonly dir: string
  /** Bytes after which a new segment is started (default 64 MiB). */
  readonly segmentSize?: number
  /** Log bytes after which a checkpoint is written (default 64 MiB). */
  readonly checkpointBytes?: number
  /** ms between checkpoints while anything changes (default 10000). */
  readonly checkpointInterval?: number
  /** Capacity in bytes: sends are refused (ERR_RELAY_STORE_FULL) beyond it (default: no limit). */
  readonly maxBytes?: number
  /** Bytes of recent message bodies kept in memory for delivery (default 64 MiB). */
  readonly cacheBytes?: number
  /**
   * Bytes of zeros written (and synced) ahead of the log's end, in the
   * background, so that a commit's fdatasync has only data to flush, not a
   * file size change (default 4 MiB; 0 = off).
   */
  readonly preallocate?: number
  /**
   * fdatasync a group commit on the event loop's thread while nothing else
   * waits for the loop, saving the thread-pool hand-off (sync-policy.ts);
   * default true. false: always on libuv's thread pool.
   */
  readonly inlineSync?: boolean
  /** The file operations to use (tests inject failures here). */
  readonly fs?: LogFs
}

/**
 * The embedded segmented log.
 *
 * @example
 * ```ts
 * const node = await RelayNode.start({ bind: "tcp://127.0.0.1:*", dataDir: "./data", store: new LogStore({ dir: "./data", maxBytes: 1e9 }) })
 * ```
 */
export class LogStore implements RelayStore {
  private readonly dir: string
  private readonly logDir: string
  private readonly fs: LogFs
  private readonly segmentSize: number
  private readonly checkpointBytes: number
  private readonly checkpointInterval: number
  private readonly maxBytes: number
  private readonly segments: SegmentList
  private readonly state: RelayState
  private readonly writer: SegmentWriter
  private readonly checkpointer: Checkpointer
  /** Where each group commit's fdatasync runs. */
  private readonly syncPolicy: SyncPolicy
  private nextSeq = 1
  private lastApplied = 0
  /** Where the last applied record ends: a checkpoint's replay position. */
  private appliedAt: { segment: number; offset: number } | undefined
  private staged = new Batch()
  /** A settle of the de-duplication window is scheduled (settleIdsLater). */
  private settling = false
  /** The batch being written and synced. */
  private inflight: Batch | undefined
  private spare: Batch | undefined = new Batch()
  private flushing = false
  private scheduled = false
  private idleWaiters: Array<() => void> = []
  private opened = false
  private closed = false
  private readonly cache: MessageCache
  private checkpointing: Promise<void> | undefined
  private bytesSinceCheckpoint = 0
  private changed = false
  private wantCheckpoint = false
  private wantCleanup = false
  private timer: NodeJS.Timeout | undefined
  private counters = { commits: 0, ops: 0 }

  constructor(options: LogStoreOptions) {
    this.dir = options.dir
    this.logDir = join(options.dir, "log")
    this.fs = options.fs ?? nodeFs
    this.segmentSize = options.segmentSize ?? 64 * 1024 * 1024
    this.checkpointBytes = options.checkpointBytes ?? 64 * 1024 * 1024
    this.checkpointInterval = options.checkpointInterval ?? 10_000
    this.maxBytes = options.maxBytes ?? Infinity
    this.cache = new MessageCache(options.cacheBytes ?? 64 * 1024 * 1024)
    this.segments = new SegmentList(this.logDir)
    this.writer = new SegmentWriter({
      fs: this.fs,
      segments: this.segments,
      segmentSize: this.segmentSize,
      preallocate: options.preallocate ?? 4 * 1024 * 1024,
      // A sealed segment: the next checkpoint covers it, so it can go once acked.
      rolled: () => (this.wantCheckpoint = true),
    })
    this.syncPolicy = new SyncPolicy(options.inlineSync ?? true)
    this.checkpointer = new Checkpointer(this.fs, this.dir, this.segments, (s) => s === this.writer.active)
    this.state = new RelayState({
      pin: (seq) => {
        const segment = this.segments.of(seq)
        if (segment !== undefined) segment.live++
      },
      unpin: (seq, kept) => this.unpin(seq, kept),
    })
  }

  async open(): Promise<Recovery> {
    await lockDataDir(this.fs, this.dir)
    try {
      return await this.recover()
    } catch (err) {
      for (const segment of this.segments.items) if (segment.fd !== undefined) await this.fs.close(segment.fd).catch(() => undefined)
      await unlockDataDir(this.fs, this.dir)
      throw err
    }
  }

  private async recover(): Promise<Recovery> {
    const started = performance.now()
    const corruption: StoreCorruption[] = []
    const notes: string[] = []
    for (const name of await this.fs.readdir(this.dir)) {
      if (name.endsWith(".tmp")) await this.fs.unlink(join(this.dir, name))
    }
    for (const base of segmentBases(await this.fs.readdir(this.logDir))) {
      const segment = this.segments.add(base, 0)
      segment.fd = await this.fs.open(segment.path, "r+")
      segment.size = await this.fs.size(segment.fd)
      segment.allocated = segment.size
    }
    const checkpoint = await this.checkpointer.load(corruption, notes)
    if (checkpoint !== undefined) {
      this.state.restore(checkpoint.state)
      this.appliedAt = { segment: checkpoint.segment, offset: checkpoint.offset }
      await this.recallWindow(checkpoint, notes)
    }
    const from = checkpoint === undefined ? undefined : { segment: checkpoint.segment, offset: checkpoint.offset, lastSeq: checkpoint.lastSeq }
    const result = await replay(this.fs, this.segments.items, from, (op, seq, loc, size) => {
      this.state.apply(op, seq, loc, size)
      const segment = this.segments.of(seq)!
      this.extendWindow(segment, op)
      this.appliedAt = { segment: segment.base, offset: loc + size }
    })
    for (const segment of result.empty) {
      await this.fs.close(segment.fd!)
      await this.fs.unlink(segment.path)
      this.segments.remove(segment)
    }
    if (result.empty.length > 0) await syncDir(this.fs, this.logDir)
    corruption.push(...result.corruption)
    notes.push(...result.notes)
    if (checkpoint !== undefined) notes.push(`checkpoint ${checkpoint.lastSeq} loaded, ${result.replayed} records replayed after it`)
    else if (result.replayed > 0) notes.push(`no checkpoint: replayed all ${result.replayed} records`)
    this.lastApplied = result.lastSeq
    this.nextSeq = result.lastSeq + 1
    this.writer.active = this.segments.last
    this.opened = true
    if (result.replayed > 0) await this.checkpoint()
    this.timer = setInterval(() => {
      if (this.changed && this.checkpointing === undefined) this.requestCheckpoint()
      // A segment kept only for its ids' window may go once that has passed, even with nothing new.
      else if (this.segments.items.some((seg) => seg.live <= 0 && seg.windowUntil > 0 && seg.windowUntil <= Date.now())) {
        void this.checkpointer.cleanup().catch(() => undefined)
      }
    }, this.checkpointInterval)
    this.timer.unref()
    return { queues: this.state.queueInfos(), corruption, notes, durationMs: performance.now() - started }
  }

  admit(bytes: number): boolean {
    if (this.maxBytes === Infinity) return true
    const pending = this.staged.writer.length + (this.inflight?.writer.length ?? 0)
    return this.segments.totalBytes() + pending + bytes <= this.maxBytes
  }

  commit(ops: readonly StoreOp[]): Promise<readonly number[]> {
    if (!this.opened || this.closed) return Promise.reject(new ZmeshError("ERR_RELAY_STORE_FAILED", "the store is not open"))
    const broken = this.writer.broken
    if (broken !== undefined) {
      return Promise.reject(new ZmeshError("ERR_RELAY_STORE_FAILED", `the log is unusable since an earlier failure: ${broken.message}`, { cause: broken }))
    }
    let messageBytes = 0
    for (const op of ops) if (op.type === "message") messageBytes += op.body.length
    if (messageBytes > 0 && !this.admit(messageBytes)) {
      return Promise.reject(new ZmeshError("ERR_RELAY_STORE_FULL", `the store is full (capacity ${this.maxBytes} bytes)`))
    }
    const batch = this.staged
    const start = batch.ops.length
    const mark = batch.writer.length
    let now = 0
    try {
      for (const op of ops) {
        const idempotent = op.type === "message" && isIdempotent(op)
        if (idempotent) {
          const original = this.state.duplicateOf(op, now || (now = Date.now()))
          if (original > 0) {
            // Not stored again: answered with the original's seq, once this batch (after the original's) is durable.
            batch.push(op, -original, -1, 0)
            continue
          }
        }
        const seq = this.nextSeq++
        // Messages are framed straight into the batch; the rare others through the generic encoder.
        const at = op.type === "message" ? batch.writer.appendWith(seq, messageBound(op), writeMessage, op) : batch.writer.append(seq, encodeOp(op))
        batch.push(op, seq, at, batch.writer.length - at)
        if (idempotent) this.state.stage(op as MessageOp, seq)
      }
    } catch (err) {
      this.unstage(batch, start)
      batch.truncate(start, mark)
      return Promise.reject(new ZmeshError("ERR_RELAY_STORE_FAILED", `cannot encode an operation: ${(err as Error).message}`, { cause: err }))
    }
    return new Promise((resolve, reject) => {
      batch.waiters.push({ start, count: ops.length, resolve, reject })
      if (!this.flushing && !this.scheduled) {
        this.scheduled = true
        // The end of this turn: everything committed in it goes out in one write.
        setImmediate(() => {
          this.scheduled = false
          void this.flush()
        })
      }
    })
  }

  async fetch(queue: string, group: string, after: number, max: number): Promise<PendingMessage[]> {
    const entries = this.state.pending(queue, group, after, max)
    let misses: PendingEntry[] | undefined
    for (const e of entries) if (e.message === undefined) (misses ??= []).push(e)
    if (misses === undefined) return entries
    // Segments being read are not deleted under the read (their descriptors stay valid).
    const reading = new Set<Segment>()
    for (const e of misses) {
      const segment = this.segments.of(e.seq)
      if (segment !== undefined) reading.add(segment)
    }
    for (const segment of reading) segment.readers++
    let read: Awaited<ReturnType<typeof readPayloads>>
    try {
      read = await readPayloads(this.fs, misses, (seq) => this.segments.of(seq), async (segment) => segment.fd!)
    } finally {
      for (const segment of reading) segment.readers--
    }
    for (const e of misses) {
      const outcome = read.get(e.seq)
      if (outcome !== undefined && "body" in outcome) {
        e.message = outcome
        continue
      }
      e.corrupt = outcome ?? { where: `seq ${e.seq}`, seq: e.seq, reason: "not found" }
      const segment = this.segments.of(e.seq)
      if (segment !== undefined) segment.corrupt = true
    }
    return entries
  }

  async due(now: number, max: number): Promise<DueMessage[]> {
    return this.state.delays.dueAt(now, max).map((d) =>
      d.half === true ? { queue: d.queue, seq: d.seq, due: d.due, half: true, id: d.id, producerId: d.producerId, checks: d.checks } : { queue: d.queue, seq: d.seq, due: d.due },
    )
  }

  async read(queue: string, seq: number): Promise<StoredMessage | undefined> {
    const delayed = this.state.delays.get(seq)
    const located = delayed ?? this.state.locate(queue, seq)
    if (located === undefined) return undefined
    if ("message" in located && located.message !== undefined) return located.message
    const segment = this.segments.of(seq)
    if (segment === undefined) return undefined
    segment.readers++
    try {
      const read = await readPayloads(this.fs, [{ seq, loc: located.loc, size: located.size }], (s) => this.segments.of(s), async (s) => s.fd!)
      const outcome = read.get(seq)
      return outcome !== undefined && "body" in outcome ? outcome : undefined
    } finally {
      segment.readers--
    }
  }

  async nextDue(): Promise<number | undefined> {
    return this.state.delays.peek()?.due
  }

  queues(): QueueInfo[] {
    return this.state.queueInfos()
  }

  stats(): StoreStats {
    return { bytes: this.segments.totalBytes(), commits: this.counters.commits, ops: this.counters.ops }
  }

  async close(): Promise<void> {
    if (this.closed || !this.opened) return
    this.closed = true
    while (this.flushing || this.scheduled || this.staged.ops.length > 0) {
      await new Promise<void>((resolve) => this.idleWaiters.push(resolve))
    }
    clearInterval(this.timer)
    const healthy = this.writer.broken === undefined
    if (this.writer.active !== undefined && healthy) await this.writer.seal(this.writer.active).catch(() => undefined)
    await this.checkpointing
    if (this.changed && healthy) await this.checkpoint().catch(() => undefined)
    for (const segment of this.segments.items) if (segment.fd !== undefined) await this.fs.close(segment.fd)
    await unlockDataDir(this.fs, this.dir)
  }

  // ---- group commit -------------------------------------------------------------

  private async flush(): Promise<void> {
    if (this.flushing) return
    if (this.staged.ops.length === 0) return this.becameIdle()
    this.flushing = true
    const batch = this.staged
    this.inflight = batch
    this.staged = this.spare ?? new Batch()
    this.spare = undefined
    try {
      const first = batch.firstSeq()
      // A batch of duplicates only has nothing to write; it still answers after the batch before it.
      const base = first === 0 ? 0 : await this.write(batch, first)
      this.applyBatch(batch, base)
    } catch (err) {
      this.unstage(batch, 0)
      const error = storeError(err)
      for (const w of batch.waiters) w.reject(error)
    } finally {
      batch.reset()
      this.inflight = undefined
      this.spare = batch
      this.flushing = false
    }
    this.maintain()
    this.settleIdsLater()
    // What arrived during the sync goes out at once, as the next group commit.
    void this.flush()
  }

  /**
   * Enters made-up ids into the de-duplication window (IdIndex.putLater)
   * once the confirms of the batch are out, off the path of the next one: an
   * immediate queued from an immediate runs in the loop's next turn, after
   * what the resolved commits scheduled. A lookup before then enters them
   * first.
   */
  private settleIdsLater(): void {
    if (this.settling || !this.state.ids.unsettled) return
    this.settling = true
    setImmediate(() =>
      setImmediate(() => {
        this.settling = false
        this.state.ids.settle()
      }),
    )
  }

  /** Writes and syncs a batch, the sync where the policy says (sync-policy.ts). */
  private async write(batch: Batch, first: number): Promise<number> {
    const inline = this.syncPolicy.begin(batch.waiters.length)
    try {
      return await this.writer.write(batch.writer.bytes(), first, inline)
    } finally {
      this.syncPolicy.end(this.staged.ops.length > 0, this.writer.lastSyncMs)
    }
  }

  private applyBatch(batch: Batch, first: number): void {
    const results = new Array<number>(batch.ops.length)
    const last = batch.lastSeq()
    for (let i = 0; i < batch.ops.length; i++) {
      const op = batch.ops[i]!
      const seq = batch.seqs[i]!
      if (seq < 0) {
        results[i] = seq // a duplicate: minus the original's seq
        continue
      }
      let kept: StoredMessage | undefined
      let staged = false
      if (op.type === "message") {
        if (op.due === 0 && op.half !== true) kept = this.cache.keep(op, seq)
        staged = isIdempotent(op)
      }
      results[i] = this.state.apply(op, seq, first + batch.offsets[i]!, batch.sizes[i]!, kept, staged)
      this.extendWindow(this.writer.active!, op)
    }
    const bytes = batch.writer.length
    if (last > 0) {
      this.lastApplied = last
      this.appliedAt = { segment: this.writer.active!.base, offset: first + bytes }
    }
    this.bytesSinceCheckpoint += bytes
    this.changed = true
    this.counters.commits++
    this.counters.ops += batch.ops.length
    for (const w of batch.waiters) w.resolve(w.count === results.length ? results : results.slice(w.start, w.start + w.count))
  }

  /** Takes back the de-duplication entries of a batch's messages from index `start` on (their commit failed). */
  private unstage(batch: Batch, start: number): void {
    for (let i = start; i < batch.ops.length; i++) {
      const op = batch.ops[i]!
      if (op.type === "message" && batch.seqs[i]! > 0) this.state.unstage(op, batch.seqs[i]!)
    }
  }

  /** Keeps `segment` while an id recorded in it by `op` is in the de-duplication window. */
  private extendWindow(segment: Segment, op: StoreOp): void {
    let until = 0
    if (op.type === "message") until = op.dedupWindow ? op.storedAt + op.dedupWindow : 0
    else if (op.type === "commit" || op.type === "rollback") until = op.dedupWindow ? op.at + op.dedupWindow : 0
    if (until > segment.windowUntil) segment.windowUntil = until
  }

  /** Rebuilds the id window from the segments the checkpoint says hold ids still in it (up to its last record). */
  private async recallWindow(checkpoint: Checkpoint, notes: string[]): Promise<void> {
    const now = Date.now()
    const windows = checkpoint.windows ?? []
    let scanned = 0
    let skipped = 0
    for (let i = 0; i + 1 < windows.length; i += 2) {
      const segment = this.segments.items.find((s) => s.base === windows[i])
      if (segment === undefined || windows[i + 1]! <= now) continue
      segment.windowUntil = windows[i + 1]!
      skipped += await scanWindow(this.fs, segment, checkpoint.lastSeq, (op, seq) => this.state.recall(op, seq, now))
      scanned++
    }
    if (scanned > 0) notes.push(`de-duplication window rebuilt from ${scanned} segments${skipped > 0 ? ` (${skipped} unreadable records skipped)` : ""}`)
  }

  private becameIdle(): void {
    for (const resolve of this.idleWaiters.splice(0)) resolve()
  }

  // ---- checkpoints and segment deletion ---------------------------------------------------

  private unpin(seq: number, kept: StoredMessage | undefined): void {
    if (kept !== undefined) this.cache.release(kept)
    const segment = this.segments.of(seq)
    if (segment === undefined) return
    segment.live--
    if (segment.live <= 0 && segment !== this.writer.active) this.wantCleanup = true
  }

  private maintain(): void {
    if (this.wantCheckpoint || this.bytesSinceCheckpoint >= this.checkpointBytes) this.requestCheckpoint()
    else if (this.wantCleanup) {
      this.wantCleanup = false
      void this.checkpointer.cleanup().catch(() => undefined)
    }
  }

  private requestCheckpoint(): void {
    if (this.checkpointing !== undefined || this.writer.broken !== undefined || this.lastApplied === 0) return
    this.wantCheckpoint = false
    this.checkpointing = this.checkpoint()
      .catch(() => undefined) // retried at the next trigger; the log alone is still complete
      .finally(() => (this.checkpointing = undefined))
  }

  /** Snapshots the state now (it matches the log up to `lastApplied`) and writes it durably. */
  private async checkpoint(): Promise<void> {
    if (this.appliedAt === undefined) return
    const checkpoint: Checkpoint = {
      lastSeq: this.lastApplied,
      segment: this.appliedAt.segment,
      offset: this.appliedAt.offset,
      created: Date.now(),
      state: this.state.snapshot(this.lastApplied),
      windows: this.segments.items.filter((seg) => seg.windowUntil > Date.now()).flatMap((seg) => [seg.base, seg.windowUntil]),
    }
    this.bytesSinceCheckpoint = 0
    this.changed = false
    this.wantCleanup = false
    await this.checkpointer.write(checkpoint)
  }
}

/** A message checked for duplicates, and recorded, when staged. */
function isIdempotent(op: MessageOp): boolean {
  return (op.dedupWindow ?? 0) > 0 || (op.producerSeq ?? null) !== null
}

function storeError(err: unknown): ZmeshError {
  const code = (err as NodeJS.ErrnoException).code
  if (code === "ENOSPC" || code === "EDQUOT") {
    return new ZmeshError("ERR_RELAY_STORE_FULL", `the disk is full: ${(err as Error).message}`, { cause: err })
  }
  return new ZmeshError("ERR_RELAY_STORE_FAILED", `the store could not commit: ${(err as Error).message}`, { cause: err })
}
