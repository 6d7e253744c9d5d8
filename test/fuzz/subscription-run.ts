/**
 * The subscription tables under fuzzing: random sequences of SUBSCRIBE,
 * CANCEL, match and (partial) pipe departures, applied to a TopicPipes and a
 * TopicCounts and to their naive models, with the trie's invariants checked
 * after every step. Shared by the fuzz tests and bench/fuzz.
 */
import fc from "fast-check"
import { Pipe } from "../../src/routing/pipe.js"
import { TopicCounts, TopicPipes } from "../../src/routing/subscriptions.js"
import { CountsModel, PipesModel, topicsFromPool, trieOf, trieViolations } from "../helpers/subscription-model.js"

const OPS = ["subscribe", "subscribe", "subscribe", "cancel", "match", "depart", "detach", "detach-some"] as const
type Op = (typeof OPS)[number]

export interface SubscriptionScript {
  readonly steps: ReadonlyArray<{ readonly op: Op; readonly pipe: number; readonly topic: Buffer; readonly budget: number }>
}

export const PIPES = 4

export const subscriptionScriptArb: fc.Arbitrary<SubscriptionScript> = fc.nat(60).chain((n) =>
  fc
    .tuple(
      fc.array(fc.tuple(fc.constantFrom(...OPS), fc.nat(PIPES - 1), fc.integer({ min: 1, max: 3 })), { minLength: n, maxLength: n }),
      topicsFromPool(n),
    )
    .map(([ops, topics]) => ({ steps: ops.map(([op, pipe, budget], i) => ({ op, pipe, budget, topic: topics[i]! })) })),
)

const owner = { pipeReadable: () => undefined, pipeWritable: () => undefined }
const hex = (b: Buffer) => b.toString("hex")

/** Runs a script against both tables and their models; every disagreement or broken invariant, in order. */
export function runSubscriptions(script: SubscriptionScript): string[] {
  const problems: string[] = []
  const pipes = Array.from({ length: PIPES }, () => new Pipe(owner, "tcp://127.0.0.1:1", 0, 0))
  const table = new TopicPipes()
  const model = new PipesModel<Pipe>()
  const counts = new TopicCounts()
  const countsModel = new CountsModel()
  let mark = 0
  const same = (what: string, got: unknown, want: unknown) => {
    const a = JSON.stringify(got)
    const b = JSON.stringify(want)
    if (a !== b) problems.push(`${what}: got ${a}, the model says ${b}`)
  }
  for (const [i, { op, pipe: index, topic, budget }] of script.steps.entries()) {
    const pipe = pipes[index]!
    const at = `step ${i} ${op} pipe ${index} ${hex(topic)}`
    // A departed pipe is gone for good: it neither subscribes nor cancels again.
    const gone = model.departing.has(pipe)
    switch (op) {
      case "subscribe":
        if (!gone) same(at, table.add(topic, pipe), model.add(topic, pipe))
        same(`${at} (counts)`, counts.add(topic), countsModel.add(topic))
        break
      case "cancel":
        if (!gone) same(at, table.remove(topic, pipe), model.remove(topic, pipe))
        same(`${at} (counts)`, counts.remove(topic), countsModel.remove(topic))
        break
      case "match": {
        const out: Pipe[] = []
        table.match(topic, ++mark, out)
        if (new Set(out).size !== out.length) problems.push(`${at}: a pipe matched twice`)
        same(at, out.map((p) => pipes.indexOf(p)).sort(), [...model.match(topic)].map((p) => pipes.indexOf(p)).sort())
        same(`${at} (counts)`, counts.matches(topic), countsModel.matches(topic))
        break
      }
      case "depart":
        table.depart(pipe)
        model.depart(pipe)
        break
      case "detach":
      case "detach-some": {
        const limit = op === "detach" ? Infinity : budget
        const reported: Array<[string, boolean]> = []
        table.removePipe(pipe, (t, last) => reported.push([hex(t), last]), limit)
        same(at, reported, model.removePipe(pipe, limit))
      }
    }
    for (const [n, p] of pipes.entries()) if (table.count(p) !== model.count(p)) same(`${at}: count of pipe ${n}`, table.count(p), model.count(p))
    if (table.size !== model.size) same(`${at}: size`, table.size, model.size)
    for (const problem of trieViolations(trieOf(table))) problems.push(`${at}: TopicPipes ${problem}`)
    for (const problem of trieViolations(trieOf(counts))) problems.push(`${at}: TopicCounts ${problem}`)
    if (problems.length > 0) return problems
  }
  same("topics at the end (counts)", [...counts.topics()].map(hex).sort(), countsModel.topics())
  return problems
}
