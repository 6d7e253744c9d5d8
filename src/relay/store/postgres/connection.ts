/**
 * One PostgreSQL connection of the store, through node-postgres (`pg`),
 * loaded on first use: zmesh does not depend on it at run time. A connection
 * that fails is dropped and the next query opens a new one, so the store
 * carries on once the server is back. Errors become ZmeshErrors with the
 * relay's store codes.
 */
import { ZmeshError } from "../../../errors.js"

/** What the store uses of a `pg` Client (its own types stay out of zmesh's public ones). */
export interface PgClient {
  connect(): Promise<unknown>
  query(config: string | PgQuery): Promise<PgResult>
  end(): Promise<void>
  on(event: "error" | "end", listener: (err?: Error) => void): unknown
  on(event: "notification", listener: (msg: { channel: string; payload?: string }) => void): unknown
}

export interface PgQuery {
  /** Prepared once per connection under this name. */
  readonly name?: string
  readonly text: string
  readonly values?: unknown[]
}

export interface PgResult {
  readonly rows: Array<Record<string, unknown>>
  readonly rowCount: number | null
}

interface PgModule {
  Client: new (config: Record<string, unknown>) => PgClient
  escapeIdentifier(s: string): string
  escapeLiteral(s: string): string
}

let loaded: Promise<PgModule> | undefined

/** node-postgres, or ERR_RELAY_STORE_DRIVER when it is not installed. */
export function loadDriver(): Promise<PgModule> {
  loaded ??= import("pg").then(
    (mod) => ((mod as { default?: unknown }).default ?? mod) as PgModule,
    (err: unknown) => {
      loaded = undefined
      throw new ZmeshError("ERR_RELAY_STORE_DRIVER", "PostgresStore needs the PostgreSQL driver `pg` (node-postgres): npm install pg", { cause: err })
    },
  )
  return loaded
}

/** SQLSTATE 53100 disk_full, 53400 configuration_limit_exceeded (a temp file or table size limit). */
const FULL = new Set(["53100", "53400"])

/** A store error for a failed query or connection. */
export function storeError(err: unknown, what: string): ZmeshError {
  if (err instanceof ZmeshError) return err
  const code = (err as { code?: string }).code
  const message = (err as Error).message ?? String(err)
  if (code !== undefined && FULL.has(code)) return new ZmeshError("ERR_RELAY_STORE_FULL", `PostgreSQL is full (${what}): ${message}`, { cause: err })
  return new ZmeshError("ERR_RELAY_STORE_FAILED", `PostgreSQL could not ${what}: ${message}${code === undefined ? "" : ` (${code})`}`, { cause: err })
}

export interface ConnectionOptions {
  readonly connectionString: string
  /** Tables live in this schema (the connection's search_path). */
  readonly schema: string
  /** SET on every new connection, e.g. `synchronous_commit = off` for claims. */
  readonly settings?: readonly string[]
  readonly connectTimeout: number
  /** The application_name shown in pg_stat_activity. */
  readonly name: string
}

/** int8 as a JS number (seqs and epoch ms stay far below 2^53), int8[] likewise. */
const types = {
  getTypeParser(oid: number, format?: string): (value: string) => unknown {
    if (oid === 20) return Number
    if (oid === 1016) return (value: string) => (value === "{}" ? [] : value.slice(1, -1).split(",").map(Number))
    return pgTypes!.getTypeParser(oid, format)
  },
}
let pgTypes: { getTypeParser(oid: number, format?: string): (value: string) => unknown } | undefined

export class Connection {
  private readonly options: ConnectionOptions
  private client: PgClient | undefined
  private connecting: Promise<PgClient> | undefined
  private closed = false
  /** Called when the connection was lost (after an error or the server's end). */
  onLost: (() => void) | undefined

  constructor(options: ConnectionOptions) {
    this.options = options
  }

  /** The live client, connecting if needed. */
  get(): Promise<PgClient> {
    if (this.closed) return Promise.reject(new ZmeshError("ERR_RELAY_STORE_FAILED", "the PostgreSQL store is closed"))
    if (this.client !== undefined) return Promise.resolve(this.client)
    this.connecting ??= this.open().finally(() => (this.connecting = undefined))
    return this.connecting
  }

  /** Runs one query (reconnecting first if needed); any failure is a store error. */
  async query(config: string | PgQuery, what: string): Promise<PgResult> {
    let client: PgClient
    try {
      client = await this.get()
    } catch (err) {
      throw storeError(err, `connect (${what})`)
    }
    try {
      return await client.query(config)
    } catch (err) {
      throw storeError(err, what)
    }
  }

  /** Forgets the current client (it failed mid-transaction, or the server went away). */
  drop(): void {
    const client = this.client
    this.client = undefined
    if (client !== undefined) client.end().catch(() => undefined)
  }

  async close(): Promise<void> {
    this.closed = true
    await this.connecting?.catch(() => undefined)
    const client = this.client
    this.client = undefined
    if (client !== undefined) await client.end().catch(() => undefined)
  }

  private async open(): Promise<PgClient> {
    const pg = await loadDriver()
    if (pgTypes === undefined) {
      const mod = (await import("pg")) as unknown as { default?: { types: typeof pgTypes }; types?: typeof pgTypes }
      pgTypes = mod.default?.types ?? mod.types
    }
    const o = this.options
    const client = new pg.Client({
      connectionString: o.connectionString,
      connectionTimeoutMillis: o.connectTimeout,
      application_name: o.name,
      options: `-c search_path=${o.schema}`,
      types,
    })
    // A connection that dies while idle emits 'error': without a listener that would end the process.
    const lost = () => {
      if (this.client === client) {
        this.client = undefined
        client.end().catch(() => undefined)
        this.onLost?.()
      }
    }
    client.on("error", lost)
    client.on("end", lost)
    await client.connect()
    try {
      for (const setting of o.settings ?? []) await client.query(`SET ${setting}`)
    } catch (err) {
      await client.end().catch(() => undefined)
      throw err
    }
    if (this.closed) {
      await client.end().catch(() => undefined)
      throw new ZmeshError("ERR_RELAY_STORE_FAILED", "the PostgreSQL store is closed")
    }
    this.client = client
    return client
  }
}
