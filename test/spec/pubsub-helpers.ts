/** Shared steps of the RFC 29 spec tests (ports of libzmq's PUB/SUB tests). */
import { expect } from "vitest"
import { XSubscriber, type Message, type Readable, type Subscriber, type XPublisher } from "../../src/index.js"

/** XPUB's report of, or XSUB's request for, a subscription: `\x01topic`. */
export function subscription(topic: string | Buffer): Buffer {
  return Buffer.concat([Buffer.from([1]), Buffer.from(topic)])
}

/** XPUB's report of, or XSUB's request for, a cancel: `\x00topic`. */
export function cancel(topic: string | Buffer): Buffer {
  return Buffer.concat([Buffer.from([0]), Buffer.from(topic)])
}

/** A 4-byte big-endian sequence number, to check order and completeness. */
export function seq(n: number): Buffer {
  const frame = Buffer.alloc(4)
  frame.writeUInt32BE(n)
  return frame
}

/** The sequence numbers in the first frames of `messages`. */
export function seqs(messages: readonly Message[]): number[] {
  return messages.map((m) => m[0]!.readUInt32BE(0))
}

/** `[0, 1, ..., n - 1]`. */
export function range(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i)
}

/** Receives exactly `count` messages, waiting for each. */
export async function receiveN(socket: Readable, count: number): Promise<Message[]> {
  const messages: Message[] = []
  for (let i = 0; i < count; i++) messages.push(await socket.receive())
  return messages
}

/** Subscribes or cancels through a SUB (its API) or an XSUB (a `\x01`/`\x00` message). */
async function request(peer: Subscriber | XSubscriber, subscribe: boolean, topic: Buffer): Promise<void> {
  if (peer instanceof XSubscriber) await peer.send(subscribe ? subscription(topic) : cancel(topic))
  else if (subscribe) peer.subscribe(topic)
  else peer.unsubscribe(topic)
}

let barriers = 0

/**
 * libzmq's `zmq_recv(xpub, DONTWAIT) == EAGAIN` without a sleep: proves that
 * nothing `peer` sent so far made `xpub` report anything. A fresh topic
 * subscribed and cancelled through `peer` travels behind everything `peer`
 * sent before (one connection keeps order), so its two reports must be the
 * next two messages. The topic is new and held by `peer` alone, so XPUB
 * reports both in every verbosity (and in manual mode), and the tables end
 * as they were.
 */
export async function expectNoReport(xpub: XPublisher, peer: Subscriber | XSubscriber): Promise<void> {
  expect(xpub.readable).toBe(false)
  const topic = Buffer.from(`\u00ffbarrier-${++barriers}`)
  await request(peer, true, topic)
  expect(await xpub.receive()).toEqual([subscription(topic)])
  await request(peer, false, topic)
  expect(await xpub.receive()).toEqual([cancel(topic)])
}

/** A PUB or XPUB seen as libzmq's `zmq_send(..., ZMQ_DONTWAIT)`. */
export interface TrySender {
  trySend(message: Buffer | readonly Buffer[]): boolean
}

let probes = 0

/**
 * Publishes a probe (`prefix` + `\0probe-...`) every 5 ms until `receiver`
 * gets one, so a test never sleeps to let a subscription travel. Then it
 * publishes one last probe and reads up to it, so no probe is left in
 * flight. Returns the messages that arrived before the first probe (e.g. a
 * backlog that was queued ahead of it).
 *
 * The publisher's queue to `receiver` must have room for the probes sent
 * while that backlog drains (a handful), or the last probe could be dropped.
 */
export async function publishUntilReceived(pub: TrySender, receiver: Readable, prefix: string | Buffer = ""): Promise<Message[]> {
  const id = ++probes
  const probe = Buffer.concat([Buffer.from(prefix), Buffer.from(`\u0000probe-${id}`)])
  const last = Buffer.concat([Buffer.from(prefix), Buffer.from(`\u0000probe-${id}-last`)])
  const before: Message[] = []
  pub.trySend(probe)
  const timer = setInterval(() => pub.trySend(probe), 5)
  try {
    for (let message = await receiver.receive(); !message[0]!.equals(probe); message = await receiver.receive()) {
      before.push(message)
    }
  } finally {
    clearInterval(timer)
  }
  // Only probes can follow the first one; `last` is sent after all of them.
  expect(pub.trySend(last)).toBe(true)
  for (let message = await receiver.receive(); !message[0]!.equals(last); message = await receiver.receive()) {
    expect(message[0]).toEqual(probe)
  }
  return before
}
