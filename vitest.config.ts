import { defineConfig } from "vitest/config"

export default defineConfig({
  test: {
    testTimeout: 20_000,
    hookTimeout: 20_000,
    // Sockets bind real ports and files; forks keep each file's handles apart.
    pool: "forks",
    projects: [
      { extends: true, test: { name: "zmesh", include: ["test/**/*.test.ts"], exclude: ["test/hostile/**"] } },
      // Peers out to exhaust memory and time; they measure the heap after a full GC.
      { extends: true, test: { name: "hostile", include: ["test/hostile/**/*.test.ts"], execArgv: ["--expose-gc"] } },
    ],
  },
})
