/**
 * The Clone client (the guide's clonecli, chapter 5, in its own design): it
 * subscribes first, proves its subscription is in place by a HUGZ, then takes
 * a snapshot and applies only updates numbered after it, so it misses nothing
 * and applies nothing twice. It takes a new snapshot when the server restarts
 * (a new uuid in HUGZ), after the server was silent, and, when it mirrors the
 * whole tree, when a sequence number is skipped.
 */
import { Dealer, Push, Subscriber, type Message, type MessageLike, type SocketOptionValues } from "../../src/index.js"
import { ZmeshError } from "../../src/extras.js"
import { PatternEvents } from "../events.js"
import { Heartbeat, heartbeatSettings, type HeartbeatOptions } from "../heartbeat.js"
import { CloneKey, decodeEntry, encodeEntry, isReservedKey, newUuid, toBody, type CloneEntry } from "./kvmsg.js"
import type { CloneEndpoints, CloneSetOptions } from "./server.js"

export interface CloneClientOptions extends HeartbeatOptions {
  /** Mirror only keys starting with this prefix. Default "" (every key). */
  subtree?: string
  /** Options for the client's sockets. `linger` is 0 unless set. */
  socketOptions?: Partial<SocketOptionValues>
}

export type CloneClientEvent =
  /** A snapshot replaced the local state (`reason` says why one was taken). */
  | { type: "snapshot"; sequence: number; keys: number; reason: "start" | "restart" | "silent" | "gap" }
  /** An update was applied (deleted: the key is gone). */
  | { type: "update"; key: string; sequence: number; deleted: boolean }
  /** No message from the server for `heartbeatLiveness` intervals; a snapshot follows when it is back. */
  | { type: "server:lost" }
  | { type: "protocol:error"; error: ZmeshError }

/**
 * @example
 * ```ts
 * const client = new CloneClient(server.endpoints, { subtree: "config/" })
 * await client.start()                       // resolves once caught up
 * client.events.on("update", (e) => console.log(e.key, String(client.get(e.key))))
 * await client.set("config/mode", "safe")    // resolves once the server numbered it and it came back
 * ```
 */
export class CloneClient {
  readonly events = new PatternEvents<CloneClientEvent>()
  readonly subtree: string
  private readonly endpoints: CloneEndpoints
  private readonly options: CloneClientOptions
  private readonly state = new Map<string, CloneEntry>()
  private readonly subscriber: Subscriber
  private readonly publisher: Push
  private readonly heartbeat: Heartbeat
  private readonly interval: number
  private readonly liveness: number
  private sequenceNumber = 0
  private serverUuid: Buffer | undefined
  private snapshotReason: "start" | "restart" | "silent" | "gap" | undefined = "start"
  private started: Promise<void> | undefined
  private readonly waiting = new Map<string, { resolve(): void; reject(err: Error): void }>()
  private closed = false
  private dealer: Dealer | undefined

  constructor(endpoints: CloneEndpoints, options: CloneClientOptions = {}) {
    this.endpoints = endpoints
    this.options = options
    this.subtree = options.subtree ?? ""
    const { interval, liveness } = heartbeatSettings(options)
    this.interval = interval
    this.liveness = liveness
    this.subscriber = new Subscriber({ linger: 0, ...options.socketOptions })
    this.publisher = new Push({ linger: 0, ...options.socketOptions })
    this.heartbeat = new Heartbeat(options, {
      beat: () => undefined,
      dead: () => this.lost(),
    })
  }

  /** Connects, and resolves once the first snapshot is applied: the client is caught up. */
  start(): Promise<void> {
    if (this.started !== undefined) return this.started
    this.subscriber.connect(this.endpoints.updates)
    // The subtree first, HUGZ second: the server answers the HUGZ subscription with a HUGZ,
    // and subscriptions are applied in order, so that HUGZ proves the subtree's is in place too.
    this.subscriber.subscribe(this.subtree)
    this.subscriber.subscribe(CloneKey.HEARTBEAT)
    this.publisher.connect(this.endpoints.collector)
    this.started = new Promise((resolve, reject) => {
      const ready = (event: CloneClientEvent) => {
        if (event.type !== "snapshot") return
        this.events.off("snapshot", ready)
        resolve()
      }
      this.events.on("snapshot", ready)
      this.run().catch((err: unknown) => {
        if (!this.closed) reject(err as Error)
      })
    })
    return this.started
  }

  /** The sequence number of the last update applied. */
  get sequence(): number {
    return this.sequenceNumber
  }

  get(key: string): Buffer | undefined {
    return this.state.get(key)?.body
  }

  /** The mirrored state, key by key. */
  get entries(): ReadonlyMap<string, CloneEntry> {
    return this.state
  }

