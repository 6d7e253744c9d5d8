/**
 * The heartbeating helpers: liveness counted in intervals (a beat per
 * interval, death after `liveness` silent ones, reset by any sign of life),
 * a table of many peers' liveness, and a doubling, capped, resettable backoff.
 * Timers are faked: these are unit tests of counting, not of the clock.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest"
import { Backoff, Heartbeat, LivenessTable } from "../../patterns/index.js"

beforeEach(() => vi.useFakeTimers())
afterEach(() => vi.useRealTimers())

describe("Heartbeat", () => {
  it("beats each interval and declares the peer dead after `liveness` silent intervals, once", () => {
    const log: string[] = []
    const heartbeat = new Heartbeat({ heartbeatInterval: 100, heartbeatLiveness: 3 }, {
      beat: () => log.push("beat"),
      dead: () => log.push("dead"),
    })
    heartbeat.start()
    vi.advanceTimersByTime(1000)
    expect(log).toEqual(["beat", "beat", "dead"])
    expect(heartbeat.running).toBe(false)
  })

  it("stays alive while the peer shows life", () => {
    const log: string[] = []
    const heartbeat = new Heartbeat({ heartbeatInterval: 100, heartbeatLiveness: 2 }, {
      beat: () => log.push("beat"),
      dead: () => log.push("dead"),
    })
    heartbeat.start()
    for (let i = 0; i < 10; i++) {
      vi.advanceTimersByTime(100)
      heartbeat.alive()
    }
    expect(log).toEqual(Array(10).fill("beat"))
    heartbeat.stop()
    vi.advanceTimersByTime(1000)
    expect(log).toHaveLength(10)
  })

  it("refuses nonsense timing", () => {
    const handlers = { beat: () => undefined, dead: () => undefined }
    expect(() => new Heartbeat({ heartbeatInterval: 0 }, handlers)).toThrow(TypeError)
    expect(() => new Heartbeat({ heartbeatLiveness: 0 }, handlers)).toThrow(TypeError)
    expect(() => new Heartbeat({ heartbeatLiveness: 1.5 }, handlers)).toThrow(TypeError)
  })
})

describe("LivenessTable", () => {
  it("returns each peer once, after `liveness` ticks without a touch", () => {
    const table = new LivenessTable<string>(3)
    table.touch("a")
    table.touch("b")
    expect(table.tick()).toEqual([])
    table.touch("b")
    expect(table.tick()).toEqual([])
    expect(table.tick()).toEqual(["a"])
    expect(table.has("a")).toBe(false)
    expect(table.tick()).toEqual(["b"])
    expect(table.size).toBe(0)
    table.touch("c")
    table.delete("c")
    expect(table.tick()).toEqual([])
  })
})

describe("Backoff", () => {
  it("doubles up to the maximum, and starts over after reset()", () => {
    const backoff = new Backoff(100, 700)
    expect([backoff.next(), backoff.next(), backoff.next(), backoff.next(), backoff.next()]).toEqual([100, 200, 400, 700, 700])
    backoff.reset()
    expect(backoff.next()).toBe(100)
    expect(() => new Backoff(0, 10)).toThrow(TypeError)
    expect(() => new Backoff(10, 5)).toThrow(TypeError)
  })
})
