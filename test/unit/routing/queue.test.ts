import { describe, expect, it } from "vitest"
import { Queue } from "../../../src/routing/queue.js"

describe("Queue (ring buffer)", () => {
  it("is first in, first out across several growths", () => {
    const q = new Queue<number>()
    for (let i = 0; i < 1000; i++) q.push(i)
    expect(q.length).toBe(1000)
    for (let i = 0; i < 1000; i++) expect(q.shift()).toBe(i)
    expect(q.length).toBe(0)
    expect(q.shift()).toBeUndefined()
    expect(q.peek()).toBeUndefined()
  })

  it("keeps order when it grows while wrapped around the end of its array", () => {
    const q = new Queue<number>()
    let next = 0
    let expected = 0
    // Move the head to the middle of the 16-slot array, then fill past capacity so growth copies a wrapped range.
    for (let i = 0; i < 10; i++) q.push(next++)
    for (let i = 0; i < 7; i++) expect(q.shift()).toBe(expected++)
    for (let round = 0; round < 5; round++) {
      for (let i = 0; i < 20 + round * 13; i++) q.push(next++)
      for (let i = 0; i < 11 + round * 7; i++) expect(q.shift()).toBe(expected++)
    }
    expect(q.length).toBe(next - expected)
    expect(q.peek()).toBe(expected)
    expect(q.drain()).toEqual(Array.from({ length: next - expected }, (_, i) => expected + i))
    expect(q.length).toBe(0)
  })

  it("peek returns the head without removing it", () => {
    const q = new Queue<string>()
    q.push("a")
    q.push("b")
    expect(q.peek()).toBe("a")
    expect(q.length).toBe(2)
    expect(q.shift()).toBe("a")
    expect(q.peek()).toBe("b")
  })

  it("removeWhere drops matching items and keeps the rest in order, also when wrapped", () => {
    const q = new Queue<number>()
    for (let i = 0; i < 12; i++) q.push(i)
    for (let i = 0; i < 10; i++) q.shift()
    for (let i = 12; i < 30; i++) q.push(i)
    q.removeWhere((n) => n % 3 === 0)
    // 10..29 stay queued; 12, 15, 18, 21, 24 and 27 go.
    expect(q.length).toBe(14)
    expect(q.drain()).toEqual([10, 11, 13, 14, 16, 17, 19, 20, 22, 23, 25, 26, 28, 29])
  })

  it("removeWhere can empty the queue, which then works as new", () => {
    const q = new Queue<number>()
    for (let i = 0; i < 40; i++) q.push(i)
    q.removeWhere(() => true)
    expect(q.length).toBe(0)
    q.push(7)
    expect(q.shift()).toBe(7)
  })

  it("does not keep references to shifted items (so messages can be collected)", () => {
    const q = new Queue<object>()
    const item = {}
    q.push(item)
    q.shift()
    // The slot is cleared: the only way to see it is through the internal array.
    expect((q as unknown as { items: unknown[] }).items.includes(item)).toBe(false)
  })
})
