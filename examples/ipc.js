// Two local processes talking over ipc:// (a Unix domain socket in the temp
// folder): this file is the parent, a REP server, and it forks itself as the
// child, a REQ client. No TCP port is opened.
// Run: node examples/ipc.js
import { fork } from "node:child_process"
import { rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { Reply, Request } from "zmesh"

if (process.argv[2] === "child") {
  // The child: connect to the endpoint the parent gave us, ask three questions.
  const client = new Request()
  client.connect(process.argv[3])
  for (const question of ["what is your pid?", "what is 6 x 7?", "goodbye"]) {
    await client.send(question)
    const [answer] = await client.receive()
    console.log(`child ${process.pid} asked "${question}", parent said "${answer}"`)
  }
  client.close()
} else {
  // The parent: bind a socket file, fork the child, answer until it says goodbye.
  const path = join(tmpdir(), `zmesh-ipc-example-${process.pid}.sock`)
  const server = new Reply()
  await server.bind(`ipc://${path}`)
  console.log(`parent ${process.pid} listening on ipc://${path}`)

  const child = fork(fileURLToPath(import.meta.url), ["child", `ipc://${path}`])
  const answers = { "what is your pid?": String(process.pid), "what is 6 x 7?": "42", goodbye: "bye" }
  for await (const [question] of server) {
    await server.send(answers[String(question)] ?? "?")
    if (String(question) === "goodbye") break
  }
  await new Promise((resolve) => child.on("exit", resolve))
  server.close() // removes the socket file
  rmSync(path, { force: true })
  console.log("two processes, one Unix socket: 3 questions answered")
}
