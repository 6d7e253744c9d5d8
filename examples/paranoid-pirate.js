// Paranoid Pirate: the queue and its workers heartbeat each other. When a
// worker dies in the middle of a request, the queue notices the silence,
// forgets the worker, and gives the request to another one: the client
// never knows. Workers that lose the queue reconnect with a backoff.
// Run: node examples/paranoid-pirate.js
import { LazyPirateClient, ParanoidPirateQueue, ParanoidPirateWorker } from "zmesh/patterns"

// Heartbeats every 100 ms; 3 silent intervals mean dead.
const heartbeat = { heartbeatInterval: 100, heartbeatLiveness: 3 }

const queue = new ParanoidPirateQueue(heartbeat)
await queue.bind("tcp://127.0.0.1:*", "tcp://127.0.0.1:*")
queue.events.on("worker:lost", (e) => console.log(`queue: ${e.worker} went silent (${e.reason}), forgotten`))
queue.events.on("request:requeued", (e) => console.log(`queue: the request ${e.worker} held goes to another worker`))

// "fragile" crashes on its first request: it stops without replying or heartbeating.
let fragile
const startWorker = async (name, handler) => {
  const ready = queue.events.next("worker:ready")
  const worker = new ParanoidPirateWorker(queue.backend.lastEndpoint, handler, { ...heartbeat, socketOptions: { routingId: name } })
  worker.start()
  await ready
  console.log(`queue: ${name} is ready`)
  return worker
}
fragile = await startWorker("fragile", ([request]) => {
  console.log(`fragile: got "${request}" ... and crashes`)
  fragile.close()
  return new Promise(() => {}) // never replies
})
const sturdy = await startWorker("sturdy", ([request]) => `sturdy did "${request}"`)

const client = new LazyPirateClient(queue.frontend.lastEndpoint, { timeout: 5000, retries: 1 })
const [reply] = await client.request("important job") // "fragile" was idle longest: it gets the job
console.log(`client: ${reply}`)
console.log("a worker died mid request; the queue requeued it and the client got one reply")

client.close()
sturdy.close()
queue.close()
