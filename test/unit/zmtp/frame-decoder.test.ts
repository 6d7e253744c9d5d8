import { describe, expect, it } from "vitest"
import type { ZmeshError } from "../../../src/errors.js"
import { FrameDecoder } from "../../../src/zmtp/frame-decoder.js"
import { forEveryFeed, hex } from "../../helpers/feed.js"
import { PING_LOL, join, pattern } from "./fixtures.js"

interface Decoded {
  frames: Array<{ flags: number; body: string }>
  /** The error thrown, and how many bytes had been pushed when it was. */
  error: { code: string; detail: string; pushed: number } | undefined
  /** Bytes left in the decoder's input. */
  left: number
  pendingBodySize: number
}

/** Pushes chunks one at a time, decoding every complete frame after each. */
function decode(chunks: Buffer[], maxFrameSize = -1): Decoded {
  const dec = new FrameDecoder(maxFrameSize)
  const frames: Decoded["frames"] = []
  let pushed = 0
  try {
    for (const chunk of chunks) {
      dec.push(chunk)
      pushed += chunk.length
      while (dec.next()) frames.push({ flags: dec.flags, body: dec.body.toString("hex") })
    }
  } catch (err) {
    const e = err as ZmeshError
    return { frames, error: { code: e.code, detail: e.detail, pushed }, left: dec.input.length, pendingBodySize: dec.pendingBodySize }
  }
  return { frames, error: undefined, left: dec.input.length, pendingBodySize: dec.pendingBodySize }
}

const decodeWith = (max: number) => (chunks: Buffer[]) => decode(chunks, max)

function expectFrames(bytes: Buffer, frames: Array<{ flags: number; body: Buffer }>, max = -1): void {
  const expected = frames.map((f) => ({ flags: f.flags, body: f.body.toString("hex") }))
  forEveryFeed(bytes, decodeWith(max), (result) => {
    expect(result.error).toBeUndefined()
    expect(result.frames).toEqual(expected)
    expect(result.left).toBe(0)
    expect(result.pendingBodySize).toBe(-1)
  })
}

function expectError(bytes: Buffer, code: string, max = -1, message?: RegExp): void {
  forEveryFeed(bytes, decodeWith(max), (result) => {
    expect(result.frames).toEqual([])
    expect(result.error?.code).toBe(code)
    if (message !== undefined) expect(result.error?.detail).toMatch(message)
  })
}

describe("FrameDecoder: short frames (flags 00/01, 1-byte size)", () => {
  it("decodes an empty frame `00 00`", () => {
    expectFrames(hex("00 00"), [{ flags: 0x00, body: Buffer.alloc(0) }])
  })

  it("decodes a 1-byte frame `00 01 41`", () => {
    expectFrames(hex("00 01 41"), [{ flags: 0x00, body: hex("41") }])
  })

  it("decodes a 255-byte frame, the largest short size", () => {
    const body = pattern(255)
    expectFrames(join(hex("00 ff"), body), [{ flags: 0x00, body }])
  })

  it("decodes a chain of MORE frames (flag 01) ending with a final frame", () => {
    const bytes = hex("01 03 41 42 43  01 00  00 02 44 45")
    expectFrames(bytes, [
      { flags: 0x01, body: hex("41 42 43") },
      { flags: 0x01, body: Buffer.alloc(0) },
      { flags: 0x00, body: hex("44 45") },
    ])
  })

  it("decodes back-to-back messages in one chunk without mixing their frames", () => {
    const bytes = hex("00 01 61  01 01 62  00 01 63  00 00")
    expectFrames(bytes, [
      { flags: 0, body: hex("61") },
      { flags: 1, body: hex("62") },
      { flags: 0, body: hex("63") },
      { flags: 0, body: Buffer.alloc(0) },
    ])
  })

  it("waits for the whole body: a partial frame yields nothing and reports its pending size", () => {
    const result = decode([hex("00 05 01 02")])
    expect(result.frames).toEqual([])
    expect(result.error).toBeUndefined()
    expect(result.pendingBodySize).toBe(5)
  })

  it("a lone flags byte is not yet a frame", () => {
    const result = decode([hex("00")])
    expect(result).toMatchObject({ frames: [], error: undefined, left: 1, pendingBodySize: -1 })
  })
})

