import { afterEach, describe, expect, it } from "vitest"
import { Pull, Push, type ZmeshError } from "../../src/index.js"
import { cleanupIpc, transports } from "../helpers/endpoints.js"
import { closeAll, nextEvent } from "../helpers/sockets.js"

afterEach(cleanupIpc)

describe.each(transports)("PUSH/PULL over $name", ({ bindAddress }) => {
  it("delivers multipart messages whole and in order", async () => {
    const pull = new Pull()
    const push = new Push()
    try {
      await pull.bind(bindAddress())
      push.connect(pull.lastEndpoint!)
      await push.send(["a", "", "b"])
      await push.send(Buffer.alloc(0))
      await push.send(new Uint8Array([1, 2, 3]))
      expect((await pull.receive()).map(String)).toEqual(["a", "", "b"])
      expect(await pull.receive()).toEqual([Buffer.alloc(0)])
      expect(await pull.receive()).toEqual([Buffer.from([1, 2, 3])])
    } finally {
      closeAll(push, pull)
    }
  })

  it("tryReceive() returns a waiting message at once, and undefined when none waits or a receive() is ahead of it", async () => {
    const pull = new Pull()
    const push = new Push()
    try {
      await pull.bind(bindAddress())
      push.connect(pull.lastEndpoint!)
      expect(pull.tryReceive()).toBeUndefined()
      const pending = pull.receive()
      await push.send("first")
      await push.send("second")
      expect((await pending).map(String)).toEqual(["first"])
      // "second" is on its way; poll synchronously per turn until it is there.
      let second = pull.tryReceive()
      while (second === undefined) {
        await new Promise<void>((resolve) => setImmediate(resolve))
        second = pull.tryReceive()
      }
      expect(second.map(String)).toEqual(["second"])
      expect(pull.tryReceive()).toBeUndefined()
      // A receive() waiting comes first: tryReceive() must not take its message.
      const waiting = pull.receive()
      expect(pull.tryReceive()).toBeUndefined()
      await push.send("third")
      expect((await waiting).map(String)).toEqual(["third"])
    } finally {
      closeAll(push, pull)
    }
  })

  it("30/PIPELINE: PUSH SHALL route out round-robin, in connect order", async () => {
    const push = new Push()
    const pulls = [new Pull(), new Pull(), new Pull()]
    try {
      await push.bind(bindAddress())
      // Connect one at a time so the order of peers is known.
      for (const pull of pulls) {
        const accepted = nextEvent(push.events, "handshake")
        pull.connect(push.lastEndpoint!)
        await accepted
      }
      for (const text of ["ABC", "DEF"]) for (let i = 0; i < pulls.length; i++) await push.send(text)
      for (const pull of pulls) {
        expect(String((await pull.receive())[0])).toBe("ABC")
        expect(String((await pull.receive())[0])).toBe("DEF")
      }
    } finally {
      closeAll(push, ...pulls)
    }
  })

  it("30/PIPELINE: PULL SHALL fair-queue input from its pushers", async () => {
    const pull = new Pull()
    const pushes = [new Push(), new Push(), new Push()]
    try {
      await pull.bind(bindAddress())
      for (const push of pushes) push.connect(pull.lastEndpoint!)
      for (let i = 0; i < pushes.length; i++) await pushes[i]!.send(String.fromCharCode(65 + i))
      const first = new Set<string>()
      for (let i = 0; i < pushes.length; i++) first.add(String((await pull.receive())[0]))
      expect(first).toEqual(new Set(["A", "B", "C"]))
    } finally {
      closeAll(pull, ...pushes)
    }
  })

  it("completes concurrent sends in call order instead of failing with EBUSY", async () => {
    const pull = new Pull()
    const push = new Push({ sendHighWaterMark: 5 })
    try {
      await pull.bind(bindAddress())
      push.connect(pull.lastEndpoint!)
      const sends = Array.from({ length: 200 }, (_, i) => push.send(String(i)))
      await Promise.all(sends)
      for (let i = 0; i < 200; i++) expect(String((await pull.receive())[0])).toBe(String(i))
    } finally {
      closeAll(push, pull)
    }
  })

  it("pauses a full receiver instead of dropping, then delivers everything", async () => {
    const pull = new Pull({ receiveHighWaterMark: 10 })
    const push = new Push({ sendHighWaterMark: 10 })
    const total = 20_000
    try {
      await pull.bind(bindAddress())
      push.connect(pull.lastEndpoint!)
      await push.send("0")
      await pull.receive()
      // With nobody reading, the sender fills the kernel buffers and both HWMs, then must stop.
      let sent = 1
      while (sent < total && push.trySend(Buffer.alloc(1024, sent))) sent++
      const more = (async () => {
        for (; sent < total; sent++) await push.send(Buffer.alloc(1024, sent))
      })()
      let received = 1
      for await (const [msg] of pull) {
        expect(msg!.length).toBe(1024)
        expect(msg![0]).toBe(received & 0xff)
        if (++received === total) break
      }
      await more
      expect(received).toBe(total)
    } finally {
      closeAll(push, pull)
    }
  })

  it("rejects a send with EAGAIN after sendTimeout when there is no peer", async () => {
    const push = new Push({ sendTimeout: 50 })
    try {
      await expect(push.send("x")).rejects.toMatchObject({ code: "EAGAIN" })
    } finally {
      closeAll(push)
    }
  })

  it("rejects a receive with EAGAIN after receiveTimeout", async () => {
    const pull = new Pull({ receiveTimeout: 30 })
    try {
      await pull.bind(bindAddress())
      const err = (await pull.receive().catch((e: unknown) => e)) as ZmeshError
      expect(err.code).toBe("EAGAIN")
    } finally {
      closeAll(pull)
    }
  })

  it("ends async iteration when the socket closes", async () => {
    const pull = new Pull()
    await pull.bind(bindAddress())
    const seen: string[] = []
    const loop = (async () => {
      for await (const [msg] of pull) seen.push(String(msg))
    })()
    const push = new Push()
    push.connect(pull.lastEndpoint!)
    await push.send("one")
    while (seen.length === 0) await new Promise((resolve) => setImmediate(resolve))
    pull.close()
    await loop
    expect(seen).toEqual(["one"])
    closeAll(push)
  })
})

