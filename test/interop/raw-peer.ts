/**
 * A scripted ZMTP 3.1 peer on a raw node:net server: it sends the NULL greeting
 * and READY at once, records every command the other side sends, and answers
 * nothing unless told to, so tests can play a peer that stops answering PINGs.
 */
import net from "node:net"
import { performance } from "node:perf_hooks"

export interface RawCommand {
  readonly name: string
  readonly data: Buffer
  /** The whole frame as it came off the wire, header included. */
  readonly frame: Buffer
  /** performance.now() when it was parsed. */
  readonly at: number
}

/** 23/ZMTP greeting for `mechanism` (NULL unless told), version 3.1, as-server 0: 64 bytes. */
export function greeting(mechanism = "NULL"): Buffer {
  const bytes = Buffer.alloc(64)
  bytes[0] = 0xff
  bytes[9] = 0x7f
  bytes[10] = 3
  bytes[11] = 1
  bytes.write(mechanism, 12, "latin1")
  return bytes
}

/** A command frame (short form): `04 len name_len name data`. */
export function commandFrame(name: string, data: Buffer = Buffer.alloc(0)): Buffer {
  const body = Buffer.concat([Buffer.from([name.length]), Buffer.from(name, "latin1"), data])
  if (body.length > 255) throw new Error("commandFrame: long commands are not needed here")
  return Buffer.concat([Buffer.from([0x04, body.length]), body])
}

/** READY with the Socket-Type property only. */
export function readyCommand(socketType: string): Buffer {
  const name = Buffer.from("Socket-Type", "latin1")
  const value = Buffer.from(socketType, "latin1")
  const length = Buffer.alloc(4)
  length.writeUInt32BE(value.length)
  return commandFrame("READY", Buffer.concat([Buffer.from([name.length]), name, length, value]))
}

/** PING with a TTL in deciseconds and an optional context. */
export function pingCommand(ttlDeciseconds: number, context: Buffer = Buffer.alloc(0)): Buffer {
  const ttl = Buffer.alloc(2)
  ttl.writeUInt16BE(ttlDeciseconds)
  return commandFrame("PING", Buffer.concat([ttl, context]))
}

interface Waiter {
  readonly name: string
  readonly resolve: (command: RawCommand) => void
}

/** Parses one connection's inbound bytes: the 64-byte greeting, then frames. */
class Connection {
  readonly socket: net.Socket
  private readonly onCommand: (command: RawCommand) => void
  private readonly onMessageFrame: (body: Buffer, more: boolean) => void
  private buffer = Buffer.alloc(0)
  private greeted = false

  constructor(
    socket: net.Socket,
    onCommand: (command: RawCommand) => void,
    onMessageFrame: (body: Buffer, more: boolean) => void,
  ) {
    this.socket = socket
    this.onCommand = onCommand
    this.onMessageFrame = onMessageFrame
    socket.on("data", (chunk: Buffer) => this.push(chunk))
    socket.on("error", () => {})
  }

  private push(chunk: Buffer): void {
    this.buffer = Buffer.concat([this.buffer, chunk])
    if (!this.greeted) {
      if (this.buffer.length < 64) return
      this.buffer = this.buffer.subarray(64)
      this.greeted = true
    }
    for (;;) {
      if (this.buffer.length < 2) return
      const flags = this.buffer[0]!
      const long = (flags & 0x02) !== 0
      const headerSize = long ? 9 : 2
      if (this.buffer.length < headerSize) return
      const size = long ? Number(this.buffer.readBigUInt64BE(1)) : this.buffer[1]!
      if (this.buffer.length < headerSize + size) return
      const frame = this.buffer.subarray(0, headerSize + size)
      const body = frame.subarray(headerSize)
      this.buffer = this.buffer.subarray(headerSize + size)
      if ((flags & 0x04) !== 0) {
        const nameLength = body[0]!
        this.onCommand({
          name: body.subarray(1, 1 + nameLength).toString("latin1"),
          data: body.subarray(1 + nameLength),
          frame,
          at: performance.now(),
        })
      } else {
        this.onMessageFrame(body, (flags & 0x01) !== 0)
      }
    }
  }
}

