/** The two subscription tables of RFC 29 as libzmq keeps them. */
import type { Pipe } from "./pipe.js"
import { Trie } from "./trie.js"

/**
 * A subscriber's own topics, reference-counted (libzmq's trie_t): a topic
 * subscribed twice needs two unsubscribes before it is gone.
 */
export class TopicCounts {
  private readonly trie = new Trie<number>()

  /** Returns true when the topic is new. */
  add(topic: Buffer): boolean {
    const count = this.trie.get(topic) ?? 0
    this.trie.set(topic, count + 1)
    return count === 0
  }

  /** Returns true when the last reference went; false also for a topic never added. */
  remove(topic: Buffer): boolean {
    const count = this.trie.get(topic)
    if (count === undefined) return false
    if (count === 1) this.trie.delete(topic)
    else this.trie.set(topic, count - 1)
    return count === 1
  }

  matches(data: Buffer): boolean {
    return this.trie.matches(data)
  }

  /** Each distinct topic once. */
  *topics(): Generator<Buffer> {
    for (const [topic] of this.trie.entries()) yield topic
  }
}

/**
 * A publisher's table of which pipes want which topics (libzmq's mtrie_t):
 * a pipe is in a topic's set once, however often it subscribes.
 */
export class TopicPipes {
  private readonly trie = new Trie<Set<Pipe>>()

  /** Adds a pipe to a topic; returns true when the topic had no pipe before. */
  add(topic: Buffer, pipe: Pipe): boolean {
    const pipes = this.trie.get(topic)
    if (pipes === undefined) {
      this.trie.set(topic, new Set([pipe]))
      return true
    }
    pipes.add(pipe)
    return false
  }

  /** Removes a pipe from a topic: "last" when that left it without pipes, as libzmq's rm_result. */
  remove(topic: Buffer, pipe: Pipe): "notFound" | "last" | "remain" {
    const pipes = this.trie.get(topic)
    if (pipes === undefined || !pipes.delete(pipe)) return "notFound"
    if (pipes.size > 0) return "remain"
    this.trie.delete(topic)
    return "last"
  }

  /** Removes a pipe from every topic; calls `gone` for each topic it held, saying whether it was the last. */
  removePipe(pipe: Pipe, gone: (topic: Buffer, last: boolean) => void): void {
    for (const [topic, pipes] of [...this.trie.entries()]) {
      if (!pipes.delete(pipe)) continue
      const last = pipes.size === 0
      if (last) this.trie.delete(topic)
      gone(topic, last)
    }
  }

  /**
   * Appends to `out` each pipe subscribed to a prefix of `data`, once: a pipe
   * holding both "A" and "AB" gets an "ABC" message one time. Allocates
   * nothing per message; `mark` must differ from every earlier call's.
   */
  match(data: Buffer, mark: number, out: Pipe[]): void {
    const sets = this.sets
    this.trie.collectPrefixes(data, sets)
    for (const pipes of sets) {
      for (const pipe of pipes) {
        if (pipe.mark === mark) continue
        pipe.mark = mark
        out.push(pipe)
      }
    }
    sets.length = 0
  }

  /** Scratch list of the matching topics' pipe sets. */
  private readonly sets: Array<Set<Pipe>> = []
}
