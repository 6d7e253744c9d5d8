import { describe, expect, it } from "vitest"
import { FairQueue } from "../../../src/routing/fair-queue.js"
import { Pipe } from "../../../src/routing/pipe.js"
import { FakeOwner, msg, str } from "./fakes.js"

/** Pipes whose owner activates them in the fair queue, as a socket does. */
function setup(count: number): { fq: FairQueue; pipes: Pipe[] } {
  const fq = new FairQueue()
  const owner = new FakeOwner()
  owner.onReadable = (pipe) => fq.activate(pipe)
  const pipes: Pipe[] = []
  for (let i = 0; i < count; i++) pipes.push(new Pipe(owner, `inproc://p${i}`, 0, 0))
  return { fq, pipes }
}

function receiveAll(fq: FairQueue): string[] {
  const out: string[] = []
  for (let m = fq.receive(); m !== undefined; m = fq.receive()) out.push(str(m)!.join("+"))
  return out
}

describe("FairQueue (28/REQREP, 30/PIPELINE: 'SHALL receive incoming messages from its peers using a fair-queuing strategy')", () => {
  it("takes one message from each of 3 pipes in turn", () => {
    const { fq, pipes } = setup(3)
    const [a, b, c] = pipes as [Pipe, Pipe, Pipe]
    for (const m of ["a1", "a2", "a3"]) a.deliver(msg(m))
    for (const m of ["b1", "b2"]) b.deliver(msg(m))
    c.deliver(msg("c1"))
    expect(receiveAll(fq)).toEqual(["a1", "b1", "c1", "a2", "b2", "a3"])
    expect(fq.hasMessages).toBe(false)
  })

  it("delivers multipart messages whole, never interleaving frames of different pipes", () => {
    const { fq, pipes } = setup(2)
    const [a, b] = pipes as [Pipe, Pipe]
    a.deliver(msg("a", "1", "2"))
    b.deliver(msg("b", "1"))
    a.deliver(msg("a", "3"))
    expect(receiveAll(fq)).toEqual(["a+1+2", "b+1", "a+3"])
  })

  it("tells which pipe each message came from", () => {
    const { fq, pipes } = setup(3)
    pipes[2]!.deliver(msg("z"))
    pipes[0]!.deliver(msg("x"))
    const from: number[] = []
    while (fq.receive() !== undefined) from.push(pipes.indexOf(fq.lastPipe!))
    expect(from).toEqual([2, 0])
  })

  it("a pipe that runs dry leaves the rotation and rejoins at the back when it gets a message", () => {
    const { fq, pipes } = setup(3)
    const [a, b, c] = pipes as [Pipe, Pipe, Pipe]
    a.deliver(msg("a1"))
    b.deliver(msg("b1"))
    b.deliver(msg("b2"))
    c.deliver(msg("c1"))
    c.deliver(msg("c2"))
    expect(str(fq.receive())).toEqual(["a1"]) // a is empty now
    a.deliver(msg("a2")) // a rejoins behind c
    expect(receiveAll(fq)).toEqual(["b1", "c1", "a2", "b2", "c2"])
  })

  it("one busy pipe cannot starve the others", () => {
    const { fq, pipes } = setup(3)
    const [a, b, c] = pipes as [Pipe, Pipe, Pipe]
    for (let i = 0; i < 100; i++) a.deliver(msg(`a${i}`))
    b.deliver(msg("b"))
    c.deliver(msg("c"))
    expect(receiveAll(fq).slice(0, 4)).toEqual(["a0", "b", "c", "a1"])
  })

  it("remove forgets a pipe and keeps the turn on the next one", () => {
    const { fq, pipes } = setup(3)
    const [a, b, c] = pipes as [Pipe, Pipe, Pipe]
    for (const p of pipes) {
      p.deliver(msg(`${pipes.indexOf(p)}-1`))
      p.deliver(msg(`${pipes.indexOf(p)}-2`))
    }
    expect(str(fq.receive())).toEqual(["0-1"]) // b's turn next
    fq.remove(b)
    expect(receiveAll(fq)).toEqual(["2-1", "0-2", "2-2"])
    fq.remove(c) // not active any more: no effect
    void a
  })

  it("removing a pipe before the current one keeps the turn where it was", () => {
    const { fq, pipes } = setup(3)
    const [a, , ] = pipes as [Pipe, Pipe, Pipe]
    for (const p of pipes) {
      p.deliver(msg(`${pipes.indexOf(p)}-1`))
      p.deliver(msg(`${pipes.indexOf(p)}-2`))
    }
    expect(str(fq.receive())).toEqual(["0-1"])
    expect(str(fq.receive())).toEqual(["1-1"]) // c's turn next
    fq.remove(a)
    expect(receiveAll(fq)).toEqual(["2-1", "1-2", "2-2"])
  })

  it("activating a pipe twice does not give it two turns", () => {
    const { fq, pipes } = setup(2)
    const [a, b] = pipes as [Pipe, Pipe]
    a.deliver(msg("a1"))
    a.deliver(msg("a2"))
    fq.activate(a)
    b.deliver(msg("b1"))
    b.deliver(msg("b2"))
    expect(receiveAll(fq)).toEqual(["a1", "b1", "a2", "b2"])
  })

  it("skips a pipe that was activated but has nothing to read", () => {
    const { fq, pipes } = setup(2)
    const [a, b] = pipes as [Pipe, Pipe]
    fq.activate(a)
    b.deliver(msg("b1"))
    expect(str(fq.receive())).toEqual(["b1"])
    expect(fq.receive()).toBeUndefined()
    expect(fq.hasMessages).toBe(false)
  })
})
