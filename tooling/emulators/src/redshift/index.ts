/**
 * Redshift Data API emulator (test-only, never shipped): serves the Data API's AWS JSON 1.1
 * protocol on loopback and runs the SQL on PostgreSQL, after checking it against the Redshift
 * dialect and translating the documented differences (see README.md).
 */
import { randomBytes } from 'node:crypto'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import pg from 'pg'
import { RedshiftDataApi } from './server.js'
import { StatementEngine } from './statements.js'

export type { TranslatedStatement } from './sql.js'
export { SqlRejectedError, translateStatement } from './sql.js'

/** Default PostgreSQL server: the local one, trust auth. */
export const DEFAULT_POSTGRES_URL = 'postgres://postgres@127.0.0.1:5432/postgres'

/** Options for {@link startRedshiftEmulator}. */
export interface RedshiftEmulatorOptions {
  /** Port on 127.0.0.1; 0 (default) picks a free one. */
  port?: number
  /** Loopback PostgreSQL URL used to create the emulator's own database. */
  postgresUrl?: string
  /** Records per GetStatementResult page (default 1000). */
  pageRows?: number
}

/** A running emulator. */
export interface RedshiftEmulator {
  /** `http://127.0.0.1:<port>`: pass as `endpoint` to `RedshiftDataClient`. */
  url: string
  /** Same as {@link url}. */
  endpoint: string
  port: number
  /** Name of the PostgreSQL database holding this instance's tables (dropped on close). */
  database: string
  /** Stops serving, cancels running statements and drops the database. */
  close(): Promise<void>
}

function assertLoopback(url: string): void {
  let host: string
  try {
    host = new URL(url).hostname.replace(/^\[|\]$/g, '')
  } catch {
    throw new Error(`[larder] [redshift-emulator] invalid PostgreSQL URL: ${url}`)
  }
  if (!(host === 'localhost' || host === '::1' || host.startsWith('127.'))) {
    throw new Error(
      `[larder] [redshift-emulator] PostgreSQL URL ${url} is not a loopback address; the emulator only connects to loopback`,
    )
  }
}

async function admin<T>(postgresUrl: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: postgresUrl })
  try {
    await client.connect()
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error)
    throw new Error(
      `[larder] [redshift-emulator] cannot connect to PostgreSQL at ${postgresUrl}: ${reason}`,
    )
  }
  try {
    return await fn(client)
  } finally {
    await client.end().catch(() => {})
  }
}

/**
 * Starts a Redshift Data API emulator on 127.0.0.1, with a fresh PostgreSQL database
 * (`larder_redshift_emu_<random>`) that is dropped by `close()`.
 * @param options port, PostgreSQL URL, page size.
 * @returns the endpoint and a `close()`.
 */
export async function startRedshiftEmulator(
  options: RedshiftEmulatorOptions = {},
): Promise<RedshiftEmulator> {
  const postgresUrl = options.postgresUrl ?? DEFAULT_POSTGRES_URL
  assertLoopback(postgresUrl)
  const pageRows = options.pageRows ?? 1000
  if (!Number.isInteger(pageRows) || pageRows < 1) {
    throw new Error(
      `[larder] [redshift-emulator] pageRows must be a positive integer, got ${pageRows}`,
    )
  }
  const database = `larder_redshift_emu_${randomBytes(6).toString('hex')}`
  await admin(postgresUrl, async (client) => {
    await client.query(`CREATE DATABASE ${database}`)
    await client.query(`ALTER DATABASE ${database} SET timezone TO 'UTC'`)
    await client.query(`ALTER DATABASE ${database} SET datestyle TO 'ISO, MDY'`)
  })
  const dropDatabase = () =>
    admin(postgresUrl, (client) => client.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`))
  const databaseUrl = new URL(postgresUrl)
  databaseUrl.pathname = `/${database}`
  const engine = new StatementEngine(databaseUrl.toString())
  const pool = new pg.Pool({ connectionString: databaseUrl.toString(), max: 4 })
  pool.on('error', () => {}) // idle-client errors surface on the next query instead
  const api = new RedshiftDataApi(engine, pool, pageRows)
  const server = http.createServer(api.handle)
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen(options.port ?? 0, '127.0.0.1', () => resolve())
    })
  } catch (error) {
    await pool.end().catch(() => {})
    await dropDatabase().catch(() => {})
    const reason = error instanceof Error ? error.message : String(error)
    throw new Error(
      `[larder] [redshift-emulator] cannot listen on 127.0.0.1:${options.port ?? 0}: ${reason}`,
    )
  }
  const port = (server.address() as AddressInfo).port
  const url = `http://127.0.0.1:${port}`
  let closing: Promise<void> | undefined
  return {
    url,
    endpoint: url,
    port,
    database,
    close() {
      closing ??= (async () => {
        await new Promise<void>((resolve) => {
          server.close(() => resolve())
          server.closeAllConnections()
        })
        await engine.close()
        await pool.end().catch(() => {})
        await dropDatabase()
      })()
      return closing
    },
  }
}
