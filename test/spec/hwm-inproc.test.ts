/**
 * Port of libzmq's tests/test_hwm.cpp (PUSH/PULL, inproc only): an inproc
 * connection holds the sender's SNDHWM plus the receiver's RCVHWM whole
 * messages, 0 means no limit, and the counts hold whichever side came first.
 * Over tcp and ipc the kernel buffers add slack, so libzmq tests this on
 * inproc alone. `trySend()` is libzmq's `zmq_send(..., ZMQ_DONTWAIT)`.
 */
import { afterEach, describe, expect, it } from "vitest"
import { Pull, Push } from "../../src/index.js"
import { inprocEndpoint } from "../helpers/endpoints.js"
import { closeAll } from "../helpers/sockets.js"
import { range, receiveN, seq, seqs } from "./pubsub-helpers.js"

const MAX_SENDS = 10_000

const sockets: Array<Push | Pull> = []

afterEach(() => {
  closeAll(...sockets.splice(0))
})

/** Sends until the PUSH would have to wait, at most MAX_SENDS; returns the count. */
function sendUntilFull(push: Push): number {
  let sent = 0
  while (sent < MAX_SENDS && push.trySend(seq(sent))) sent++
  return sent
}

/** libzmq's count_msg: how many messages one connection queues, checked by receiving them all. */
async function countQueued(sendHwm: number, receiveHwm: number, order: "bind first" | "connect first"): Promise<number> {
  const address = inprocEndpoint()
  const push = new Push({ sendHighWaterMark: sendHwm })
  const pull = new Pull({ receiveHighWaterMark: receiveHwm })
  sockets.push(push, pull)
  if (order === "bind first") {
    await pull.bind(address)
    push.connect(address)
  } else {
    push.connect(address)
    await pull.bind(address)
  }

  const sent = sendUntilFull(push)
  expect(seqs(await receiveN(pull, sent))).toEqual(range(sent))
  // Now it should be possible to send one more, and it is the next message.
  await push.send("one more")
  expect(await pull.receive()).toEqual([Buffer.from("one more")])
  return sent
}

describe("inproc high-water marks (test_hwm)", () => {
  it("queues 2000 messages with the default HWMs (1000 to send plus 1000 to receive)", async () => {
    const address = inprocEndpoint()
    const pull = new Pull()
    const push = new Push()
    sockets.push(push, pull)
    await pull.bind(address)
    push.connect(address)
    const sent = sendUntilFull(push)
    expect(sent).toBe(2000)
    expect(seqs(await receiveN(pull, sent))).toEqual(range(sent))
  })

  for (const order of ["bind first", "connect first"] as const) {
    describe(order, () => {
      it("has no limit when both HWMs are 0", async () => {
        expect(await countQueued(0, 0, order)).toBe(MAX_SENDS)
      })

      it("has no limit when the receive HWM is 0, whatever the send HWM", async () => {
        expect(await countQueued(1, 0, order)).toBe(MAX_SENDS)
      })

      it("has no limit when the send HWM is 0, whatever the receive HWM", async () => {
        expect(await countQueued(0, 1, order)).toBe(MAX_SENDS)
      })

      it("queues 2 messages with both HWMs at 1", async () => {
        expect(await countQueued(1, 1, order)).toBe(2)
      })
    })
  }

  // BUG: libzmq queues a connecting socket's messages in the pipe made at connect(); closing the
  // socket (with the default linger of -1) leaves them there for the binder that comes later.
  // zmesh keeps the dial waiting while output is pending, but acceptInproc (endpoints.ts) refuses
  // a request whose socket is closed or whose dial is stopped, so the message is never delivered.
  it("delivers what a closed connecting socket queued to a binder that comes later (test_infinite_recv_connect_and_close_first)", async () => {
    const address = inprocEndpoint()
    const push = new Push({ sendHighWaterMark: 1 })
    sockets.push(push)
    push.connect(address)
    const sent = sendUntilFull(push)
    expect(sent).toBe(1)
    push.close()

    // A short timeout only so that the known failure cannot hang.
    const pull = new Pull({ receiveHighWaterMark: 0, receiveTimeout: 250 })
    sockets.push(pull)
    await pull.bind(address)
    expect(seqs(await receiveN(pull, sent))).toEqual(range(sent))
  })
})
