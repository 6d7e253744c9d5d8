/**
 * The queues between a socket and one peer. Outbound messages go straight to
 * the engine while it keeps up and queue here (up to `sendHighWaterMark`
 * whole messages) while it is blocked or not connected yet. Inbound messages
 * queue here up to `receiveHighWaterMark`; past it the engine stops reading,
 * so backpressure reaches the sender and nothing is dropped.
 */
import { Queue } from "./queue.js"

/** A message: its frames in order. */
export type Message = Buffer[]

/** What a pipe needs of the connection behind it. */
export interface PipeEngine {
  /** The connection cannot take more output until it drains. */
  readonly blocked: boolean
  send(frames: readonly Buffer[]): void
  /** Sends a subscription or cancel in the form the peer's ZMTP version expects. */
  sendSubscription(subscribe: boolean, topic: Buffer): void
  /** The pipe has room again: continue reading. */
  resume(): void
}

/** The socket side, told when a pipe changes state. */
export interface PipeOwner {
  /** The pipe's inbound queue went from empty to non-empty. */
  pipeReadable(pipe: Pipe): void
  /** The pipe can take outbound messages again. */
  pipeWritable(pipe: Pipe): void
}

let nextPipeId = 1

export class Pipe {
  readonly id = nextPipeId++
  /** The endpoint this pipe belongs to (bound or connected), for events. */
  readonly endpoint: string
  /** The `Identity` the peer announced in its handshake (empty when none, or not yet connected). */
  peerIdentity: Buffer = EMPTY
  /** The name a ROUTER routes this pipe by, once it has one. */
  routingId: Buffer = EMPTY
  /** ZMQ_CONNECT_ROUTING_ID given for the connect that made this pipe. */
  connectRoutingId: Buffer | undefined
  /** The peer's ZMTP minor version once connected. */
  peerMinor = 1
  engine: PipeEngine | undefined
  private readonly inbound = new Queue<Message>()
  /** Messages, and subscriptions, waiting for the connection. */
  private readonly outbound = new Queue<Message | Subscription>()
  /** Subscriptions queued in `outbound`; they do not count against the HWM. */
  private queuedSubscriptions = 0
  /** Scratch mark for a distributor to visit each pipe once per message. */
  mark = 0
  /** ZMQ_CONFLATE: keep only the newest message each way (queued subscriptions all stay); the HWMs do not apply. */
  conflate = false

  private readonly owner: PipeOwner
  private sendHwm: number
  private receiveHwm: number
  /** The engine was told to stop reading because the inbound queue is full. */
  private inputStopped = false

  constructor(owner: PipeOwner, endpoint: string, sendHwm: number, receiveHwm: number) {
    this.owner = owner
    this.endpoint = endpoint
    this.sendHwm = sendHwm
    this.receiveHwm = receiveHwm
  }

  /**
   * New high-water marks for a live pipe (libzmq applies ZMQ_SNDHWM and
   * ZMQ_RCVHWM set after connect to existing pipes since 4.2): room made
   * on either side lets traffic move again.
   */
  setHighWaterMarks(sendHwm: number, receiveHwm: number): void {
    this.sendHwm = sendHwm
    this.receiveHwm = receiveHwm
    if (this.inputStopped && (receiveHwm <= 0 || this.inbound.length < receiveHwm)) {
      this.inputStopped = false
      this.engine?.resume()
    }
    if (this.writable) this.owner.pipeWritable(this)
  }

  /** True when `write()` would not exceed the send high-water mark. */
  get writable(): boolean {
    if (this.conflate) return true
    const engine = this.engine
    if (engine !== undefined && !engine.blocked && this.outbound.length === 0) return true
    return this.sendHwm <= 0 || this.outbound.length - this.queuedSubscriptions < this.sendHwm
  }

  /** Messages waiting to be read. */
  get readable(): boolean {
    return this.inbound.length > 0
  }

  /** Messages and subscriptions waiting for the connection. */
  get queuedOut(): number {
    return this.outbound.length
  }

  /**
   * Sends or queues a subscription in order with the messages. Its wire form
   * is chosen when it is sent, by the version of the peer then connected.
   * Subscriptions are never dropped and do not count against the HWM.
   */
  writeSubscription(subscribe: boolean, topic: Buffer): void {
    const engine = this.engine
    if (engine !== undefined && !engine.blocked && this.outbound.length === 0) {
      engine.sendSubscription(subscribe, topic)
    } else {
      this.outbound.push(new Subscription(subscribe, topic))
      this.queuedSubscriptions++
    }
  }