describe("FrameDecoder: long frames (flags 02/03, 8-byte big-endian size)", () => {
  it("decodes a 256-byte frame `02 00 00 00 00 00 00 01 00 ...`", () => {
    const body = pattern(256)
    expectFrames(join(hex("02 00 00 00 00 00 00 01 00"), body), [{ flags: 0x02, body }])
  })

  it("decodes a long MORE frame (03) followed by a short final frame", () => {
    const body = pattern(300, 3)
    const bytes = join(hex("03 00 00 00 00 00 00 01 2c"), body, hex("00 01 ff"))
    expectFrames(bytes, [
      { flags: 0x03, body },
      { flags: 0x00, body: hex("ff") },
    ])
  })

  it("accepts the long form for a small body, as libzmq does", () => {
    expectFrames(hex("02 00 00 00 00 00 00 00 03 61 62 63"), [{ flags: 0x02, body: hex("61 62 63") }])
  })

  it("accepts a long empty frame", () => {
    expectFrames(hex("02 00 00 00 00 00 00 00 00"), [{ flags: 0x02, body: Buffer.alloc(0) }])
  })
})

describe("FrameDecoder: command frames (flags 04/06)", () => {
  it("decodes the PING of test_heartbeats.cpp `04 0A 04 PING 00 00 LOL` as one command frame", () => {
    expectFrames(PING_LOL, [{ flags: 0x04, body: hex("04 50 49 4e 47 00 00 4c 4f 4c") }])
  })

  it("decodes a long command frame (06)", () => {
    // SUBSCRIBE with a 246-byte topic: name + topic exceed 255 bytes, so LONG is required (libzmq#4564).
    const body = join(hex("09"), Buffer.from("SUBSCRIBE"), Buffer.alloc(246, 0x41))
    expect(body.length).toBe(256)
    expectFrames(join(hex("06 00 00 00 00 00 00 01 00"), body), [{ flags: 0x06, body }])
  })
})

describe("FrameDecoder: malformed frames", () => {
  for (const flags of [0x08, 0x10, 0x20, 0x40, 0x80, 0xf8, 0x09, 0xff]) {
    const h = flags.toString(16).padStart(2, "0")
    it(`flags ${h}: "Bits 7-3 are reserved for future use and MUST be zero" -> ERR_ZMTP_PROTOCOL`, () => {
      expectError(hex(`${h} 01 41`), "ERR_ZMTP_PROTOCOL", -1, /reserved bits/)
    })
  }

  for (const flags of [0x05, 0x07]) {
    const h = flags.toString(16).padStart(2, "0")
    it(`flags ${h}: MORE "SHALL be zero on command frames" -> ERR_ZMTP_PROTOCOL`, () => {
      expectError(hex(`${h} 01 41`), "ERR_ZMTP_PROTOCOL", -1, /MORE/)
    })
  }

  it("rejects a bad frame after good ones, having delivered the good ones first", () => {
    forEveryFeed(hex("00 01 41  08 00"), decode, (result) => {
      expect(result.frames).toEqual([{ flags: 0, body: "41" }])
      expect(result.error?.code).toBe("ERR_ZMTP_PROTOCOL")
    })
  })
})