export class RawPeer {
  readonly commands: RawCommand[] = []
  /** Message frames received, in order (MORE flags dropped). */
  readonly frames: Buffer[] = []
  private readonly connections: Connection[] = []
  private readonly waiters: Waiter[] = []
  private readonly server: net.Server
  readonly endpoint: string

  private constructor(server: net.Server, endpoint: string) {
    this.server = server
    this.endpoint = endpoint
  }

  /** Listens on 127.0.0.1 with an ephemeral port; every connection gets greeting + READY at once. */
  static async listen(socketType: string): Promise<RawPeer> {
    const server = net.createServer()
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject)
      server.listen(0, "127.0.0.1", () => resolve())
    })
    const port = (server.address() as net.AddressInfo).port
    const peer = new RawPeer(server, `tcp://127.0.0.1:${port}`)
    server.on("connection", (socket) => {
      socket.write(Buffer.concat([greeting(), readyCommand(socketType)]))
      peer.connections.push(
        new Connection(
          socket,
          (command) => peer.record(command),
          (body) => peer.frames.push(body),
        ),
      )
    })
    return peer
  }

  /** Dials a bound tcp:// endpoint instead of waiting to be dialed; greeting + READY go out on connect. */
  static async dial(endpoint: string, socketType: string): Promise<RawPeer> {
    const match = /^tcp:\/\/(.+):(\d+)$/.exec(endpoint)
    if (match === null) throw new Error(`RawPeer.dial: not a tcp endpoint: ${endpoint}`)
    const server = net.createServer()
    const peer = new RawPeer(server, endpoint)
    const socket = net.connect(Number(match[2]), match[1]!)
    peer.connections.push(
      new Connection(
        socket,
        (command) => peer.record(command),
        (body) => peer.frames.push(body),
      ),
    )
    await new Promise<void>((resolve, reject) => {
      socket.once("error", reject)
      socket.once("connect", () => resolve())
    })
    socket.write(Buffer.concat([greeting(), readyCommand(socketType)]))
    return peer
  }

  /** Resolves when the first connection is closed by the other side. */
  closed(): Promise<number> {
    const socket = this.socket
    if (socket === undefined) return Promise.reject(new Error("RawPeer: no connection"))
    if (socket.closed) return Promise.resolve(performance.now())
    return new Promise((resolve) => socket.once("close", () => resolve(performance.now())))
  }

  /** The first connection, which scripted writes go to. */
  get socket(): net.Socket | undefined {
    return this.connections[0]?.socket
  }

  get connectionCount(): number {
    return this.connections.length
  }

  /** Resolves with the first recorded command named `name` at index `from` or later, or the next one to come. */
  command(name: string, from = 0): Promise<RawCommand> {
    const found = this.commands.slice(from).find((c) => c.name === name)
    if (found !== undefined) return Promise.resolve(found)
    return new Promise((resolve) => this.waiters.push({ name, resolve }))
  }

  /** Resolves once `count` commands named `name` have been recorded. */
  async commandCount(name: string, count: number): Promise<RawCommand[]> {
    for (;;) {
      const seen = this.commands.filter((c) => c.name === name)
      if (seen.length >= count) return seen
      await new Promise<RawCommand>((resolve) => this.waiters.push({ name, resolve }))
    }
  }

  /** Drops every connection and stops listening. */
  async close(): Promise<void> {
    for (const connection of this.connections) connection.socket.destroy()
    if (!this.server.listening) return
    await new Promise<void>((resolve) => this.server.close(() => resolve()))
  }

  private record(command: RawCommand): void {
    this.commands.push(command)
    for (let i = 0; i < this.waiters.length; ) {
      const waiter = this.waiters[i]!
      if (waiter.name === command.name) {
        this.waiters.splice(i, 1)
        waiter.resolve(command)
      } else {
        i++
      }
    }
  }
}
