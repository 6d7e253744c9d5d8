import { fork } from "node:child_process"
const [,, role, lib, ep, size, count] = process.argv
const N = Number(count), S = Number(size)
const mod = lib === "zmq" ? await import("zeromq") : await import("zmesh")
if (role === "recv") {
  const pull = new mod.Pull(); await pull.bind(ep)
  process.send?.("ready")
  let n = 0, t0 = 0
  for await (const [m] of pull) { if (n === 0) t0 = performance.now(); if (++n === N) break }
  const dt = (performance.now() - t0) / 1000
  console.log(`${lib} ${S}B: ${(N/dt/1000).toFixed(0)}k msg/s ${(N*S/dt/1e6).toFixed(1)} MB/s`)
  pull.close()
} else {
  const push = new mod.Push(); push.connect(ep)
  const msg = Buffer.alloc(S, 7)
  for (let i = 0; i < N; i++) await push.send(msg)
  push.linger = -1; push.close()
}
