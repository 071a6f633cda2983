/**
 * A PostgreSQL offline store built on core's `SqlOfflineStoreBase`: the reference warehouse
 * backend (it passes the offline conformance suite in full on a real PostgreSQL) and the
 * model for BigQuery, Snowflake and Redshift. Sources are tables or queries of one database.
 */
import {
  columnValueTypes,
  elementType,
  isoMicros,
  LarderError,
  parseRelationName,
  parseTime,
  postgresDialect,
  readColumn,
  relationSql,
  rowBatches,
  type SourceKind,
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
import pg from 'pg'

/** Options of {@link postgresOfflineStore}. */
export interface PostgresOfflineStoreOptions {
  /** e.g. `postgres://postgres@127.0.0.1:5432/test`. */
  connectionString: string
  /** Schema put first on the search path (unqualified source tables are read there). */
  schema?: string
  /** Rows per record batch of results. @default 10000 */
  batchRows?: number
}

/** A source of the PostgreSQL store: a table (`'schema.table'` or parts) or a query. */
export interface PostgresSourceSpec extends SourceSpec {
  kind: 'postgres'
  table?: string | string[]
  query?: string
}

/** The `postgres` source kind: a table or a query, exactly one. */
export const postgresSourceKind: SourceKind<PostgresSourceSpec> = {
  kind: 'postgres',
  validate(spec: PostgresSourceSpec): void {
    if ((spec.table === undefined) === (spec.query === undefined)) {
      throw new LarderError(
        'INVALID_DEFINITION',
        `postgres source '${spec.name}' needs exactly one of table and query`,
        { component: 'postgres', hint: "e.g. table: 'public.driver_stats'" },
      )
    }
  },
}

const TYPES: Record<number, [ValueTypeName | undefined, string]> = {
  16: ['bool', 'boolean'],
  17: ['bytes', 'bytea'],
  20: ['int64', 'bigint'],
  21: ['int32', 'smallint'],
  23: ['int32', 'integer'],
  25: ['string', 'text'],
  700: ['float32', 'real'],
  701: ['float64', 'double precision'],
  1042: ['string', 'character'],
  1043: ['string', 'character varying'],
  1082: ['timestamp', 'date'],
  1114: ['timestamp', 'timestamp'],
  1184: ['timestamp', 'timestamptz'],
  1000: ['array<bool>', 'boolean[]'],
  1007: ['array<int32>', 'integer[]'],
  1016: ['array<int64>', 'bigint[]'],
  1009: ['array<string>', 'text[]'],
  1021: ['array<float32>', 'real[]'],
  1022: ['array<float64>', 'double precision[]'],
  1185: ['array<timestamp>', 'timestamptz[]'],
}

/**
 * Epoch microseconds of a PostgreSQL timestamp as text: `2026-01-01 00:00:10.000001+00`,
 * `2026-01-01 00:00:10` (read as UTC) or a date.
 */
export function postgresMicros(text: string): bigint {
  const m = /^(\d{4,}-\d\d-\d\d)(?: (\d\d:\d\d:\d\d)(\.\d+)?)?([+-]\d\d(?::?\d\d)?)?$/.exec(text)
  if (!m) return parseTime(text)
  const zone = m[4] === undefined ? 'Z' : m[4].length === 3 ? `${m[4]}:00` : m[4]
  return parseTime(`${m[1]}T${m[2] ?? '00:00:00'}${m[3] ?? ''}${zone}`)
}

const parsers = {
  getTypeParser: (oid: number, format?: 'text' | 'binary') => {
    if (oid === 20) return (v: string) => BigInt(v)
    if (oid === 1082 || oid === 1114 || oid === 1184) return (v: string) => postgresMicros(v)
    return pg.types.getTypeParser(oid, format as 'text')
  },
}

function canonical(value: unknown, type: ValueTypeName): unknown {
  if (value === null || value === undefined) return null
  const element = elementType(type)
  if (element) return (value as unknown[]).map((v) => canonical(v, element))
  switch (type) {
    case 'int64':
      return BigInt(value as bigint)
    case 'int32':
    case 'float32':
    case 'float64':
      return Number(value)
    case 'timestamp':
      return typeof value === 'bigint' ? value : postgresMicros(String(value))
    case 'string':
      return String(value)
    default:
      return value
  }
}

function param(value: unknown, type: ValueTypeName): unknown {
  if (value === null || value === undefined) return null
  const element = elementType(type)
  if (element) return (value as unknown[]).map((v) => param(v, element))
  if (type === 'timestamp') return isoMicros(value as bigint)
  if (typeof value === 'bigint') return value.toString()
  if (value instanceof Uint8Array) return Buffer.from(value)
  return value
}

class PostgresRunner implements SqlRunner {
  constructor(
    private readonly client: pg.Client,
    private readonly pid: number,
    private readonly options: PostgresOfflineStoreOptions,
  ) {}

  async #run(sql: string, params: readonly unknown[], signal?: AbortSignal) {
    signal?.throwIfAborted()
    const cancel = () => {
      // Stops the statement where it runs, from a second connection.
      const killer = new pg.Client({ connectionString: this.options.connectionString })
      killer
        .connect()
        .then(() => killer.query('SELECT pg_cancel_backend($1)', [this.pid]))
        .finally(() => killer.end())
        .catch(() => {})
    }
    signal?.addEventListener('abort', cancel, { once: true })
    try {
      return await this.client.query({
        text: sql,
        values: [...params],
        rowMode: 'array',
        types: parsers,
      })
    } finally {
      signal?.removeEventListener('abort', cancel)
    }
  }

  /** Creates a table (temporary unless `temporary` is false) holding the Arrow table's rows. */
  async load(
    name: string,
    table: arrow.Table,
    temporary: boolean,
    signal?: AbortSignal,
  ): Promise<SqlRelation> {
    const d = postgresDialect
    const fields = table.schema.fields
    const types = columnValueTypes(table)
    const parts = parseRelationName(name)
    const target = relationSql({ table: parts }, d)
    const cols = fields.map(
      (f, i) => `${d.quoteIdentifier(f.name)} ${d.typeName(types[i] as ValueTypeName)}`,
    )
    await this.#run(
      `CREATE ${temporary ? 'TEMPORARY ' : ''}TABLE ${target} (${cols.join(', ')})`,
      [],
      signal,
    )
    const values = fields.map((f, i) =>
      readColumn(table.getChild(f.name) as arrow.Vector, types[i] as ValueTypeName, f.name),
    )
    const chunk = Math.max(1, Math.min(5000, Math.floor(60_000 / Math.max(1, fields.length))))
    for (let start = 0; start < table.numRows; start += chunk) {
      const end = Math.min(table.numRows, start + chunk)
      const params: unknown[] = []
      const rows: string[] = []
      for (let r = start; r < end; r++) {
        const cells = fields.map((_, c) => {
          params.push(param(values[c]?.[r], types[c] as ValueTypeName))
          return `$${params.length}`
        })
        rows.push(`(${cells.join(', ')})`)
      }
      await this.#run(`INSERT INTO ${target} VALUES ${rows.join(', ')}`, params, signal)
    }
    return { table: parts }
  }

  uploadTable(name: string, table: arrow.Table, options: SqlRunOptions): Promise<SqlRelation> {
    return this.load(name, table, true, options.signal)
  }

  async *query(
    sql: string,
    params: readonly unknown[],
    options: SqlQueryOptions,
  ): AsyncIterable<arrow.RecordBatch> {
    const result = await this.#run(sql, params, options.signal)
    yield* rowBatches(
      result.rows as unknown[][],
      options.columns,
      canonical,
      this.options.batchRows,
    )
  }

  async execute(sql: string, params: readonly unknown[], options: SqlRunOptions): Promise<void> {
    await this.#run(sql, params, options.signal)
  }

  async describe(relation: SqlRelation, options: SqlRunOptions): Promise<SourceSchema> {
    const result = await this.#run(
      `SELECT * FROM ${relationSql(relation, postgresDialect)} AS "t" LIMIT 0`,
      [],
      options.signal,
    )
    return result.fields.map((f) => {
      const [valueType, rawType] = TYPES[f.dataTypeID] ?? [undefined, `oid ${f.dataTypeID}`]
      return { name: f.name, valueType, rawType }
    })
  }

  async dropTemporary(relations: readonly SqlRelation[]): Promise<void> {
    for (const r of relations)
      await this.#run(`DROP TABLE IF EXISTS ${relationSql(r, postgresDialect)}`, [])
  }

  async close(): Promise<void> {
    await this.client.end()
  }
}

