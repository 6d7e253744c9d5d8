/** The 64-byte ZMTP greeting (RFC 23 / RFC 37): encode ours, validate the peer's as it arrives. */

export const GREETING_SIZE = 64

/** The version we advertise: 3.1, so libzmq 4.3.3+ sends SUBSCRIBE/CANCEL as commands. */
export const ZMTP_MAJOR = 3
export const ZMTP_MINOR = 1

export type MechanismName = "NULL" | "PLAIN" | "CURVE"

export interface Greeting {
  readonly major: number
  readonly minor: number
  /** The mechanism name with its NUL padding removed. */
  readonly mechanism: string
  readonly asServer: boolean
}

/**
 * Our whole greeting, sent at once. The RFC allows it and it avoids the
 * deadlock of waiting for a peer that sends in stages (libzmq does).
 */
export function encodeGreeting(mechanism: MechanismName, asServer: boolean): Buffer {
  const buf = Buffer.alloc(GREETING_SIZE)
  buf[0] = 0xff
  // 23/ZMTP: padding is "not significant"; bytes 1-8 stay zero.
  buf[9] = 0x7f
  buf[10] = ZMTP_MAJOR
  buf[11] = ZMTP_MINOR
  buf.write(mechanism, 12, "latin1")
  buf[32] = asServer ? 1 : 0
  return buf
}

/**
 * Checks the first `length` bytes of a peer's greeting as soon as they
 * arrive, so a wrong peer is dropped without waiting for 64 bytes.
 * Returns a reason when the bytes cannot start a ZMTP 3.x greeting.
 */
export function checkGreetingPrefix(buf: Buffer, length: number): string | undefined {
  if (length > 0 && buf[0] !== 0xff) return `bad signature byte 0x${hex(buf[0]!)}`
  // libzmq tests only the low bit of byte 9: a 0 there means ZMTP 1.0.
  if (length > 9 && (buf[9]! & 1) === 0) return `bad signature byte 0x${hex(buf[9]!)} at offset 9 (ZMTP 1.0 is not supported)`
  if (length > 10 && buf[10]! < 3) return `peer speaks ZMTP ${buf[10]}.x; 3.0 or later is required`
  return undefined
}

/** Parses a complete 64-byte greeting, or returns the reason it is not one. */
export function parseGreeting(buf: Buffer): Greeting | string {
  const bad = checkGreetingPrefix(buf, GREETING_SIZE)
  if (bad !== undefined) return bad
  // libzmq compares all 20 bytes: only trailing NULs are padding ("NULL\0XYZ" is not "NULL").
  let end = 32
  while (end > 12 && buf[end - 1] === 0) end--
  return {
    major: buf[10]!,
    minor: buf[11]!,
    mechanism: buf.toString("latin1", 12, end),
    asServer: buf[32] === 1,
  }
}

function hex(byte: number): string {
  return byte.toString(16).padStart(2, "0")
}
