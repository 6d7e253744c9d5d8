import { defineConfig } from "vitest/config"

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 20_000,
    hookTimeout: 20_000,
    // Sockets bind real ports and files; forks keep each file's handles apart.
    pool: "forks",
  },
})
