/**
 * What PUB and XPUB share (RFC 29 and libzmq's xpub.cpp): a table of which
 * peer wants which topics, fan-out of each message to the matching peers
 * with a bounded queue per peer, and the handling of their subscriptions.
 */
import { ZmeshError } from "../errors.js"
import {
  type InvertMatchingOptionValues,
  type SubscriptionLimitOptionValues,
  defineOptions,
  subscriptionLimitChecks,
  subscriptionLimitDefaults,
} from "../options.js"
import type { Message, Pipe } from "../routing/pipe.js"
import { Queue } from "../routing/queue.js"
import { TopicPipes } from "../routing/subscriptions.js"
import type { SocketType } from "../zmtp/socket-type.js"
import { Socket } from "./socket-base.js"

/** XPUB's ZMQ_XPUB_VERBOSE / ZMQ_XPUB_VERBOSER as zeromq.js names them. */
export type Verbosity = null | "allSubs" | "allSubsUnsubs"

export abstract class PublisherBase extends Socket {
  protected readonly subscriptions = new TopicPipes()
  /** XPUB: subscriptions received in manual mode, to report their cancels when a peer leaves. */
  protected readonly manualSubscriptions = new TopicPipes()
  /** XPUB: messages for the application, with the pipe each came from. */
  protected readonly pending = new Queue<Message>()
  protected readonly pendingPipes = new Queue<Pipe>()
  /** XPUB manual mode: the pipe of the subscription the application read last. */
  protected lastPipe: Pipe | undefined
  private readonly pipes = new Set<Pipe>()
  private readonly matched: Pipe[] = []
  /** Departed peers whose topics are still being removed, oldest first. */
  private readonly departing: Pipe[] = []
  /** Subscription work left in this slice (see `spend`), and the peers paused for the next. */
  private sliceLeft = SUBSCRIBE_SLICE
  private readonly pausedPeers: Pipe[] = []
  private generation = 0

  /** XPUB reports subscriptions and passes upstream messages to the application; PUB drops them. */
  protected abstract readonly reportsToApp: boolean
  protected abstract readonly isManual: boolean
  protected abstract readonly verbosityLevel: Verbosity
  protected abstract readonly dropsNever: boolean

  protected constructor(type: SocketType, options: object | undefined, extraDefaults: object) {
    super(type, options, { ...subscriptionLimitDefaults, invertMatching: false, ...extraDefaults })
  }

  protected xattach(pipe: Pipe): boolean {
    this.pipes.add(pipe)
    return true
  }

  protected xdetach(pipe: Pipe): void {
    this.pipes.delete(pipe)
    if (this.lastPipe === pipe) this.lastPipe = undefined
    this.subscriptions.depart(pipe)
    this.departing.push(pipe)
    if (this.departing.length === 1) this.removeDeparted()
  }

  /**
   * Takes departed peers out of the tables, DETACH_SLICE topics per turn of
   * the event loop, so a peer with a million topics cannot stall the others;
   * meanwhile no message is routed to it. A peer with fewer goes at once.
   */
  private readonly removeDeparted = (): void => {
    let budget = DETACH_SLICE
    while (this.departing.length > 0) {
      const pipe = this.departing[0]!
      if (this.isManual) {
        budget -= this.subscriptions.removePipe(pipe, undefined, budget)
        if (budget > 0) budget -= this.manualSubscriptions.removePipe(pipe, (topic) => this.report(pipe, false, topic), budget)
      } else {
        budget -= this.subscriptions.removePipe(pipe, this.reportsToApp ? this.cancelReporter(pipe) : undefined, budget)
      }
      if (budget === 0 && this.manualSubscriptions.count(pipe) + this.subscriptions.count(pipe) > 0) {
        setImmediate(this.removeDeparted)
        return
      }
      this.departing.shift()
    }
  }

  /** Cancels generated for a departed peer: libzmq reports those it held alone, or all with VERBOSER. */
  private cancelReporter(pipe: Pipe): (topic: Buffer, last: boolean) => void {
    return (topic, last) => {
      if (last || this.verbosityLevel === "allSubsUnsubs") this.report(pipe, false, topic)
    }
  }

  protected xreadable(pipe: Pipe): void {
    // Subscriptions are handled as they arrive, so peers are never stalled by an idle application.
    for (let message = pipe.read(); message !== undefined; message = pipe.read()) {
      const first = message[0]!
      if (message.length === 1 && first.length > 0 && (first[0] === 0 || first[0] === 1)) {
        if (!this.subscription(pipe, first[0] === 1, first.subarray(1))) return
      } else if (this.reportsToApp) {
        this.pending.push(message)
        this.pendingPipes.push(pipe)
      }
    }
  }

  protected override xcommand(pipe: Pipe, name: string, data: Buffer): boolean {
    if (name !== "SUBSCRIBE" && name !== "CANCEL") return true
    if (!this.subscription(pipe, name === "SUBSCRIBE", data)) return false
    // An inproc peer's subscribe() runs in its own call: there is no reading to pause.
    return isInproc(pipe) || this.spend(pipe, data.length)
  }

