/**
 * LISTEN/NOTIFY between relay nodes sharing a database: each commit that
 * makes messages claimable notifies the schema's channel with the node's id
 * and the queues; the other nodes' dispatchers wake up instead of polling.
 * Payloads: `<node> q1 q2 ...`, `<node> *` (anything), `<node> +` (a node
 * joined), `<node> -` (a node left; its holds ended).
 */
import { Connection, type ConnectionOptions } from "./connection.js"

export interface ListenerHandlers {
  /** Queues another node changed; undefined: anything may have changed. */
  changed(queues: readonly string[] | undefined): void
  /** Another node joined or left. */
  peers(): void
}

const RECONNECT_MS = 1000

export class Listener {
  private readonly conn: Connection
  private readonly channel: string
  private readonly nodeId: number
  private readonly handlers: ListenerHandlers
  private readonly quote: (s: string) => string
  private timer: NodeJS.Timeout | undefined
  private closed = false

  constructor(options: ConnectionOptions, channel: string, nodeId: number, quote: (s: string) => string, handlers: ListenerHandlers) {
    this.conn = new Connection(options)
    this.channel = channel
    this.nodeId = nodeId
    this.quote = quote
    this.handlers = handlers
    this.conn.onLost = () => this.retry()
  }

  /** Connects and listens; resolves once listening (or once a first attempt failed: it retries by itself). */
  async start(): Promise<void> {
    try {
      const client = await this.conn.get()
      client.on("notification", (msg) => this.received(msg.payload ?? ""))
      await client.query(`LISTEN ${this.quote(this.channel)}`)
    } catch {
      this.conn.drop()
      this.retry()
    }
  }

  async close(): Promise<void> {
    this.closed = true
    clearTimeout(this.timer)
    await this.conn.close()
  }

  private retry(): void {
    if (this.closed || this.timer !== undefined) return
    this.timer = setTimeout(() => {
      this.timer = undefined
      // Whatever was notified while we were away is unknown: everything may have changed.
      void this.start().then(() => this.handlers.changed(undefined))
    }, RECONNECT_MS)
    this.timer.unref()
  }

  private received(payload: string): void {
    const space = payload.indexOf(" ")
    if (space < 0 || Number(payload.slice(0, space)) === this.nodeId) return
    const rest = payload.slice(space + 1)
    if (rest === "+" || rest === "-") {
      this.handlers.peers()
      if (rest === "-") this.handlers.changed(undefined)
    } else if (rest === "*") this.handlers.changed(undefined)
    else this.handlers.changed(rest.split(" "))
  }
}
