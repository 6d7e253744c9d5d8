/** The compact trie: splits and merges, prefix matching, the memory it keeps, and TopicCounts against a multiset. */
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { TopicCounts } from "../../../src/routing/subscriptions.js"
import { Trie } from "../../../src/routing/trie.js"
import { CountsModel, topicsFromPool, trieOf, trieViolations } from "../../helpers/subscription-model.js"

const b = (text: string) => Buffer.from(text, "latin1")

/** Values of every prefix of `data` that holds one, shortest first. */
function prefixes<V>(trie: Trie<V>, data: string): V[] {
  const out: V[] = []
  trie.forEachPrefix(b(data), (value) => out.push(value))
  return out
}

function withTopics(...topics: string[]): Trie<string> {
  const trie = new Trie<string>()
  for (const topic of topics) trie.set(trie.insert(b(topic)), topic)
  return trie
}

describe("Trie", () => {
  it("matches every topic that is a prefix of the data, shortest first; the empty topic matches everything", () => {
    const trie = withTopics("ab", "", "abcd", "abd", "b")
    expect(prefixes(trie, "abcde")).toEqual(["", "ab", "abcd"])
    expect(prefixes(trie, "abc")).toEqual(["", "ab"])
    expect(prefixes(trie, "abd")).toEqual(["", "ab", "abd"])
    expect(prefixes(trie, "")).toEqual([""])
    expect(prefixes(trie, "ba")).toEqual(["", "b"])
    expect(trie.matches(b("zzz"))).toBe(true)
    expect(trieViolations(trie)).toEqual([])
  })

  it("finds only topics that end exactly at a node, not inside an edge label", () => {
    const trie = withTopics("abcdef", "abxy")
    expect(trie.find(b("ab"))?.value).toBeUndefined() // the split node, without a value
    expect(trie.find(b("abc"))).toBeUndefined() // inside the "cdef" label
    expect(trie.find(b("abcdef"))?.value).toBe("abcdef")
    expect(trie.find(b("abcdefg"))).toBeUndefined()
    expect(trie.matches(b("abc"))).toBe(false)
    expect(trie.matches(b("abcdefgh"))).toBe(true)
  })

  it("keeps one node per topic plus one per fork: a long topic is one node, not one per byte", () => {
    const trie = withTopics("x".repeat(10_000))
    expect([...trie.nodes()]).toHaveLength(1)
    expect(trie.root.kids).toHaveLength(1)
    trie.set(trie.insert(b("x".repeat(5_000) + "y")), "fork")
    // root -> "x" * 5000 -> { "x" * 5000, "y" }
    expect(trie.root.kids).toHaveLength(1)
    const fork = trie.find(b("x".repeat(5_000)))!
    expect(fork.value).toBeUndefined()
    expect(fork.kids).toHaveLength(2)
    expect(trieViolations(trie)).toEqual([])
  })

  it("merges a fork back when one side goes, and frees the departed topic's bytes", () => {
    const long = "a".repeat(4_000)
    const trie = withTopics(long, "ab")
    trie.clear(trie.find(b(long))!)
    expect(trie.size).toBe(1)
    expect(trieViolations(trie)).toEqual([])
    // The remaining topic's node owns a key of its own length, not the 4000-byte one it was split from.
    const node = trie.find(b("ab"))!
    expect(node.key).toBe("ab")
    expect(node.start).toBe(0)
    expect(trie.root.kids).toEqual([node])
  })

  it("a prefix left alone after its long topic goes keeps a copy of its own bytes only", () => {
    const long = "q".repeat(100_000)
    const trie = withTopics(long, "q")
    trie.clear(trie.find(b(long))!)
    expect(trie.find(b("q"))!.key).toBe("q")
    expect(trieViolations(trie)).toEqual([])
  })

  it("switches a node's children from an array to a Map past 8 and still finds each", () => {
    const topics = Array.from({ length: 40 }, (_, i) => `t${String.fromCharCode(i + 40)}z`)
    const trie = withTopics(...topics)
    const fork = trie.find(b("t"))!
    expect(fork.kids).toBeInstanceOf(Map)
    for (const topic of topics) expect(prefixes(trie, `${topic}!`)).toEqual([topic])
    for (const topic of topics.slice(0, 39)) trie.clear(trie.find(b(topic))!)
    expect(trieViolations(trie)).toEqual([])
    expect(prefixes(trie, `${topics[39]}`)).toEqual([topics[39]])
  })

  it("copies the topic out of the buffer it came in", () => {
    const chunk = b("xxhello-worldxx")
    const trie = new Trie<number>()
    trie.set(trie.insert(chunk.subarray(2, 13)), 1)
    chunk.fill(0)
    expect(trie.matches(b("hello-world!"))).toBe(true)
    expect(trie.topicOf(trie.find(b("hello-world"))!).toString()).toBe("hello-world")
  })
})

describe("TopicCounts (libzmq's trie_t) against a multiset", () => {
  it("any sequence of adds and removes: same return values, matches and topics as the model, and a sound trie", () => {
    const scriptArb = fc.nat(80).chain((n) =>
      fc.tuple(fc.array(fc.constantFrom("add", "add", "remove", "match"), { minLength: n, maxLength: n }), topicsFromPool(n)),
    )
    fc.assert(
      fc.property(scriptArb, ([ops, topics]) => {
        const counts = new TopicCounts()
        const model = new CountsModel()
        for (const [i, op] of ops.entries()) {
          const topic = topics[i]!
          if (op === "add") expect(counts.add(topic)).toBe(model.add(topic))
          else if (op === "remove") expect(counts.remove(topic)).toBe(model.remove(topic))
          else expect(counts.matches(topic)).toBe(model.matches(topic))
          expect(trieViolations(trieOf(counts))).toEqual([])
        }
        expect([...counts.topics()].map((t) => t.toString("hex")).sort()).toEqual(model.topics())
        expect(counts.size).toBe(model.topics().length)
        // Then empty it in the order given, through every removal path, down to a bare root.
        for (const topic of topics) {
          while (model.counts.has(topic.toString("hex"))) {
            expect(counts.remove(topic)).toBe(model.remove(topic))
            expect(trieViolations(trieOf(counts))).toEqual([])
            for (const probe of topics.slice(0, 8)) expect(counts.matches(probe)).toBe(model.matches(probe))
          }
        }
        expect(counts.size).toBe(0)
        expect(trieOf(counts).root.kids).toBeUndefined()
      }),
      { numRuns: 300 },
    )
  })
})
