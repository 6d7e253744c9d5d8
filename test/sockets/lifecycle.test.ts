import { spawn } from "node:child_process"
import { existsSync, rmSync, statSync, writeFileSync } from "node:fs"
import { afterEach, describe, expect, it } from "vitest"
import { Pair, Pull, Push, type ZmeshError } from "../../src/index.js"
import { cleanupIpc, ipcEndpoint, transports } from "../helpers/endpoints.js"
import { closeAll, nextEvent } from "../helpers/sockets.js"

afterEach(cleanupIpc)

describe("bind and unbind", () => {
  it("reports the real port of tcp://127.0.0.1:* in lastEndpoint", async () => {
    const pull = new Pull()
    try {
      expect(pull.lastEndpoint).toBeNull()
      await pull.bind("tcp://127.0.0.1:*")
      expect(pull.lastEndpoint).toMatch(/^tcp:\/\/127\.0\.0\.1:\d+$/)
      expect(pull.lastEndpoint!.endsWith(":0")).toBe(false)
    } finally {
      closeAll(pull)
    }
  })

  it("binds IPv6 loopback in brackets", async () => {
    const pull = new Pull()
    const push = new Push()
    try {
      await pull.bind("tcp://[::1]:*")
      expect(pull.lastEndpoint).toMatch(/^tcp:\/\/\[::1\]:\d+$/)
      push.connect(pull.lastEndpoint!)
      await push.send("v6")
      expect(String((await pull.receive())[0])).toBe("v6")
    } finally {
      closeAll(push, pull)
    }
  })

  it("removes the ipc socket file on unbind and on close", async () => {
    const first = ipcEndpoint()
    const second = ipcEndpoint()
    const pull = new Pull()
    await pull.bind(first)
    await pull.bind(second)
    const path = (endpoint: string) => endpoint.slice("ipc://".length)
    expect(existsSync(path(first))).toBe(true)
    await pull.unbind(first)
    expect(existsSync(path(first))).toBe(false)
    const closed = nextEvent(pull.events, "end")
    pull.close()
    await closed
    // close() stops the listener synchronously; the file goes with it.
    await new Promise((resolve) => setImmediate(resolve))
    expect(existsSync(path(second))).toBe(false)
  })

  it("replaces a stale ipc socket file, but not a live socket or another file", async () => {
    const endpoint = ipcEndpoint()
    const path = endpoint.slice("ipc://".length)
    const pull = new Pull()
    const other = new Pull()
    const push = new Push()
    try {
      writeFileSync(path, "not a socket")
      await expect(pull.bind(endpoint)).rejects.toMatchObject({ code: "EADDRINUSE" })
      rmSync(path)
      // A process killed while listening leaves its socket file behind.
      await new Promise<void>((resolve, reject) => {
        const child = spawn(process.execPath, [
          "-e",
          `require("net").createServer().listen(${JSON.stringify(path)}, () => process.kill(process.pid, "SIGKILL"))`,
        ])
        child.on("exit", () => resolve())
        child.on("error", reject)
      })
      expect(statSync(path).isSocket()).toBe(true)
      await pull.bind(endpoint)
      await expect(other.bind(endpoint)).rejects.toMatchObject({ code: "EADDRINUSE" })
      push.connect(endpoint)
      await push.send("fresh")
      expect(String((await pull.receive())[0])).toBe("fresh")
    } finally {
      closeAll(push, pull, other)
    }
  })

  it("fails unbind of an endpoint it is not bound to with ENOENT", async () => {
    const pull = new Pull()
    try {
      await expect(pull.unbind("tcp://127.0.0.1:1")).rejects.toMatchObject({ code: "ENOENT" })
      expect(() => pull.disconnect("tcp://127.0.0.1:1")).toThrow(expect.objectContaining({ code: "ENOENT" }))
    } finally {
      closeAll(pull)
    }
  })
})

