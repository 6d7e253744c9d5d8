/**
 * The Clone server (the guide's clonesrv, chapter 5, in its own design): it
 * owns the key-value state and the sequence, answers snapshot requests, takes
 * updates from clients, numbers and republishes them, expires keys with a
 * `ttl`, and heartbeats with HUGZ, which also tells each new subscriber that
 * its subscription is in place.
 */
import { Pull, Router, XPublisher, type MessageLike, type SocketOptionValues } from "../../src/index.js"
import { ZmeshError } from "../../src/extras.js"
import { PatternEvents } from "../events.js"
import { idName } from "../frames.js"
import { heartbeatSettings, type HeartbeatOptions } from "../heartbeat.js"
import { CloneKey, decodeEntry, encodeEntry, encodeSequence, isReservedKey, newUuid, toBody, type CloneEntry } from "./kvmsg.js"

/** The three endpoints of a Clone server. */
export interface CloneEndpoints {
  /** ROUTER: clients ask for a snapshot here. */
  snapshot: string
  /** PUB: numbered updates and HUGZ go out here. */
  updates: string
  /** PULL: clients send their updates here. */
  collector: string
}

export interface CloneServerOptions extends HeartbeatOptions {
  /** Options for the three sockets. `linger` is 0 unless set. */
  socketOptions?: Partial<SocketOptionValues>
}

export type CloneServerEvent =
  /** An update was stored and published (deleted: the body was empty, or its ttl ran out). */
  | { type: "update"; key: string; sequence: number; deleted: boolean }
  /** A snapshot was sent to a client. */
  | { type: "snapshot"; client: string; subtree: string; keys: number; sequence: number }
  | { type: "protocol:error"; error: ZmeshError }

/** Options of a single update. */
export interface CloneSetOptions {
  /** ms after which the server deletes the key (sent as the `ttl` property). */
  ttl?: number
  /** More properties to store with the value. */
  properties?: Record<string, string>
}

/**
 * @example
 * ```ts
 * const server = new CloneServer()
 * await server.bind({ snapshot: "tcp://*:5556", updates: "tcp://*:5557", collector: "tcp://*:5558" })
 * await server.set("config/mode", "fast")
 * ```
 */
export class CloneServer {
  readonly events = new PatternEvents<CloneServerEvent>()
  /** This server's uuid, sent in every HUGZ and KTHXBAI: a new one tells clients the server restarted. */
  readonly uuid = newUuid()
  readonly heartbeatInterval: number
  private readonly snapshotSocket: Router
  private readonly publisher: XPublisher
  private readonly collector: Pull
  private readonly state = new Map<string, CloneEntry>()
  private readonly expiries = new Map<string, number>()
  private sequenceNumber = 0
  private timer: NodeJS.Timeout | undefined

  constructor(options: CloneServerOptions = {}) {
    this.heartbeatInterval = heartbeatSettings(options).interval
    const socketOptions = { linger: 0, ...options.socketOptions }
    // mandatory: a snapshot larger than the high-water mark waits for the client instead of losing keys.
    this.snapshotSocket = new Router({ ...socketOptions, mandatory: true })
    // XPUB reports every subscription, so a new subscriber gets a HUGZ at once (see clientSubscribed).
    this.publisher = new XPublisher({ ...socketOptions, verbosity: "allSubs" })
    this.collector = new Pull(socketOptions)
  }

  /** Binds the three sockets and starts serving. */
  async bind(endpoints: CloneEndpoints): Promise<void> {
    await this.snapshotSocket.bind(endpoints.snapshot)
    await this.publisher.bind(endpoints.updates)
    await this.collector.bind(endpoints.collector)
    void this.serveSnapshots()
    void this.collect()
    void this.watchSubscriptions()
    this.timer = setInterval(() => this.tick(), this.heartbeatInterval)
  }

  /** The endpoints bound, with the real ports for `:*`. */
  get endpoints(): CloneEndpoints {
    return {
      snapshot: this.snapshotSocket.lastEndpoint!,
      updates: this.publisher.lastEndpoint!,
      collector: this.collector.lastEndpoint!,
    }
  }

  /** The sequence number of the last update. */
  get sequence(): number {
    return this.sequenceNumber
  }

