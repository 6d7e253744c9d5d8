// Lazy Pirate: reliable request-reply from the client side alone. The client
// waits a while for each reply; if none comes it closes its socket, opens a
// new one and resends; after a few tries it gives up.
// Run: node examples/lazy-pirate.js
import { Reply } from "zmesh"
import { LazyPirateClient } from "zmesh/patterns"

// A server that "crashes" on its 3rd request (it closes without replying),
// comes back 200 ms later on the same address, and stops for good after the 5th.
const first = new Reply()
await first.bind("tcp://127.0.0.1:*")
const endpoint = first.lastEndpoint
async function serve(server, { crashAt, stopAfter }) {
  let n = 0
  for await (const [request] of server) {
    n++
    if (n === crashAt) {
      console.log(`server: got "${request}" ... and crashes`)
      server.close()
      setTimeout(async () => {
        const restarted = new Reply()
        await restarted.bind(endpoint)
        console.log("server: restarted")
        void serve(restarted, { crashAt: 0, stopAfter: stopAfter - n + 1 }) // request 3 comes again
      }, 200)
      return
    }
    await server.send(`${request} done`)
    if (n === stopAfter) {
      console.log("server: shutting down for good")
      server.close()
    }
  }
}
void serve(first, { crashAt: 3, stopAfter: 5 })

const client = new LazyPirateClient(endpoint, { timeout: 500, retries: 3 })
client.events.on("retry", (e) => console.log(`client: no reply, retrying on a new socket (try ${e.attempt} of 3)`))
for (let n = 1; n <= 5; n++) {
  const [reply] = await client.request(`request ${n}`)
  console.log(`client: ${reply}`)
}
try {
  await client.request("request 6")
} catch (err) {
  console.log(`client: gave up (${err.code}): ${err.detail.replace(endpoint, "the server")}`)
}
client.close()
console.log("lost requests were retried; a dead server was given up on")
