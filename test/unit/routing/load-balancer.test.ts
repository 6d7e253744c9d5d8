import { describe, expect, it } from "vitest"
import { LoadBalancer } from "../../../src/routing/load-balancer.js"
import { Pipe } from "../../../src/routing/pipe.js"
import { FakeEngine, FakeOwner, msg } from "./fakes.js"

/** Pipes with send HWM 1, each attached to its own fake engine. */
function setup(count: number): { lb: LoadBalancer; pipes: Pipe[]; engines: FakeEngine[] } {
  const lb = new LoadBalancer()
  const owner = new FakeOwner()
  const pipes: Pipe[] = []
  const engines: FakeEngine[] = []
  for (let i = 0; i < count; i++) {
    const pipe = new Pipe(owner, `inproc://p${i}`, 1, 0)
    const engine = new FakeEngine()
    pipe.attach(engine)
    lb.add(pipe)
    pipes.push(pipe)
    engines.push(engine)
  }
  return { lb, pipes, engines }
}

function sendAll(lb: LoadBalancer, pipes: Pipe[], names: string[]): Array<number | undefined> {
  return names.map((n) => {
    const pipe = lb.send(msg(n))
    return pipe === undefined ? undefined : pipes.indexOf(pipe)
  })
}

describe("LoadBalancer (28/REQREP, 30/PIPELINE: 'SHALL route outgoing messages to available peers using a round-robin strategy')", () => {
  it("sends to 3 pipes in turn, in attach order", () => {
    const { lb, pipes, engines } = setup(3)
    expect(sendAll(lb, pipes, ["1", "2", "3", "4", "5", "6", "7"])).toEqual([0, 1, 2, 0, 1, 2, 0])
    expect(engines.map((e) => e.sent.map((m) => m[0]))).toEqual([["1", "4", "7"], ["2", "5"], ["3", "6"]])
  })

  it("sends a multipart message whole to one pipe", () => {
    const { lb, engines } = setup(2)
    lb.send(msg("a", "b", "c"))
    lb.send(msg("d", "e"))
    expect(engines[0]!.sent).toEqual([["a", "b", "c"]])
    expect(engines[1]!.sent).toEqual([["d", "e"]])
  })

  it("skips full pipes and keeps the rotation among the others", () => {
    const { lb, pipes, engines } = setup(3)
    // Pipe 1: engine blocked and its HWM-1 queue holds a message, so it is full.
    engines[1]!.blocked = true
    pipes[1]!.write(msg("stuck"))
    expect(pipes[1]!.writable).toBe(false)
    expect(sendAll(lb, pipes, ["1", "2", "3", "4"])).toEqual([0, 2, 0, 2])
    expect(pipes[1]!.queuedOut).toBe(1)
  })

  it("a pipe that drains rejoins the rotation at its place", () => {
    const { lb, pipes, engines } = setup(3)
    engines[1]!.blocked = true
    pipes[1]!.write(msg("stuck"))
    expect(sendAll(lb, pipes, ["1", "2"])).toEqual([0, 2])
    engines[1]!.blocked = false
    pipes[1]!.flush()
    expect(sendAll(lb, pipes, ["3", "4", "5"])).toEqual([0, 1, 2])
    expect(engines[1]!.sent.map((m) => m[0])).toEqual(["stuck", "4"])
  })

  it("a blocked pipe with room under its HWM still takes messages (they queue)", () => {
    const { lb, pipes, engines } = setup(2)
    engines[0]!.blocked = true
    expect(pipes[0]!.writable).toBe(true)
    expect(sendAll(lb, pipes, ["1", "2", "3"])).toEqual([0, 1, 1])
    expect(pipes[0]!.queuedOut).toBe(1)
  })

  it("returns undefined and reports not writable when every pipe is full", () => {
    const { lb, pipes, engines } = setup(2)
    for (const [i, e] of engines.entries()) {
      e.blocked = true
      pipes[i]!.write(msg("fill"))
    }
    expect(lb.writable).toBe(false)
    expect(lb.send(msg("x"))).toBeUndefined()
    expect(pipes.map((p) => p.queuedOut)).toEqual([1, 1])
  })

  it("with no pipes, nothing is writable and send returns undefined", () => {
    const lb = new LoadBalancer()
    expect(lb.size).toBe(0)
    expect(lb.writable).toBe(false)
    expect(lb.send(msg("x"))).toBeUndefined()
  })

  it("remove takes a pipe out of the rotation and keeps the turn on the next one", () => {
    const { lb, pipes } = setup(3)
    expect(sendAll(lb, pipes, ["1"])).toEqual([0]) // pipe 1's turn
    lb.remove(pipes[1]!)
    expect(lb.size).toBe(2)
    expect(sendAll(lb, pipes, ["2", "3", "4"])).toEqual([2, 0, 2])
  })

  it("removing a pipe before the current one keeps the turn where it was", () => {
    const { lb, pipes } = setup(3)
    expect(sendAll(lb, pipes, ["1", "2"])).toEqual([0, 1]) // pipe 2's turn
    lb.remove(pipes[0]!)
    expect(sendAll(lb, pipes, ["3", "4", "5"])).toEqual([2, 1, 2])
  })

  it("removing the last pipe while it has the turn wraps to the first", () => {
    const { lb, pipes } = setup(3)
    expect(sendAll(lb, pipes, ["1", "2"])).toEqual([0, 1])
    lb.remove(pipes[2]!)
    expect(sendAll(lb, pipes, ["3", "4"])).toEqual([0, 1])
    lb.remove(new Pipe(new FakeOwner(), "inproc://other", 1, 0)) // unknown: no effect
    expect(lb.size).toBe(2)
  })
})
