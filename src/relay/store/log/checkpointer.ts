/**
 * Writes recovery checkpoints (keeping the two newest) and deletes the
 * segments they make unnecessary: sealed, holding no payload a stored or
 * delayed message needs, and covered by the older kept checkpoint (so that
 * falling back to it still finds every record it needs). A segment that
 * failed a check is moved to quarantine/ instead of deleted.
 */
import { join } from "node:path"
import type { StoreCorruption } from "../store.js"
import { type Checkpoint, checkpointFiles, decodeCheckpoint, writeCheckpoint } from "./checkpoint.js"
import { type LogFs, syncDir } from "./log-fs.js"
import type { Segment, SegmentList } from "./segments.js"

export class Checkpointer {
  /** Valid checkpoint files, newest first. */
  private kept: Array<{ name: string; lastSeq: number }> = []
  private cleaning = false
  private readonly fs: LogFs
  private readonly dir: string
  private readonly segments: SegmentList
  private readonly isActive: (segment: Segment) => boolean

  constructor(fs: LogFs, dir: string, segments: SegmentList, isActive: (segment: Segment) => boolean) {
    this.fs = fs
    this.dir = dir
    this.segments = segments
    this.isActive = isActive
  }

  /** The newest valid checkpoint; every valid one is remembered, damaged ones reported. */
  async load(corruption: StoreCorruption[], notes: string[]): Promise<Checkpoint | undefined> {
    let newest: Checkpoint | undefined
    for (const name of checkpointFiles(await this.fs.readdir(this.dir))) {
      try {
        const checkpoint = decodeCheckpoint(await this.fs.readFile(join(this.dir, name)))
        this.kept.push({ name, lastSeq: checkpoint.lastSeq })
        newest ??= checkpoint
      } catch (err) {
        corruption.push({ where: join(this.dir, name), reason: (err as Error).message })
        notes.push(`checkpoint ${name} is unusable (${(err as Error).message}); trying an older one`)
      }
    }
    return newest
  }

  /** Writes a checkpoint durably, drops the ones older than the previous, and deletes what it allows. */
  async write(checkpoint: Checkpoint): Promise<void> {
    const name = await writeCheckpoint(this.fs, this.dir, checkpoint)
    this.kept = [{ name, lastSeq: checkpoint.lastSeq }, ...this.kept.filter((c) => c.name !== name)]
    for (const old of this.kept.splice(2)) await this.fs.unlink(join(this.dir, old.name)).catch(() => undefined)
    await this.cleanup()
  }

  /** Deletes sealed segments no message needs, past their ids' de-duplication window, whose records the older kept checkpoint covers. */
  async cleanup(): Promise<void> {
    if (this.cleaning || this.kept.length < 2) return
    this.cleaning = true
    try {
      const covered = this.kept[this.kept.length - 1]!.lastSeq
      const now = Date.now()
      const doomed = this.segments.items.filter((s) => {
        const end = this.segments.endOf(s)
        return !this.isActive(s) && s.live <= 0 && s.readers === 0 && s.windowUntil <= now && end !== undefined && end - 1 <= covered
      })
      for (const segment of doomed) {
        this.segments.remove(segment)
        if (segment.fd !== undefined) await this.fs.close(segment.fd)
        if (segment.corrupt) {
          await this.fs.mkdir(join(this.dir, "quarantine"))
          await this.fs.rename(segment.path, join(this.dir, "quarantine", segment.name))
        } else {
          await this.fs.unlink(segment.path)
        }
      }
      if (doomed.length > 0) await syncDir(this.fs, this.segments.dir)
    } finally {
      this.cleaning = false
    }
  }
}
