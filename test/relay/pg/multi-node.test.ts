/**
 * Several relay nodes over one PostgreSQL database, under load from
 * concurrent producers and consumers on every node: a node killed with
 * SIGKILL loses nothing confirmed (its holds expire to the other node), and
 * a PostgreSQL restart gives clients errors or waits, never a lost confirmed
 * message. Acks that resolved stay acked.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest"
import { PostgresStore, RelayNode } from "../../../src/relay/index.js"
import { type CliRelay, ensureBuilt, killIfAlive, startCli } from "../cli-helpers.js"
import { type Cluster, restartCluster, startCluster, stopCluster } from "./cluster.js"
import { allDelivered, type Load, newLedger, startLoad } from "./load.js"
import { pgUrl, skipWithoutPg } from "./server.js"

const url = pgUrl()

/** Resolves after `ms` of load (the load runs by itself; this only paces the scenario). */
const during = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

if (url === undefined) skipWithoutPg("several relay nodes on PostgreSQL")
else {
  describe("several relay nodes on one PostgreSQL", () => {
    const relays: CliRelay[] = []
    let load: Load | undefined
    beforeAll(() => ensureBuilt(), 120_000)
    afterEach(async () => {
      await load?.close()
      load = undefined
      for (const r of relays.splice(0)) killIfAlive(r)
    })

    it("loses no confirmed message when one of two CLI relays is SIGKILLed mid-load; its held messages go to the other", async () => {
      const schema = `mn_${process.pid}_${Date.now()}`
      const args = ["--bind", "tcp://127.0.0.1:*", "--store", url, "--schema", schema, "--hold-timeout", "1000", "--stats-interval", "0"]
      const a = await startCli(args)
      relays.push(a)
      const b = await startCli(args)
      relays.push(b)
      expect(a.endpoint, a.stderr()).not.toBe("")
      expect(b.endpoint, b.stderr()).not.toBe("")
      const ledger = newLedger()
      // a's consumer leaves some deliveries unacked: a holds them when it dies.
      load = startLoad([a.endpoint, b.endpoint], "shared", ledger, { holdBack: { endpoint: a.endpoint, every: 10 } })
      await during(1500)
      const beforeKill = ledger.confirmed.size
      a.proc.kill("SIGKILL")
      expect(await a.exited).toBe("SIGKILL")
      // b carries on alone; a's clients fail or wait.
      await during(1000)
      await load.stopSending()
      await allDelivered(ledger, 15_000)
      expect(beforeKill).toBeGreaterThan(50)
      expect(ledger.confirmed.size).toBeGreaterThan(beforeKill)
      expect(ledger.cameBack).toEqual([])
      // What a held (delivered, not acked) when it died went to b's consumer once a's holds expired.
      expect(ledger.heldBack.size).toBeGreaterThan(0)
      b.proc.kill("SIGTERM")
      expect(await b.exited).toBe(0)
      expect(b.stderr()).toBe("")
    }, 60_000)

    describe("with a PostgreSQL server of its own, restarted mid-load", () => {
      let cluster: Cluster | undefined
      const nodes: RelayNode[] = []
      beforeAll(async () => {
        cluster = await startCluster()
      }, 60_000)
      afterAll(async () => {
        await load?.close()
        for (const n of nodes) await n.close()
        if (cluster !== undefined) stopCluster(cluster)
      })

      it("gives clients errors or waits during the restart, never loses a confirmed message, and recovers by itself", async () => {
        const logs: string[] = []
        for (let i = 0; i < 2; i++) {
          const store = new PostgresStore({ connectionString: cluster!.url, schema: "restart", holdTimeout: 5000, connectTimeout: 2000 })
          const log = (level: string, message: string) => void logs.push(`node ${i} ${level}: ${message}`)
          nodes.push(await RelayNode.start({ bind: "tcp://127.0.0.1:*", dataDir: "", store, log, sessionTimeout: 5000 }))
        }
        const ledger = newLedger()
        load = startLoad(
          nodes.map((n) => n.endpoint),
          "restarted",
          ledger,
        )
        await during(1000)
        const before = ledger.confirmed.size
        await restartCluster(cluster!)
        const failedDuring = ledger.failed.length
        await during(1500)
        await load.stopSending()
        await allDelivered(ledger, 20_000)
        expect(before).toBeGreaterThan(50)
        // The restart was felt (refused sends, logged store errors), and sends went on after it.
        expect(failedDuring + logs.filter((l) => l.includes("error")).length, logs.join("\n")).toBeGreaterThan(0)
        expect(ledger.confirmed.size).toBeGreaterThan(before)
        expect(ledger.cameBack).toEqual([])
      }, 60_000)
    })
  })
}
