/** Byte-exact ZMTP fixtures shared by the unit tests (libzmq 4.3 values where known). */
import { hex } from "../../helpers/feed.js"

/** Mechanism name NUL-padded to the 20 bytes of greeting offsets 12-31. */
export function mechanismField(name: string): string {
  return Buffer.from(name, "latin1").toString("hex").padEnd(40, "0")
}

export interface GreetingFields {
  /** Bytes 1-8: "not significant" (libzmq writes u64be(routing_id_len + 1) there). */
  padding?: string
  byte0?: number
  byte9?: number
  major?: number
  minor?: number
  mechanism?: string
  asServer?: number
}

/** A 64-byte greeting; the defaults give exactly the greeting zmesh sends for NULL. */
export function greeting(fields: GreetingFields = {}): Buffer {
  const byte = (n: number) => n.toString(16).padStart(2, "0")
  const bytes = hex(
    byte(fields.byte0 ?? 0xff) +
      (fields.padding ?? "00 00 00 00 00 00 00 00") +
      byte(fields.byte9 ?? 0x7f) +
      byte(fields.major ?? 3) +
      byte(fields.minor ?? 1) +
      mechanismField(fields.mechanism ?? "NULL") +
      byte(fields.asServer ?? 0) +
      "00".repeat(31),
  )
  if (bytes.length !== 64) throw new Error(`greeting fixture is ${bytes.length} bytes`)
  return bytes
}

/** The NULL greeting zmesh advertises: ff, 8 zero bytes, 7f, 3.1, "NULL", as-server 0, 31 zeros. */
export const NULL_GREETING = hex(`
  ff 00 00 00 00 00 00 00 00 7f 03 01
  4e 55 4c 4c 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00
  00
  00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00
`)

/** A greeting as libzmq 4.3.5 writes it for a socket with no routing id: padding = u64be(0 + 1). */
export const LIBZMQ_GREETING = greeting({ padding: "00 00 00 00 00 00 00 01" })

/** READY from a libzmq DEALER with no routing id (lz:tests/testutil.hpp), 43 bytes. */
export const DEALER_READY = hex(`
  04 29
  05 52 45 41 44 59
  0b 53 6f 63 6b 65 74 2d 54 79 70 65  00 00 00 06  44 45 41 4c 45 52
  08 49 64 65 6e 74 69 74 79  00 00 00 00
`)

/** READY from a ROUTER with no routing id (same shape as DEALER's). */
export const ROUTER_READY = hex(`
  04 29
  05 52 45 41 44 59
  0b 53 6f 63 6b 65 74 2d 54 79 70 65  00 00 00 06  52 4f 55 54 45 52
  08 49 64 65 6e 74 69 74 79  00 00 00 00
`)

/** READY from a PUSH socket: no Identity property (libzmq sends it only from REQ, DEALER, ROUTER). */
export const PUSH_READY = hex(`
  04 1a
  05 52 45 41 44 59
  0b 53 6f 63 6b 65 74 2d 54 79 70 65  00 00 00 04  50 55 53 48
`)

/** READY from a PULL socket. */
export const PULL_READY = hex(`
  04 1a
  05 52 45 41 44 59
  0b 53 6f 63 6b 65 74 2d 54 79 70 65  00 00 00 04  50 55 4c 4c
`)

/** The mock PING of test_heartbeats.cpp: TTL 0, context "LOL". */
export const PING_LOL = hex("04 0a 04 50 49 4e 47 00 00 4c 4f 4c")
/** The PONG libzmq answers it with. */
export const PONG_LOL = hex("04 08 04 50 4f 4e 47 4c 4f 4c")

/** Concatenation without Buffer.concat's list noise in call sites. */
export function join(...parts: Buffer[]): Buffer {
  return Buffer.concat(parts)
}

/** `n` bytes counting up from `start`, so a misplaced byte shows. */
export function pattern(n: number, start = 0): Buffer {
  const buf = Buffer.allocUnsafe(n)
  for (let i = 0; i < n; i++) buf[i] = (start + i * 7) & 0xff
  return buf
}
