import { describe, expect, it } from "vitest"
import { Pipe } from "../../../src/routing/pipe.js"
import { FakeEngine, FakeOwner, msg, str } from "./fakes.js"

function pipe(sendHwm: number, receiveHwm: number): { p: Pipe; owner: FakeOwner } {
  const owner = new FakeOwner()
  return { p: new Pipe(owner, "tcp://127.0.0.1:5555", sendHwm, receiveHwm), owner }
}

describe("Pipe: inbound (receive high-water mark)", () => {
  it("counts whole messages, not frames, against the receive HWM", () => {
    const { p } = pipe(0, 2)
    expect(p.deliver(msg("a", "b", "c", "d", "e"))).toBe(true)
    expect(p.deliver(msg("f", "g"))).toBe(false)
  })

  it("deliver accepts the message that reaches the HWM but returns false, telling the engine to stop reading", () => {
    const { p } = pipe(0, 3)
    expect(p.deliver(msg("1"))).toBe(true)
    expect(p.deliver(msg("2"))).toBe(true)
    expect(p.deliver(msg("3"))).toBe(false)
    expect([str(p.read()), str(p.read()), str(p.read()), p.read()]).toEqual([["1"], ["2"], ["3"], undefined])
  })

  it("a receive HWM of 0 means no limit", () => {
    const { p } = pipe(0, 0)
    for (let i = 0; i < 10_000; i++) expect(p.deliver(msg(String(i)))).toBe(true)
  })

  it("tells the owner once when the inbound queue goes from empty to non-empty", () => {
    const { p, owner } = pipe(0, 10)
    p.deliver(msg("1"))
    p.deliver(msg("2"))
    expect(owner.readable).toEqual([p])
    p.read()
    p.read()
    expect(p.readable).toBe(false)
    p.deliver(msg("3"))
    expect(owner.readable).toEqual([p, p])
    expect(p.readable).toBe(true)
  })

  it("resumes the stopped engine once reading brings the queue down to half the HWM, and only once", () => {
    const { p } = pipe(0, 4)
    const engine = new FakeEngine()
    p.attach(engine)
    for (const m of ["1", "2", "3"]) expect(p.deliver(msg(m))).toBe(true)
    expect(p.deliver(msg("4"))).toBe(false)
    p.read()
    expect(engine.resumes).toBe(0) // 3 queued
    p.read()
    expect(engine.resumes).toBe(1) // 2 queued = HWM / 2
    p.read()
    p.read()
    expect(engine.resumes).toBe(1)
  })

  it("does not resume an engine that was never stopped", () => {
    const { p } = pipe(0, 4)
    const engine = new FakeEngine()
    p.attach(engine)
    p.deliver(msg("1"))
    p.read()
    expect(engine.resumes).toBe(0)
  })

  it("with HWM 1 the engine stops after each message and resumes after each read", () => {
    const { p } = pipe(0, 1)
    const engine = new FakeEngine()
    p.attach(engine)
    for (let i = 1; i <= 3; i++) {
      expect(p.deliver(msg(String(i)))).toBe(false)
      expect(str(p.read())).toEqual([String(i)])
      expect(engine.resumes).toBe(i)
    }
  })
})

