/** PostgresStore without node-postgres installed: a clear error with its own code, nothing else breaks. */
import { describe, expect, it, vi } from "vitest"

describe("PostgresStore without the pg package", () => {
  it("fails to open with ERR_RELAY_STORE_DRIVER, saying what to install", async () => {
    vi.doMock("pg", () => {
      throw Object.assign(new Error("Cannot find package 'pg' imported from zmesh"), { code: "ERR_MODULE_NOT_FOUND" })
    })
    const { PostgresStore } = await import("../../src/relay/store/postgres/postgres-store.js")
    const store = new PostgresStore({ connectionString: "postgres://relay@127.0.0.1:1/zmesh" })
    await expect(store.open()).rejects.toMatchObject({ code: "ERR_RELAY_STORE_DRIVER", message: expect.stringMatching(/npm install pg/) })
    // The embedded log does not need it.
    const { LogStore } = await import("../../src/relay/index.js")
    expect(typeof LogStore).toBe("function")
    vi.doUnmock("pg")
  })
})
