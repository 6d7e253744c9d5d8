// @ts-check
/**
 * The raw node:net baseline: just enough of PUSH, PULL, REQ, REP, PUB and
 * SUB, with a 4-byte big-endian length before each message and no ZMTP, for
 * the e2e benchmarks to drive with the same code as the libraries. It is
 * what a careful hand-written node:net protocol costs on this machine, the
 * figure Node itself sets: a library cannot be much faster than its own
 * transport.
 *
 * - `send()` writes one buffer per message (prefix + body, built per call;
 *   a body over 4 KiB goes by reference after its own prefix) with the
 *   socket corked from the first write of a tick to the next tick (Node's
 *   documented idiom, so that node:net hands the kernel one writev per tick
 *   instead of a syscall per message), and returns a resolved promise, or
 *   one that waits for 'drain' when write() said the buffer is full. With
 *   `{ batch: true }` messages are instead copied into a 64 KiB block,
 *   written when it fills and at the end of the tick.
 * - The reader parses the prefix in place from each chunk, copies a body
 *   only when it spans chunks (straight into a buffer of its size), queues
 *   each message as a one-element array (as zmesh and zeromq.js return) and
 *   pauses the connection while 1000 messages wait (the libraries' HWM).
 * - A publisher writes every message to every subscriber, waiting for the
 *   slowest; nothing is dropped and there is no topic filtering.
 */
import net from "node:net"

const HWM = 1000
const BLOCK = 64 * 1024
/** Bodies up to this size are copied with their prefix into one buffer. */
const COPY_MAX = 4096
const RESOLVED = Promise.resolve()

/** `tcp://host:port` (port `*` = any) or `ipc://path` as node:net listen/connect options. */
export function netOptions(/** @type {string} */ address) {
  const tcp = /^tcp:\/\/(.+):(\d+|\*)$/.exec(address)
  return tcp === null ? { path: address.slice("ipc://".length) } : { host: tcp[1], port: tcp[2] === "*" ? 0 : Number(tcp[2]) }
}

/** Splits a byte stream into length-prefixed messages, calling `deliver` with each body. */
class Framer {
  /** @param {(body: Buffer, from: Connection) => void} deliver @param {Connection} from */
  constructor(deliver, from) {
    this.deliver = deliver
    this.from = from
    /** A body being filled across chunks. @type {Buffer | undefined} */
    this.body = undefined
    this.filled = 0
    /** Up to 3 bytes of a prefix split across chunks. @type {Buffer | undefined} */
    this.head = undefined
  }

  /** @param {Buffer} chunk */
  push(chunk) {
    let pos = 0
    const end = chunk.length
    if (this.head !== undefined) {
      chunk = Buffer.concat([this.head, chunk])
      this.head = undefined
      return this.push(chunk)
    }
    if (this.body !== undefined) {
      const body = this.body
      const n = Math.min(body.length - this.filled, end)
      chunk.copy(body, this.filled, 0, n)
      this.filled += n
      pos = n
      if (this.filled < body.length) return
      this.body = undefined
      this.deliver(body, this.from)
    }
    while (end - pos >= 4) {
      const size = chunk.readUInt32BE(pos)
      const start = pos + 4
      if (end - start >= size) {
        this.deliver(chunk.subarray(start, start + size), this.from)
        pos = start + size
        continue
      }
      const body = Buffer.allocUnsafe(size)
      this.filled = chunk.copy(body, 0, start, end)
      this.body = body
      return
    }
    if (pos < end) this.head = Buffer.from(chunk.subarray(pos))
  }
}

/** One connection's writer. */
class Connection {
  /** @param {net.Socket} sock @param {boolean} batch @param {(body: Buffer, from: Connection) => void} deliver */
  constructor(sock, batch, deliver) {
    sock.setNoDelay(true)
    this.sock = sock
    this.batch = batch
    this.block = batch ? Buffer.allocUnsafe(BLOCK) : Buffer.alloc(0)
    this.pos = 0
    this.scheduled = false
    this.flushNow = () => this.flush()
    const framer = new Framer(deliver, this)
    sock.on("data", (chunk) => framer.push(chunk))
    sock.on("error", () => {})
  }

  /** Writes (or batches) one message; true while node:net's buffer has room. @param {Buffer} msg */
  write(msg) {
    const size = msg.length
    if (this.batch) {
      if (size + 4 <= BLOCK) {
        if (this.pos + 4 + size > BLOCK) this.writeBlock()
        const block = this.block
        block.writeUInt32BE(size, this.pos)
        msg.copy(block, this.pos + 4)
        this.pos += 4 + size
        if (!this.scheduled) {
          this.scheduled = true
          process.nextTick(this.flushNow)
        }
        return this.sock.writableLength < this.sock.writableHighWaterMark
      }
      this.writeBlock()
    } else if (!this.scheduled) {
      this.scheduled = true
      this.sock.cork()
      process.nextTick(this.flushNow)
    }
    if (size <= COPY_MAX) {
      const framed = Buffer.allocUnsafe(4 + size)
      framed.writeUInt32BE(size, 0)
      msg.copy(framed, 4)
      return this.sock.write(framed)
    }
    const prefix = Buffer.allocUnsafe(4)
    prefix.writeUInt32BE(size, 0)
    this.sock.write(prefix)
    return this.sock.write(msg)
  }

  /** End of the tick: uncork, or write the batch block. */
  flush() {
    if (!this.scheduled) return
    this.scheduled = false
    if (this.batch) this.writeBlock()
    else this.sock.uncork()
  }

  writeBlock() {
    if (this.pos === 0) return
    // The block goes to the kernel by reference: start a new one.
    this.sock.write(this.block.subarray(0, this.pos))
    this.block = Buffer.allocUnsafe(BLOCK)
    this.pos = 0
  }

