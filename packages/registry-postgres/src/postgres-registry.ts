/**
 * A registry kept in a PostgreSQL table, one row per project:
 * `(project text primary key, version bigint, document text, updated_at timestamptz)`.
 * A write is a compare-and-swap on `version`: `UPDATE ... WHERE project = $1 AND version = $n`
 * (or `INSERT ... ON CONFLICT DO NOTHING` for the first), so two machines applying at once get
 * one success and one REGISTRY_CONFLICT. The row is replaced in place: the table does not grow
 * with materializations (Feast's SQL registry does, feast-dev/feast#5800).
 */
import {
  checkIdentifier,
  LarderError,
  type RegistryStore,
  registryConflict,
  type StoredRegistry,
} from '@larder/core'
import pg from 'pg'

const COMPONENT = 'registry-postgres'

/** The calls this store makes; a `pg.Pool` fits (or a client with the same `query`). */
export interface PgQueryable {
  query(
    text: string,
    values?: unknown[],
  ): Promise<{ rows: Record<string, unknown>[]; rowCount: number | null }>
  end?(): Promise<void>
}

/** Options of {@link postgresRegistry}. */
export interface PostgresRegistryOptions {
  /**
   * `postgres://user@host:5432/db?table=larder_registry&project=name`. `table` defaults to
   * `larder_registry`; `project` to the config's project (set by core on first use).
   */
  url?: string
  /** A pool or client of your own (ended by you, not by the store). */
  client?: PgQueryable
  /** Table name, optionally schema-qualified (`ml.larder_registry`). @default 'larder_registry' */
  table?: string
  /** The row's key. @default the config's project */
  project?: string
}

function quoteIdent(name: string): string {
  checkIdentifier(name, 63)
  return `"${name.replaceAll('"', '""')}"`
}

/** Masks the password of a PostgreSQL URL for messages. */
export function maskPostgresUrl(url: string): string {
  try {
    const u = new URL(url)
    if (u.password) u.password = '***'
    u.search = ''
    return u.toString()
  } catch {
    return 'postgres://(unparsable URL)'
  }
}

/**
 * The registry store in PostgreSQL.
 * @example
 * registry: postgresRegistry({ url: 'postgres://larder@db:5432/ml' })
 */
export class PostgresRegistryStore implements RegistryStore {
  readonly location: string
  readonly #client: PgQueryable
  readonly #ownsClient: boolean
  readonly #table: string
  #project: string | undefined
  #ready: Promise<void> | undefined

