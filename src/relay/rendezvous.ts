/**
 * Rendezvous (highest random weight) hashing: every client ranks the relays
 * for a key (a queue) the same way, by a hash of relay and key, so a queue
 * has one preferred relay, and when one relay goes away only its queues move
 * (each to its own next-ranked relay), not everybody's.
 */

/** The indices of `relays` from the highest weight for `key` to the lowest. */
export function rank(relays: readonly string[], key: string): number[] {
  const weights = relays.map((relay) => weight(relay, key))
  return relays.map((_, i) => i).sort((a, b) => weights[b]! - weights[a]! || a - b)
}

/** A 32-bit weight: FNV-1a over relay, a separator and key (as UTF-16 code units), then a murmur3 finaliser to spread it. */
export function weight(relay: string, key: string): number {
  let h = 0x811c9dc5
  const text = `${relay}\n${key}`
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i)
    h = Math.imul(h, 0x01000193)
  }
  h ^= h >>> 16
  h = Math.imul(h, 0x85ebca6b)
  h ^= h >>> 13
  h = Math.imul(h, 0xc2b2ae35)
  h ^= h >>> 16
  return h >>> 0
}