describe("FrameDecoder: size limits (checked as soon as the header is read)", () => {
  it("accepts a frame exactly at maxFrameSize", () => {
    expectFrames(join(hex("00 0a"), pattern(10)), [{ flags: 0, body: pattern(10) }], 10)
  })

  it("rejects a short frame one byte over maxFrameSize with ERR_MESSAGE_TOO_LARGE", () => {
    expectError(join(hex("00 0b"), pattern(11)), "ERR_MESSAGE_TOO_LARGE", 10)
  })

  it("rejects a long header announcing more than maxFrameSize from the 9 header bytes alone", () => {
    // No body at all: the decoder must not wait for (or allocate) what the peer merely claims.
    expectError(hex("02 00 00 00 00 00 00 03 e9"), "ERR_MESSAGE_TOO_LARGE", 1000)
  })

  it("throws ERR_MESSAGE_TOO_LARGE when the 9th header byte arrives, before any body byte", () => {
    const bytes = join(hex("02 00 00 00 00 00 00 03 e9"), pattern(1001))
    const byteByByte: Buffer[] = []
    for (let i = 0; i < bytes.length; i++) byteByByte.push(bytes.subarray(i, i + 1))
    const result = decode(byteByByte, 1000)
    expect(result.error?.code).toBe("ERR_MESSAGE_TOO_LARGE")
    expect(result.error?.pushed).toBe(9)
  })

  it("a short header over the limit is rejected at its size byte", () => {
    const result = decode([hex("00"), hex("0b"), pattern(11)], 10)
    expect(result.error).toMatchObject({ code: "ERR_MESSAGE_TOO_LARGE", pushed: 2 })
  })

  it("rejects a size of 2^53 even with no limit (it cannot be represented, let alone received)", () => {
    expectError(hex("02 00 20 00 00 00 00 00 00"), "ERR_MESSAGE_TOO_LARGE", -1)
  })

  it("rejects a size of 2^64-1 even with no limit", () => {
    expectError(hex("02 ff ff ff ff ff ff ff ff"), "ERR_MESSAGE_TOO_LARGE", -1)
  })

  it("rejects a long command frame over the limit too", () => {
    expectError(hex("06 00 00 00 01 00 00 00 00"), "ERR_MESSAGE_TOO_LARGE", 1 << 20)
  })

  it("keeps waiting (no throw, no allocation) for a 2^53-1 byte frame when there is no limit", () => {
    forEveryFeed(hex("02 00 1f ff ff ff ff ff ff 61 62"), decode, (result) => {
      expect(result.error).toBeUndefined()
      expect(result.frames).toEqual([])
      expect(result.pendingBodySize).toBe(2 ** 53 - 1)
      expect(result.left).toBe(2)
    })
  })

  it("combines the high and low 32-bit halves of the size: 2^32 + 1 is over a 2^32 limit", () => {
    expectError(hex("02 00 00 00 01 00 00 00 01"), "ERR_MESSAGE_TOO_LARGE", 2 ** 32)
    const result = decode([hex("02 00 00 00 01 00 00 00 01")], 2 ** 32 + 1)
    expect(result.error).toBeUndefined()
    expect(result.pendingBodySize).toBe(2 ** 32 + 1)
  })

  it("commands have their own limit (maxCommandSize), apart from the data frame limit", () => {
    const command50 = join(hex("04 32"), pattern(50))
    const data50 = join(hex("00 32"), pattern(50))
    const decodeSplit = (max: number, maxCommand: number) => (chunks: Buffer[]) => {
      const dec = new FrameDecoder(max, maxCommand)
      try {
        for (const c of chunks) dec.push(c)
        return dec.next() ? "frame" : "waiting"
      } catch (err) {
        return (err as ZmeshError).code
      }
    }
    forEveryFeed(command50, decodeSplit(10, 100), (r) => expect(r).toBe("frame"))
    forEveryFeed(data50, decodeSplit(10, 100), (r) => expect(r).toBe("ERR_MESSAGE_TOO_LARGE"))
    forEveryFeed(join(hex("04 65"), pattern(101)), decodeSplit(1000, 100), (r) => expect(r).toBe("ERR_MESSAGE_TOO_LARGE"))
    forEveryFeed(hex("06 00 00 00 00 00 00 00 65"), decodeSplit(1000, 100), (r) => expect(r).toBe("ERR_MESSAGE_TOO_LARGE"))
    // Without a separate value, commands share the frame limit.
    expect(new FrameDecoder(10).maxCommandSize).toBe(10)
  })

  it("a lowered maxFrameSize applies to the next header", () => {
    const dec = new FrameDecoder(10)
    dec.push(hex("01 06 01 02 03 04 05 06  00 06 01 02 03 04 05 06"))
    expect(dec.next()).toBe(true)
    dec.maxFrameSize = 4
    expect(() => dec.next()).toThrow(expect.objectContaining({ code: "ERR_MESSAGE_TOO_LARGE" }))
  })
})

