// Divide and conquer with PUSH/PULL: a ventilator hands out tasks, workers
// do them in parallel, a sink collects the results.
//
//   ventilator (PUSH) --> workers (PULL ... PUSH) --> sink (PULL)
//
// Run: node examples/pipeline.js
import { setTimeout as sleep } from "node:timers/promises"
import { Pull, Push } from "zmesh"

const TASKS = 30
const WORKERS = 3

// The sink binds first so that no result is lost.
const sink = new Pull()
await sink.bind("tcp://127.0.0.1:*")

const ventilator = new Push()
await ventilator.bind("tcp://127.0.0.1:*")

// Each worker pulls a task (a number of ms of "work"), sleeps that long, and pushes a result.
const workers = []
for (let id = 1; id <= WORKERS; id++) {
  const tasks = new Pull()
  const results = new Push()
  results.connect(sink.lastEndpoint)
  workers.push({ tasks, results })
  void (async () => {
    for await (const [ms] of tasks) {
      await sleep(Number(ms))
      await results.send([`worker ${id}`, ms])
    }
  })()
}

// PUSH round-robins over connected workers only: wait until all three are connected,
// or the first one to connect would get every task.
let connected = 0
const allConnected = new Promise((resolve) =>
  ventilator.events.on("handshake", () => {
    if (++connected === WORKERS) resolve()
  }),
)
for (const { tasks } of workers) tasks.connect(ventilator.lastEndpoint)
await allConnected

const started = Date.now()
let totalMs = 0
for (let task = 0; task < TASKS; task++) {
  const ms = 1 + Math.floor(Math.random() * 20)
  totalMs += ms
  await ventilator.send(String(ms))
}
console.log(`ventilator sent ${TASKS} tasks, ${totalMs} ms of work in all`)

const perWorker = new Map()
for (let done = 0; done < TASKS; done++) {
  const [worker] = await sink.receive()
  perWorker.set(String(worker), (perWorker.get(String(worker)) ?? 0) + 1)
}
const elapsed = Date.now() - started
for (const [worker, count] of [...perWorker].sort()) console.log(`${worker} did ${count} tasks`)
console.log(`sink got all ${TASKS} results in ${elapsed} ms (${WORKERS} workers in parallel)`)

for (const { tasks, results } of workers) {
  tasks.close()
  results.close()
}
ventilator.close()
sink.close()
