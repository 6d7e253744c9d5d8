/**
 * Appends group commits to the active segment: one writev and one fdatasync
 * per batch (the fdatasync on the loop's thread or the pool, as the caller
 * says: sync-policy.ts), a new segment (durable in its directory first) when the batch
 * would not fit, zeros written ahead in the background so that a commit's
 * fdatasync flushes data and no size change, and the file cut back to its
 * last synced length if a write or sync fails.
 */
import type { LogFs } from "./log-fs.js"
import { syncDir } from "./log-fs.js"
import { SEGMENT_HEADER, segmentHeader } from "./record.js"
import type { Segment, SegmentList } from "./segments.js"

export interface SegmentWriterOptions {
  readonly fs: LogFs
  readonly segments: SegmentList
  readonly segmentSize: number
  /** Bytes zero-filled ahead of the end (0 = off). */
  readonly preallocate: number
  /** A segment was sealed and a new one started. */
  readonly rolled: () => void
}

export class SegmentWriter {
  /** The segment being appended to. */
  active: Segment | undefined
  /** Set when a failed write could not be undone: nothing more may be appended. */
  broken: Error | undefined
  /** ms the last commit's fdatasync took. */
  lastSyncMs = 0
  private readonly o: SegmentWriterOptions

  constructor(options: SegmentWriterOptions) {
    this.o = options
  }

  /**
   * Writes a batch (first record `firstSeq`) durably; returns the file offset
   * where it starts. `inline`: fdatasync on this thread instead of the pool.
   */
  async write(bytes: Buffer, firstSeq: number, inline = false): Promise<number> {
    const fsx = this.o.fs
    this.lastSyncMs = 0
    let segment = this.active
    if (segment === undefined || (segment.size > SEGMENT_HEADER && segment.size + bytes.length > this.o.segmentSize)) {
      segment = await this.roll(firstSeq)
    }
    const position = segment.size
    const buffers = position === 0 ? [segmentHeader(segment.base), bytes] : [bytes]
    // Never write where zeros are still being written ahead.
    if (segment.filling !== undefined && position + SEGMENT_HEADER + bytes.length > segment.fillFrom) await segment.filling
    try {
      await fsx.writev(segment.fd!, buffers, position)
      const started = performance.now()
      try {
        await fsx.fdatasync(segment.fd!, inline)
      } finally {
        this.lastSyncMs = performance.now() - started
      }
    } catch (err) {
      // Cut the file back to its last synced length, so no later record ever follows a torn one.
      try {
        await segment.filling
        await fsx.ftruncate(segment.fd!, position)
        await fsx.fdatasync(segment.fd!)
        segment.allocated = position
      } catch (err2) {
        this.broken = err2 as Error
      }
      throw err
    }
    const first = position === 0 ? SEGMENT_HEADER : position
    segment.size = first + bytes.length
    this.extend(segment)
    return first
  }

  /** Cuts a segment's zeros written ahead, so that a sealed segment ends with its last record. */
  async seal(segment: Segment): Promise<void> {
    await segment.filling
    if (segment.allocated <= segment.size) return
    await this.o.fs.ftruncate(segment.fd!, segment.size)
    await this.o.fs.fdatasync(segment.fd!)
    segment.allocated = segment.size
  }

  /** Starts a new segment, durable in the directory before any record goes into it. */
  private async roll(base: number): Promise<Segment> {
    const fsx = this.o.fs
    const previous = this.active
    if (previous !== undefined) await this.seal(previous)
    const segment = this.o.segments.add(base, 0)
    try {
      segment.fd = await fsx.open(segment.path, "wx+")
      await syncDir(fsx, this.o.segments.dir)
    } catch (err) {
      if (segment.fd !== undefined) await fsx.close(segment.fd).catch(() => undefined)
      this.o.segments.remove(segment)
      throw err
    }
    this.active = segment
    if (previous !== undefined) this.o.rolled()
    return segment
  }

  /** Zero-fills the next stretch in the background once the log nears the filled end. */
  private extend(segment: Segment): void {
    const ahead = this.o.preallocate
    if (ahead === 0 || segment.filling !== undefined || segment.size + ahead / 2 < segment.allocated) return
    const from = Math.max(segment.allocated, segment.size)
    segment.fillFrom = from
    segment.filling = this.o.fs.fill(segment.fd!, from, ahead).then(
      () => {
        segment.allocated = from + ahead
        segment.filling = undefined
      },
      () => {
        // Only an optimisation: appends work without it.
        segment.filling = undefined
      },
    )
  }
}
