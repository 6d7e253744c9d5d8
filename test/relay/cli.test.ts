/** `zmesh relay` as a process: its start line, logs, clean stop on SIGINT/SIGTERM, and clear failures. */
import { writeFileSync } from "node:fs"
import { join } from "node:path"
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest"
import { RelayClient } from "../../src/relay/index.js"
import { type CliRelay, ensureBuilt, killIfAlive, runCli, startCli } from "./cli-helpers.js"
import { removeTempDirs, take, tempDir } from "./helpers.js"

describe("zmesh relay (the CLI)", () => {
  let relay: CliRelay | undefined
  let client: RelayClient | undefined
  beforeAll(() => ensureBuilt(), 120_000)
  afterEach(async () => {
    await client?.close()
    client = undefined
    killIfAlive(relay)
    relay = undefined
  })
  afterAll(() => removeTempDirs())

  it("prints its resolved endpoint, serves, logs stats, and on SIGTERM finishes and exits 0", async () => {
    const dir = tempDir()
    relay = await startCli(["--bind", "tcp://127.0.0.1:*", "--data", dir, "--stats-interval", "100"])
    expect(relay.endpoint).toMatch(/^tcp:\/\/127\.0\.0\.1:\d+$/)
    expect(relay.stdout()).toMatch(/recovered 0 queues, 0 messages, 0 delayed in \d+ ms/)
    client = new RelayClient({ relay: relay.endpoint })
    await client.send("cli", "hello")
    await relay.line(/stats: .*queues: cli 1/)
    relay.proc.kill("SIGTERM")
    expect(await relay.exited).toBe(0)
    expect(relay.stdout()).toMatch(/stopping \(SIGTERM\): finishing the commit in flight\n.*stopped after \d+ group commits of \d+ operations\n$/)
    expect(relay.stderr()).toBe("")
    // Restarted on the same data: the message is there, and the log says what was recovered.
    relay = await startCli(["--bind", "tcp://127.0.0.1:*", "--data", dir, "--stats-interval", "0"])
    expect(relay.stdout()).toMatch(/recovered 1 queues, 1 messages, 0 delayed/)
    await client.close()
    client = new RelayClient({ relay: relay.endpoint })
    const [m] = await take(client.consume("cli"), 1)
    expect(m!.body.toString()).toBe("hello")
    await m!.ack()
    relay.proc.kill("SIGINT")
    expect(await relay.exited).toBe(0)
    expect(relay.stdout()).toMatch(/stopping \(SIGINT\)/)
  })

  it("exits 2 with the usage on a bad flag or value", async () => {
    const bad = await runCli(["relay", "--bnd", "tcp://127.0.0.1:*"])
    expect(bad.code).toBe(2)
    expect(bad.stderr).toMatch(/^zmesh relay: Unknown option '--bnd'/)
    expect(bad.stderr).toMatch(/usage: zmesh relay/)
    const value = await runCli(["relay", "--max-delay", "soon"])
    expect(value.code).toBe(2)
    expect(value.stderr).toMatch(/--max-delay wants a positive integer, not "soon"/)
    const window = await runCli(["relay", "--dedup-window=1.5"])
    expect(window.code).toBe(2)
    expect(window.stderr).toMatch(/--dedup-window wants a non-negative integer, not "1\.5"/)
  })

  it("--dedup-window 0 turns the id window off: a resent id is stored again (by default it is a duplicate)", async () => {
    relay = await startCli(["--bind", "tcp://127.0.0.1:*", "--data", tempDir(), "--stats-interval", "0", "--dedup-window", "0"])
    client = new RelayClient({ relay: relay.endpoint })
    const first = await client.send("cli", "once", { id: "order-1" })
    const again = await client.send("cli", "once", { id: "order-1" })
    expect(again.duplicate).toBe(false)
    expect(again.seq).toBeGreaterThan(first.seq)
    const got = await take(client.consume("cli"), 2)
    expect(got.map((m) => [m.id, m.seq])).toEqual([
      ["order-1", first.seq],
      ["order-1", again.seq],
    ])
    for (const m of got) await m.ack()
  })

  it("exits 1 with a clear message when the port is in use, the folder is locked, or it is not a folder", async () => {
    const dir = tempDir()
    relay = await startCli(["--bind", "tcp://127.0.0.1:*", "--data", dir, "--stats-interval", "0"])
    const port = await runCli(["relay", "--bind", relay.endpoint, "--data", tempDir()])
    expect(port.code).toBe(1)
    expect(port.stderr).toMatch(/could not start: could not bind tcp:\/\/127\.0\.0\.1:\d+: .*EADDRINUSE/)
    const locked = await runCli(["relay", "--bind", "tcp://127.0.0.1:*", "--data", dir])
    expect(locked.code).toBe(1)
    expect(locked.stderr).toMatch(new RegExp(`data folder .* is in use by a running relay \\(pid ${relay.proc.pid}`))
    const file = join(tempDir(), "a-file")
    writeFileSync(file, "")
    const notDir = await runCli(["relay", "--bind", "tcp://127.0.0.1:*", "--data", file])
    expect(notDir.code).toBe(1)
    expect(notDir.stderr).toMatch(/data folder .*a-file: it, or a folder above it, is not a folder/)
    const below = await runCli(["relay", "--bind", "tcp://127.0.0.1:*", "--data", join(file, "sub")])
    expect(below.code).toBe(1)
    expect(below.stderr).toMatch(/is not a folder \(ENOTDIR\)/)
  })
})
