// The main demo: a PUSH/PULL pipeline over tcp and a PAIR over ipc, all in one
// process, with zmesh's public API. Run it with `npm start`.
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Pair, Pull, Push } from "zmesh"

// A pipeline: one ventilator pushes tasks, two workers pull them round-robin.
const workers = [new Pull(), new Pull()]
const ventilator = new Push()
await ventilator.bind("tcp://127.0.0.1:*")
console.log(`ventilator bound at ${ventilator.lastEndpoint}`)
for (const worker of workers) worker.connect(ventilator.lastEndpoint)
await Promise.all(workers.map((w) => new Promise((resolve) => w.events.on("handshake", resolve))))

for (let task = 1; task <= 6; task++) await ventilator.send(["task", String(task)])
for (const [i, worker] of workers.entries()) {
  for (let n = 0; n < 3; n++) {
    const [kind, id] = await worker.receive()
    console.log(`worker ${i + 1} got ${kind} ${id}`)
  }
}

// Two local processes would use ipc:// the same way; here both ends share one process.
const path = join(tmpdir(), `zmesh-demo-${process.pid}.sock`)
const left = new Pair()
const right = new Pair()
await left.bind(`ipc://${path}`)
right.connect(`ipc://${path}`)
await right.send("ping over ipc")
console.log(`left got: ${(await left.receive())[0]}`)
await left.send("pong")
console.log(`right got: ${(await right.receive())[0]}`)

for (const socket of [ventilator, ...workers, left, right]) socket.close()