describe("caller mistakes get stable error codes", () => {
  it.each([
    ["tcp//127.0.0.1:5555", "EINVAL"],
    ["tcp://127.0.0.1", "EINVAL"],
    ["tcp://127.0.0.1:99999", "EINVAL"],
    ["tcp://127.0.0.1:abc", "EINVAL"],
    ["udp://127.0.0.1:5555", "EPROTONOSUPPORT"],
  ])("connect(%j) throws %s", (address, code) => {
    const push = new Push()
    try {
      expect(() => push.connect(address)).toThrow(expect.objectContaining({ code }))
    } finally {
      closeAll(push)
    }
  })

  it("a connect needs a port and a host", () => {
    const push = new Push()
    try {
      expect(() => push.connect("tcp://127.0.0.1:*")).toThrow(expect.objectContaining({ code: "EINVAL" }))
      expect(() => push.connect("tcp://*:5555")).toThrow(expect.objectContaining({ code: "EINVAL" }))
    } finally {
      closeAll(push)
    }
  })

  it("refuses bad option values with EINVAL, and wrong types, unknown and read-only options with TypeError (as zeromq.js)", () => {
    expect(() => new Push({ sendHighWaterMark: -1 })).toThrow(expect.objectContaining({ code: "EINVAL" }))
    const truncated = new Push({ linger: 1.5 })
    expect(truncated.linger).toBe(1) // zeromq.js truncates, as its native setter casts
    truncated.close()
    expect(() => new Push({ linger: Number.NaN })).toThrow(expect.objectContaining({ code: "EINVAL" }))
    expect(() => new Push({ routingId: "\0x" })).toThrow(expect.objectContaining({ code: "EINVAL" }))
    expect(() => new Push({ nonsense: 1 } as never)).toThrow(TypeError)
    expect(() => new Push({ closed: true } as never)).toThrow(/only a getter/)
    expect(() => new Push({ linger: "0" } as never)).toThrow(new TypeError("Option value must be a number"))
    const push = new Push({ linger: 0, sendTimeout: 10 })
    expect(push.linger).toBe(0)
    expect(push.sendTimeout).toBe(10)
    expect(push.receiveHighWaterMark).toBe(1000)
    push.sendHighWaterMark = 7
    expect(push.sendHighWaterMark).toBe(7)
    expect(() => {
      push.reconnectInterval = "fast" as never
    }).toThrow(TypeError)
    expect(() => {
      ;(push as unknown as Record<string, unknown>).nonsense = 1
    }).toThrow(TypeError)
    expect(push.type).toBe(8)
    push.close()
  })

  it("rejects operations on a closed socket with EBADF", async () => {
    const pull = new Pull()
    pull.close()
    pull.close() // a second close is a no-op
    expect(pull.closed).toBe(true)
    await expect(pull.receive()).rejects.toMatchObject({ code: "EBADF" })
    // zeromq.js throws, rather than rejects, when a closed socket is asked to bind.
    expect(() => pull.bind("tcp://127.0.0.1:*")).toThrow(expect.objectContaining({ code: "EBADF", message: "Socket is closed" }))
    expect(() => pull.connect("tcp://127.0.0.1:5555")).toThrow(expect.objectContaining({ code: "EBADF" }))
  })

  it("rejects a pending receive with EAGAIN when the socket closes", async () => {
    const pull = new Pull()
    const pending = pull.receive()
    pull.close()
    const err = (await pending.catch((e: unknown) => e)) as ZmeshError
    expect(err.code).toBe("EAGAIN")
  })
})

describe.each(transports)("linger and close over $name", ({ bindAddress }) => {
  it("delivers messages queued before close() once the peer appears (linger -1)", async () => {
    const pull = new Pull()
    await pull.bind(bindAddress())
    const endpoint = pull.lastEndpoint!
    const push = new Push()
    push.connect(endpoint)
    await push.send("kept 1")
    await push.send("kept 2")
    push.close()
    expect(String((await pull.receive())[0])).toBe("kept 1")
    expect(String((await pull.receive())[0])).toBe("kept 2")
    closeAll(pull)
  })

  it("emits bind, accept, handshake, disconnect and end", async () => {
    const pull = new Pull()
    const push = new Push()
    const types: string[] = []
    for (const type of ["bind", "accept", "handshake", "disconnect", "end"] as const) {
      pull.events.on(type, (event) => types.push(event.type))
    }
    await pull.bind(bindAddress())
    const gone = nextEvent(pull.events, "disconnect")
    const shook = nextEvent(pull.events, "handshake")
    push.connect(pull.lastEndpoint!)
    await shook
    closeAll(push)
    await gone
    pull.close()
    expect(types).toEqual(["bind", "accept", "handshake", "disconnect", "end"])
  })
})

describe("linger 0", () => {
  it("drops queued messages on close", async () => {
    const endpoint = ipcEndpoint()
    const push = new Push({ linger: 0 })
    push.connect(endpoint)
    await push.send("dropped")
    push.close()
    const pull = new Pull({ receiveTimeout: 100 })
    try {
      await pull.bind(endpoint)
      // Nothing can arrive: the only sender is closed. The timeout bounds the wait.
      await expect(pull.receive()).rejects.toMatchObject({ code: "EAGAIN" })
    } finally {
      closeAll(pull)
    }
  })
})

describe.each(transports)("PAIR over $name", ({ bindAddress }) => {
  it("31/EXPAIR: exchanges messages both ways with its one peer", async () => {
    const a = new Pair()
    const b = new Pair()
    try {
      await a.bind(bindAddress())
      b.connect(a.lastEndpoint!)
      await b.send(["hello", "a"])
      expect((await a.receive()).map(String)).toEqual(["hello", "a"])
      await a.send("hello b")
      expect((await b.receive()).map(String)).toEqual(["hello b"])
    } finally {
      closeAll(a, b)
    }
  })

  it("31/EXPAIR: refuses a second peer while the first is connected", async () => {
    const a = new Pair()
    const b = new Pair()
    const c = new Pair({ reconnectInterval: -1 })
    try {
      await a.bind(bindAddress())
      const first = nextEvent(a.events, "handshake")
      b.connect(a.lastEndpoint!)
      await first
      const refused = nextEvent(c.events, "disconnect")
      c.connect(a.lastEndpoint!)
      await refused
      await a.send("to b")
      expect(String((await b.receive())[0])).toBe("to b")
    } finally {
      closeAll(a, b, c)
    }
  })
})

describe("maxMessageSize", () => {
  it("drops a peer that sends a larger message and keeps serving the others", async () => {
    const pull = new Pull({ maxMessageSize: 100 })
    const big = new Push()
    const small = new Push()
    try {
      await pull.bind("tcp://127.0.0.1:*")
      const dropped = nextEvent(pull.events, "disconnect")
      big.connect(pull.lastEndpoint!)
      await big.send(Buffer.alloc(101))
      const event = await dropped
      expect(event.error?.code).toBe("ERR_MESSAGE_TOO_LARGE")
      small.connect(pull.lastEndpoint!)
      await small.send(Buffer.alloc(100))
      expect((await pull.receive())[0]!.length).toBe(100)
    } finally {
      closeAll(big, small, pull)
    }
  })
})