describe("Pipe: outbound (send high-water mark)", () => {
  it("writes go straight to an unblocked engine, queueing nothing", () => {
    const { p } = pipe(1, 0)
    const engine = new FakeEngine()
    p.attach(engine)
    for (let i = 0; i < 5; i++) {
      expect(p.writable).toBe(true)
      p.write(msg("m", String(i)))
    }
    expect(engine.sent).toEqual([0, 1, 2, 3, 4].map((i) => ["m", String(i)]))
    expect(p.queuedOut).toBe(0)
  })

  it("queues whole messages while no engine is attached, up to the send HWM", () => {
    const { p } = pipe(2, 0)
    expect(p.writable).toBe(true)
    p.write(msg("a", "a2", "a3"))
    expect(p.writable).toBe(true)
    p.write(msg("b"))
    expect(p.queuedOut).toBe(2)
    expect(p.writable).toBe(false)
  })

  it("queues while the engine is blocked, and keeps order behind queued messages even after it unblocks", () => {
    const { p } = pipe(10, 0)
    const engine = new FakeEngine()
    p.attach(engine)
    p.write(msg("1"))
    engine.blocked = true
    p.write(msg("2"))
    p.write(msg("3"))
    expect(engine.sent).toEqual([["1"]])
    expect(p.queuedOut).toBe(2)
    engine.blocked = false
    // Not flushed yet: a new write must not overtake the queued ones.
    p.write(msg("4"))
    expect(engine.sent).toEqual([["1"]])
    expect(p.queuedOut).toBe(3)
  })

  it("flush moves queued output to the unblocked engine in order and calls owner.pipeWritable", () => {
    const { p, owner } = pipe(3, 0)
    const engine = new FakeEngine()
    engine.blocked = true
    p.attach(engine)
    owner.writable.length = 0
    p.write(msg("1"))
    p.write(msg("2", "2b"))
    p.write(msg("3"))
    expect(p.writable).toBe(false)
    engine.blocked = false
    p.flush()
    expect(engine.sent).toEqual([["1"], ["2", "2b"], ["3"]])
    expect(p.queuedOut).toBe(0)
    expect(p.writable).toBe(true)
    expect(owner.writable).toEqual([p])
  })

  it("flush stops when the engine blocks again and reports writable only when there is room", () => {
    const { p, owner } = pipe(2, 0)
    const engine = new FakeEngine()
    engine.blocked = true
    p.attach(engine)
    owner.writable.length = 0
    p.write(msg("1"))
    p.write(msg("2"))
    engine.blocked = false
    engine.blockAfter = 1
    p.flush()
    expect(engine.sent).toEqual([["1"]])
    expect(p.queuedOut).toBe(1)
    // One slot free under HWM 2: writable again.
    expect(owner.writable).toEqual([p])
    expect(p.writable).toBe(true)
  })

  it("flush does not report a pipe writable while its queue is still at the HWM", () => {
    const { p, owner } = pipe(1, 0)
    const engine = new FakeEngine()
    engine.blocked = true
    p.attach(engine)
    owner.writable.length = 0
    p.write(msg("1"))
    p.flush()
    expect(engine.sent).toEqual([])
    expect(owner.writable).toEqual([])
  })

  it("attach hands the queued output to the new engine", () => {
    const { p, owner } = pipe(5, 0)
    p.write(msg("a"))
    p.write(msg("b"))
    const engine = new FakeEngine()
    p.attach(engine)
    expect(engine.sent).toEqual([["a"], ["b"]])
    expect(owner.writable).toEqual([p])
  })

  it("after detach, writes queue for the next connection", () => {
    const { p } = pipe(5, 0)
    const first = new FakeEngine()
    p.attach(first)
    p.detach()
    p.write(msg("x"))
    expect(first.sent).toEqual([])
    expect(p.queuedOut).toBe(1)
    const second = new FakeEngine()
    p.attach(second)
    expect(second.sent).toEqual([["x"]])
  })

  it("a send HWM of 0 means no limit", () => {
    const { p } = pipe(0, 0)
    for (let i = 0; i < 5000; i++) p.write(msg(String(i)))
    expect(p.writable).toBe(true)
    expect(p.queuedOut).toBe(5000)
  })

  it("flushAll sends everything regardless of blocking; discardOutput drops it", () => {
    const { p } = pipe(10, 0)
    const engine = new FakeEngine()
    engine.blocked = true
    p.attach(engine)
    p.write(msg("1"))
    p.write(msg("2"))
    p.flushAll()
    expect(engine.sent).toEqual([["1"], ["2"]])
    p.write(msg("3"))
    p.discardOutput()
    expect(p.queuedOut).toBe(0)
    engine.blocked = false
    p.flush()
    expect(engine.sent).toEqual([["1"], ["2"]])
  })

  it("subscriptions go in order with messages, and do not count against the send HWM", () => {
    const { p } = pipe(1, 0)
    const engine = new FakeEngine()
    engine.blocked = true
    p.attach(engine)
    p.writeSubscription(true, Buffer.from("A"))
    p.writeSubscription(false, Buffer.from("B"))
    expect(p.writable).toBe(true)
    p.write(msg("m"))
    expect(p.writable).toBe(false)
    p.writeSubscription(true, Buffer.from("C"))
    expect(p.queuedOut).toBe(4)
    engine.blocked = false
    p.flush()
    expect(engine.log).toEqual(["sub:A", "cancel:B", "m", "sub:C"])
    // Straight through once nothing is queued.
    p.writeSubscription(true, Buffer.from("D"))
    expect(engine.log.at(-1)).toBe("sub:D")
    expect(p.queuedOut).toBe(0)
  })

  it("ZMQ_CONFLATE keeps only the newest inbound message and never stops the engine", () => {
    const { p, owner } = pipe(0, 1)
    p.conflate = true
    for (const m of ["1", "2", "3"]) expect(p.deliver(msg(m))).toBe(true)
    expect(str(p.read())).toEqual(["3"])
    expect(p.read()).toBeUndefined()
    expect(owner.readable).toEqual([p])
  })

  it("ZMQ_CONFLATE keeps only the newest queued outbound message and is always writable", () => {
    const { p } = pipe(1, 0)
    p.conflate = true
    const engine = new FakeEngine()
    engine.blocked = true
    p.attach(engine)
    for (const m of ["1", "2", "3"]) {
      expect(p.writable).toBe(true)
      p.write(msg(m))
    }
    expect(p.queuedOut).toBe(1)
    engine.blocked = false
    p.flush()
    expect(engine.sent).toEqual([["3"]])
  })

  it("gives each pipe its own id", () => {
    const a = pipe(0, 0).p
    const b = pipe(0, 0).p
    expect(a.id).not.toBe(b.id)
  })
})