/** The PostgreSQL offline store. Create it with {@link postgresOfflineStore}. */
export class PostgresOfflineStore extends SqlOfflineStoreBase {
  readonly name = 'postgres'
  readonly sourceKinds = [postgresSourceKind]
  protected readonly dialect = postgresDialect
  readonly #options: PostgresOfflineStoreOptions

  constructor(options: PostgresOfflineStoreOptions) {
    super()
    this.#options = { ...options }
  }

  protected async createRunner(): Promise<PostgresRunner> {
    const client = new pg.Client({ connectionString: this.#options.connectionString })
    await client.connect()
    await client.query("SET TimeZone = 'UTC'")
    if (this.#options.schema !== undefined) {
      await client.query(
        `SET search_path TO ${postgresDialect.quoteIdentifier(this.#options.schema)}, public`,
      )
    }
    const pid = (await client.query('SELECT pg_backend_pid() AS pid')).rows[0].pid as number
    return new PostgresRunner(client, pid, this.#options)
  }

  protected sourceRelation(source: SourceSpec): SqlRelation {
    const spec = source as PostgresSourceSpec
    if (spec.kind !== 'postgres') {
      throw new LarderError(
        'UNSUPPORTED',
        `source '${spec.name}' has kind '${spec.kind}'; the postgres store reads 'postgres' sources`,
        { component: this.name },
      )
    }
    if (typeof spec.query === 'string') return { sql: spec.query }
    if (typeof spec.table === 'string') return { table: parseRelationName(spec.table) }
    if (Array.isArray(spec.table)) return { table: spec.table }
    throw new LarderError('INVALID_DEFINITION', `source '${spec.name}' needs a table or a query`, {
      component: this.name,
    })
  }

  /** Creates table `name` (`'schema.table'` allowed) holding the rows of an Arrow table. */
  async createTable(name: string, table: arrow.Table): Promise<void> {
    const runner = (await this.runner()) as PostgresRunner
    await runner.load(name, table, false)
  }
}

/**
 * The PostgreSQL offline store (tables or queries of one database as sources).
 *
 * @example
 * const store = postgresOfflineStore({ connectionString: 'postgres://postgres@127.0.0.1:5432/test' })
 * await store.createTable('driver_stats', table)
 * const source: PostgresSourceSpec = { kind: 'postgres', name: 'driver_stats', table: 'driver_stats', timestampField: 'event_timestamp' }
 */
export function postgresOfflineStore(options: PostgresOfflineStoreOptions): PostgresOfflineStore {
  return new PostgresOfflineStore(options)
}
