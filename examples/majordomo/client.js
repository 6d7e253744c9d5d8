// A Majordomo client: asks a broker whether a service exists (8/MMI), sends
// it a request, prints every reply, and exits.
// Run: node examples/majordomo/client.js tcp://127.0.0.1:5555 [service] [message...]
import { MajordomoClient } from "zmesh/patterns"

const [broker, service = "echo", ...message] = process.argv.slice(2)
if (broker === undefined) {
  console.error("usage: node examples/majordomo/client.js <broker endpoint> [service] [message...]")
  process.exit(2)
}

const client = new MajordomoClient(broker, { timeout: 2500, retries: 3 })
if (!(await client.hasService(service))) {
  console.log(`client: the broker has no worker for "${service}" (mmi.service said 404)`)
} else {
  const reply = await client.request(service, message.length > 0 ? message : ["hello"], {
    onPartial: ([partial]) => console.log(`client: partial reply: ${partial}`),
  })
  console.log(`client: final reply: ${reply.join(" ")}`)
}
client.close()
