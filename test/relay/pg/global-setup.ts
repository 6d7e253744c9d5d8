/**
 * vitest globalSetup of the "postgres" project: a throwaway PostgreSQL
 * cluster for the whole run (or the server in $ZMESH_TEST_PG_URL), its
 * connection string handed to the tests with `provide("pgUrl")`. When no
 * server can be started the tests skip, and say so loudly here and in their
 * titles (see skip.ts).
 */
import type { TestProject } from "vitest/node"
import { type Cluster, startCluster, stopCluster } from "./cluster.js"

declare module "vitest" {
  export interface ProvidedContext {
    /** The connection string of the test server, "" when there is none. */
    pgUrl: string
    /** Why there is no server (when pgUrl is ""). */
    pgSkipReason: string
  }
}

let cluster: Cluster | undefined

export async function setup(project: TestProject): Promise<void> {
  const given = process.env.ZMESH_TEST_PG_URL
  if (given !== undefined && given !== "") {
    project.provide("pgUrl", given)
    project.provide("pgSkipReason", "")
    return
  }
  try {
    cluster = await startCluster()
    project.provide("pgUrl", cluster.url)
    project.provide("pgSkipReason", "")
  } catch (err) {
    const reason = (err as Error).message
    console.warn(`\n*** PostgreSQL tests SKIPPED: ${reason}\n*** Install PostgreSQL (apt-get install postgresql) or set ZMESH_TEST_PG_URL.\n`)
    project.provide("pgUrl", "")
    project.provide("pgSkipReason", reason)
  }
}

export function teardown(): void {
  if (cluster !== undefined) stopCluster(cluster)
  cluster = undefined
}
