/**
 * The relay's behaviour through its public API, for any store: call
 * `relaySuite` with a factory (the embedded log here; a database-backed store
 * runs the same suite).
 */
import { afterAll, describe } from "vitest"
import { type StoreFactory, removeTempDirs } from "../helpers.js"
import { delayTests } from "./delays.js"
import { forwardingTests } from "./forwarding.js"
import { hostileTests } from "./hostile.js"
import { idempotencyTests } from "./idempotency.js"
import { redeliveryTests } from "./redelivery.js"
import { restartTests } from "./restart.js"
import { transactionTests } from "./transactions.js"

export function relaySuite(factory: StoreFactory): void {
  describe(`relay on ${factory.name}`, () => {
    afterAll(() => removeTempDirs())
    forwardingTests(factory)
    redeliveryTests(factory)
    delayTests(factory)
    restartTests(factory)
    hostileTests(factory)
    idempotencyTests(factory)
    transactionTests(factory)
  })
}
