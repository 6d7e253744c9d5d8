/** @internal Frame helpers shared by the patterns: envelopes, peer names, signals. */
import type { Message } from "../src/index.js"

/** A routing id as a Map key: latin1 keeps every byte. */
export function idKey(id: Buffer): string {
  return id.toString("latin1")
}

/** A routing id for humans: its text when printable ASCII, else 0x + hex. */
export function idName(id: Buffer): string {
  for (const byte of id) if (byte < 0x20 || byte > 0x7e) return `0x${id.toString("hex")}`
  return id.toString("latin1")
}

/**
 * Splits a message at its first empty frame (RFC 28's envelope delimiter):
 * the envelope keeps the delimiter. A message without one has no envelope.
 */
export function splitEnvelope(message: Message): { envelope: Buffer[]; body: Buffer[] } {
  const at = message.findIndex((frame) => frame.length === 0)
  if (at < 0) return { envelope: [], body: message }
  return { envelope: message.slice(0, at + 1), body: message.slice(at + 1) }
}

/** True when `frame` holds exactly the one byte `value` (PPP and MDP command codes). */
export function isByte(frame: Buffer | undefined, value: number): boolean {
  return frame !== undefined && frame.length === 1 && frame[0] === value
}

/** A wake-up for loops that wait on state another loop changes. */
export class Signal {
  private waiters: Array<() => void> = []

  wait(): Promise<void> {
    return new Promise((resolve) => this.waiters.push(resolve))
  }

  notify(): void {
    const waiters = this.waiters
    this.waiters = []
    for (const wake of waiters) wake()
  }
}
