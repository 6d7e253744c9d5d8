// Typed messages: send JavaScript values instead of bytes. Each value is one
// MessagePack frame (msgpackr, records on, structured clone off), so Dates,
// Maps, BigInts and byte arrays arrive as what they were, and any MessagePack
// library in another language can read them.
// Run: node examples/msgpack.js
import { Pull, Push, Router, Dealer } from "zmesh"
import { MsgpackCodec, typed } from "zmesh/msgpack"

// PUSH/PULL carrying order objects.
const asOrders = typed() // in TypeScript: typed<Order>(), and receive() returns an Order
const pull = asOrders(new Pull())
await pull.socket.bind("tcp://127.0.0.1:*")
const push = asOrders(new Push())
push.socket.connect(pull.socket.lastEndpoint)

await push.send({ id: 1n, items: new Map([["apple", 3]]), placed: new Date("2024-05-01T12:00:00Z"), note: null })
const order = await pull.receive()
console.log(`pull got order ${order.id} (${typeof order.id}), placed ${order.placed.toISOString()}, ${order.items.get("apple")} apples`)

// DEALER/ROUTER: the routing id travels as the envelope, the value as the last frame.
const codec = new MsgpackCodec()
const router = codec.wrap(new Router())
await router.socket.bind("tcp://127.0.0.1:*")
const dealer = codec.wrap(new Dealer({ routingId: "client-7" }))
dealer.socket.connect(router.socket.lastEndpoint)
await dealer.send({ op: "add", args: [2, 40] })
const { envelope, value } = await router.receiveWithEnvelope()
console.log(`router got ${JSON.stringify(value)} from ${envelope[0]}`)
await router.send({ result: value.args[0] + value.args[1] }, envelope)
console.log(`dealer got ${JSON.stringify(await dealer.receive())}`)

// A frame that is not MessagePack is refused with a clear error, not a crash.
const raw = new Push()
raw.connect(pull.socket.lastEndpoint)
await raw.send(Buffer.from([0xc7, 0xff]))
try {
  await pull.receive()
} catch (err) {
  console.log(`a garbage frame was refused: ${err.code}`)
}

for (const socket of [pull.socket, push.socket, router.socket, dealer.socket, raw]) socket.close()
console.log("values in, the same values out")