describe("FrameDecoder: many frames across many chunks", () => {
  it("decodes 200 frames of growing size (0..399 bytes, short and long) in every chunking", () => {
    const parts: Buffer[] = []
    const expected: Array<{ flags: number; body: Buffer }> = []
    for (let n = 0; n < 400; n += 2) {
      const body = pattern(n, n)
      const more = n % 3 === 0 ? 1 : 0
      if (n <= 255) parts.push(Buffer.from([more, n]))
      else parts.push(Buffer.from([0x02 | more, 0, 0, 0, 0, 0, 0, n >> 8, n & 0xff]))
      parts.push(body)
      expected.push({ flags: n <= 255 ? more : 0x02 | more, body })
    }
    const bytes = Buffer.concat(parts)
    // Every split of a 40 KB stream would be slow; cut it into chunks of several fixed sizes instead.
    for (const size of [1, 2, 3, 7, 64, 255, 256, 1000, bytes.length]) {
      const chunks: Buffer[] = []
      for (let i = 0; i < bytes.length; i += size) chunks.push(bytes.subarray(i, i + size))
      const result = decode(chunks)
      expect(result.error).toBeUndefined()
      expect(result.frames).toEqual(expected.map((f) => ({ flags: f.flags, body: f.body.toString("hex") })))
    }
  })
})

describe("FrameDecoder: bodies assembled in place, and reads straight into them", () => {
  /** A long data frame's header announcing `size` bytes. */
  const longHeader = (size: number) => {
    const header = Buffer.alloc(9)
    header[0] = 0x02
    header.writeUInt32BE(size, 5)
    return header
  }

  it("without eagerBodyMax, a header alone allocates nothing and offers no region for a direct read", () => {
    const dec = new FrameDecoder(-1)
    dec.push(longHeader(1000))
    expect(dec.next()).toBe(false)
    expect(dec.pendingBodySize).toBe(1000)
    expect(dec.directRegion(1)).toBeUndefined()
    // Half of the body: now it is allocated, and the rest may be read in place.
    dec.push(pattern(500))
    expect(dec.next()).toBe(false)
    expect(dec.directRegion(1)?.length).toBe(500)
  })

  it("with eagerBodyMax, the body is allocated at its header; reads into its region complete the frame", () => {
    const dec = new FrameDecoder(-1)
    dec.eagerBodyMax = 4096
    const body = pattern(3000, 7)
    dec.push(Buffer.concat([longHeader(3000), body.subarray(0, 100)]))
    expect(dec.next()).toBe(false)
    const region = dec.directRegion(1000)!
    expect(region.length).toBe(2900)
    // As a socket read would: bytes land in the region, the decoder is told how many.
    body.copy(region, 0, 100, 1100)
    expect(dec.filledDirect(region, 1000)).toBe(true)
    expect(dec.next()).toBe(false)
    const rest = dec.directRegion(1000)!
    expect(rest.length).toBe(1900)
    body.copy(rest, 0, 1100)
    expect(dec.filledDirect(rest, 1900)).toBe(true)
    expect(dec.next()).toBe(true)
    expect(dec.body.equals(body)).toBe(true)
    expect(dec.lastFrameSize).toBe(3000)
    expect(dec.directRegion(1)).toBeUndefined()
  })

  it("bytes pushed after a direct read follow it: the rest of the body first, then the next frames", () => {
    const dec = new FrameDecoder(-1)
    dec.eagerBodyMax = 4096
    const body = pattern(2000, 3)
    dec.push(longHeader(2000))
    expect(dec.next()).toBe(false)
    const region = dec.directRegion(1)!
    body.copy(region, 0, 0, 1500)
    dec.filledDirect(region, 1500)
    dec.push(Buffer.concat([body.subarray(1500), hex("00 02 61 62")]))
    expect(dec.next()).toBe(true)
    expect(dec.body.equals(body)).toBe(true)
    expect(dec.next()).toBe(true)
    expect(dec.body.toString()).toBe("ab")
    expect(dec.input.length).toBe(0)
  })

  it("a claim above eagerBodyMax still waits for half of its body; a region from before clear() is refused", () => {
    const dec = new FrameDecoder(-1)
    dec.eagerBodyMax = 1024
    dec.push(longHeader(1 << 20))
    expect(dec.next()).toBe(false)
    expect(dec.directRegion(1)).toBeUndefined()
    const small = new FrameDecoder(-1)
    small.eagerBodyMax = 1024
    small.push(longHeader(100))
    small.next()
    const region = small.directRegion(1)!
    small.clear()
    expect(small.filledDirect(region, 100)).toBe(false)
    expect(small.next()).toBe(false)
  })

  it("with eagerEarned, a body is allocated at its header only up to twice what the peer has sent so far", () => {
    const earning = () => {
      const dec = new FrameDecoder(-1)
      dec.eagerBodyMax = 1 << 20
      dec.eagerEarned = true
      return dec
    }
    // 9 bytes sent: a claim of 4,000 allocates nothing, as without eagerBodyMax.
    const dec = earning()
    dec.push(longHeader(4000))
    expect(dec.next()).toBe(false)
    expect(dec.directRegion(1)).toBeUndefined()
    // Half the body sent: allocated by the half-body rule; the rest is read in place.
    dec.push(pattern(2000, 1))
    expect(dec.next()).toBe(false)
    const region = dec.directRegion(1)!
    expect(region.length).toBe(2000)
    pattern(4000, 1).copy(region, 0, 2000)
    expect(dec.filledDirect(region, 2000)).toBe(true)
    expect(dec.next()).toBe(true)
    expect(dec.body.equals(pattern(4000, 1))).toBe(true)
    // 4,009 bytes sent, then a 9-byte header: claims up to 2 x 4,018 are allocated at once, larger ones are not.
    dec.push(longHeader(8036))
    expect(dec.next()).toBe(false)
    expect(dec.directRegion(1)?.length).toBe(8036)
    const over = earning()
    over.push(Buffer.concat([longHeader(3991), pattern(3991, 2)]))
    expect(over.next()).toBe(true)
    over.push(longHeader(8019))
    expect(over.next()).toBe(false)
    expect(over.directRegion(1)).toBeUndefined()
  })
})

