/**
 * Naive models of the subscription tables and a checker of the compact
 * trie's invariants, shared by the property tests (test/unit/routing) and
 * the fuzz script (bench/fuzz). The models keep plain lists and test
 * prefixes by brute force, so they are obviously right and slow.
 */
import fc from "fast-check"
import type { Trie, TrieNode } from "../../src/routing/trie.js"

/** A topic as the models key it. */
const keyOf = (topic: Uint8Array): string => Buffer.from(topic).toString("hex")

function isPrefix(topic: string, data: string): boolean {
  return data.startsWith(topic)
}

/** libzmq's mtrie as a list: each pipe's distinct topics in the order it subscribed them. */
export class PipesModel<P> {
  readonly held = new Map<P, string[]>()
  /** Pipes marked by depart (or part way through removePipe): match skips them; they are never added to again. */
  readonly departing = new Set<P>()

  private holders(topic: string): P[] {
    return [...this.held].filter(([, topics]) => topics.includes(topic)).map(([pipe]) => pipe)
  }

  add(topic: Uint8Array, pipe: P): boolean {
    const key = keyOf(topic)
    const isNew = this.holders(key).length === 0
    const list = this.held.get(pipe) ?? []
    if (!list.includes(key)) list.push(key)
    this.held.set(pipe, list)
    return isNew
  }

  remove(topic: Uint8Array, pipe: P): "notFound" | "last" | "remain" {
    const key = keyOf(topic)
    const list = this.held.get(pipe)
    if (list === undefined || !list.includes(key)) return "notFound"
    list.splice(list.indexOf(key), 1)
    if (list.length === 0) this.held.delete(pipe)
    return this.holders(key).length === 0 ? "last" : "remain"
  }

  depart(pipe: P): void {
    if (this.held.has(pipe)) this.departing.add(pipe)
  }

  /** What removePipe reports: [topic hex, last] per topic removed, in subscription order. */
  removePipe(pipe: P, budget = Infinity): Array<[string, boolean]> {
    const list = this.held.get(pipe) ?? []
    const gone: Array<[string, boolean]> = []
    while (list.length > 0 && gone.length < budget) {
      const key = list.shift()!
      gone.push([key, this.holders(key).length === 0])
    }
    if (list.length === 0) {
      this.held.delete(pipe)
      this.departing.delete(pipe)
    } else {
      this.departing.add(pipe)
    }
    return gone
  }

  /** Pipes (not departing) holding a prefix of `data`, each once, in no particular order. */
  match(data: Uint8Array): Set<P> {
    const key = keyOf(data)
    const out = new Set<P>()
    for (const [pipe, topics] of this.held) {
      if (!this.departing.has(pipe) && topics.some((t) => isPrefix(t, key))) out.add(pipe)
    }
    return out
  }

  has(topic: Uint8Array, pipe: P): boolean {
    return this.held.get(pipe)?.includes(keyOf(topic)) === true
  }

  count(pipe: P): number {
    return this.held.get(pipe)?.length ?? 0
  }

  /** Distinct topics over all pipes. */
  get size(): number {
    return new Set([...this.held.values()].flat()).size
  }
}

/** libzmq's trie_t as a multiset: a topic added twice needs two removes. */
export class CountsModel {
  readonly counts = new Map<string, number>()

  add(topic: Uint8Array): boolean {
    const key = keyOf(topic)
    const count = this.counts.get(key) ?? 0
    this.counts.set(key, count + 1)
    return count === 0
  }

  remove(topic: Uint8Array): boolean {
    const key = keyOf(topic)
    const count = this.counts.get(key)
    if (count === undefined) return false
    if (count === 1) this.counts.delete(key)
    else this.counts.set(key, count - 1)
    return count === 1
  }

  matches(data: Uint8Array): boolean {
    const key = keyOf(data)
    return [...this.counts.keys()].some((t) => isPrefix(t, key))
  }

  /** Distinct topics as hex, sorted. */
  topics(): string[] {
    return [...this.counts.keys()].sort()
  }
}

/**
 * Every broken invariant of a trie (empty when it is sound): the shape of
 * a radix trie, each node's key holding its path, `first`, parent links,
 * the size, and the memory bound: the key strings alive (each owned by the
 * node whose depth is its length) add up to at most twice the bytes of the
 * topics the trie holds, so a removed topic's bytes are never kept.
 */
