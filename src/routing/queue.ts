/** A growable ring buffer: O(1) push and shift without Array#shift's copying. */
export class Queue<T> {
  private items: (T | undefined)[] = new Array(16)
  private head = 0
  private mask = 15
  length = 0

  push(item: T): void {
    if (this.length > this.mask) this.grow()
    this.items[(this.head + this.length) & this.mask] = item
    this.length++
  }

  shift(): T | undefined {
    if (this.length === 0) return undefined
    const item = this.items[this.head]
    this.items[this.head] = undefined
    this.head = (this.head + 1) & this.mask
    this.length--
    return item
  }

  peek(): T | undefined {
    return this.length === 0 ? undefined : this.items[this.head]
  }

  /** Calls `visit` on each item, in order. */
  forEach(visit: (item: T) => void): void {
    for (let i = 0; i < this.length; i++) visit(this.items[(this.head + i) & this.mask] as T)
  }

  /** Removes every item and returns them in order. */
  drain(): T[] {
    const out: T[] = []
    for (let item = this.shift(); item !== undefined; item = this.shift()) out.push(item)
    return out
  }

  /** Removes the items for which `remove` returns true, keeping the others in order; in place, without allocating. */
  removeWhere(remove: (item: T) => boolean): void {
    const items = this.items
    const mask = this.mask
    let kept = 0
    for (let i = 0; i < this.length; i++) {
      const item = items[(this.head + i) & mask] as T
      if (remove(item)) continue
      items[(this.head + kept) & mask] = item
      kept++
    }
    for (let i = kept; i < this.length; i++) items[(this.head + i) & mask] = undefined
    this.length = kept
  }

  private grow(): void {
    const size = this.items.length
    const next: (T | undefined)[] = new Array(size * 2)
    for (let i = 0; i < this.length; i++) next[i] = this.items[(this.head + i) & this.mask]
    this.items = next
    this.head = 0
    this.mask = size * 2 - 1
  }
}