describe("FrameDecoder: reused bodies (reuseBodies, for CURVE's boxes)", () => {
  const longFrame = (body: Buffer) => {
    const header = Buffer.alloc(9)
    header[0] = 0x02
    header.writeUInt32BE(body.length, 5)
    return Buffer.concat([header, body])
  }
  /** Pushes `bytes` in chunks of `size`, returning each decoded body (copied) and the buffer it was in. */
  const feed = (dec: FrameDecoder, bytes: Buffer, size: number) => {
    const out: Array<{ body: Buffer; buffer: ArrayBufferLike }> = []
    for (let at = 0; at < bytes.length; at += size) {
      dec.push(bytes.subarray(at, at + size))
      while (dec.next()) out.push({ body: Buffer.from(dec.body), buffer: dec.body.buffer })
    }
    return out
  }

  it("bodies that span chunks come out right and share one buffer; bodies inside a chunk stay views of it", () => {
    const bodies = [pattern(5000, 1), pattern(4000, 2), pattern(5000, 3), pattern(10, 4)]
    const stream = Buffer.concat(bodies.map(longFrame))
    for (const chunk of [700, 3000]) {
      const dec = new FrameDecoder(-1)
      dec.reuseBodies = true
      const out = feed(dec, stream, chunk)
      expect(out.map((o, i) => o.body.equals(bodies[i]!))).toEqual([true, true, true, true])
      expect(out[1]!.buffer).toBe(out[0]!.buffer)
      expect(out[2]!.buffer).toBe(out[0]!.buffer)
      // The 10-byte body lies inside one chunk (stream bytes 14036-14045).
      expect(out[3]!.buffer).toBe(stream.buffer)
    }
  })

  it("without it every spanning body gets a buffer of its own", () => {
    const dec = new FrameDecoder(-1)
    const out = feed(dec, Buffer.concat([longFrame(pattern(5000, 1)), longFrame(pattern(5000, 2))]), 700)
    expect(out[1]!.buffer).not.toBe(out[0]!.buffer)
  })

  it("the shared buffer is dropped once the input runs dry: the next spanning body gets a new one", () => {
    const dec = new FrameDecoder(-1)
    dec.reuseBodies = true
    const first = feed(dec, longFrame(pattern(3000, 1)), 1000)
    expect(dec.input.length).toBe(0)
    const second = feed(dec, longFrame(pattern(3000, 2)), 1000)
    expect(second[0]!.body.equals(pattern(3000, 2))).toBe(true)
    expect(second[0]!.buffer).not.toBe(first[0]!.buffer)
  })

})
