/**
 * Raw ZMTP peers on node:net for byte-exact wire tests, in the manner of
 * libzmq's test_mock_pub_sub: build greetings, READY and command frames by
 * hand, and read exactly N bytes from whatever chunks the other side's
 * writes arrive in, so no test depends on how zmesh batches its output.
 */
import net from "node:net"

// ---- encoding -------------------------------------------------------------------

/** 23/ZMTP greeting: signature, version 3.`minor`, mechanism, as-server, filler (64 bytes). */
export function greeting(minor: 0 | 1, mechanism = "NULL", asServer = false): Buffer {
  const bytes = Buffer.alloc(64)
  bytes[0] = 0xff
  bytes[9] = 0x7f
  bytes[10] = 3
  bytes[11] = minor
  bytes.write(mechanism, 12, "latin1")
  bytes[32] = asServer ? 1 : 0
  return bytes
}

/** Metadata properties: `nlen(1) name vlen(4, big-endian) value` each. */
export function properties(props: ReadonlyArray<readonly [string, string | Buffer]>): Buffer {
  const parts: Buffer[] = []
  for (const [name, value] of props) {
    const valueBytes = typeof value === "string" ? Buffer.from(value, "latin1") : value
    const head = Buffer.alloc(1 + name.length + 4)
    head[0] = name.length
    head.write(name, 1, "latin1")
    head.writeUInt32BE(valueBytes.length, 1 + name.length)
    parts.push(head, valueBytes)
  }
  return Buffer.concat(parts)
}

/** A command frame `04 size name_len name data`, or `06` with an 8-byte size past 255 bytes of body. */
export function commandFrame(name: string, data: Buffer = Buffer.alloc(0)): Buffer {
  const body = Buffer.concat([Buffer.from([name.length]), Buffer.from(name, "latin1"), data])
  return Buffer.concat([frameHeader(0x04, body.length), body])
}

/** A message frame: flags 00/01 (short) or 02/03 (long), then the body. */
export function dataFrame(body: Buffer | string, more = false): Buffer {
  const bytes = typeof body === "string" ? Buffer.from(body, "latin1") : body
  return Buffer.concat([frameHeader(more ? 0x01 : 0x00, bytes.length), bytes])
}

/** READY for the NULL mechanism with Socket-Type and any further properties. */
export function ready(socketType: string, extra: ReadonlyArray<readonly [string, string | Buffer]> = []): Buffer {
  return commandFrame("READY", properties([["Socket-Type", socketType], ...extra]))
}

function frameHeader(flags: number, size: number): Buffer {
  if (size <= 255) return Buffer.from([flags, size])
  const header = Buffer.alloc(9)
  header[0] = flags | 0x02
  header.writeBigUInt64BE(BigInt(size), 1)
  return header
}

// ---- decoding -------------------------------------------------------------------

export interface Frame {
  readonly flags: number
  /** The whole frame as it came off the wire, header included. */
  readonly bytes: Buffer
  readonly body: Buffer
  readonly command: boolean
  readonly more: boolean
}

export interface Hello {
  /** The peer's 64 greeting bytes. */
  readonly greeting: Buffer
  /** The peer's READY frame, header included. */
  readonly readyFrame: Buffer
  /** READY's properties, values as latin1 text. */
  readonly properties: Map<string, string>
}

/** Decodes a command frame's body into its name and data. */
export function parseCommand(body: Buffer): { name: string; data: Buffer } {
  const nameLength = body[0] ?? 0
  return { name: body.toString("latin1", 1, 1 + nameLength), data: body.subarray(1 + nameLength) }
}

export function parseProperties(data: Buffer): Map<string, string> {
  const props = new Map<string, string>()
  let i = 0
  while (i < data.length) {
    const nameLength = data[i]!
    const name = data.toString("latin1", i + 1, i + 1 + nameLength)
    i += 1 + nameLength
    const valueLength = data.readUInt32BE(i)
    i += 4
    props.set(name, data.toString("latin1", i, i + valueLength))
    i += valueLength
  }
  return props
}

/** Buffers a socket's input and hands out exactly the bytes asked for, however they were chunked. */
export class ByteReader {
  private readonly chunks: Buffer[] = []
  private size = 0
  private ended = false
  private readonly waiters: Array<() => void> = []

  constructor(socket: net.Socket) {
    socket.on("data", (chunk: Buffer) => {
      this.chunks.push(chunk)
      this.size += chunk.length
      this.wake()
    })
    socket.on("close", () => {
      this.ended = true
      this.wake()
    })
  }

  /** Bytes received and not read yet. */
  get buffered(): number {
    return this.size
  }

  /** The next `n` bytes; rejects when the connection closes first. */
  async read(n: number): Promise<Buffer> {
    while (this.size < n) {
      if (this.ended) throw new Error(`connection closed with ${this.size} of ${n} expected bytes`)
      await new Promise<void>((resolve) => this.waiters.push(resolve))
    }
    const all = this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks)
    this.chunks.length = 0
    const rest = all.subarray(n)
    if (rest.length > 0) this.chunks.push(rest)
    this.size = rest.length
    return all.subarray(0, n)
  }

  /** The next whole frame: flags, a 1- or 8-byte size, the body. */
  async readFrame(): Promise<Frame> {
    const head = await this.read(2)
    const flags = head[0]!
    const long = (flags & 0x02) !== 0
    const rest = long ? await this.read(7) : Buffer.alloc(0)
    const size = long ? Number(Buffer.concat([head.subarray(1), rest]).readBigUInt64BE(0)) : head[1]!
    const body = await this.read(size)
    return {
      flags,
      bytes: Buffer.concat([head, rest, body]),
      body,
      command: (flags & 0x04) !== 0,
      more: (flags & 0x01) !== 0,
    }
  }

  /** Resolves when the peer has closed the connection (after any unread bytes). */
  async closed(): Promise<void> {
    while (!this.ended) await new Promise<void>((resolve) => this.waiters.push(resolve))
  }

  private wake(): void {
    for (const waiter of this.waiters.splice(0)) waiter()
  }
}

