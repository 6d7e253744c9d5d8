/**
 * A compressed (radix) byte trie keyed by subscription topics, for prefix
 * matching on a message's first frame (RFC 29: the empty topic matches
 * everything).
 *
 * Each node stands for an edge label, `key[start..end)`, and `key[0..end)`
 * is the whole topic from the root down to it. Keys are latin1 strings (one
 * byte per character, on the V8 heap, so nothing pins a network chunk or a
 * Buffer pool slab): a topic's bytes are copied once, when it adds a leaf,
 * and the nodes above it split off its key by offsets. So insert, find,
 * remove and match cost time linear in the topic's length, and memory is
 * about one byte per stored topic byte plus a node per topic.
 *
 * Invariants: every node but the root has a non-empty label; a node without
 * a value has at least two children (the root excepted); a node's key is
 * its own (`key.length === end`) or the key of a node below it, so a
 * removed topic's key is never kept alive by the nodes it leaves behind.
 */

/** One node; `end` is its depth in bytes, fixed for its life. */
export class TrieNode<V> {
  /** Holds at least the topic bytes `[0, end)`. */
  key: string
  /** Where this node's edge label starts in `key`. */
  start: number
  readonly end: number
  /** `key`'s byte at `start`: the byte the parent finds this node by. */
  first: number
  value: V | undefined = undefined
  parent: TrieNode<V> | undefined
  /** Up to SMALL children in an array, searched by `first`; a Map past that. */
  kids: Array<TrieNode<V>> | Map<number, TrieNode<V>> | undefined = undefined

  constructor(key: string, start: number, end: number, parent: TrieNode<V> | undefined) {
    this.key = key
    this.start = start
    this.end = end
    this.first = start < end ? key.charCodeAt(start) : -1
    this.parent = parent
  }
}

/** Children kept in an array up to this many; a Map beyond. */
const SMALL = 8

export class Trie<V> {
  readonly root = new TrieNode<V>("", 0, 0, undefined)
  /** Number of topics holding a value. */
  size = 0

  /** The node of `topic`, or undefined when the trie has no node ending exactly there. */
  find(topic: Uint8Array): TrieNode<V> | undefined {
    let node = this.root
    let i = 0
    const n = topic.length
    while (i < n) {
      const kid = childOf(node, topic[i]!)
      if (kid === undefined) return undefined
      const { key, end } = kid
      if (end - kid.start > n - i) return undefined
      for (let j = kid.start + 1, k = i + 1; j < end; j++, k++) if (key.charCodeAt(j) !== topic[k]) return undefined
      i += end - kid.start
      node = kid
    }
    return node
  }

  /** The node of `topic`, made (without a value) if needed; copies the topic when it adds a leaf. */
  insert(topic: Buffer): TrieNode<V> {
    let node = this.root
    let i = 0
    const n = topic.length
    while (i < n) {
      const kid = childOf(node, topic[i]!)
      if (kid === undefined) {
        const leaf = new TrieNode<V>(topic.toString("latin1", 0, n), i, n, node)
        addKid(node, leaf)
        return leaf
      }
      const { key, end } = kid
      let j = kid.start + 1
      i++
      while (j < end && i < n && key.charCodeAt(j) === topic[i]) {
        j++
        i++
      }
      node = j === end ? kid : split(kid, j)
    }
    return node
  }

  /** Sets a node's value (not undefined; use `clear`). */
  set(node: TrieNode<V>, value: V): void {
    if (node.value === undefined) this.size++
    node.value = value
  }

  /** Removes a node's value and the nodes that leaves without purpose. */
  clear(node: TrieNode<V>): void {
    if (node.value === undefined) return
    node.value = undefined
    this.size--
    if (node === this.root) return
    const count = kidCount(node)
    if (count >= 2) return
    const parent = node.parent!
    if (count === 1) {
      merge(node)
      return repoint(parent, node.key)
    }
    removeKid(parent, node)
    node.parent = undefined
    if (parent !== this.root && parent.value === undefined && kidCount(parent) === 1) {
      // The parent's remaining child takes its place. Only the parent's key can be
      // dead above it: the leaf's key reached up to it only if it was the parent's key too.
      const above = parent.parent!
      merge(parent)
      return repoint(above, parent.key)
    }
    repoint(parent, node.key)
  }

  /** The topic of a node as a new Buffer. */
  topicOf(node: TrieNode<V>): Buffer {
    const topic = Buffer.allocUnsafe(node.end)
    topic.write(node.key, 0, node.end, "latin1")
    return topic
  }

  /** Calls `visit` with the value of every topic that is a prefix of `data`, shortest first. */
  forEachPrefix(data: Uint8Array, visit: (value: V) => void): void {
    let node = this.root
    let i = 0
    const n = data.length
    for (;;) {
      if (node.value !== undefined) visit(node.value)
      if (i === n) return
      const kid = childOf(node, data[i]!)
      if (kid === undefined) return
      const { key, end } = kid
      if (end - kid.start > n - i) return
      for (let j = kid.start + 1, k = i + 1; j < end; j++, k++) if (key.charCodeAt(j) !== data[k]) return
      i += end - kid.start
      node = kid
    }
  }