  constructor(options: PostgresRegistryOptions) {
    let table = options.table ?? 'larder_registry'
    let project = options.project
    if (options.url !== undefined) {
      let u: URL
      try {
        u = new URL(options.url)
      } catch {
        throw new LarderError('INVALID_CONFIG', 'the PostgreSQL registry URL is not a URL', {
          component: COMPONENT,
          hint: 'write it as postgres://user@host:5432/database',
        })
      }
      table = u.searchParams.get('table') ?? table
      project = u.searchParams.get('project') ?? project
    }
    this.#table = table
      .split('.')
      .map((part) => quoteIdent(part))
      .join('.')
    this.#project = project
    if (options.client) {
      this.#client = options.client
      this.#ownsClient = false
    } else if (options.url !== undefined) {
      const u = new URL(options.url)
      for (const p of ['table', 'project']) u.searchParams.delete(p)
      this.#client = new pg.Pool({
        connectionString: u.toString(),
        max: 2,
      }) as unknown as PgQueryable
      this.#ownsClient = true
    } else {
      throw new LarderError('INVALID_CONFIG', 'postgresRegistry needs a url or a client', {
        component: COMPONENT,
      })
    }
    const where = options.url !== undefined ? maskPostgresUrl(options.url) : 'postgres'
    this.location = `${where.replace(/\/$/, '')} table ${table}`
  }

  /** Core passes the config's project: the row key when none was given. */
  configure(context: { project: string }): void {
    this.#project ??= context.project
  }

  #key(): string {
    if (this.#project === undefined) {
      throw new LarderError(
        'INVALID_CONFIG',
        `registry ${this.location} has no project to key its row by`,
        {
          component: COMPONENT,
          hint: 'add ?project=NAME to the URL (or --project to registry-copy), or open it through FeatureStore, which passes the config project',
        },
      )
    }
    return this.#project
  }

  async #query(
    text: string,
    values: unknown[],
    what: string,
  ): Promise<{ rows: Record<string, unknown>[]; rowCount: number | null }> {
    try {
      return await this.#client.query(text, values)
    } catch (err) {
      const e = err as { code?: string; message?: string }
      const code = e.code ?? ''
      if (code === '42501') {
        throw new LarderError(
          'BACKEND_ERROR',
          `cannot ${what} registry ${this.location}: permission denied`,
          {
            component: COMPONENT,
            cause: err,
            hint: `grant SELECT, INSERT, UPDATE, DELETE on ${this.#table} (and CREATE on its schema for the first run) to the registry's user`,
          },
        )
      }
      // connection failures: SQLSTATE class 08, admin shutdown, or a Node socket error (ECONNREFUSED...)
      const unavailable =
        code.startsWith('08') || code === '57P01' || code === '' || /^E[A-Z]+$/.test(code)
      throw new LarderError(
        unavailable ? 'BACKEND_UNAVAILABLE' : 'BACKEND_ERROR',
        `cannot ${what} registry ${this.location}: ${(e.message ?? String(err)).split('\n')[0]}`,
        {
          component: COMPONENT,
          cause: err,
          ...(unavailable
            ? { hint: 'check that PostgreSQL is reachable; the command can be retried' }
            : {}),
        },
      )
    }
  }

  #ensureTable(): Promise<void> {
    this.#ready ??= this.#query(
      `CREATE TABLE IF NOT EXISTS ${this.#table} (project text PRIMARY KEY, version bigint NOT NULL, document text NOT NULL, updated_at timestamptz NOT NULL DEFAULT now())`,
      [],
      'create the table of',
    )
      .then(() => undefined)
      .catch((err: unknown) => {
        this.#ready = undefined
        // Two first-time writers racing on CREATE TABLE IF NOT EXISTS: the loser sees a
        // unique violation on the catalog; the table exists either way.
        const cause = (err as { cause?: { code?: string } }).cause
        if (cause?.code === '23505' || cause?.code === '42P07') return
        throw err
      })
    return this.#ready
  }

  async read(): Promise<StoredRegistry | undefined> {
    await this.#ensureTable()
    const { rows } = await this.#query(
      `SELECT version::text AS version, document FROM ${this.#table} WHERE project = $1`,
      [this.#key()],
      'read',
    )
    const row = rows[0]
    if (!row) return undefined
    return { text: String(row.document), version: String(row.version) }
  }

  async write(text: string, expectedVersion: string | undefined): Promise<string> {
    await this.#ensureTable()
    if (expectedVersion === undefined) {
      const { rows } = await this.#query(
        `INSERT INTO ${this.#table} (project, version, document) VALUES ($1, 1, $2) ON CONFLICT (project) DO NOTHING RETURNING version::text AS version`,
        [this.#key(), text],
        'write',
      )
      if (!rows[0]) throw registryConflict(this.location, 'it already exists')
      return String(rows[0].version)
    }
    if (!/^\d{1,18}$/.test(expectedVersion)) {
      throw registryConflict(
        this.location,
        `version '${expectedVersion}' is not one of this store's`,
      )
    }
    const { rows } = await this.#query(
      `UPDATE ${this.#table} SET version = version + 1, document = $2, updated_at = now() WHERE project = $1 AND version = $3 RETURNING version::text AS version`,
      [this.#key(), text, expectedVersion],
      'write',
    )
    if (!rows[0])
      throw registryConflict(this.location, `its version is no longer ${expectedVersion}`)
    return String(rows[0].version)
  }

  async delete(): Promise<void> {
    await this.#ensureTable()
    await this.#query(`DELETE FROM ${this.#table} WHERE project = $1`, [this.#key()], 'delete')
  }

  async close(): Promise<void> {
    if (this.#ownsClient) await this.#client.end?.()
  }
}

/**
 * A registry kept in PostgreSQL: a URL string, or options with a pool of your own.
 * @example
 * export default defineConfig({
 *   project: 'quickstart',
 *   registry: 'postgres://larder@127.0.0.1:5432/ml',   // or postgresRegistry({ client: pool })
 *   offlineStore: fileOfflineStore(), onlineStore: sqliteOnlineStore(),
 * })
 */
export function postgresRegistry(options: PostgresRegistryOptions | string): PostgresRegistryStore {
  return new PostgresRegistryStore(typeof options === 'string' ? { url: options } : options)
}

/** What core calls for a `registry: 'postgres://...'` setting. */
export function registryStore(url: string): PostgresRegistryStore {
  return postgresRegistry(url)
}
