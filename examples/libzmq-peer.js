// zmesh and libzmq on the same wire: a zmesh REP server answers a client
// built on libzmq (the `zeromq` package, a native addon), and a libzmq
// publisher feeds a zmesh subscriber.
//
// This example needs the development install: `zeromq` is a devDependency
// of zmesh, so run `npm install` (or `npm ci`) in the zmesh repository first.
// Run: node examples/libzmq-peer.js
import { Reply, Subscriber } from "zmesh"

let zmq
try {
  zmq = await import("zeromq")
} catch {
  console.log("skipped: this example needs the `zeromq` package (a devDependency): run `npm install` in the zmesh repository")
  process.exit(0)
}

// 1. zmesh REP server, libzmq REQ client.
const server = new Reply()
await server.bind("tcp://127.0.0.1:*")
const client = new zmq.Request()
client.connect(server.lastEndpoint)
await client.send("hello from libzmq")
const [question] = await server.receive()
await server.send(`hello from zmesh (you said "${question}")`)
const [answer] = await client.receive()
console.log(`libzmq client got: ${answer}`)

// 2. libzmq PUB, zmesh SUB with a topic filter.
const publisher = new zmq.Publisher()
await publisher.bind("tcp://127.0.0.1:*")
const subscriber = new Subscriber()
subscriber.connect(publisher.lastEndpoint)
subscriber.subscribe("news")
// libzmq drops messages until it has our subscription: publish until the first one arrives.
const publishing = setInterval(() => {
  void publisher.send(["sports", "ignored"])
  void publisher.send(["news", "zmesh and libzmq interoperate"])
}, 10)
const [topic, body] = await subscriber.receive()
clearInterval(publishing)
console.log(`zmesh subscriber got: [${topic}] ${body}`)

for (const socket of [client, publisher]) {
  socket.linger = 0
  socket.close()
}
server.close()
subscriber.close()
console.log(`zmesh ${"\u2194"} libzmq ${zmq.version}: both directions work`)
