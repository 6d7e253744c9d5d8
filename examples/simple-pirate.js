// Simple Pirate: a queue between Lazy Pirate clients and a pool of workers.
// Workers say READY; the queue gives each request to the worker idle longest.
// Run: node examples/simple-pirate.js
import { LazyPirateClient, SimplePirateQueue, SimplePirateWorker } from "zmesh/patterns"

const queue = new SimplePirateQueue()
await queue.bind("tcp://127.0.0.1:*", "tcp://127.0.0.1:*") // frontend for clients, backend for workers

// Two workers; wait until the queue has both.
const workers = []
for (const name of ["worker-a", "worker-b"]) {
  const ready = queue.events.next("worker:ready")
  const worker = new SimplePirateWorker(queue.backend.lastEndpoint, ([n]) => `${name}: ${n} squared is ${Number(n) ** 2}`, {
    socketOptions: { routingId: name },
  })
  worker.start()
  workers.push(worker)
  console.log(`queue: ${(await ready).worker} is ready`)
}

const client = new LazyPirateClient(queue.frontend.lastEndpoint, { timeout: 2000, retries: 3 })
for (let n = 1; n <= 4; n++) {
  const [reply] = await client.request(String(n))
  console.log(`client: ${reply}`)
}
console.log("requests took turns between the two workers")

client.close()
for (const worker of workers) worker.close()
queue.close()