  /**
   * Counts a subscription's work against this turn's SUBSCRIBE_SLICE; false
   * (pause that peer) once the slice is spent. A peer's socket may hand us
   * 2 MiB of SUBSCRIBEs in one turn of the event loop (libuv reads up to 32
   * chunks per turn), which would block everything else for a hundred ms and
   * more; paused peers resume in the next turn, with a fresh slice.
   */
  private spend(pipe: Pipe, bytes: number): boolean {
    this.sliceLeft -= 1 + (bytes >> 10)
    if (this.sliceLeft > 0) return true
    this.pausedPeers.push(pipe)
    if (this.pausedPeers.length === 1) setImmediate(this.resumePeers)
    return false
  }

  private readonly resumePeers = (): void => {
    this.sliceLeft = SUBSCRIBE_SLICE
    for (const pipe of this.pausedPeers.splice(0)) pipe.engine?.resume()
  }

  protected xsend(message: Message): boolean {
    const matched = this.matched
    const generation = ++this.generation
    this.subscriptions.match(message[0]!, generation, matched)
    if (this.invertMatching) {
      // ZMQ_INVERT_MATCHING: to every peer no subscription of which matched (match() marked those).
      matched.length = 0
      for (const pipe of this.pipes) if (pipe.mark !== generation) matched.push(pipe)
    }
    if (this.dropsNever) {
      // ZMQ_XPUB_NODROP: wait (or EAGAIN) while any matching peer is full.
      for (const pipe of matched) {
        if (!pipe.writable) {
          matched.length = 0
          return false
        }
      }
    }
    // Each peer has its own queue: a full one drops this message, the others do not wait.
    for (const pipe of matched) if (pipe.writable) pipe.write(message)
    matched.length = 0
    return true
  }

  protected xrecv(): Message | undefined {
    const message = this.pending.shift()
    if (message !== undefined) this.lastPipe = this.pendingPipes.shift()
    return message
  }

  protected xhasIn(): boolean {
    return this.pending.length > 0
  }

  protected xhasOut(): boolean {
    return true
  }

  /** Manual mode: applies a subscription to the peer whose subscription was read last. */
  protected applyManual(subscribe: boolean, topic: Buffer): void {
    const pipe = this.lastPipe
    if (pipe === undefined) return
    if (subscribe) this.subscriptions.add(topic, pipe)
    else this.subscriptions.remove(topic, pipe)
  }

  /** A peer's subscription or cancel; false when it broke a limit and the peer was dropped. */
  private subscription(pipe: Pipe, subscribe: boolean, topic: Buffer): boolean {
    const refusal = this.overLimit(pipe, subscribe, topic)
    if (refusal !== undefined) {
      this.dropPipe(pipe, refusal)
      return false
    }
    if (this.isManual) {
      if (subscribe) this.manualSubscriptions.add(topic, pipe)
      else this.manualSubscriptions.remove(topic, pipe)
      this.report(pipe, subscribe, topic)
      return true
    }
    let notify: boolean
    if (subscribe) {
      notify = this.subscriptions.add(topic, pipe) || this.verbosityLevel !== null
    } else {
      notify = this.subscriptions.remove(topic, pipe) !== "remain" || this.verbosityLevel === "allSubsUnsubs"
    }
    if (notify) this.report(pipe, subscribe, topic)
    return true
  }

  /** Why a peer's subscription is refused (maxSubscriptionSize, maxSubscriptions), if it is. */
  private overLimit(pipe: Pipe, subscribe: boolean, topic: Buffer): ZmeshError | undefined {
    // An inproc peer is this process's own code; dropping it would only make it reconnect at once.
    if (isInproc(pipe)) return undefined
    const maxSize = this.maxSubscriptionSize
    if (topic.length > maxSize) {
      return new ZmeshError(
        "ERR_SUBSCRIPTION_LIMIT",
        `peer sent a ${subscribe ? "subscription" : "cancel"} of ${topic.length} bytes, over maxSubscriptionSize ${maxSize}`,
      )
    }
    if (!subscribe) return undefined
    const table = this.isManual ? this.manualSubscriptions : this.subscriptions
    const maxCount = this.maxSubscriptions
    if (table.count(pipe) < maxCount || table.has(topic, pipe)) return undefined
    return new ZmeshError("ERR_SUBSCRIPTION_LIMIT", `peer subscribed to more than maxSubscriptions (${maxCount}) topics`)
  }

  /** Queues `\x01topic` / `\x00topic` for the application (XPUB only), whatever the wire form was. */
  private report(pipe: Pipe, subscribe: boolean, topic: Buffer): void {
    if (!this.reportsToApp) return
    const frame = Buffer.allocUnsafe(topic.length + 1)
    frame[0] = subscribe ? 1 : 0
    topic.copy(frame, 1)
    this.pending.push([frame])
    this.pendingPipes.push(pipe)
    this.serveReceivers()
  }
}

const isInproc = (pipe: Pipe) => pipe.endpoint.startsWith("inproc://")

/** Topics removed per turn of the event loop when peers leave (a few ms of work). */
const DETACH_SLICE = 2_000
/** Subscriptions (each 1 + 1 per KiB of topic) handled before the peers sending them pause for a turn. */
const SUBSCRIBE_SLICE = 1_000

export interface PublisherBase extends SubscriptionLimitOptionValues, InvertMatchingOptionValues {}
defineOptions(PublisherBase.prototype, { ...subscriptionLimitChecks, invertMatching: "bool" })
