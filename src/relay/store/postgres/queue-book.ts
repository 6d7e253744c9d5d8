/**
 * The PostgreSQL store's picture of its queues for `queues()` (which is
 * synchronous): loaded at open, kept up to date from what each commit
 * returns, and recounted now and then while other nodes change the same
 * tables. Also the map of group names to their ids.
 */
import type { GroupInfo, GroupSettings, QueueInfo } from "../store.js"

interface GroupEntry {
  readonly id: number
  readonly name: string
  readonly settings: GroupSettings
  pending: number
}

interface QueueEntry {
  readonly name: string
  depth: number
  delayed: number
  /** Half messages not decided yet. */
  prepared: number
  readonly groups: Map<string, GroupEntry>
}

export class QueueBook {
  private readonly queues = new Map<string, QueueEntry>()
  private readonly byId = new Map<number, GroupEntry>()

  queue(name: string): QueueEntry {
    let q = this.queues.get(name)
    if (q === undefined) this.queues.set(name, (q = { name, depth: 0, delayed: 0, prepared: 0, groups: new Map() }))
    return q
  }

  groupId(queue: string, group: string): number | undefined {
    return this.queues.get(queue)?.groups.get(group)?.id
  }

  /** The ids of a queue's groups. */
  groupIds(queue: string): number[] {
    const q = this.queues.get(queue)
    return q === undefined ? [] : [...q.groups.values()].map((g) => g.id)
  }

  addGroup(queue: string, id: number, name: string, settings: GroupSettings, pending: number): void {
    const q = this.queue(queue)
    const existing = q.groups.get(name)
    if (existing !== undefined) return
    const entry: GroupEntry = { id, name, settings, pending }
    q.groups.set(name, entry)
    this.byId.set(id, entry)
  }

  /** Delivery rows made (+) or removed (-), as `{ groupId: count }` from a statement. */
  pendingChanged(counts: Record<string, number> | null, sign: 1 | -1): void {
    if (counts === null) return
    for (const id in counts) {
      const g = this.byId.get(Number(id))
      if (g !== undefined) g.pending = Math.max(0, g.pending + sign * Number(counts[id]))
    }
  }

  /** Messages deleted by retention, as `{ queue: count }`. */
  dropped(counts: Record<string, number> | null): void {
    if (counts === null) return
    for (const name in counts) {
      const q = this.queues.get(name)
      if (q !== undefined) q.depth = Math.max(0, q.depth - Number(counts[name]))
    }
  }

  /** Replaces the counts with a fresh count of the whole database. */
  recount(messages: ReadonlyArray<Record<string, unknown>>, pending: ReadonlyArray<Record<string, unknown>>): void {
    for (const q of this.queues.values()) q.depth = q.delayed = q.prepared = 0
    for (const g of this.byId.values()) g.pending = 0
    for (const row of messages) {
      const q = this.queue(row.queue as string)
      q.depth = Number(row.depth)
      q.delayed = Number(row.delayed)
      q.prepared = Number(row.prepared)
    }
    for (const row of pending) {
      const g = this.byId.get(Number(row.group_id))
      if (g !== undefined) g.pending = Number(row.n)
    }
  }

  infos(): QueueInfo[] {
    const out: QueueInfo[] = []
    for (const q of this.queues.values()) {
      const groups: GroupInfo[] = []
      for (const g of q.groups.values()) groups.push({ name: g.name, settings: g.settings, pending: g.pending })
      out.push({ name: q.name, depth: q.depth, delayed: q.delayed, prepared: q.prepared, groups })
    }
    return out
  }
}
