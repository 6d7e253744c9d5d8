// Hello world with REQ/REP: a client asks, a server answers, one at a time.
// Run: node examples/hello.js
import { Reply, Request } from "zmesh"

// The server binds. "tcp://127.0.0.1:*" picks a free port; lastEndpoint tells which.
const server = new Reply()
await server.bind("tcp://127.0.0.1:*")
console.log(`server listening on ${server.lastEndpoint}`)

// It answers every request, until its socket closes (then the loop ends).
const serving = (async () => {
  for await (const [name] of server) {
    await server.send(`Hello, ${name}!`)
  }
})()

// The client connects (in the background) and alternates send and receive.
const client = new Request()
client.connect(server.lastEndpoint)
for (const name of ["Ada", "Grace", "Linus"]) {
  await client.send(name)
  const [reply] = await client.receive()
  console.log(`client got: ${reply}`)
}

client.close()
server.close()
await serving
console.log("3 requests, 3 replies, in order")
