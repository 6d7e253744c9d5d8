/**
 * Proxy (zeromq.js's class, libzmq's zmq_proxy_steerable): moves messages
 * between a front-end and a back-end socket in both directions, for
 * ROUTER/DEALER brokers and queues.
 */
import { error } from "../errors.js"
import type { Message } from "../routing/pipe.js"
import { Socket } from "./socket-base.js"

/** A socket the proxy can pump: both ends of a proxy read and write. */
interface Duplex {
  receiveOrCancel(): { promise: Promise<Message | undefined>; cancel(): void }
  send(message: Message): Promise<void>
}

/**
 * As zeromq.js's: `run()` proxies until `terminate()`, until either socket
 * is closed, or until a send fails (run() then rejects with that error);
 * either way both sockets are closed when it ends. `pause()`, `resume()` and
 * `terminate()` apply to a running proxy only.
 *
 * @example
 * ```ts
 * const proxy = new Proxy(new Router(), new Dealer())
 * await proxy.frontEnd.bind("tcp://*:5559")
 * await proxy.backEnd.bind("tcp://*:5560")
 * await proxy.run() // until proxy.terminate()
 * ```
 */
export class Proxy<F extends Socket = Socket, B extends Socket = Socket> {
  readonly frontEnd: F
  readonly backEnd: B
  private state: "new" | "running" | "done" = "new"
  private paused: { promise: Promise<void>; resolve: () => void } | undefined
  /** Withdraws the pumps' pending receives when the proxy stops. */
  private readonly cancels = new Set<() => void>()
  private failure: Error | undefined
  private stopped: () => void = () => undefined

  constructor(frontEnd: F, backEnd: B) {
    if (arguments.length > 2) throw new TypeError(`Expected 2 arguments but received ${arguments.length}`)
    if (typeof frontEnd !== "object" || frontEnd === null) throw new TypeError("Front-end must be a socket object")
    if (typeof backEnd !== "object" || backEnd === null) throw new TypeError("Back-end must be a socket object")
    if (!(frontEnd instanceof Socket) || !(backEnd instanceof Socket)) throw error("EINVAL", "a proxy needs two zmesh sockets")
    this.frontEnd = frontEnd
    this.backEnd = backEnd
  }

  /** Proxies until `terminate()`, a socket's close or a failed send; then closes both sockets. */
  run(): Promise<void> {
    if (this.state !== "new") throw error("EBUSY", "the proxy already ran; make a new one")
    const check = (socket: Socket, side: "Front-end" | "Back-end") => {
      if (socket.closed || !socket.hasEndpoints) {
        throw error("EINVAL", `the ${side.toLowerCase()} socket is neither bound nor connected`, {
          message: `${side} socket must be bound or connected`,
        })
      }
    }
    check(this.frontEnd, "Front-end")
    check(this.backEnd, "Back-end")
    this.state = "running"
    const stopped = new Promise<void>((resolve) => (this.stopped = resolve))
    const stop = () => this.stop()
    this.frontEnd.whenClosed(stop)
    this.backEnd.whenClosed(stop)
    const front = this.frontEnd as unknown as Duplex
    const back = this.backEnd as unknown as Duplex
    void this.pump(front, back)
    void this.pump(back, front)
    return stopped.then(() => {
      // Closing also settles a send still waiting for room (it rejects, and is ignored).
      this.frontEnd.close()
      this.backEnd.close()
      if (this.failure !== undefined) throw this.failure
    })
  }

  /** Stops moving messages until `resume()`; they wait in the sockets' queues. */
  pause(): void {
    this.assertRunning()
    if (this.paused !== undefined) return
    let resolve!: () => void
    const promise = new Promise<void>((r) => (resolve = r))
    this.paused = { promise, resolve }
    for (const cancel of this.cancels) cancel()
  }

  resume(): void {
    this.assertRunning()
    const paused = this.paused
    this.paused = undefined
    paused?.resolve()
  }

  /** Ends `run()`, which closes both sockets. */
  terminate(): void {
    this.assertRunning()
    this.stop()
  }

  private stop(): void {
    if (this.state !== "running") return
    this.state = "done"
    this.paused?.resolve()
    for (const cancel of this.cancels) cancel()
    this.stopped()
  }

  private assertRunning(): void {
    // zeromq.js answers on its control socket, which exists only while the proxy runs.
    if (this.state !== "running") throw error("EBADF", "the proxy is not running")
  }

  private async pump(from: Duplex, to: Duplex): Promise<void> {
    while (this.state === "running") {
      if (this.paused !== undefined) await this.paused.promise
      if (this.state !== "running") return
      const receive = from.receiveOrCancel()
      this.cancels.add(receive.cancel)
      const message = await receive.promise.catch(() => undefined)
      this.cancels.delete(receive.cancel)
      // pause() withdraws waiting receives, so nothing is taken while paused.
      if (message === undefined && this.state === "running" && this.paused !== undefined) continue
      if (message === undefined || this.state !== "running") return
      try {
        await to.send(message)
      } catch (err) {
        // libzmq's proxy ends with the error of a failed send; nothing is dropped silently.
        if (this.state !== "running") return
        this.failure = err as Error
        this.stop()
      }
    }
  }
}
