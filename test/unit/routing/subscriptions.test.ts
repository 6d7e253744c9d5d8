/** TopicPipes (libzmq's mtrie_t) against a list model: rm_result, one visit per pipe, a departing pipe's topics. */
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { Pipe } from "../../../src/routing/pipe.js"
import { TopicPipes } from "../../../src/routing/subscriptions.js"
import { PipesModel, topicsFromPool, trieOf, trieViolations } from "../../helpers/subscription-model.js"
import { FakeOwner } from "./fakes.js"

const b = (text: string) => Buffer.from(text, "latin1")
const newPipes = (n: number) => Array.from({ length: n }, () => new Pipe(new FakeOwner(), "tcp://127.0.0.1:5555", 0, 0))

let marks = 0
function match(table: TopicPipes, data: Buffer): Pipe[] {
  const out: Pipe[] = []
  table.match(data, ++marks, out)
  return out
}

describe("TopicPipes", () => {
  it("has a pipe in a topic once: a second subscribe is not new, one cancel removes it (mtrie, no refcount)", () => {
    const [p] = newPipes(1)
    const table = new TopicPipes()
    expect(table.add(b("A"), p!)).toBe(true)
    expect(table.add(b("A"), p!)).toBe(false)
    expect(table.count(p!)).toBe(1)
    expect(table.remove(b("A"), p!)).toBe("last")
    expect(table.remove(b("A"), p!)).toBe("notFound")
    expect(table.size).toBe(0)
  })

  it("says last, remain or notFound as libzmq's rm_result", () => {
    const [p, q] = newPipes(2)
    const table = new TopicPipes()
    table.add(b("A"), p!)
    table.add(b("A"), q!)
    expect(table.remove(b("B"), p!)).toBe("notFound")
    expect(table.remove(b("AB"), p!)).toBe("notFound")
    expect(table.remove(b("A"), p!)).toBe("remain")
    expect(table.remove(b("A"), p!)).toBe("notFound")
    expect(table.remove(b("A"), q!)).toBe("last")
  })

  it("visits a pipe once per message however many of its topics match", () => {
    const [p, q] = newPipes(2)
    const table = new TopicPipes()
    for (const topic of ["", "A", "AB", "ABC"]) table.add(b(topic), p!)
    table.add(b("AB"), q!)
    expect(match(table, b("ABCD"))).toEqual([p, q])
    expect(match(table, b("X"))).toEqual([p])
  })

  it("removes a departing pipe over several calls in the order it subscribed, and routes nothing to it meanwhile", () => {
    const [p, q] = newPipes(2)
    const table = new TopicPipes()
    for (const topic of ["c", "a", "b", "ab"]) table.add(b(topic), p!)
    table.add(b("a"), q!)
    const gone: string[] = []
    const record = (topic: Buffer, last: boolean) => gone.push(`${topic.toString()}:${last}`)
    expect(table.removePipe(p!, record, 2)).toBe(2)
    expect(gone).toEqual(["c:true", "a:false"])
    expect(table.count(p!)).toBe(2)
    expect(match(table, b("ab"))).toEqual([q])
    expect(table.removePipe(p!, record, 2)).toBe(2)
    expect(table.removePipe(p!, record, 2)).toBe(0)
    expect(gone).toEqual(["c:true", "a:false", "b:true", "ab:true"])
    expect(table.size).toBe(1)
  })

  it("a pipe marked departing gets no message before its removal starts", () => {
    const [p] = newPipes(1)
    const table = new TopicPipes()
    table.add(b("a"), p!)
    table.depart(p!)
    expect(match(table, b("a"))).toEqual([])
    table.removePipe(p!)
    expect(table.size).toBe(0)
  })

  it("any sequence of subscribes, cancels, matches and (partial) pipe removals agrees with the model", () => {
    const opArb = fc.tuple(
      fc.constantFrom("add", "add", "add", "remove", "match", "removePipe", "depart", "has"),
      fc.nat(3),
      fc.integer({ min: 1, max: 4 }),
    )
    const scriptArb = fc.nat(80).chain((n) => fc.tuple(fc.array(opArb, { minLength: n, maxLength: n }), topicsFromPool(n)))
    fc.assert(
      fc.property(scriptArb, ([ops, topics]) => {
        const pipes = newPipes(4)
        const table = new TopicPipes()
        const model = new PipesModel<Pipe>()
        for (const [i, [op, which, budget]] of ops.entries()) {
          const topic = topics[i]!
          const pipe = pipes[which]!
          // A departed pipe is gone for good: nothing subscribes, cancels or asks for it again.
          if (model.departing.has(pipe) && (op === "add" || op === "remove" || op === "has")) continue
          switch (op) {
            case "add":
              expect(table.add(topic, pipe)).toBe(model.add(topic, pipe))
              break
            case "remove":
              expect(table.remove(topic, pipe)).toBe(model.remove(topic, pipe))
              break
            case "has":
              expect(table.has(topic, pipe)).toBe(model.has(topic, pipe))
              break
            case "depart":
              table.depart(pipe)
              model.depart(pipe)
              break
            case "removePipe": {
              const gone: Array<[string, boolean]> = []
              const removed = table.removePipe(pipe, (t, last) => gone.push([t.toString("hex"), last]), budget)
              expect(gone).toEqual(model.removePipe(pipe, budget))
              expect(removed).toBe(gone.length)
              break
            }
            case "match": {
              const out = match(table, topic)
              expect(new Set(out).size).toBe(out.length)
              expect(new Set(out)).toEqual(model.match(topic))
            }
          }
          for (const p of pipes) expect(table.count(p)).toBe(model.count(p))
          expect(table.size).toBe(model.size)
          expect(trieViolations(trieOf(table))).toEqual([])
        }
        // Every pipe leaves: the table ends empty.
        for (const pipe of pipes) {
          const gone: Array<[string, boolean]> = []
          table.removePipe(pipe, (t, last) => gone.push([t.toString("hex"), last]))
          expect(gone).toEqual(model.removePipe(pipe))
          expect(trieViolations(trieOf(table))).toEqual([])
        }
        expect(table.size).toBe(0)
        expect(trieOf(table).root.kids).toBeUndefined()
      }),
      { numRuns: 200 },
    )
  })
})
