/**
 * One set of message-exchange tests, registered for every pairing of a zmesh
 * socket and a libzmq (zeromq package) socket: whoever sends, whoever binds,
 * over every transport. The sockets come from the caller's `setup`.
 */
import { randomBytes } from "node:crypto"
import { expect, it } from "vitest"

export type Part = Buffer | string
export interface Sender {
  send(message: Part | Part[]): Promise<void>
}
export interface Receiver {
  receive(): Promise<Buffer[]>
}
export interface Ends {
  readonly sender: Sender
  readonly receiver: Receiver
}
export interface QueueOptions {
  sendHighWaterMark?: number
  receiveHighWaterMark?: number
}
/** Creates, binds and connects the two sockets; the caller closes them after each test. */
export type Setup = (options?: QueueOptions) => Promise<Ends>

const MiB = 1024 * 1024

/** Sends and receives concurrently so neither side's high-water mark can stall the other. */
async function transfer(
  { sender, receiver }: Ends,
  count: number,
  make: (i: number) => Part[],
): Promise<Buffer[][]> {
  const received: Buffer[][] = []
  const receiving = (async () => {
    for (let i = 0; i < count; i++) received.push(await receiver.receive())
  })()
  const sending = (async () => {
    for (let i = 0; i < count; i++) await sender.send(make(i))
  })()
  // Both awaited together, so a failure on one side never leaves the other's rejection unhandled.
  await Promise.all([sending, receiving])
  return received
}

export function exchangeTests(setup: Setup): void {
  it("delivers multipart messages whole and in order", async () => {
    const ends = await setup()
    await ends.sender.send(["alpha", "beta", "gamma"])
    await ends.sender.send(["x", "y"])
    expect(await ends.receiver.receive()).toEqual([Buffer.from("alpha"), Buffer.from("beta"), Buffer.from("gamma")])
    expect(await ends.receiver.receive()).toEqual([Buffer.from("x"), Buffer.from("y")])
  })

  it("keeps empty frames in the middle and at the end of a message", async () => {
    const ends = await setup()
    const messages: Part[][] = [["a", "", "b"], ["a", "b", ""], ["", "", ""], ["", "z"]]
    for (const message of messages) await ends.sender.send(message)
    for (const message of messages) {
      expect(await ends.receiver.receive()).toEqual(message.map((part) => Buffer.from(part)))
    }
  })

  it("delivers a 0-byte message, and the stream stays in step after it", async () => {
    const ends = await setup()
    await ends.sender.send(Buffer.alloc(0))
    await ends.sender.send("after")
    expect(await ends.receiver.receive()).toEqual([Buffer.alloc(0)])
    expect(await ends.receiver.receive()).toEqual([Buffer.from("after")])
  })

  it("delivers frames at the short/long size boundary byte-exact (255, 256, 64 KiB + 1)", async () => {
    const ends = await setup()
    const frames = [randomBytes(255), randomBytes(256), randomBytes(65537)]
    await ends.sender.send(frames)
    const received = await ends.receiver.receive()
    expect(received.map((f) => f.length)).toEqual([255, 256, 65537])
    for (let i = 0; i < frames.length; i++) expect(received[i]!.equals(frames[i]!)).toBe(true)
  })

  it("delivers a 1 MiB message byte-exact", async () => {
    const ends = await setup()
    const payload = randomBytes(MiB)
    await ends.sender.send(["head", payload])
    await ends.sender.send("tail")
    const [head, body, ...rest] = await ends.receiver.receive()
    expect(head).toEqual(Buffer.from("head"))
    expect(rest).toEqual([])
    expect(body!.length).toBe(MiB)
    // equals() rather than toEqual: a diff of two 1 MiB buffers is unreadable.
    expect(body!.equals(payload)).toBe(true)
    expect(await ends.receiver.receive()).toEqual([Buffer.from("tail")])
  })

  it("delivers 10,000 numbered messages in order", async () => {
    const ends = await setup()
    const count = 10_000
    const received = await transfer(ends, count, (i) => [String(i)])
    const numbers = received.map((message) => (message.length === 1 ? Number(message[0]!.toString()) : -1))
    expect(numbers).toEqual(Array.from({ length: count }, (_, i) => i))
  })

  it("moves a large batch sent with await send() in a loop through small high-water marks", async () => {
    // HWM 50 on both sides: the sender waits for the receiver many times over.
    const ends = await setup({ sendHighWaterMark: 50, receiveHighWaterMark: 50 })
    const count = 20_000
    const body = (i: number) => Buffer.alloc(1024, i & 0xff)
    const received = await transfer(ends, count, (i) => {
      const header = Buffer.alloc(4)
      header.writeUInt32BE(i)
      return [header, body(i)]
    })
    let bad = 0
    for (let i = 0; i < count; i++) {
      const message = received[i]!
      const ok =
        message.length === 2 &&
        message[0]!.length === 4 &&
        message[0]!.readUInt32BE(0) === i &&
        message[1]!.equals(body(i))
      if (!ok) bad++
    }
    expect({ received: received.length, bad }).toEqual({ received: count, bad: 0 })
  })
}
