// A connect flood from outside the publisher's process:
//   node connect-flood-peer.mjs host port count concurrency
// opens `count` TCP connections to host:port, `concurrency` dialing at a
// time (keep it under the listener's backlog: past it the kernel drops SYNs
// and the retries take seconds), and never sends a byte. Tells the parent
// (IPC) "connected" with the count, then "closed" once the other side has
// closed them all, and exits; a connection that fails is reported as
// "failed" at once.
import net from "node:net"

const [host, port, count, concurrency] = [process.argv[2], Number(process.argv[3]), Number(process.argv[4]), Number(process.argv[5])]
let open = 0
let closed = 0
let next = 0

function dial() {
  if (next === count) return
  next++
  const socket = net.connect(port, host)
  socket.on("error", (err) => {
    if (socket.connecting) process.send?.({ type: "failed", count: next, error: String(err) })
  })
  socket.on("data", () => {}) // the publisher's greeting; never answered
  socket.once("connect", () => {
    if (++open === count) process.send?.({ type: "connected", count: open })
    dial()
  })
  socket.once("close", () => {
    if (++closed === count) {
      process.send?.({ type: "closed", count: closed })
      process.disconnect()
    }
  })
}

for (let i = 0; i < Math.min(concurrency, count); i++) dial()
process.on("disconnect", () => process.exit(0))