  /** True when some topic is a prefix of `data`. */
  matches(data: Uint8Array): boolean {
    let node = this.root
    let i = 0
    const n = data.length
    for (;;) {
      if (node.value !== undefined) return true
      if (i === n) return false
      const kid = childOf(node, data[i]!)
      if (kid === undefined) return false
      const { key, end } = kid
      if (end - kid.start > n - i) return false
      for (let j = kid.start + 1, k = i + 1; j < end; j++, k++) if (key.charCodeAt(j) !== data[k]) return false
      i += end - kid.start
      node = kid
    }
  }

  /** Every node holding a value, parents before children. */
  *nodes(): Generator<TrieNode<V>> {
    const stack: Array<TrieNode<V>> = [this.root]
    for (let node = stack.pop(); node !== undefined; node = stack.pop()) {
      if (node.value !== undefined) yield node
      const kids = node.kids
      if (kids !== undefined) for (const kid of kids.values()) stack.push(kid)
    }
  }
}

function childOf<V>(node: TrieNode<V>, byte: number): TrieNode<V> | undefined {
  const kids = node.kids
  if (kids === undefined) return undefined
  if (Array.isArray(kids)) {
    for (let i = 0; i < kids.length; i++) if (kids[i]!.first === byte) return kids[i]
    return undefined
  }
  return kids.get(byte)
}

function kidCount<V>(node: TrieNode<V>): number {
  const kids = node.kids
  if (kids === undefined) return 0
  return Array.isArray(kids) ? kids.length : kids.size
}

function anyKid<V>(node: TrieNode<V>): TrieNode<V> | undefined {
  const kids = node.kids
  if (kids === undefined) return undefined
  if (Array.isArray(kids)) return kids[0]
  for (const kid of kids.values()) return kid
  return undefined
}

function addKid<V>(node: TrieNode<V>, kid: TrieNode<V>): void {
  const kids = node.kids
  if (kids === undefined) node.kids = [kid]
  else if (!Array.isArray(kids)) kids.set(kid.first, kid)
  else if (kids.length < SMALL) kids.push(kid)
  else {
    const map = new Map<number, TrieNode<V>>()
    for (const k of kids) map.set(k.first, k)
    map.set(kid.first, kid)
    node.kids = map
  }
}

function removeKid<V>(node: TrieNode<V>, kid: TrieNode<V>): void {
  const kids = node.kids!
  if (Array.isArray(kids)) {
    // Order among children does not matter: move the last one into the gap.
    const last = kids.pop()!
    if (last !== kid) kids[kids.indexOf(kid)] = last
    if (kids.length === 0) node.kids = undefined
  } else {
    kids.delete(kid.first)
    if (kids.size === 0) node.kids = undefined
  }
}

/** Puts `next` where `old` was among `node`'s children; both start with the same byte. */
function replaceKid<V>(node: TrieNode<V>, old: TrieNode<V>, next: TrieNode<V>): void {
  const kids = node.kids!
  if (Array.isArray(kids)) kids[kids.indexOf(old)] = next
  else kids.set(next.first, next)
}

/** Cuts `kid`'s label at `at`: a new node takes the upper part, `kid` keeps its end (and value). */
function split<V>(kid: TrieNode<V>, at: number): TrieNode<V> {
  const parent = kid.parent!
  const upper = new TrieNode<V>(kid.key, kid.start, at, parent)
  replaceKid(parent, kid, upper)
  kid.start = at
  kid.first = kid.key.charCodeAt(at)
  kid.parent = upper
  upper.kids = [kid]
  return upper
}

/** Folds a valueless node into its only child, which takes over its label. */
function merge<V>(node: TrieNode<V>): void {
  const kid = anyKid(node)!
  const parent = node.parent!
  // The child's key holds the whole path down to it, so this node's label too.
  kid.start = node.start
  kid.first = node.first
  kid.parent = parent
  replaceKid(parent, node, kid)
  node.parent = undefined
  node.kids = undefined
}

/**
 * After a node holding `key` left, makes the nodes from `from` up that still
 * use `key` use one a node below them holds (or, for a leaf, a copy of its
 * own), so the departed topic's bytes are freed. The nodes sharing a key
 * are a run of ancestors, so the walk stops at the first that does not;
 * strings compare by pointer before content, so it is linear in the depth.
 */
function repoint<V>(from: TrieNode<V>, key: string): void {
  for (let node: TrieNode<V> | undefined = from; node !== undefined && node.key === key; node = node.parent) {
    const kid = anyKid(node)
    node.key = kid === undefined ? ownKey(key, node.end) : kid.key
  }
}

/** A flat copy of `key[0, end)` (`slice` might keep `key` alive as a sliced string). */
function ownKey(key: string, end: number): string {
  const bytes = Buffer.allocUnsafe(end)
  bytes.write(key, 0, end, "latin1")
  return bytes.toString("latin1")
}
