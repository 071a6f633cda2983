/**
 * The Snowflake offline store: core's point-in-time join, pulls and offline writes
 * (`SqlOfflineStoreBase`) run in Snowflake through `snowflake-sdk`. Entity tables given as rows
 * or Arrow go into a table by array-bound INSERTs (one statement, the rows as binds), dropped
 * when the retrieval is done; SQL and table names are used in place. Results stream row by row
 * into Arrow record batches; NUMBERs are read as text (exact int64) and timestamps from their
 * epoch seconds and nanoseconds (microseconds kept).
 */
import {
  columnValueTypes,
  isoMicros,
  LarderError,
  readColumn,
  relationSql,
  rowBatches,
  type SourceSchema,
  type SourceSpec,
  SqlOfflineStoreBase,
  type SqlQueryOptions,
  type SqlRelation,
  type SqlRunner,
  type SqlRunOptions,
  type ValueTypeName,
} from '@larder/core'
import type * as arrow from 'apache-arrow'
import { snowflakeDialect } from './snowflake-dialect.js'
import {
  type SnowflakeSourceSpec,
  snowflakeSourceKind,
  sourceTableParts,
} from './snowflake-source.js'

const COMPONENT = 'snowflake'
/** Rows per Arrow record batch of a result. */
const BATCH_ROWS = 10_000
/** Rows per array-bound INSERT. */
const INSERT_ROWS = 10_000

/** Options of {@link snowflakeOfflineStore}. */
export interface SnowflakeOfflineStoreOptions {
  /** Account identifier (`xy12345`, `org-account`). */
  account: string
  username: string
  /** Password; or `privateKey` (key-pair auth), or `authenticator`. */
  password?: string
  /** A PEM private key for key-pair authentication. */
  privateKey?: string
  /** `SNOWFLAKE` (default), `SNOWFLAKE_JWT`, `OAUTH`, ... */
  authenticator?: string
  database: string
  schema: string
  warehouse?: string
  role?: string
  /** Another endpoint (a local stand-in). */
  accessUrl?: string
  /** Cancels a statement running longer than this (seconds). @default none */
  queryTimeoutSeconds?: number
}

/** Snowflake's column types (statement column `getType()`) as Larder value types. */
const TYPES: Record<string, ValueTypeName> = {
  fixed: 'int64',
  real: 'float64',
  text: 'string',
  boolean: 'bool',
  date: 'timestamp',
  timestamp_ntz: 'timestamp',
  timestamp_ltz: 'timestamp',
  timestamp_tz: 'timestamp',
  binary: 'bytes',
}

interface SfDate {
  getEpochSeconds(): number
  getNanoSeconds(): number
}

/** Epoch microseconds of a timestamp the driver returned. */
function micros(value: unknown): bigint {
  const d = value as Partial<SfDate> & { getTime?: () => number }
  if (typeof d.getEpochSeconds === 'function' && typeof d.getNanoSeconds === 'function') {
    return BigInt(d.getEpochSeconds()) * 1_000_000n + BigInt(Math.floor(d.getNanoSeconds() / 1000))
  }
  if (typeof d.getTime === 'function') return BigInt(d.getTime()) * 1000n
  throw new LarderError(
    'BACKEND_ERROR',
    `unexpected timestamp value from Snowflake: ${String(value)}`,
    {
      component: COMPONENT,
    },
  )
}

function canonical(value: unknown, type: ValueTypeName): unknown {
  if (value === null || value === undefined) return null
  // NUMBERs are fetched as text; the driver spells a NULL one 'NULL'.
  if (value === 'NULL' && type !== 'string') return null
  switch (type) {
    case 'int64':
      return BigInt(String(value).replace(/\.0*$/, ''))
    case 'int32':
    case 'float32':
    case 'float64':
      return Number(value)
    case 'bool':
      return value === true || value === 'true' || value === 1
    case 'timestamp':
      return micros(value)
    case 'string':
      return String(value)
    case 'bytes':
      return value instanceof Uint8Array ? value : Buffer.from(String(value), 'hex')
    default:
      return value
  }
}

/** A value as a bind of its column's type. */
function bind(value: unknown, type: ValueTypeName): unknown {
  if (value === null || value === undefined) return null
  if (type === 'timestamp') return isoMicros(value as bigint)
  // Floats as text: the driver types an array bind's column by its first value, and a whole
  // first value would make it an integer column of binds.
  if (type === 'float32' || type === 'float64') {
    const n = Number(value)
    return Number.isNaN(n) ? 'NaN' : n === Infinity ? 'inf' : n === -Infinity ? '-inf' : String(n)
  }
  if (typeof value === 'bigint') return value.toString()
  if (value instanceof Uint8Array) return Buffer.from(value)
  return value
}

type Connection = ReturnType<typeof import('snowflake-sdk').createConnection>
type Statement = {
  cancel(cb: (err?: unknown) => void): void
  getColumns(): Array<{ getName(): string; getType(): string }> | undefined
}

