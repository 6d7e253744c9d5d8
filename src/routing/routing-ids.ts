/** Routing ids for peers that bring none: libzmq's 0x00 + a u32 counter from a random start (ROUTER, STREAM). */
import { randomInt } from "node:crypto"

export class RoutingIds {
  private counter = randomInt(0x100000000)

  next(): Buffer {
    const id = Buffer.allocUnsafe(5)
    id[0] = 0
    id.writeUInt32BE(this.counter, 1)
    this.counter = (this.counter + 1) >>> 0
    return id
  }
}