  /** Sends or queues a whole message; the caller checked `writable`. */
  write(message: Message): void {
    const engine = this.engine
    if (engine !== undefined && !engine.blocked && this.outbound.length === 0) {
      engine.send(message)
      return
    }
    // Only messages are replaced: queued subscriptions must all go out.
    if (this.conflate) this.outbound.removeWhere((item) => !(item instanceof Subscription))
    this.outbound.push(detachSmall(message))
  }

  read(): Message | undefined {
    const message = this.inbound.shift()
    // libzmq's low-water mark: resume reading once half the queue is free.
    if (this.inputStopped && this.inbound.length <= this.receiveHwm >> 1) {
      this.inputStopped = false
      this.engine?.resume()
    }
    return message
  }

  /** From the engine: a message arrived. Returns false when the queue is full. */
  deliver(message: Message): boolean {
    if (this.conflate && this.inbound.length > 0) {
      this.inbound.shift()
      this.inbound.push(message)
      return true
    }
    this.inbound.push(message)
    if (this.conflate) {
      this.owner.pipeReadable(this)
      return true
    }
    if (this.inbound.length === 1) this.owner.pipeReadable(this)
    if (this.receiveHwm > 0 && this.inbound.length >= this.receiveHwm) {
      this.inputStopped = true
      return false
    }
    return true
  }

  /** How many connections this pipe has had (a dialed pipe outlives each one). */
  attachCount = 0

  /** Connects the pipe to a ready engine and hands it the queued output. */
  attach(engine: PipeEngine): void {
    this.engine = engine
    this.attachCount++
    this.inputStopped = false
    this.flush()
  }

  /** The connection is gone; queued output waits for the next one. */
  detach(): void {
    this.engine = undefined
    this.inputStopped = false
  }

  /** From the engine: it drained, so move queued output to it. */
  flush(): void {
    const engine = this.engine
    if (engine === undefined) return
    while (!engine.blocked && this.outbound.length > 0) this.sendQueued(engine, this.outbound.shift()!)
    if (this.writable) this.owner.pipeWritable(this)
  }

  /** Moves all queued output into the engine regardless of blocking (for a lingering close). */
  flushAll(): void {
    const engine = this.engine
    if (engine === undefined) return
    for (let m = this.outbound.shift(); m !== undefined; m = this.outbound.shift()) this.sendQueued(engine, m)
  }

  /** Drops queued output (linger 0, or a peer that is gone for good). */
  discardOutput(): void {
    this.outbound.drain()
    this.queuedSubscriptions = 0
    lastDetached = undefined
  }

  private sendQueued(engine: PipeEngine, item: Message | Subscription): void {
    if (item instanceof Subscription) {
      this.queuedSubscriptions--
      engine.sendSubscription(item.subscribe, item.topic)
    } else {
      // A fan-out has detached it for every pipe by now: let it go once sent.
      if (item === lastDetached) lastDetached = undefined
      engine.send(item)
    }
  }
}

/** Frames up to this size are copied when they must queue, as zeromq.js copies them on send. */
const COPY_WHEN_QUEUED = 128

/**
 * A message about to wait in a queue: its small frames are copied, so the
 * caller's buffers (reused or not) are free once send() resolves, as with
 * zeromq.js; larger ones are kept by reference, as zeromq.js does.
 */
function detachSmall(message: Message): Message {
  // A message fanned out to many pipes comes here once per pipe, one pipe after another: copy it once.
  if (message === lastDetached) return message
  lastDetached = message
  for (let i = 0; i < message.length; i++) {
    const frame = message[i]!
    const size = frame.length
    if (size === 0 || size > COPY_WHEN_QUEUED) continue
    const copy = Buffer.allocUnsafe(size)
    frame.copy(copy, 0, 0, size)
    message[i] = copy
  }
  return message
}

/**
 * The last message detachSmall() copied. A WeakSet of copied frames did the
 * same job at several hundred ns per frame (with its GC cost), when a
 * message queues on every send (trySend in a tight loop). Cleared when that
 * message leaves a queue or a queue is dropped, so that it does not keep
 * the application's last message alive (zeromq.js's "should release
 * buffers" test); the worst a clear too early does is copy a message twice.
 */
let lastDetached: Message | undefined

/** A subscription waiting in a pipe's queue. */
class Subscription {
  readonly subscribe: boolean
  readonly topic: Buffer

  constructor(subscribe: boolean, topic: Buffer) {
    this.subscribe = subscribe
    this.topic = topic
  }
}

const EMPTY = Buffer.alloc(0)