function firstLine(err: unknown): string {
  const e = err as { message?: string }
  return (e.message ?? String(err)).split('\n').join(' ')
}

class SnowflakeRunner implements SqlRunner {
  readonly #conn: Connection

  constructor(conn: Connection) {
    this.#conn = conn
  }

  /** Runs one statement; resolves with the statement and its rows (arrays). */
  #run(
    sql: string,
    binds: readonly unknown[],
    signal: AbortSignal | undefined,
    onRows?: (rows: unknown[][]) => void,
  ): Promise<Statement> {
    signal?.throwIfAborted()
    return new Promise<Statement>((resolve, reject) => {
      let statement: Statement | undefined
      const cancel = () => statement?.cancel(() => {})
      const done = (err: unknown, stmt: Statement | undefined, rows: unknown[] | undefined) => {
        signal?.removeEventListener('abort', cancel)
        if (err) {
          if (signal?.aborted) return reject(signal.reason)
          const e = err as { code?: string | number; sqlState?: string }
          return reject(
            new LarderError(
              'BACKEND_ERROR',
              `Snowflake statement failed: ${firstLine(err)}${e.code ? ` (code ${e.code}${e.sqlState ? `, SQLSTATE ${e.sqlState}` : ''})` : ''}`,
              {
                component: COMPONENT,
                cause: err,
              },
            ),
          )
        }
        if (onRows && rows) onRows(rows as unknown[][])
        resolve(stmt as Statement)
      }
      statement = this.#conn.execute({
        sqlText: sql,
        binds: binds as never,
        fetchAsString: ['Number'],
        rowMode: 'array',
        complete: done as never,
      } as never) as unknown as Statement
      signal?.addEventListener('abort', cancel, { once: true })
    })
  }

  /** Creates table `parts` and fills it with the rows of `table` by array-bound INSERTs. */
  async load(parts: string[], table: arrow.Table, signal?: AbortSignal): Promise<SqlRelation> {
    const d = snowflakeDialect
    const fields = table.schema.fields
    const types = columnValueTypes(table, COMPONENT)
    const target = relationSql({ table: parts }, d)
    const cols = fields.map(
      (f, i) => `${d.quoteIdentifier(f.name)} ${d.typeName(types[i] as ValueTypeName)}`,
    )
    await this.#run(`CREATE TABLE ${target} (${cols.join(', ')})`, [], signal)
    const values = fields.map((f, i) =>
      readColumn(table.getChild(f.name) as arrow.Vector, types[i] as ValueTypeName, f.name),
    )
    const marks = fields
      .map((_, i) => (types[i] === 'timestamp' ? `CAST(? AS TIMESTAMP_TZ)` : '?'))
      .join(', ')
    for (let start = 0; start < table.numRows; start += INSERT_ROWS) {
      const end = Math.min(table.numRows, start + INSERT_ROWS)
      const rows: unknown[][] = []
      for (let r = start; r < end; r++) {
        rows.push(fields.map((_, c) => bind(values[c]?.[r], types[c] as ValueTypeName)))
      }
      await this.#run(`INSERT INTO ${target} VALUES (${marks})`, rows, signal)
    }
    return { table: parts }
  }

  uploadTable(name: string, table: arrow.Table, options: SqlRunOptions): Promise<SqlRelation> {
    return this.load([name], table, options.signal)
  }

  async *query(
    sql: string,
    params: readonly unknown[],
    options: SqlQueryOptions,
  ): AsyncIterable<arrow.RecordBatch> {
    let all: unknown[][] = []
    await this.#run(sql, params, options.signal, (rows) => {
      all = rows
    })
    yield* rowBatches(all, options.columns, canonical, BATCH_ROWS)
  }

  async execute(sql: string, params: readonly unknown[], options: SqlRunOptions): Promise<void> {
    await this.#run(sql, params, options.signal)
  }

  async describe(relation: SqlRelation, options: SqlRunOptions): Promise<SourceSchema> {
    const stmt = await this.#run(
      `SELECT * FROM ${relationSql(relation, snowflakeDialect)} AS "t" LIMIT 0`,
      [],
      options.signal,
    )
    return (stmt.getColumns() ?? []).map((c) => {
      const raw = String(c.getType()).toLowerCase()
      return { name: c.getName(), valueType: TYPES[raw], rawType: raw }
    })
  }

  async dropTemporary(relations: readonly SqlRelation[]): Promise<void> {
    for (const r of relations)
      await this.#run(`DROP TABLE IF EXISTS ${relationSql(r, snowflakeDialect)}`, [], undefined)
  }

  async close(): Promise<void> {
    if (!this.#conn.isUp()) return
    await new Promise<void>((resolve) => this.#conn.destroy(() => resolve()))
  }
}

/** The Snowflake offline store. Create it with {@link snowflakeOfflineStore}. */
export class SnowflakeOfflineStore extends SqlOfflineStoreBase {
  readonly name = 'snowflake'
  readonly sourceKinds = [snowflakeSourceKind]
  protected readonly dialect = snowflakeDialect
  readonly #options: SnowflakeOfflineStoreOptions

  constructor(options: SnowflakeOfflineStoreOptions) {
    super()
    for (const key of ['account', 'username', 'database', 'schema'] as const) {
      if (!options || typeof options[key] !== 'string' || options[key] === '') {
        throw new LarderError('INVALID_CONFIG', `snowflakeOfflineStore needs ${key}`, {
          component: COMPONENT,
          hint: "e.g. snowflakeOfflineStore({ account: 'xy12345', username: 'ML', password, database: 'DB', schema: 'PUBLIC', warehouse: 'WH' })",
        })
      }
    }
    if (
      options.password === undefined &&
      options.privateKey === undefined &&
      options.authenticator === undefined
    ) {
      throw new LarderError(
        'INVALID_CONFIG',
        'snowflakeOfflineStore needs password, privateKey or authenticator',
        {
          component: COMPONENT,
        },
      )
    }
    this.#options = { ...options }
  }

  protected async createRunner(): Promise<SnowflakeRunner> {
    const o = this.#options
    // Loaded on first use: snowflake-sdk starts its cloud-platform detection (metadata
    // address probes, unless SNOWFLAKE_DISABLE_PLATFORM_DETECTION=true) when it is loaded,
    // so importing @larder/snowflake alone never reaches the network.
    const snowflake = (await import('snowflake-sdk')).default
    snowflake.configure({ logLevel: 'OFF' } as never)
    const conn = snowflake.createConnection({
      account: o.account,
      username: o.username,
      database: o.database,
      schema: o.schema,
      ...(o.password !== undefined ? { password: o.password } : {}),
      ...(o.privateKey !== undefined
        ? { privateKey: o.privateKey, authenticator: 'SNOWFLAKE_JWT' }
        : {}),
      ...(o.authenticator !== undefined ? { authenticator: o.authenticator } : {}),
      ...(o.warehouse !== undefined ? { warehouse: o.warehouse } : {}),
      ...(o.role !== undefined ? { role: o.role } : {}),
      ...(o.accessUrl !== undefined ? { accessUrl: o.accessUrl } : {}),
    } as never)
    try {
      await conn.connectAsync(() => undefined)
    } catch (err) {
      throw new LarderError(
        'BACKEND_UNAVAILABLE',
        `cannot log in to Snowflake account '${o.account}' as '${o.username}': ${firstLine(err)}`,
        {
          component: COMPONENT,
          cause: err,
          hint: 'check account, username and password (or privateKey), and the network',
        },
      )
    }
    // connectAsync resolves even when the login failed: a failed login is an error now, not a
    // mystery at the first query.
    if (!conn.isUp()) {
      throw new LarderError(
        'BACKEND_UNAVAILABLE',
        `cannot log in to Snowflake account '${o.account}' as '${o.username}'`,
        {
          component: COMPONENT,
          hint: 'check account, username and password (or privateKey), and the network',
        },
      )
    }
    const runner = new SnowflakeRunner(conn)
    await runner.execute("ALTER SESSION SET TIMEZONE = 'UTC'", [], {})
    if (o.queryTimeoutSeconds !== undefined) {
      await runner.execute(
        `ALTER SESSION SET STATEMENT_TIMEOUT_IN_SECONDS = ${Math.max(1, Math.floor(o.queryTimeoutSeconds))}`,
        [],
        {},
      )
    }
    return runner
  }

  protected sourceRelation(source: SourceSpec): SqlRelation {
    const spec = source as SnowflakeSourceSpec
    if (spec.kind !== 'snowflake') {
      throw new LarderError(
        'UNSUPPORTED',
        `source '${spec.name}' has kind '${spec.kind}'; the snowflake store reads 'snowflake' sources`,
        {
          component: COMPONENT,
        },
      )
    }
    if (typeof spec.query === 'string') return { sql: spec.query }
    return { table: sourceTableParts(spec) }
  }

  /** Creates table `name` (`SCHEMA.T` allowed) holding the rows of an Arrow table. */
  async createTable(name: string | string[], table: arrow.Table): Promise<void> {
    const runner = (await this.runner()) as SnowflakeRunner
    await runner.load(typeof name === 'string' ? name.split('.') : name, table)
  }
}

/**
 * The Snowflake offline store (tables or queries as sources).
 * @example
 * offlineStore: snowflakeOfflineStore({ account: 'xy12345', username: 'ML', password: process.env.SNOWFLAKE_PASSWORD, database: 'DB', schema: 'PUBLIC', warehouse: 'WH' })
 */
export function snowflakeOfflineStore(
  options: SnowflakeOfflineStoreOptions,
): SnowflakeOfflineStore {
  return new SnowflakeOfflineStore(options)
}
