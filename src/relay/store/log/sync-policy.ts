/**
 * Where a group commit's fdatasync runs: on the event loop's own thread, or
 * on libuv's thread pool.
 *
 * On the pool, the loop keeps reading and staging while the disk syncs, but
 * every sync costs a hand-off to a pool thread and a wake-up back (three
 * context switches: 40-60 µs and as much CPU on a small VM, more when its
 * cores are busy). That buys nothing while nothing else waits for the loop: a
 * producer with one send in flight, or one in lockstep with its confirms,
 * sends nothing new until this commit is confirmed. So a sync runs on the
 * loop's thread while the relay is otherwise idle, and goes to the pool as
 * soon as there is work to overlap with it:
 *
 * - after a sync on the pool: something was staged while it ran (another
 *   client, a consumer's acks, more sends than one turn carried);
 * - after a sync on the loop: the loop did not go idle between the end of
 *   that sync and this commit, so work was waiting when it ended (told by
 *   the loop's own idle-time counter, `performance.nodeTiming.idleTime`),
 *   and either it was more than one commit, or work was waiting after the
 *   sync before too (a consumer acking a stream of deliveries). A lone
 *   commit waiting once is most often the same client's next request,
 *   there first because the relay was preempted after writing its confirm
 *   (a third of the time on this VM under load, rarely twice in a row);
 * - while syncs on the loop that stalled (took over SLOW_SYNC) have used up
 *   their allowance: STALL_BURST ms, refilled at STALL_SHARE of the time
 *   passing, so that a stalling disk blocks the loop at most about 1% of the
 *   time, however long it stalls. (Ordinary syncs take 0.1-0.3 ms here; with
 *   other processes writing, about one in a thousand takes 10-100 ms.)
 *
 * A wrong guess costs one sync's worth: a pool hand-off for nothing, or one
 * sync that did not overlap the work arriving meanwhile. Either way a group
 * commit is one write and one fdatasync.
 */
import { performance } from "node:perf_hooks"

/** ms: a sync on the loop's thread slower than this stalled it, and is paid from the allowance. */
const SLOW_SYNC = 10
/** ms of stalls allowed at once, and the share of time passing that refills the allowance. */
const STALL_BURST = 100
const STALL_SHARE = 0.01

/** What the policy reads: the loop's idle time (ms blocked waiting for events) and a clock (ms). */
export interface LoopClock {
  idle(): number | undefined
  now(): number
}

const nodeClock: LoopClock = {
  idle: () => (performance.nodeTiming as { idleTime?: number }).idleTime,
  now: () => performance.now(),
}

/** Decides, commit by commit, where the fdatasync runs (see above); LogStore holds one. */
export class SyncPolicy {
  private readonly enabled: boolean
  private readonly clock: LoopClock
  /** Work overlapped, or could have, with the last sync. */
  private busy = false
  /** ms of stalls the loop may still take, as of `allowanceAt`. */
  private allowance = STALL_BURST
  private allowanceAt: number
  /** Where the last sync ran, and the loop's idle time when it ended. */
  private lastInline = false
  private idleAtEnd: number | undefined
  /** Work was waiting after the sync on the loop before the last one. */
  private waited = false
  /** Syncs done on the loop's thread and on the pool. */
  inline = 0
  pooled = 0

  /** `enabled` false: every sync goes to the pool. */
  constructor(enabled: boolean, clock: LoopClock = nodeClock) {
    this.clock = clock
    this.enabled = enabled && typeof clock.idle() === "number"
    this.allowanceAt = clock.now()
  }

  /** A group commit gathered from `commits` commit() calls is about to sync: true to fdatasync on this thread. */
  begin(commits: number): boolean {
    let inline = false
    if (this.enabled) {
      if (this.lastInline) {
        const waited = this.clock.idle() === this.idleAtEnd
        this.busy = waited && (commits > 1 || this.waited)
        this.waited = waited
      } else {
        this.waited = false
      }
      inline = !this.busy && this.refill() > 0
    }
    this.lastInline = inline
    return inline
  }

  /**
   * The commit is done (or failed): its fdatasync took `syncMs` ms; `staged`
   * says whether more was staged meanwhile.
   */
  end(staged: boolean, syncMs: number): void {
    if (this.lastInline) {
      this.inline++
      if (syncMs > SLOW_SYNC) this.allowance = this.refill() - syncMs
      this.idleAtEnd = this.clock.idle()
    } else {
      this.pooled++
      this.busy = staged
    }
  }

  /** The allowance now. */
  private refill(): number {
    const now = this.clock.now()
    this.allowance = Math.min(STALL_BURST, this.allowance + (now - this.allowanceAt) * STALL_SHARE)
    this.allowanceAt = now
    return this.allowance
  }
}
