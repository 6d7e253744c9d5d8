/**
 * Idempotent producers: per producer epoch (one per client instance), the
 * seq each recent send was stored as, by the producer's own send number. A
 * resend after a lost confirm carries the same number and gets the original
 * receipt. The most recent PRODUCER_RECEIPTS are kept per epoch (in a ring
 * of typed arrays), and an epoch silent for PRODUCER_TTL is forgotten.
 */
import { PRODUCER_RECEIPTS } from "./store.js"

/** ms an epoch is kept after its last send. */
export const PRODUCER_TTL = 24 * 3600 * 1000

/** One epoch's receipts: a ring indexed by send number (slot = pseq mod size), growing to PRODUCER_RECEIPTS. */
class Epoch {
  pseqs = new Float64Array(16)
  seqs = new Float64Array(16)
  lastAt = 0

  get(pseq: number): number | undefined {
    const slot = pseq % this.pseqs.length
    return this.pseqs[slot] === pseq ? this.seqs[slot] : undefined
  }

  set(pseq: number, seq: number): void {
    if (pseq >= this.pseqs.length && this.pseqs.length < PRODUCER_RECEIPTS) this.grow(Math.min(PRODUCER_RECEIPTS, 2 ** Math.ceil(Math.log2(pseq + 1))))
    const slot = pseq % this.pseqs.length
    this.pseqs[slot] = pseq
    this.seqs[slot] = seq
  }

  delete(pseq: number): void {
    const slot = pseq % this.pseqs.length
    if (this.pseqs[slot] === pseq) this.pseqs[slot] = 0
  }

  *entries(): IterableIterator<[number, number]> {
    for (let i = 0; i < this.pseqs.length; i++) if (this.pseqs[i]! > 0) yield [this.pseqs[i]!, this.seqs[i]!]
  }

  private grow(size: number): void {
    const entries = [...this.entries()]
    this.pseqs = new Float64Array(size)
    this.seqs = new Float64Array(size)
    for (const [pseq, seq] of entries) {
      this.pseqs[pseq % size] = pseq
      this.seqs[pseq % size] = seq
    }
  }
}

export class ProducerTable {
  private readonly epochs = new Map<string, Epoch>()
  private last: { producerId: string; epoch: string; e: Epoch } | undefined

  /** The seq send number `pseq` of this producer epoch was stored as, if known. */
  find(producerId: string, epoch: string, pseq: number): number | undefined {
    return this.epoch(producerId, epoch, false)?.get(pseq)
  }

  put(producerId: string, epoch: string, pseq: number, seq: number, at: number): void {
    const e = this.epoch(producerId, epoch, true)!
    // Send number pseq takes the slot of pseq - PRODUCER_RECEIPTS (once the ring is full size).
    e.set(pseq, seq)
    if (at > e.lastAt) e.lastAt = at
  }

  /** Forgets a staged receipt whose commit failed. */
  remove(producerId: string, epoch: string, pseq: number, seq: number): void {
    const e = this.epoch(producerId, epoch, false)
    if (e?.get(pseq) === seq) e.delete(pseq)
  }

  /**
   * The receipts of an epoch (made if `create`). Sends come in runs of one
   * producer, so the last epoch is at hand: comparing two short strings
   * instead of building and hashing a key per lookup.
   */
  private epoch(producerId: string, epoch: string, create: boolean): Epoch | undefined {
    const last = this.last
    if (last !== undefined && last.producerId === producerId && last.epoch === epoch) return last.e
    const k = key(producerId, epoch)
    let e = this.epochs.get(k)
    if (e === undefined) {
      if (!create) return undefined
      this.epochs.set(k, (e = new Epoch()))
    }
    this.last = { producerId, epoch, e }
    return e
  }

  /** [producerId, epoch, lastAt, (pseq, seq) pairs] per epoch, receipts up to seq `upTo`; forgets epochs past their TTL. */
  snapshot(upTo: number, now: number): ProducerSnapshot[] {
    const out: ProducerSnapshot[] = []
    for (const [k, e] of this.epochs) {
      if (now - e.lastAt > PRODUCER_TTL) {
        this.epochs.delete(k)
        if (this.last?.e === e) this.last = undefined
        continue
      }
      const pairs: number[] = []
      for (const [pseq, seq] of e.entries()) if (seq <= upTo) pairs.push(pseq, seq)
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
