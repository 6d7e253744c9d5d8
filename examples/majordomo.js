// Majordomo: service-oriented request-reply through a broker. This tour runs
// the stand-alone broker and a worker as separate processes (the same
// scripts you can point any MDP/0.2 program at), then asks them from here.
// Run: node examples/majordomo.js
import { spawn } from "node:child_process"
import { createInterface } from "node:readline"
import { fileURLToPath } from "node:url"
import { MajordomoClient } from "zmesh/patterns"

const script = (name) => fileURLToPath(new URL(`majordomo/${name}`, import.meta.url))

/** Starts a script and resolves with the child and the first output line matching `ready`. */
function start(name, args, ready) {
  const child = spawn(process.execPath, [script(name), ...args], { stdio: ["ignore", "pipe", "inherit"] })
  const lines = createInterface({ input: child.stdout })
  return new Promise((resolve, reject) => {
    child.on("exit", (code) => reject(new Error(`${name} exited with ${code}`)))
    lines.on("line", (line) => {
      console.log(`  [${name}] ${line}`)
      const match = ready.exec(line)
      if (match !== null) resolve({ child, match })
    })
  })
}

// The broker binds a free port and tells us which.
const broker = await start("broker.js", ["tcp://127.0.0.1:*"], /listening on (\S+)/)
const endpoint = broker.match[1]
const worker = await start("worker.js", [endpoint, "shout"], /offering/)

const client = new MajordomoClient(endpoint, { timeout: 5000, retries: 3 })
// The worker process is up; its READY may still be on the way: ask until the broker knows the service.
while (!(await client.hasService("shout"))) await new Promise((resolve) => setTimeout(resolve, 50))
console.log(`client: mmi.service says "shout" exists, "nobody" ${(await client.hasService("nobody")) ? "exists" : "does not"}`)
const reply = await client.request("shout", ["hello", "majordomo"], {
  onPartial: ([partial]) => console.log(`client: partial reply "${partial}"`),
})
console.log(`client: final reply "${reply.join(" ")}"`)
client.close()

for (const { child } of [worker, broker]) {
  child.removeAllListeners("exit")
  const exited = new Promise((resolve) => child.on("exit", resolve))
  child.kill("SIGTERM")
  await exited
}
console.log("a broker and a worker in their own processes served a client by service name")
