/** SocketReader: the `onread` buffers it hands node:net, and where each read's bytes go. */
import { describe, expect, it } from "vitest"
import { type ReadSink, SocketReader } from "../../../src/transport/socket-reader.js"

/** A sink that records what it is given; `region` is offered for direct reads while set. */
class Sink implements ReadSink {
  chunks: string[] = []
  directs: Array<{ region: Buffer; n: number }> = []
  region: Buffer | undefined
  smallReads = false
  pause = false
  directRegion(): Buffer | undefined {
    return this.region
  }
  data(chunk: Buffer): boolean {
    this.chunks.push(chunk.toString())
    return !this.pause
  }
  direct(region: Buffer, n: number): boolean {
    this.directs.push({ region, n })
    return !this.pause
  }
}

/** Plays node:net: asks for a buffer, writes `bytes` into it, calls back. */
function read(reader: SocketReader, into: Buffer, bytes: string): boolean {
  const n = into.write(bytes)
  return reader.onread.callback(n, into)
}

describe("SocketReader", () => {
  it("carves consecutive reads from one block, each chunk a view of what was read", () => {
    const reader = new SocketReader()
    const sink = new Sink()
    reader.attach(sink)
    const first = reader.onread.buffer()
    expect(first.length).toBe(64 * 1024)
    read(reader, first, "hello")
    const second = reader.onread.buffer()
    expect(second.buffer).toBe(first.buffer)
    expect(second.byteOffset).toBe(first.byteOffset + 5)
    read(reader, second, "world")
    expect(sink.chunks).toEqual(["hello", "world"])
  })

  it("starts a new block when too little room is left, so reads stay large", () => {
    const reader = new SocketReader()
    reader.attach(new Sink())
    const first = reader.onread.buffer()
    reader.onread.callback(first.length, first)
    const second = reader.onread.buffer()
    reader.onread.callback(second.length - 100, second)
    // 100 bytes left in the block: the next read gets a fresh one.
    const third = reader.onread.buffer()
    expect(third.buffer).not.toBe(first.buffer)
    expect(third.length).toBe(64 * 1024)
  })

  it("offers a large body's region for the next read, and reports that read as direct", () => {
    const reader = new SocketReader()
    const sink = new Sink()
    reader.attach(sink)
    const body = Buffer.alloc(50_000)
    sink.region = body.subarray(10_000)
    const next = reader.onread.buffer()
    expect(next).toBe(sink.region)
    expect(read(reader, next, "direct bytes")).toBe(true)
    expect(sink.directs).toEqual([{ region: sink.region, n: 12 }])
    expect(body.subarray(10_000, 10_012).toString()).toBe("direct bytes")
    expect(sink.chunks).toEqual([])
    // No body pending: back to block reads, small ones after a large frame.
    sink.region = undefined
    sink.smallReads = true
    expect(reader.onread.buffer().length).toBe(8 * 1024)
  })

  it("keeps what is read before the engine attaches, and returns false when the sink pauses", () => {
    const reader = new SocketReader()
    const first = reader.onread.buffer()
    expect(read(reader, first, "early")).toBe(true)
    const sink = new Sink()
    reader.attach(sink)
    expect(sink.chunks).toEqual(["early"])
    sink.pause = true
    expect(read(reader, reader.onread.buffer(), "more")).toBe(false)
  })

  it("on an accepted connection, reads small blocks until a read fills its buffer, then full-size ones", () => {
    const reader = new SocketReader({ accepted: true })
    expect(reader.eagerEarned).toBe(true)
    expect(new SocketReader().eagerEarned).toBe(false)
    const sink = new Sink()
    reader.attach(sink)
    // An idle peer holds a small buffer, not a 128 KiB block.
    const first = reader.onread.buffer()
    expect(first.length).toBe(2 * 1024)
    read(reader, first, "greeting")
    const second = reader.onread.buffer()
    expect(second.buffer).toBe(first.buffer)
    expect(second.byteOffset).toBe(first.byteOffset + 8)
    expect(second.length).toBe(2 * 1024 - 8)
    // Less than 512 bytes of room left: a fresh small block.
    reader.onread.callback(second.length - 500, second)
    const third = reader.onread.buffer()
    expect(third.length).toBe(2 * 1024)
    // A read that fills its buffer: the peer sends fast, full-size reads from now on.
    reader.onread.callback(third.length, third)
    expect(reader.onread.buffer().length).toBe(64 * 1024)
    expect(sink.chunks).toEqual(["greeting", expect.any(String), expect.any(String)])
  })
})