export function trieViolations<V>(trie: Trie<V>): string[] {
  const problems: string[] = []
  let valued = 0
  let topicBytes = 0
  let ownedBytes = 0
  const visit = (node: TrieNode<V>, path: string): Set<string> => {
    const where = `node at ${JSON.stringify(path)}`
    const owned = new Set<string>()
    if (node.key.length < node.end) problems.push(`${where}: key shorter than its depth`)
    if (node.key.slice(0, node.end) !== path) problems.push(`${where}: key does not hold its path`)
    if (node.value !== undefined) {
      valued++
      topicBytes += node.end
    }
    const kids = node.kids === undefined ? [] : [...node.kids.values()]
    if (Array.isArray(node.kids) && node.kids.length > 8) problems.push(`${where}: ${node.kids.length} children in an array`)
    if (node.kids !== undefined && kids.length === 0) problems.push(`${where}: empty child table`)
    if (node !== trie.root && node.value === undefined && kids.length < 2) {
      problems.push(`${where}: no value and ${kids.length} children`)
    }
    const firsts = new Set<number>()
    for (const kid of kids) {
      if (kid.parent !== node) problems.push(`${where}: a child's parent link is wrong`)
      if (kid.start !== node.end) problems.push(`${where}: a child's label does not start at its depth`)
      if (kid.end <= kid.start) problems.push(`${where}: a child with an empty label`)
      if (kid.first !== kid.key.charCodeAt(kid.start)) problems.push(`${where}: a child's first byte is stale`)
      if (firsts.has(kid.first)) problems.push(`${where}: two children start with ${kid.first}`)
      firsts.add(kid.first)
      const label = kid.key.slice(kid.start, kid.end)
      for (const key of visit(kid, path + label)) owned.add(key)
    }
    if (node.key.length === node.end) {
      owned.add(node.key)
      ownedBytes += node.end
    } else if (!owned.has(node.key)) {
      problems.push(`${where}: its key (${node.key.length} bytes) is owned by no node below it`)
    }
    return owned
  }
  visit(trie.root, "")
  if (valued !== trie.size) problems.push(`size is ${trie.size}, ${valued} nodes hold a value`)
  if (ownedBytes > 2 * topicBytes) problems.push(`keys hold ${ownedBytes} bytes for ${topicBytes} bytes of topics`)
  return problems
}

/** The trie inside a TopicPipes or TopicCounts, for `trieViolations` (a private field, read by tests only). */
export function trieOf(table: object): Trie<unknown> {
  return (table as { trie: Trie<unknown> }).trie
}

// ---- generators -----------------------------------------------------------------

/**
 * Topics that share prefixes and split each other: short ones over a 4-byte
 * alphabet, long ones over 2 bytes, and some over 16 bytes (so a node gets
 * more than 8 children and keeps them in a Map).
 */
const wideBytes = fc.array(fc.integer({ min: 0x30, max: 0x3f }), { minLength: 1, maxLength: 3 })

export const topicArb: fc.Arbitrary<Buffer> = fc
  .oneof(
    { weight: 4, arbitrary: fc.array(fc.constantFrom(0x00, 0x61, 0x62, 0xff), { maxLength: 6 }) },
    { weight: 1, arbitrary: fc.array(fc.constantFrom(0x61, 0x62), { minLength: 20, maxLength: 60 }) },
    { weight: 2, arbitrary: wideBytes },
  )
  .map((bytes) => Buffer.from(bytes))

/**
 * `count` topics drawn from a small pool and cut at random lengths, so the
 * same topics and their prefixes come back: what makes nodes split, merge
 * and lend their keys.
 */
export function topicsFromPool(count: number): fc.Arbitrary<Buffer[]> {
  return fc
    .oneof(
      fc.array(topicArb, { minLength: 1, maxLength: 6 }),
      fc.array(topicArb, { minLength: 8, maxLength: 24 }),
      fc.array(wideBytes.map((bytes) => Buffer.from(bytes)), { minLength: 9, maxLength: 30 }),
    )
    .chain((pool) =>
      fc.array(
        fc.tuple(fc.nat(pool.length - 1), fc.nat(64)).map(([i, cut]) => pool[i]!.subarray(0, Math.min(cut, pool[i]!.length))),
        { minLength: count, maxLength: count },
      ),
    )
}
