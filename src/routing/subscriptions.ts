/** The two subscription tables of RFC 29 as libzmq keeps them, on the compact trie. */
import type { Pipe } from "./pipe.js"
import { Trie, type TrieNode } from "./trie.js"

/**
 * A subscriber's own topics, reference-counted (libzmq's trie_t): a topic
 * subscribed twice needs two unsubscribes before it is gone.
 */
export class TopicCounts {
  private readonly trie = new Trie<number>()

  /** Returns true when the topic is new. */
  add(topic: Uint8Array): boolean {
    const node = this.trie.insert(topic)
    const count = node.value ?? 0
    this.trie.set(node, count + 1)
    return count === 0
  }

  /** Returns true when the last reference went; false also for a topic never added. */
  remove(topic: Uint8Array): boolean {
    const node = this.trie.find(topic)
    const count = node?.value
    if (count === undefined) return false
    if (count > 1) {
      node!.value = count - 1
      return false
    }
    this.trie.clear(node!)
    return true
  }

  matches(data: Uint8Array): boolean {
    return this.trie.matches(data)
  }

  /** Number of distinct topics. */
  get size(): number {
    return this.trie.size
  }

  /** Each distinct topic once, as a new Buffer. */
  *topics(): Generator<Buffer> {
    for (const node of this.trie.nodes()) yield this.trie.topicOf(node)
  }
}

/** The pipes of one topic: the pipe itself while it is alone, a Set past that. */
type Holders = Pipe | Set<Pipe>

/**
 * A publisher's table of which pipes want which topics (libzmq's mtrie_t):
 * a pipe is in a topic's set once, however often it subscribes. Each pipe's
 * topics are indexed too, so a departing pipe costs the length of its own
 * topics, never a walk of the whole table.
 */
export class TopicPipes {
  private readonly trie = new Trie<Holders>()
  /** The nodes each pipe holds, in the order it subscribed. */
  private readonly held = new Map<Pipe, Set<TrieNode<Holders>>>()
  /** Pipes part way through `removePipe`, which `match` skips. */
  private readonly departing = new Set<Pipe>()

  /** Adds a pipe to a topic; returns true when the topic had no pipe before. */
  add(topic: Uint8Array, pipe: Pipe): boolean {
    const node = this.trie.insert(topic)
    const holders = node.value
    if (holders === pipe || (holders instanceof Set && holders.has(pipe))) return false
    let nodes = this.held.get(pipe)
    if (nodes === undefined) this.held.set(pipe, (nodes = new Set()))
    nodes.add(node)
    if (holders === undefined) {
      this.trie.set(node, pipe)
      return true
    }
    if (holders instanceof Set) holders.add(pipe)
    else node.value = new Set([holders, pipe])
    return false
  }

  /** Removes a pipe from a topic: "last" when that left it without pipes, as libzmq's rm_result. */
  remove(topic: Uint8Array, pipe: Pipe): "notFound" | "last" | "remain" {
    const node = this.trie.find(topic)
    if (node === undefined) return "notFound"
    const nodes = this.held.get(pipe)
    if (nodes === undefined || !nodes.delete(node)) return "notFound"
    if (nodes.size === 0) this.held.delete(pipe)
    return this.drop(node, pipe) ? "last" : "remain"
  }

  /** True when `pipe` holds exactly `topic`. */
  has(topic: Uint8Array, pipe: Pipe): boolean {
    const node = this.trie.find(topic)
    return node !== undefined && this.held.get(pipe)?.has(node) === true
  }

  /** How many distinct topics a pipe holds. */
  count(pipe: Pipe): number {
    return this.held.get(pipe)?.size ?? 0
  }

  /** Number of distinct topics any pipe holds. */
  get size(): number {
    return this.trie.size
  }

  /** From now on `match` skips this pipe; `removePipe` takes it out of the table. */
  depart(pipe: Pipe): void {
    if (this.held.has(pipe)) this.departing.add(pipe)
  }

  /**
   * Removes a pipe from up to `budget` of its topics, in the order it
   * subscribed, and returns how many it removed; calls `gone` (if given) with
   * each topic, saying whether the pipe was its last. A pipe with many topics
   * can so leave over several turns of the event loop (`count(pipe)` says
   * what is left); `match` skips it from the first call (or `depart`) on.
   */
  removePipe(pipe: Pipe, gone?: (topic: Buffer, last: boolean) => void, budget = Infinity): number {
    const nodes = this.held.get(pipe)
    let removed = 0
    if (nodes !== undefined) {
      for (const node of nodes) {
        if (removed === budget) {
          this.departing.add(pipe)
          return removed
        }
        nodes.delete(node)
        removed++
        // The node's key is intact until it is dropped; take the topic first.
        const topic = gone === undefined ? undefined : this.trie.topicOf(node)
        const last = this.drop(node, pipe)
        if (topic !== undefined) gone!(topic, last)
      }
      this.held.delete(pipe)
    }
    this.departing.delete(pipe)
    return removed
  }

  /**
   * Appends to `out` each pipe subscribed to a prefix of `data`, once: a pipe
   * holding both "A" and "AB" gets an "ABC" message one time. Allocates
   * nothing per message; `mark` must differ from every earlier call's.
   */
  match(data: Uint8Array, mark: number, out: Pipe[]): void {
    this.mark = mark
    this.out = out
    this.trie.forEachPrefix(data, this.visit)
    this.out = NO_PIPES
  }

  private mark = 0
  private out: Pipe[] = NO_PIPES
  private readonly visit = (holders: Holders): void => {
    if (holders instanceof Set) {
      for (const pipe of holders) this.take(pipe)
    } else {
      this.take(holders)
    }
  }

  private take(pipe: Pipe): void {
    if (pipe.mark === this.mark) return
    if (this.departing.size > 0 && this.departing.has(pipe)) return
    pipe.mark = this.mark
    this.out.push(pipe)
  }

  /** Takes a pipe out of a node's holders; true when none is left (the node's value is cleared). */
  private drop(node: TrieNode<Holders>, pipe: Pipe): boolean {
    const holders = node.value!
    if (holders instanceof Set) {
      holders.delete(pipe)
      if (holders.size === 1) node.value = holders.values().next().value!
      return false
    }
    this.trie.clear(node)
    return true
  }
}

const NO_PIPES: Pipe[] = []