  /** Resolves once this connection's buffer has room again. */
  drained() {
    return this.sock.writableLength < this.sock.writableHighWaterMark
      ? RESOLVED
      : new Promise((resolve) => this.sock.once("drain", resolve))
  }
}

/**
 * The shared socket: bind or connect, a receive queue with waiters, async
 * iteration. Subclasses say where `send()` goes.
 */
class RawSocket {
  /** @param {{ batch?: boolean }} [options] */
  constructor(options = {}) {
    this.batch = options.batch === true
    /** @type {Connection[]} */
    this.connections = []
    /** @type {Buffer[][]} */
    this.queue = []
    this.head = 0
    /** @type {((m: Buffer[]) => void) | undefined} */
    this.waiter = undefined
    /** @type {net.Server | undefined} */
    this.server = undefined
    /** @type {string | null} */
    this.lastEndpoint = null
    this.paused = false
    /** The connection the last message came from. @type {Connection | undefined} */
    this.from = undefined
    this.deliver = (/** @type {Buffer} */ body, /** @type {Connection} */ from) => this.onMessage(body, from)
    /** Resolves the wait for a first peer of a bound socket. @type {(() => void) | undefined} */
    this.connectedNow = undefined
  }

  /** Resolves once a peer is connected (a bound socket may send before anyone has). @returns {Promise<void>} */
  connected() {
    if (this.connections.length > 0) return RESOLVED
    return new Promise((resolve) => (this.connectedNow = resolve))
  }

  /** @param {string} address */
  async bind(address) {
    const server = net.createServer((sock) => {
      this.connections.push(new Connection(sock, this.batch, this.deliver))
      this.connectedNow?.()
    })
    this.server = server
    await new Promise((resolve, reject) => {
      server.once("error", reject)
      server.listen(netOptions(address), () => resolve(undefined))
    })
    const bound = server.address()
    this.lastEndpoint = typeof bound === "string" || bound === null ? address : `tcp://127.0.0.1:${bound.port}`
  }

  /** @param {string} address */
  connect(address) {
    this.connections.push(new Connection(net.connect(netOptions(address)), this.batch, this.deliver))
  }

  /** @param {Buffer} body @param {Connection} from */
  onMessage(body, from) {
    const waiter = this.waiter
    if (waiter !== undefined) {
      this.waiter = undefined
      this.from = from
      waiter([body])
      return
    }
    this.queue.push([body])
    if (this.queue.length - this.head >= HWM && !this.paused) {
      this.paused = true
      for (const c of this.connections) c.sock.pause()
    }
  }

  /** @returns {Buffer[] | undefined} */
  tryReceive() {
    if (this.head === this.queue.length) return undefined
    const message = this.queue[this.head++]
    if (this.head === this.queue.length) {
      this.queue = []
      this.head = 0
    }
    if (this.paused && this.queue.length - this.head <= HWM >> 1) {
      this.paused = false
      for (const c of this.connections) c.sock.resume()
    }
    return message
  }

  /** @returns {Promise<Buffer[]>} */
  receive() {
    const message = this.tryReceive()
    if (message !== undefined) return Promise.resolve(message)
    return new Promise((resolve) => (this.waiter = resolve))
  }

  [Symbol.asyncIterator]() {
    return {
      next: () => {
        const message = this.tryReceive()
        if (message !== undefined) return Promise.resolve({ value: message, done: false })
        return new Promise((resolve) => (this.waiter = (m) => resolve({ value: m, done: false })))
      },
    }
  }

  /** @param {Buffer} msg */
  trySend(msg) {
    void this.send(msg)
    return true
  }

  /** @param {Buffer} _msg @returns {Promise<void>} */
  send(_msg) {
    return RESOLVED
  }

  close() {
    for (const c of this.connections) {
      c.flush()
      c.sock.end()
    }
    this.server?.close()
  }
}

/** Sends each message to the next connection in turn. */
class RoundRobin extends RawSocket {
  next = 0

  /** @param {Buffer} msg @returns {Promise<void>} */
  send(msg) {
    if (this.connections.length === 0) return this.connected().then(() => this.send(msg))
    const c = this.connections[this.next]
    this.next = (this.next + 1) % this.connections.length
    return c.write(msg) ? RESOLVED : c.drained()
  }
}

export class Push extends RoundRobin {}
export class Pull extends RawSocket {}
export class Request extends RoundRobin {}

/** Replies on the connection the last request came from. */
export class Reply extends RawSocket {
  /** @param {Buffer} msg */
  send(msg) {
    const c = /** @type {Connection} */ (this.from)
    return c.write(msg) ? RESOLVED : c.drained()
  }
}

/** Writes every message to every subscriber, waiting for the slowest. */
export class Publisher extends RawSocket {
  /** @param {Buffer} msg */
  send(msg) {
    /** @type {Promise<void>[] | undefined} */
    let waits
    for (const c of this.connections) if (!c.write(msg)) (waits ??= []).push(c.drained())
    return waits === undefined ? RESOLVED : Promise.all(waits).then(() => undefined)
  }
}

export class Subscriber extends RawSocket {
  subscribe() {}
}

/**
 * The socket classes as a library module, for `loadLib()`: with `batch`,
 * every socket batches its writes.
 * @param {boolean} batch
 */
export function rawLib(batch) {
  const withBatch = (/** @type {any} */ Base) =>
    class extends Base {
      constructor() {
        super({ batch })
      }
    }
  return {
    Push: withBatch(Push), Pull: withBatch(Pull), Request: withBatch(Request), Reply: withBatch(Reply),
    Publisher: withBatch(Publisher), Subscriber: withBatch(Subscriber),
  }
}