  get(key: string): Buffer | undefined {
    return this.state.get(key)?.body
  }

  /** The state now, key by key. */
  get entries(): ReadonlyMap<string, CloneEntry> {
    return this.state
  }

  /** Sets a key here at the server (an empty value deletes it) and publishes the update. */
  async set(key: string, value: MessageLike, options: CloneSetOptions = {}): Promise<void> {
    if (key.length === 0 || isReservedKey(key)) throw new TypeError(`cannot set the key ${JSON.stringify(key)}`)
    const properties: Record<string, string> = { ...options.properties }
    if (options.ttl !== undefined) properties.ttl = String(options.ttl)
    await this.apply({ key, sequence: 0, uuid: newUuid(), properties, body: toBody(value) })
  }

  close(): void {
    clearInterval(this.timer)
    this.snapshotSocket.close()
    this.publisher.close()
    this.collector.close()
  }

  /** Numbers an update, stores it (or deletes the key) and publishes it. */
  private async apply(update: CloneEntry): Promise<void> {
    const entry: CloneEntry = { ...update, sequence: ++this.sequenceNumber }
    const deleted = entry.body.length === 0
    if (deleted) this.state.delete(entry.key)
    else this.state.set(entry.key, entry)
    const ttl = Number(entry.properties.ttl)
    if (!deleted && ttl > 0) this.expiries.set(entry.key, Date.now() + ttl)
    else this.expiries.delete(entry.key)
    this.events.emit({ type: "update", key: entry.key, sequence: entry.sequence, deleted })
    await this.publisher.send(encodeEntry(entry))
  }

  private async serveSnapshots(): Promise<void> {
    for await (const [client, command, subtree] of this.snapshotSocket) {
      if (String(command) !== CloneKey.SNAPSHOT_REQUEST || subtree === undefined) {
        this.protocolError(`${idName(client!)} sent something other than ICANHAZ? on the snapshot socket`)
        continue
      }
      // Taken at once: every entry has a sequence <= the one in KTHXBAI, and later updates go out on PUB.
      const prefix = subtree.toString()
      const entries = [...this.state.values()].filter((entry) => entry.key.startsWith(prefix))
      const sequence = this.sequenceNumber
      try {
        for (const entry of entries) await this.snapshotSocket.send([client!, ...encodeEntry(entry)])
        await this.snapshotSocket.send([client!, CloneKey.SNAPSHOT_END, encodeSequence(sequence), this.uuid, "", subtree])
      } catch {
        continue // EHOSTUNREACH: the client left; it asks again when it comes back
      }
      this.events.emit({ type: "snapshot", client: idName(client!), subtree: prefix, keys: entries.length, sequence })
    }
  }

  private async collect(): Promise<void> {
    for await (const message of this.collector) {
      let update: CloneEntry
      try {
        update = decodeEntry(message)
        if (isReservedKey(update.key)) throw new ZmeshError("ERR_PATTERN_PROTOCOL", `an update may not use the key ${update.key}`)
      } catch (err) {
        this.protocolError(`dropped an update: ${(err as Error).message}`)
        continue
      }
      await this.apply(update)
    }
  }

  /** A subscriber's HUGZ subscription arrives after its other ones: answer it with a HUGZ now. */
  private async watchSubscriptions(): Promise<void> {
    for await (const [subscription] of this.publisher) {
      if (subscription![0] === 1 && subscription!.subarray(1).toString() === CloneKey.HEARTBEAT) this.heartbeat()
    }
  }

  private heartbeat(): void {
    this.publisher.trySend([CloneKey.HEARTBEAT, encodeSequence(this.sequenceNumber), this.uuid, "", ""])
  }

  private tick(): void {
    const now = Date.now()
    for (const [key, expiry] of this.expiries) {
      if (expiry > now) continue
      this.expiries.delete(key)
      void this.apply({ key, sequence: 0, uuid: newUuid(), properties: {}, body: Buffer.alloc(0) })
    }
    this.heartbeat()
  }

  private protocolError(reason: string): void {
    this.events.emit({ type: "protocol:error", error: new ZmeshError("ERR_PATTERN_PROTOCOL", reason) })
  }
}
