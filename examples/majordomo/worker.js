// A Majordomo worker: registers a service with a broker and answers requests,
// sending one PARTIAL reply before the FINAL one.
// Run: node examples/majordomo/worker.js tcp://127.0.0.1:5555 [service]
// Runs until Ctrl-C (SIGINT) or SIGTERM; the default service is "echo".
import { MajordomoWorker } from "zmesh/patterns"

const [broker, service = "echo"] = process.argv.slice(2)
if (broker === undefined) {
  console.error("usage: node examples/majordomo/worker.js <broker endpoint> [service]")
  process.exit(2)
}

const worker = new MajordomoWorker(broker, service, async (request, partial) => {
  await partial("working on it")
  return request.map((frame) => String(frame).toUpperCase())
}, { heartbeatInterval: 1000, heartbeatLiveness: 3 })
worker.events.on("ready", () => console.log(`worker: offering "${service}" at ${broker}`))
worker.events.on("broker:lost", (e) => console.log(`worker: broker lost (${e.reason}), reconnecting`))
worker.start()

for (const signal of ["SIGINT", "SIGTERM"]) {
  process.on(signal, () => {
    worker.close() // says DISCONNECT to the broker
    console.log("worker: stopped")
  })
}