  /**
   * Sends an update to the server (an empty value deletes the key). Resolves
   * once the server has numbered it and it came back here, so `get(key)` then
   * reads it, or at once for a key outside this client's subtree.
   */
  set(key: string, value: MessageLike, options: CloneSetOptions = {}): Promise<void> {
    if (this.closed) return Promise.reject(new ZmeshError("EBADF", "the Clone client was closed"))
    if (key.length === 0 || isReservedKey(key)) return Promise.reject(new TypeError(`cannot set the key ${JSON.stringify(key)}`))
    const properties: Record<string, string> = { ...options.properties }
    if (options.ttl !== undefined) properties.ttl = String(options.ttl)
    const uuid = newUuid()
    const frames = encodeEntry({ key, sequence: 0, uuid, properties, body: toBody(value) })
    if (!key.startsWith(this.subtree)) return this.publisher.send(frames)
    const applied = new Promise<void>((resolve, reject) => this.waiting.set(uuid.toString("hex"), { resolve, reject }))
    return this.publisher.send(frames).then(() => applied)
  }

  /** Deletes a key: `set(key, "")`. */
  delete(key: string): Promise<void> {
    return this.set(key, "")
  }

  close(): void {
    this.closed = true
    this.heartbeat.stop()
    this.subscriber.close()
    this.publisher.close()
    this.dealer?.close()
    for (const waiter of this.waiting.values()) waiter.reject(new ZmeshError("EBADF", "the Clone client was closed"))
    this.waiting.clear()
  }

  private async run(): Promise<void> {
    this.heartbeat.start()
    for (;;) {
      let message: Message
      try {
        message = await this.subscriber.receive()
      } catch (err) {
        if (this.closed) return
        throw err
      }
      this.heartbeat.alive()
      // Any message proves the subscriptions are in place: a pending snapshot can be taken now.
      if (this.snapshotReason !== undefined) await this.takeSnapshot(this.snapshotReason)
      if (this.closed) return
      let entry: CloneEntry
      try {
        entry = decodeEntry(message)
      } catch (err) {
        this.events.emit({ type: "protocol:error", error: err as ZmeshError })
        continue
      }
      if (entry.key === CloneKey.HEARTBEAT) {
        if (this.serverUuid !== undefined && !entry.uuid.equals(this.serverUuid)) await this.takeSnapshot("restart")
        continue
      }
      if (entry.sequence <= this.sequenceNumber) continue // in the snapshot already, or a repeat
      if (this.subtree === "" && entry.sequence > this.sequenceNumber + 1) {
        await this.takeSnapshot("gap") // the publisher dropped updates for us: only a snapshot repairs that
        continue
      }
      this.applyUpdate(entry)
    }
  }

  private applyUpdate(entry: CloneEntry): void {
    this.sequenceNumber = entry.sequence
    const deleted = entry.body.length === 0
    if (deleted) this.state.delete(entry.key)
    else this.state.set(entry.key, entry)
    this.events.emit({ type: "update", key: entry.key, sequence: entry.sequence, deleted })
    const id = entry.uuid.toString("hex")
    const waiter = this.waiting.get(id)
    if (waiter !== undefined) {
      this.waiting.delete(id)
      waiter.resolve()
    }
  }

  private lost(): void {
    this.events.emit({ type: "server:lost" })
    this.snapshotReason = "silent"
    this.heartbeat.start() // keep watching; the next message triggers the snapshot
  }

  /** Asks for a snapshot until one arrives (a new DEALER each time, so a late answer cannot mix in). */
  private async takeSnapshot(reason: "start" | "restart" | "silent" | "gap"): Promise<void> {
    this.snapshotReason = undefined
    while (!this.closed) {
      this.dealer?.close()
      const dealer = new Dealer({ linger: 0, ...this.options.socketOptions, receiveTimeout: this.interval * this.liveness })
      this.dealer = dealer
      dealer.connect(this.endpoints.snapshot)
      try {
        await dealer.send([CloneKey.SNAPSHOT_REQUEST, this.subtree])
        const entries: CloneEntry[] = []
        for (;;) {
          const message = await dealer.receive()
          if (String(message[0]) === CloneKey.SNAPSHOT_END) {
            const end = decodeEntry(message.length === 5 ? message : [])
            this.replaceState(entries, end.sequence, end.uuid, reason)
            return
          }
          entries.push(decodeEntry(message))
        }
      } catch (err) {
        if (this.closed) return
        if ((err as ZmeshError).code !== "EAGAIN") {
          this.events.emit({ type: "protocol:error", error: err as ZmeshError })
          await new Promise((resolve) => setTimeout(resolve, this.interval)) // a broken server is not asked in a tight loop
        }
      } finally {
        dealer.close()
        if (this.dealer === dealer) this.dealer = undefined
      }
    }
  }

  private replaceState(entries: CloneEntry[], sequence: number, uuid: Buffer, reason: "start" | "restart" | "silent" | "gap"): void {
    this.state.clear()
    for (const entry of entries) this.state.set(entry.key, entry)
    this.sequenceNumber = sequence
    this.serverUuid = uuid
    // We did not read updates while the snapshot came: that was not the server's silence.
    this.snapshotReason = undefined
    this.heartbeat.alive()
    this.events.emit({ type: "snapshot", sequence, keys: entries.length, reason })
    // Updates of ours that the snapshot already holds are done.
    for (const entry of entries) {
      const waiter = this.waiting.get(entry.uuid.toString("hex"))
      if (waiter !== undefined) {
        this.waiting.delete(entry.uuid.toString("hex"))
        waiter.resolve()
      }
    }
  }
}
