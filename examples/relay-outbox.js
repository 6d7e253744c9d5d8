// The transactional outbox with a half message, and an idempotent consumer,
// on a real database: PGlite (PostgreSQL compiled to WebAssembly; the same
// SQL runs on a PostgreSQL server). An order service publishes
// "orders.created" if and only if its order commits, even when it crashes
// between its database commit and its message commit; a shipping service
// ships each order once, even when a message is delivered twice.
// Needs the devDependency @electric-sql/pglite (`npm ci` in this repository
// installs it). Not in the tour (the database's first start takes seconds).
// Run: npm run example:outbox   (or node examples/relay-outbox.js)
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { PGlite } from "@electric-sql/pglite"
import { RelayClient, RelayNode, messageKey, processOnce } from "zmesh/relay"

const dataDir = mkdtempSync(join(tmpdir(), "zmesh-outbox-example-"))
const db = await PGlite.create(join(dataDir, "postgres"))
// The order service's table, and the shipping service's (one database here, for brevity).
await db.exec(`
  CREATE TABLE orders (id text PRIMARY KEY, item text NOT NULL, placed_at timestamptz NOT NULL DEFAULT now());
  CREATE TABLE processed (key text PRIMARY KEY, processed_at timestamptz NOT NULL DEFAULT now());
  CREATE TABLE shipments (id serial PRIMARY KEY, order_id text NOT NULL, shipped_at timestamptz NOT NULL DEFAULT now());
`)
// A short checkAfter, so that check-backs come within the example (default 60 s). It must
// exceed the longest local transaction: a check-back must not find an order not committed YET.
const node = await RelayNode.start({ bind: "tcp://127.0.0.1:*", dataDir: join(dataDir, "relay"), checkAfter: 200 })
console.log(`relay on ${node.endpoint}; database and relay data in a temporary folder`)

// ---- the order service -----------------------------------------------------------------

/** The relay's check-back for a half message left undecided: did that order commit? */
async function answerCheck(half) {
  try {
    const { rows } = await db.query("SELECT 1 FROM orders WHERE id = $1", [half.id])
    const decision = rows.length > 0 ? "commit" : "rollback"
    console.log(`order service: check-back for ${half.id}: ${rows.length > 0 ? "in the database" : "not in the database"} -> ${decision}`)
    checkBack(half.id).done()
    return decision
  } catch {
    return "unknown" // the database cannot answer now: the relay asks again later
  }
}
/** A check-back of each order id, as a promise (the example waits for them; a service would not). */
const checks = new Map()
function checkBack(id) {
  if (!checks.has(id)) {
    let done
    checks.set(id, { answered: new Promise((resolve) => (done = resolve)), done })
  }
  return checks.get(id)
}

/** A start of the order service: the same producerId every time, and its resolver registered at once. */
function startOrderService() {
  const producer = new RelayClient({ relay: node.endpoint, producerId: "order-service" })
  producer.onCheck(answerCheck)
  return producer
}

/** Places an order: a half message, the local transaction, then the message's commit. */
async function placeOrder(producer, id, item, crash) {
  const tx = await producer.prepare("orders.created", JSON.stringify({ id, item }), { id })
  try {
    await db.transaction(async (t) => {
      await t.query("INSERT INTO orders (id, item) VALUES ($1, $2)", [id, item])
      if (crash === "before the database commit") await t.rollback() // it dies mid-transaction: never committed
    })
  } catch (err) {
    await tx.rollback() // the order failed: nobody hears of it
    throw err
  }
  if (crash !== undefined) {
    await producer.close() // the process is gone: it never decides about the half message
    console.log(`order service: placing ${id}, crashed ${crash}`)
    return
  }
  await tx.commit()
  console.log(`order service: ${id} placed and published`)
}

let orders = startOrderService()
await placeOrder(orders, "A-1", "teapot")
await placeOrder(orders, "A-2", "kettle", "after the database commit")
orders = startOrderService() // restarted: the relay asks it about A-2
await checkBack("A-2").answered
await placeOrder(orders, "A-3", "mug", "before the database commit")
orders = startOrderService() // restarted again: the relay asks it about A-3
await checkBack("A-3").answered
await placeOrder(orders, "A-4", "saucer")
await orders.close()

// ---- the shipping service: ships each order once -----------------------------------------

/**
 * A ProcessedStore on PostgreSQL: the processed key and the work's effects
 * commit in one database transaction; a key that is there already means
 * "done before" (runOnce resolves false and the work does not run).
 */
class PgProcessedStore {
  constructor(database) {
    this.db = database
  }

  runOnce(key, work) {
    return this.db.transaction(async (tx) => {
      const { rows } = await tx.query("INSERT INTO processed (key) VALUES ($1) ON CONFLICT (key) DO NOTHING RETURNING key", [key])
      if (rows.length === 0) return false
      await work(tx)
      return true
    })
  }
}

const processed = new PgProcessedStore(db)
const ship = (tx, order) => tx.query("INSERT INTO shipments (order_id) VALUES ($1)", [order.id])
const shipping = new RelayClient({ relay: node.endpoint })
const deliveries = shipping.consume("orders.created", { group: "shipping", prefetch: 1 })
let ackLost = false
for await (const m of deliveries) {
  const order = JSON.parse(m.body.toString())
  if (!ackLost) {
    // The first delivery is shipped, then its ack is lost (a nack here): the relay delivers it again.
    ackLost = true
    await processed.runOnce(messageKey(m), (tx) => ship(tx, order))
    await m.nack()
    console.log(`shipping: ${order.id} shipped (delivery ${m.deliveryCount}), but its ack was lost`)
    continue
  }
  const ran = await processOnce(m, processed, (_, tx) => ship(tx, order))
  console.log(`shipping: ${order.id} (delivery ${m.deliveryCount}) ${ran ? "shipped" : "was shipped before: skipped and acked"}`)
  if (order.id === "A-4") break
}
await deliveries.close()
await shipping.close()

const placed = (await db.query("SELECT id FROM orders ORDER BY id")).rows.map((r) => r.id)
const shipped = (await db.query("SELECT order_id, count(*)::int AS n FROM shipments GROUP BY order_id ORDER BY order_id")).rows
const { committed, rolledBack } = node.stats().counters
console.log(`database: orders ${placed.join(", ")}; shipments ${shipped.map((r) => `${r.order_id} x${r.n}`).join(", ")}`)
console.log(`relay: ${committed} half messages committed, ${rolledBack} rolled back`)
await node.close()
await db.close()
rmSync(dataDir, { recursive: true, force: true })
console.log("every committed order was published and shipped once; the order that failed was never published")