describe.each(transports)("PUSH/PULL over $name, the receiver dialing (its reads land in large bodies directly)", ({ bindAddress }) => {
  it("delivers a mix of small, 64 KiB and multi-MiB messages byte for byte through a tiny receive queue", async () => {
    const push = new Push({ sendHighWaterMark: 4 })
    const pull = new Pull({ receiveHighWaterMark: 2 })
    const sizes = [16, 65_536, 3, 200_000, 65_536, 0, 3 * 1024 * 1024 + 7, 1000, 65_537, 70_000, 5]
    const messages = sizes.map((size, i) => {
      const body = Buffer.allocUnsafe(size)
      for (let j = 0; j < size; j++) body[j] = (j * 31 + i) & 0xff
      return body
    })
    try {
      await push.bind(bindAddress())
      pull.connect(push.lastEndpoint!)
      // RCVHWM 2: whenever a read brings several messages the queue fills and reading pauses, then resumes.
      const sending = (async () => {
        for (let round = 0; round < 3; round++) for (const m of messages) await push.send([Buffer.from([round]), m])
      })()
      for (let round = 0; round < 3; round++) {
        for (const expected of messages) {
          const [tag, body] = await pull.receive()
          expect(tag![0]).toBe(round)
          expect(body!.length).toBe(expected.length)
          expect(body!.equals(expected)).toBe(true)
        }
      }
      await sending
    } finally {
      closeAll(push, pull)
    }
  })
})
