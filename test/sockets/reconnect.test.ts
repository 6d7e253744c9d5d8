import { afterEach, describe, expect, it } from "vitest"
import { type Event, Pull, Push } from "../../src/index.js"
import { cleanupIpc, ipcEndpoint } from "../helpers/endpoints.js"
import { closeAll, nextEvent } from "../helpers/sockets.js"

afterEach(cleanupIpc)

/** A tcp endpoint whose port was free a moment ago: bind, read the port, unbind. */
async function freeTcpEndpoint(): Promise<string> {
  const probe = new Pull()
  await probe.bind("tcp://127.0.0.1:*")
  const endpoint = probe.lastEndpoint!
  await probe.unbind(endpoint)
  probe.close()
  return endpoint
}

const cases = [
  { name: "tcp", endpoint: freeTcpEndpoint },
  { name: "ipc", endpoint: async () => ipcEndpoint() },
]

describe.each(cases)("reconnect over $name", ({ endpoint: makeEndpoint }) => {
  it("a PUSH that connects before the PULL binds delivers once it is up", async () => {
    const endpoint = await makeEndpoint()
    const push = new Push({ reconnectInterval: 10 })
    const pull = new Pull()
    try {
      push.connect(endpoint)
      const retry = nextEvent(push.events, "connect:retry")
      // Queued on the pipe that exists from connect() on.
      await push.send("early 1")
      await push.send("early 2")
      await retry
      await pull.bind(endpoint)
      expect(String((await pull.receive())[0])).toBe("early 1")
      expect(String((await pull.receive())[0])).toBe("early 2")
    } finally {
      closeAll(push, pull)
    }
  })

  it("a PULL restarted on the same endpoint resumes receiving", async () => {
    const endpoint = await makeEndpoint()
    const push = new Push({ reconnectInterval: 10 })
    let pull = new Pull()
    try {
      await pull.bind(endpoint)
      push.connect(endpoint)
      await push.send("before")
      expect(String((await pull.receive())[0])).toBe("before")
      const lost = nextEvent(push.events, "disconnect")
      closeAll(pull)
      await lost
      pull = new Pull()
      const back = nextEvent(push.events, "handshake")
      await pull.bind(endpoint)
      await back
      await push.send("after")
      expect(String((await pull.receive())[0])).toBe("after")
    } finally {
      closeAll(push, pull)
    }
  })

  it("reports connect:delay, connect:retry with the interval, then connect and handshake", async () => {
    const endpoint = await makeEndpoint()
    const push = new Push({ reconnectInterval: 20 })
    const pull = new Pull()
    const seen: Event[] = []
    try {
      const done = new Promise<void>((resolve) => {
        for (const type of ["connect:delay", "connect:retry", "connect", "handshake"] as const) {
          push.events.on(type, (event) => {
            seen.push(event)
            if (type === "handshake") resolve()
          })
        }
      })
      const retried = nextEvent(push.events, "connect:retry")
      push.connect(endpoint)
      const retry = await retried
      expect(retry.address).toBe(endpoint)
      // reconnectMaxInterval 0: each wait is ivl + rand() % ivl (libzmq 4.3.5).
      expect(retry.interval).toBeGreaterThanOrEqual(20)
      expect(retry.interval).toBeLessThan(40)
      await pull.bind(endpoint)
      await done
      const types = seen.map((e) => e.type)
      expect(types[0]).toBe("connect:delay")
      expect(types.slice(-2)).toEqual(["connect", "handshake"])
    } finally {
      closeAll(push, pull)
    }
  })
})

describe("reconnect backoff", () => {
  it("doubles the wait up to reconnectMaxInterval, without jitter", async () => {
    const endpoint = ipcEndpoint()
    const push = new Push({ reconnectInterval: 5, reconnectMaxInterval: 40 })
    try {
      const intervals: number[] = []
      const enough = new Promise<void>((resolve) => {
        push.events.on("connect:retry", ({ interval }) => {
          intervals.push(interval)
          if (intervals.length === 6) resolve()
        })
      })
      push.connect(endpoint)
      await enough
      expect(intervals).toEqual([5, 10, 20, 40, 40, 40])
    } finally {
      closeAll(push)
    }
  })

  it("never redials with reconnectInterval -1", async () => {
    const endpoint = ipcEndpoint()
    const push = new Push({ reconnectInterval: -1 })
    try {
      let retries = 0
      push.events.on("connect:retry", () => retries++)
      const refused = nextEvent(push.events, "close")
      push.connect(endpoint)
      await refused
      // A retry is scheduled, and reported, in the same turn as the refusal.
      expect(retries).toBe(0)
    } finally {
      closeAll(push)
    }
  })
})
