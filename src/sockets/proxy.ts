/**
 * Proxy (zeromq.js's class, libzmq's zmq_proxy_steerable): moves messages
 * between a front-end and a back-end socket in both directions, for
 * ROUTER/DEALER brokers and queues.
 */
import { error } from "../errors.js"
import type { Readable, Writable } from "./capabilities.js"
import type { Socket } from "./socket-base.js"

type Duplex = Socket & Readable & Writable

/**
 * @example
 * ```ts
 * const proxy = new Proxy(new Router(), new Dealer())
 * await proxy.frontEnd.bind("tcp://*:5559")
 * await proxy.backEnd.bind("tcp://*:5560")
 * await proxy.run() // until proxy.terminate()
 * ```
 */
export class Proxy<F extends Duplex = Duplex, B extends Duplex = Duplex> {
  readonly frontEnd: F
  readonly backEnd: B
  private running = false
  private terminated = false
  private paused: { promise: Promise<void>; resolve: () => void } | undefined
  /** Withdraws the pumps' pending receives on terminate(). */
  private readonly cancels = new Set<() => void>()

  constructor(frontEnd: F, backEnd: B) {
    this.frontEnd = frontEnd
    this.backEnd = backEnd
  }

  /** Proxies until `terminate()`, or until either socket closes. */
  async run(): Promise<void> {
    if (this.running) throw error("EBUSY", "proxy is already running")
    if (this.terminated) throw error("EFSM", "proxy was terminated")
    this.running = true
    try {
      await Promise.all([this.pump(this.frontEnd, this.backEnd), this.pump(this.backEnd, this.frontEnd)])
    } finally {
      this.running = false
      this.terminated = true
    }
  }

  /** Stops moving messages until `resume()`; they wait in the sockets' queues. */
  pause(): void {
    if (this.terminated) throw error("EFSM", "proxy was terminated")
    if (this.paused !== undefined) return
    let resolve!: () => void
    const promise = new Promise<void>((r) => (resolve = r))
    this.paused = { promise, resolve }
  }

  resume(): void {
    if (this.terminated) throw error("EFSM", "proxy was terminated")
    const paused = this.paused
    this.paused = undefined
    paused?.resolve()
  }

  /** Ends `run()`. The sockets stay open; close them yourself. */
  terminate(): void {
    if (this.terminated) throw error("EFSM", "proxy was terminated")
    this.terminated = true
    this.paused?.resolve()
    for (const cancel of this.cancels) cancel()
  }

  private async pump(from: Duplex, to: Duplex): Promise<void> {
    while (!this.terminated && !from.closed && !to.closed) {
      if (this.paused !== undefined) await this.paused.promise
      if (this.terminated) return
      const receive = from.receiveOrCancel()
      this.cancels.add(receive.cancel)
      const message = await receive.promise.catch(() => undefined)
      this.cancels.delete(receive.cancel)
      if (message === undefined || this.terminated) return
      await to.send(message).catch(() => undefined)
    }
  }
}
