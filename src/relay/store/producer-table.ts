/**
 * Idempotent producers: per producer epoch (one per client instance), the
 * seq each recent send was stored as, by the producer's own send number. A
 * resend after a lost confirm carries the same number and gets the original
 * receipt. The most recent PRODUCER_RECEIPTS are kept per epoch, and an
 * epoch silent for PRODUCER_TTL is forgotten.
 */
import { PRODUCER_RECEIPTS } from "./store.js"

/** ms an epoch is kept after its last send. */
export const PRODUCER_TTL = 24 * 3600 * 1000

class Epoch {
  readonly receipts = new Map<number, number>()
  lastAt = 0
}

export class ProducerTable {
  private readonly epochs = new Map<string, Epoch>()

  get size(): number {
    return this.epochs.size
  }

  /** The seq send number `pseq` of this producer epoch was stored as, if known. */
  find(producerId: string, epoch: string, pseq: number): number | undefined {
    return this.epochs.get(key(producerId, epoch))?.receipts.get(pseq)
  }

  put(producerId: string, epoch: string, pseq: number, seq: number, at: number): void {
    const k = key(producerId, epoch)
    let e = this.epochs.get(k)
    if (e === undefined) this.epochs.set(k, (e = new Epoch()))
    e.receipts.set(pseq, seq)
    if (at > e.lastAt) e.lastAt = at
    // Oldest first in insertion order: drop past the bound.
    if (e.receipts.size > PRODUCER_RECEIPTS) e.receipts.delete(e.receipts.keys().next().value!)
  }

  /** Forgets a staged receipt whose commit failed. */
  remove(producerId: string, epoch: string, pseq: number, seq: number): void {
    const e = this.epochs.get(key(producerId, epoch))
    if (e?.receipts.get(pseq) === seq) e.receipts.delete(pseq)
  }

  /** [producerId, epoch, lastAt, (pseq, seq) pairs] per epoch, receipts up to seq `upTo`; forgets epochs past their TTL. */
  snapshot(upTo: number, now: number): ProducerSnapshot[] {
    const out: ProducerSnapshot[] = []
    for (const [k, e] of this.epochs) {
      if (now - e.lastAt > PRODUCER_TTL) {
        this.epochs.delete(k)
        continue
      }
      const pairs: number[] = []
      for (const [pseq, seq] of e.receipts) if (seq <= upTo) pairs.push(pseq, seq)
      const [producerId, epoch] = split(k)
      if (pairs.length > 0) out.push([producerId, epoch, e.lastAt, pairs])
    }
    return out
  }

  restore(snapshot: readonly ProducerSnapshot[]): void {
    for (const [producerId, epoch, lastAt, pairs] of snapshot) {
      for (let i = 0; i + 1 < pairs.length; i += 2) this.put(producerId, epoch, pairs[i]!, pairs[i + 1]!, lastAt)
    }
  }
}

export type ProducerSnapshot = [string, string, number, number[]]

function key(producerId: string, epoch: string): string {
  return `${producerId}\n${epoch}`
}

function split(k: string): [string, string] {
  const i = k.lastIndexOf("\n")
  return [k.slice(0, i), k.slice(i + 1)]
}
