// A Majordomo broker (18/MDP, MDP/0.2, with 8/MMI) that any MDP/0.2 client or
// worker can use, in any language.
// Run: node examples/majordomo/broker.js tcp://127.0.0.1:5555
// Prints "broker listening on <endpoint>" and runs until Ctrl-C (SIGINT) or SIGTERM.
import { MajordomoBroker } from "zmesh/patterns"

const endpoint = process.argv[2]
if (endpoint === undefined) {
  console.error("usage: node examples/majordomo/broker.js <bind endpoint>   (e.g. tcp://127.0.0.1:5555)")
  process.exit(2)
}

const broker = new MajordomoBroker({ heartbeatInterval: 1000, heartbeatLiveness: 3 })
broker.events.on("worker:ready", (e) => console.log(`broker: worker ${e.worker} offers "${e.service}"`))
broker.events.on("worker:lost", (e) => console.log(`broker: worker ${e.worker} of "${e.service}" left (${e.reason})`))
broker.events.on("protocol:error", (e) => console.log(`broker: ${e.error.message}`))
await broker.bind(endpoint)
console.log(`broker listening on ${broker.endpoint}`)

for (const signal of ["SIGINT", "SIGTERM"]) {
  process.on(signal, () => {
    broker.close()
    console.log("broker: stopped")
  })
}
