import { spawn } from "node:child_process"
const [lib, ep, size, count] = process.argv.slice(2)
const r = spawn("node", ["bench/e2e/thr-probe.mjs", "recv", lib, ep, size, count], { stdio: ["ignore", "inherit", "inherit", "ipc"] })
r.on("message", () => { spawn("node", ["bench/e2e/thr-probe.mjs", "send", lib, ep, size, count], { stdio: "inherit" }) })
