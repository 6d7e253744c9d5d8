// A delayed message: the relay holds it on disk and delivers it when it is
// due, not before; a message sent later with no delay overtakes it.
// Run: node examples/relay-delay.js
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { RelayClient, RelayNode } from "zmesh/relay"

const dataDir = mkdtempSync(join(tmpdir(), "zmesh-relay-example-"))
const node = await RelayNode.start({ bind: "tcp://127.0.0.1:*", dataDir })
const client = new RelayClient({ relay: node.endpoint })

const sentAt = Date.now()
await client.send("reminders", "call the customer back", { delay: 1500 })
await client.send("reminders", "send the invoice now")
console.log("sent a reminder due in 1.5 s, then one due now")

const reminders = client.consume("reminders")
let received = 0
for await (const message of reminders) {
  const after = ((Date.now() - sentAt) / 1000).toFixed(1)
  console.log(`got "${message.body}" after ${after} s`)
  await message.ack()
  if (++received === 2) break
}
await reminders.close()
await client.close()
await node.close()
rmSync(dataDir, { recursive: true, force: true })
console.log("the delayed reminder came when it was due, after the one sent later without delay")
