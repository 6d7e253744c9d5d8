import { defineConfig } from "vitest/config"

/** Test files that need the PostgreSQL test server. */
const postgres = ["test/relay/pg/**/*.test.ts", "test/relay/postgres-store.suite.test.ts"]

export default defineConfig({
  test: {
    testTimeout: 20_000,
    hookTimeout: 20_000,
    // Sockets bind real ports and files; forks keep each file's handles apart.
    pool: "forks",
    projects: [
      { extends: true, test: { name: "zmesh", include: ["test/**/*.test.ts"], exclude: ["test/hostile/**", ...postgres] } },
      // The relay on PostgreSQL: one throwaway cluster for the run (test/relay/pg/global-setup.ts).
      { extends: true, test: { name: "postgres", include: postgres, globalSetup: ["test/relay/pg/global-setup.ts"] } },
      // Peers out to exhaust memory and time; they measure the heap after a full GC.
      { extends: true, test: { name: "hostile", include: ["test/hostile/**/*.test.ts"], execArgv: ["--expose-gc"] } },
    ],
  },
})
