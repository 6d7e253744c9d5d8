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
  add(topic: Buffer): boolean {
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
type Node = TrieNode<Holders>

/** A departing pipe's topics, removed from `at` on. */
interface Leaving {
  readonly nodes: Node[]
  at: number
}

/**
 * A publisher's table of which pipes want which topics (libzmq's mtrie_t):
 * a pipe is in a topic's set once, however often it subscribes. Each pipe's
 * topics are indexed too, so a departing pipe costs the length of its own
 * topics, never a walk of the whole table, and may leave in slices.
 */
export class TopicPipes {
  private readonly trie = new Trie<Holders>()
  /** The nodes each live pipe holds, in the order it subscribed. */
  private readonly held = new Map<Pipe, Set<Node>>()
  /** Pipes that `depart`ed and whose topics are still in the trie; `match` skips them. */
  private readonly leaving = new Map<Pipe, Leaving>()

  /** Adds a live pipe to a topic; returns true when the topic had no pipe before. */
  add(topic: Buffer, pipe: Pipe): boolean {
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

  /** Removes a live pipe from a topic: "last" when that left it without pipes, as libzmq's rm_result. */
  remove(topic: Uint8Array, pipe: Pipe): "notFound" | "last" | "remain" {
    const node = this.trie.find(topic)
    if (node === undefined) return "notFound"
    const nodes = this.held.get(pipe)
    if (nodes === undefined || !nodes.delete(node)) return "notFound"
    if (nodes.size === 0) this.held.delete(pipe)
    return this.drop(node, pipe) ? "last" : "remain"
  }

  /** True when a live `pipe` holds exactly `topic`. */
  has(topic: Uint8Array, pipe: Pipe): boolean {
    const node = this.trie.find(topic)
    return node !== undefined && this.held.get(pipe)?.has(node) === true
  }

  /** How many distinct topics a pipe holds (a departing one: has left to remove). */
  count(pipe: Pipe): number {
    const leaving = this.leaving.get(pipe)
    if (leaving !== undefined) return leaving.nodes.length - leaving.at
    return this.held.get(pipe)?.size ?? 0
  }

  /** Number of distinct topics any pipe holds. */
  get size(): number {
    return this.trie.size
  }

  /** The pipe is gone: `match` skips it from now on, and `removePipe` takes its topics out. */
  depart(pipe: Pipe): void {
    const nodes = this.held.get(pipe)
    if (nodes === undefined) return
    this.held.delete(pipe)
    this.leaving.set(pipe, { nodes: [...nodes], at: 0 })
  }

  /**
   * Takes a departed pipe (`depart` is implied) out of up to `budget` of its
   * topics, in the order it subscribed, and returns how many; calls `gone`
   * (if given) with each topic, saying whether the pipe was its last. So a
   * pipe with many topics can leave over several turns of the event loop;
   * `count(pipe)` says what is left.
   */
  removePipe(pipe: Pipe, gone?: (topic: Buffer, last: boolean) => void, budget = Infinity): number {
    this.depart(pipe)
    const leaving = this.leaving.get(pipe)
    if (leaving === undefined) return 0
    const { nodes } = leaving
    const end = Math.min(nodes.length, leaving.at + budget)
    const start = leaving.at
    for (let i = start; i < end; i++) {
      const node = nodes[i]!
      // The node's key is intact until it is dropped; take the topic first.
      const topic = gone === undefined ? undefined : this.trie.topicOf(node)
      leaving.at = i + 1
      const last = this.drop(node, pipe)
      if (topic !== undefined) gone!(topic, last)
    }
    if (end === nodes.length) this.leaving.delete(pipe)
    return end - start
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
    if (this.leaving.size > 0 && this.leaving.has(pipe)) return
    pipe.mark = this.mark
    this.out.push(pipe)
  }

  /** Takes a pipe out of a node's holders; true when none is left (the node's value is cleared). */
  private drop(node: Node, pipe: Pipe): boolean {
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
