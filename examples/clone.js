// Clone: reliable key-value state shared by many clients. Clients send
// updates to the server, the server numbers and republishes them, and a
// client that joins late first takes a snapshot, then follows the updates.
// Run: node examples/clone.js
import { CloneClient, CloneServer } from "zmesh/patterns"

const server = new CloneServer({ heartbeatInterval: 200 })
await server.bind({ snapshot: "tcp://127.0.0.1:*", updates: "tcp://127.0.0.1:*", collector: "tcp://127.0.0.1:*" })

// An early client writes some state. set() resolves once the server has numbered
// the update and it came back, so get() reads it at once.
const early = new CloneClient(server.endpoints, { heartbeatInterval: 200 })
await early.start()
await early.set("lights/kitchen", "on")
await early.set("lights/garden", "off")
await early.set("thermostat", "21")
await early.set("session/visitor", "alice", { ttl: 300 }) // the server deletes it after 300 ms
console.log(`early client wrote 4 keys; the server is at sequence ${server.sequence}`)

// A late client joins: it catches up from a snapshot, whatever it missed.
const late = new CloneClient(server.endpoints, { heartbeatInterval: 200 })
await late.start()
console.log(`late client caught up at sequence ${late.sequence}: thermostat=${late.get("thermostat")}, kitchen=${late.get("lights/kitchen")}`)

// A client may mirror only a subtree.
const lights = new CloneClient(server.endpoints, { heartbeatInterval: 200, subtree: "lights/" })
await lights.start()
console.log(`"lights/" client sees only: ${[...lights.entries.keys()].sort().join(", ")}`)

// From now on every update reaches every client, in the same order.
const seen = [late, lights].map((client) => client.events.next("update", (e) => e.key === "lights/garden"))
await early.set("lights/garden", "on")
await Promise.all(seen)
console.log(`after an update: late client has garden=${late.get("lights/garden")}, "lights/" client has garden=${lights.get("lights/garden")}`)

// The ttl runs out: the server publishes a delete.
if (late.get("session/visitor") !== undefined) await late.events.next("update", (e) => e.key === "session/visitor" && e.deleted)
console.log(`the visitor's session expired: late client has session/visitor=${late.get("session/visitor")}`)

for (const client of [early, late, lights]) client.close()
server.close()
console.log("every client agrees on the state, late joiners included")