// ---- peers ----------------------------------------------------------------------

/** One raw connection: write bytes, read them back exactly. */
export class RawConnection {
  readonly socket: net.Socket
  readonly reader: ByteReader

  constructor(socket: net.Socket) {
    this.socket = socket
    this.reader = new ByteReader(socket)
    socket.on("error", () => {
      // A reset by the peer ends the connection; `reader` reports it to whoever waits.
    })
    open.add(socket)
    socket.on("close", () => open.delete(socket))
  }

  write(...parts: Buffer[]): void {
    this.socket.write(parts.length === 1 ? parts[0]! : Buffer.concat(parts))
  }

  /**
   * The NULL handshake: sends our greeting and READY at once (libzmq's
   * peers do not wait), then reads the peer's greeting and READY.
   */
  async handshake(minor: 0 | 1, socketType: string): Promise<Hello> {
    this.write(greeting(minor), ready(socketType))
    const peerGreeting = await this.reader.read(64)
    const frame = await this.reader.readFrame()
    const command = parseCommand(frame.body)
    if (!frame.command || command.name !== "READY") {
      throw new Error(`expected READY, got ${frame.bytes.toString("hex")}`)
    }
    return { greeting: peerGreeting, readyFrame: frame.bytes, properties: parseProperties(command.data) }
  }

  close(): void {
    this.socket.destroy()
  }
}

/** A listening raw peer on tcp:// or ipc://, handing out its connections in order. */
export class RawServer {
  /** The address to connect to, with the real port. */
  readonly endpoint: string
  private readonly server: net.Server
  private readonly accepted: RawConnection[] = []
  private readonly waiters: Array<(connection: RawConnection) => void> = []
  private readonly connections = new Set<RawConnection>()

  private constructor(server: net.Server, endpoint: string) {
    this.server = server
    this.endpoint = endpoint
    server.on("connection", (socket) => {
      const connection = new RawConnection(socket)
      this.connections.add(connection)
      socket.on("close", () => this.connections.delete(connection))
      const waiter = this.waiters.shift()
      if (waiter !== undefined) waiter(connection)
      else this.accepted.push(connection)
    })
  }

  /**
   * Listens on `tcp://host:port` (port 0 or `*` picks one) or `ipc://path`.
   * Listening again on a closed server's `endpoint` restarts the peer there.
   */
  static async listen(endpoint: string): Promise<RawServer> {
    const server = net.createServer()
    const target = parseAddress(endpoint)
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject)
      server.listen(target, () => {
        server.off("error", reject)
        resolve()
      })
    })
    servers.add(server)
    let address = endpoint
    if ("port" in target) address = `tcp://${target.host}:${(server.address() as net.AddressInfo).port}`
    return new RawServer(server, address)
  }

  /** The next accepted connection. */
  connection(): Promise<RawConnection> {
    const ready = this.accepted.shift()
    if (ready !== undefined) return Promise.resolve(ready)
    return new Promise((resolve) => this.waiters.push(resolve))
  }

  /** Drops every connection and stops listening (an ipc socket file is removed). */
  async close(): Promise<void> {
    for (const connection of this.connections) connection.close()
    servers.delete(this.server)
    if (!this.server.listening) return
    await new Promise<void>((resolve) => this.server.close(() => resolve()))
  }
}

/** Dials a bound tcp:// or ipc:// endpoint. */
export function dial(endpoint: string): Promise<RawConnection> {
  const target = parseAddress(endpoint)
  return new Promise((resolve, reject) => {
    const socket = "port" in target ? net.connect(target.port, target.host) : net.connect(target.path)
    socket.once("error", reject)
    socket.once("connect", () => {
      socket.off("error", reject)
      resolve(new RawConnection(socket))
    })
  })
}

const servers = new Set<net.Server>()
const open = new Set<net.Socket>()

/** For afterEach: destroys every raw connection and closes every raw server still open. */
export async function closeRawPeers(): Promise<void> {
  for (const socket of open) socket.destroy()
  open.clear()
  const closing = [...servers].map((server) => new Promise<void>((resolve) => server.close(() => resolve())))
  servers.clear()
  await Promise.all(closing)
}

function parseAddress(endpoint: string): { host: string; port: number } | { path: string } {
  const tcp = /^tcp:\/\/(.+):(\d+|\*)$/.exec(endpoint)
  if (tcp !== null) return { host: tcp[1]!, port: tcp[2] === "*" ? 0 : Number(tcp[2]) }
  if (endpoint.startsWith("ipc://")) return { path: endpoint.slice("ipc://".length) }
  throw new Error(`raw peer: unsupported endpoint ${endpoint}`)
}
