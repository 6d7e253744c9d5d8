// Store-and-forward through a durable relay: the producer sends while no
// consumer exists, the relay keeps every message on disk, and a consumer
// that starts later gets them all, in order, and acknowledges each one.
// Run: node examples/relay-store-and-forward.js
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { RelayClient, RelayNode } from "zmesh/relay"

const dataDir = mkdtempSync(join(tmpdir(), "zmesh-relay-example-"))
const node = await RelayNode.start({ bind: "tcp://127.0.0.1:*", dataDir })
console.log(`relay listening on ${node.endpoint}, storing in a temporary folder`)

// The producer: each send resolves only once the relay has the message on disk.
const producer = new RelayClient({ relay: node.endpoint })
for (let n = 1; n <= 3; n++) {
  const receipt = await producer.send("orders", `order ${n}`)
  console.log(`producer: order ${n} is durable (seq ${receipt.seq}); no consumer is running`)
}
await producer.close()

// Later, a consumer starts: everything sent while it was away is waiting for it.
const consumer = new RelayClient({ relay: node.endpoint })
const orders = consumer.consume("orders", { group: "billing" })
let received = 0
for await (const message of orders) {
  console.log(`consumer: got "${message.body}" (delivery ${message.deliveryCount})`)
  await message.ack()
  if (++received === 3) break
}
await orders.close()
await consumer.close()
await node.close()
rmSync(dataDir, { recursive: true, force: true })
console.log("all 3 orders sent while no consumer ran were delivered once it started")
