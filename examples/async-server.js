// An asynchronous server with DEALER/ROUTER: clients send requests without
// waiting for replies, the server hands them to a pool of workers, and each
// reply finds its way back to the client that asked, in whatever order.
//
//   clients (DEALER) --> ROUTER [Proxy] DEALER --> workers (DEALER, inproc)
//
// Run: node examples/async-server.js
import { setTimeout as sleep } from "node:timers/promises"
import { Dealer, Proxy, Router } from "zmesh"

// The server: a ROUTER for clients, a DEALER for workers, and a Proxy between them.
const proxy = new Proxy(new Router(), new Dealer())
await proxy.frontEnd.bind("tcp://127.0.0.1:*")
await proxy.backEnd.bind("inproc://workers")
const proxying = proxy.run()

// Workers get [client id, request] (the ROUTER added the id) and must send it back first.
const workers = []
for (let id = 1; id <= 2; id++) {
  const worker = new Dealer()
  worker.connect("inproc://workers")
  workers.push(worker)
  void (async () => {
    for await (const [client, request] of worker) {
      await sleep(Math.random() * 20) // work of varying length: replies overtake each other
      await worker.send([client, `worker ${id} answered "${request}"`])
    }
  })()
}

// Clients: a DEALER each, named so the output is readable. All requests go out at once.
const clients = ["alice", "bob", "carol"].map((name) => {
  const client = new Dealer({ routingId: name })
  client.connect(proxy.frontEnd.lastEndpoint)
  return client
})
for (const client of clients) {
  for (const n of [1, 2]) await client.send(`request ${n} of ${client.routingId}`) // no waiting for replies
}

for (const client of clients) {
  for (let n = 0; n < 2; n++) {
    const [reply] = await client.receive()
    console.log(`${client.routingId} got: ${reply}`)
  }
}
console.log("6 requests in flight at once, each reply back at its own client")

for (const socket of [...clients, ...workers]) socket.close()
proxy.terminate()
await proxying
proxy.frontEnd.close()
proxy.backEnd.close()
