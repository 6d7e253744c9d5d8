// The main demo, run by `npm start`: each socket pattern zmesh has so far,
// in one process, with the public API. Every part is a few lines; read it
// top to bottom.
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Pair, Publisher, Pull, Push, Reply, Request, Subscriber, curveKeyPair } from "zmesh"

const sockets = []
const track = (socket) => (sockets.push(socket), socket)
const handshake = (socket) => new Promise((resolve) => socket.events.on("handshake", resolve))

// 1. Pipeline over tcp: a ventilator pushes tasks, two workers pull them round-robin.
const ventilator = track(new Push())
await ventilator.bind("tcp://127.0.0.1:*")
console.log(`pipeline: ventilator bound at ${ventilator.lastEndpoint}`)
const workers = [track(new Pull()), track(new Pull())]
for (const worker of workers) {
  const ready = handshake(ventilator)
  worker.connect(ventilator.lastEndpoint)
  await ready
}
for (let task = 1; task <= 4; task++) await ventilator.send(["task", String(task)])
for (const [i, worker] of workers.entries()) {
  for (let n = 0; n < 2; n++) {
    const [kind, id] = await worker.receive()
    console.log(`pipeline: worker ${i + 1} got ${kind} ${id}`)
  }
}

// 2. Request-reply over ipc (a Unix socket, for local processes), encrypted with CURVE.
const server = curveKeyPair()
const path = join(tmpdir(), `zmesh-demo-${process.pid}.sock`)
const rep = track(new Reply({ curveServer: true, curveSecretKey: server.secretKey }))
await rep.bind(`ipc://${path}`)
const req = track(new Request({ curveServerKey: server.publicKey, curveSecretKey: curveKeyPair().secretKey }))
req.connect(`ipc://${path}`)
await req.send("what time is it?")
const [question] = await rep.receive()
await rep.send(`${new Date().toISOString()} (you asked: ${question})`)
console.log(`request-reply (CURVE over ipc): ${(await req.receive())[0]}`)

// 3. Publish-subscribe in one process over inproc: subscribers see only their topics.
const pub = track(new Publisher())
await pub.bind("inproc://weather")
const paris = track(new Subscriber())
paris.connect("inproc://weather")
paris.subscribe("paris.")
await pub.send(["london.temp", "9"])
await pub.send(["paris.temp", "12"])
const [topic, value] = await paris.receive()
console.log(`publish-subscribe (inproc): ${topic} = ${value}`)

// 4. PAIR: exactly two peers, both ways.
const left = track(new Pair())
const right = track(new Pair())
await left.bind("inproc://pair")
right.connect("inproc://pair")
await right.send("ping")
console.log(`pair: left got ${(await left.receive())[0]}`)
await left.send("pong")
console.log(`pair: right got ${(await right.receive())[0]}`)

for (const socket of sockets) socket.close()
