/**
 * Where a group's next claim starts. A claim from position 0 walks past
 * every row this node already holds (its consumers' unacked messages), so
 * claims go on after the highest position claimed so far, and look back
 * from 0 only when rows below it may have become claimable: this node gave
 * one back (a retry, due again at its not-before time), another node
 * committed to the queue (its seqs interleave with ours), a node died (its
 * holds expired), or a notification may have been lost. A look-back goes up
 * in steps (each claim continues where the last one stopped) until a claim
 * finds fewer rows than it asked for.
 */
export class ClaimFrontier {
  /** Highest position claimed. */
  private highest = 0
  /** Rows below `highest` may be claimable from this time on (epoch ms; Infinity: none known). */
  private rescanAt = 0
  /** A look-back under way: the position it continues after. */
  private rescanFrom: number | undefined
  /** Not-before times of rows given back and not due yet. */
  private later: number[] = []
  /** Counts look-backs: one asked for while a claim is in flight is not taken as done by that claim. */
  private generation = 0
  private startedAt = 0

  /** Where the next claim starts, at `now`. */
  start(now: number): number {
    this.startedAt = this.generation
    if (this.rescanFrom === undefined && now >= this.rescanAt) {
      this.rescanFrom = 0
      this.later = this.later.filter((at) => at > now)
      this.rescanAt = this.later.length === 0 ? Infinity : Math.min(...this.later)
    }
    return this.rescanFrom ?? this.highest
  }

  /** The claim from `from` (the last `start`) asked for `max` and got these positions, in order. */
  claimed(from: number, max: number, positions: readonly number[]): void {
    const last = positions.length > 0 ? positions[positions.length - 1]! : from
    if (last > this.highest) this.highest = last
    if (this.rescanFrom === undefined || from !== this.rescanFrom) return
    // A full page: the look-back goes on from there; less: it is done (unless another was asked for meanwhile).
    if (positions.length >= max) this.rescanFrom = last
    else {
      this.rescanFrom = undefined
      if (this.generation !== this.startedAt) this.rescanAt = 0
    }
  }

  /** A row below the frontier may be claimable again from `at` on (0: now). */
  lookBack(at = 0): void {
    this.generation++
    if (at > Date.now()) this.later.push(at)
    if (at < this.rescanAt) this.rescanAt = at
  }
}
