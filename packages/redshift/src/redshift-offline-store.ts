/**
 * The Redshift offline store: core's point-in-time join, pulls and offline writes
 * (`SqlOfflineStoreBase`) run in Redshift through the Data API. Entity tables given as rows
 * or Arrow are uploaded by multi-row INSERTs (each statement under the Data API's 100 KB,
 * 40 statements per transaction) into a table dropped when the retrieval is done; SQL and
 * table names are used in place.
 */
import {
  columnValueTypes,
  LarderError,
  parseTime,
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
import {
  createRedshiftDataClient,
  DataApi,
  fieldValue,
  type PollOptions,
  type RedshiftDataClientLike,
  type RedshiftTarget,
} from './data-api.js'
import { redshiftDialect } from './redshift-dialect.js'
import { type RedshiftSourceSpec, redshiftSourceKind, sourceTableParts } from './redshift-source.js'

const COMPONENT = 'redshift'
/** Statement size the store stays under (the Data API takes 100 KB). */
const MAX_STATEMENT_BYTES = 90_000
/** Statements per BatchExecuteStatement (the Data API takes 40). */
const MAX_BATCH = 40

/** Options of {@link redshiftOfflineStore}. */
export interface RedshiftOfflineStoreOptions extends PollOptions {
  /** AWS region. @default the SDK's default chain */
  region?: string
  /** The database statements run in. */
  database: string
  /** Redshift Serverless workgroup; or `clusterIdentifier` + `dbUser`, or `secretArn`. */
  workgroupName?: string
  /** Provisioned cluster. */
  clusterIdentifier?: string
  /** Database user of a provisioned cluster (temporary credentials). */
  dbUser?: string
  /** Secrets Manager secret with the database credentials. */
  secretArn?: string
  /** Another endpoint (a local stand-in); a loopback one needs no credentials. */
  endpoint?: string
  /** Credentials; default: the AWS default chain (environment, profile, role). */
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string }
  /** A Data API client of your own (not destroyed by the store). */
  client?: RedshiftDataClientLike
}

/** Redshift's type names (ColumnMetadata.typeName) as Larder value types. */
const TYPES: Record<string, ValueTypeName> = {
  int2: 'int32',
  int4: 'int32',
  int8: 'int64',
  float4: 'float32',
  float8: 'float64',
  bool: 'bool',
  varchar: 'string',
  bpchar: 'string',
  char: 'string',
  text: 'string',
  timestamp: 'timestamp',
  timestamptz: 'timestamp',
  date: 'timestamp',
  varbyte: 'bytes',
}

/**
 * Epoch microseconds of Redshift timestamp text: `2026-01-01 00:00:10.000001+00`,
 * `2026-01-01 00:00:10` (a TIMESTAMP, read as UTC) or a date.
 */
export function redshiftMicros(text: string): bigint {
  const m = /^(\d{4,}-\d\d-\d\d)(?:[ T](\d\d:\d\d:\d\d)(\.\d+)?)?([+-]\d\d(?::?\d\d)?)?$/.exec(text)
  if (!m) return parseTime(text)
  const zone = m[4] === undefined ? 'Z' : m[4].length === 3 ? `${m[4]}:00` : m[4]
  return parseTime(`${m[1]}T${m[2] ?? '00:00:00'}${m[3] ?? ''}${zone}`)
}

function canonical(value: unknown, type: ValueTypeName): unknown {
  if (value === null || value === undefined) return null
  switch (type) {
    case 'int64':
      return BigInt(value as string)
    case 'int32':
    case 'float32':
    case 'float64':
      return Number(value)
    case 'bool':
      return value === true || value === 'true' || value === 't'
    case 'timestamp':
      return redshiftMicros(String(value))
    case 'string':
      return String(value)
    case 'bytes':
      return value instanceof Uint8Array ? value : Buffer.from(String(value), 'base64')
    default:
      return value
  }
}

/** A value as a Redshift literal of its column's type. */
function literal(value: unknown, type: ValueTypeName): string {
  if (value === null || value === undefined) return 'NULL'
  switch (type) {
    case 'int32':
    case 'int64':
      return String(value)
    case 'float32':
    case 'float64': {
      const n = Number(value)
      if (Number.isFinite(n)) return String(n)
      return `CAST(${redshiftDialect.stringLiteral(Number.isNaN(n) ? 'NaN' : n > 0 ? 'Infinity' : '-Infinity')} AS DOUBLE PRECISION)`
    }
    case 'bool':
      return value ? 'TRUE' : 'FALSE'
    case 'timestamp':
      return redshiftDialect.timestampLiteral(value as bigint)
    case 'string':
      return redshiftDialect.stringLiteral(String(value))
    default:
      throw new LarderError('UNSUPPORTED', `Redshift cannot store Larder's ${type} values here`, {
        component: COMPONENT,
      })
  }
}

class RedshiftRunner implements SqlRunner {
  readonly #api: DataApi
  readonly #close: () => void

  /** The Data API this runner uses (statements of your own, tests). */
  get api(): DataApi {
    return this.#api
  }

  constructor(api: DataApi, close: () => void) {
    this.#api = api
    this.#close = close
  }

  /** Creates table `name` and fills it with the rows of `table` by multi-row INSERTs. */
  async load(parts: string[], table: arrow.Table, signal?: AbortSignal): Promise<SqlRelation> {
    const d = redshiftDialect
    const fields = table.schema.fields
    const types = columnValueTypes(table, COMPONENT)
    const target = relationSql({ table: parts }, d)
    const columns = fields.map(
      (f, i) => `${d.quoteIdentifier(f.name)} ${d.typeName(types[i] as ValueTypeName)}`,
    )
    const statements = [`CREATE TABLE ${target} (${columns.join(', ')})`]
    const values = fields.map((f, i) =>
      readColumn(table.getChild(f.name) as arrow.Vector, types[i] as ValueTypeName, f.name),
    )
    const head = `INSERT INTO ${target} VALUES `
    let rows: string[] = []
    let size = head.length
    for (let r = 0; r < table.numRows; r++) {
      const row = `(${fields.map((_, c) => literal(values[c]?.[r], types[c] as ValueTypeName)).join(', ')})`
      const bytes = Buffer.byteLength(row) + 2
      if (head.length + bytes > MAX_STATEMENT_BYTES) {
        throw new LarderError(
          'INVALID_INPUT',
          `row ${r} of the entity table is larger than a Redshift Data API statement can carry (100 KB)`,
          {
            component: COMPONENT,
          },
        )
      }
      if (size + bytes > MAX_STATEMENT_BYTES && rows.length > 0) {
        statements.push(head + rows.join(', '))
        rows = []
        size = head.length
      }
      rows.push(row)
      size += bytes
    }
    if (rows.length > 0) statements.push(head + rows.join(', '))
    // The first batch creates the table; later batches each add rows in one transaction.
    for (let i = 0; i < statements.length; i += MAX_BATCH) {
      await this.#api.run(statements.slice(i, i + MAX_BATCH), [], signal)
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
    const id = await this.#api.run([sql], params, options.signal)
    let any = false
    for await (const page of this.#api.pages(id, options.signal)) {
      const records = page.Records ?? []
      if (records.length === 0 && any) continue
      any = true
      yield* rowBatches(
        records.map((r) => r.map(fieldValue)),
        options.columns,
        canonical,
      )
    }
  }

  async execute(sql: string, params: readonly unknown[], options: SqlRunOptions): Promise<void> {
    await this.#api.run([sql], params, options.signal)
  }

  async describe(relation: SqlRelation, options: SqlRunOptions): Promise<SourceSchema> {
    const id = await this.#api.run(
      [`SELECT * FROM ${relationSql(relation, redshiftDialect)} AS "t" LIMIT 0`],
      [],
      options.signal,
    )
    for await (const page of this.#api.pages(id, options.signal)) {
      return (page.ColumnMetadata ?? []).map((c) => {
        const raw = String(c.typeName ?? '')
        return { name: String(c.name ?? c.label ?? ''), valueType: TYPES[raw], rawType: raw }
      })
    }
    return []
  }

  async dropTemporary(relations: readonly SqlRelation[]): Promise<void> {
    for (const r of relations)
      await this.#api.run([`DROP TABLE IF EXISTS ${relationSql(r, redshiftDialect)}`], [])
  }

  async close(): Promise<void> {
    this.#close()
  }
}

/** The Redshift offline store. Create it with {@link redshiftOfflineStore}. */
export class RedshiftOfflineStore extends SqlOfflineStoreBase {
  readonly name = 'redshift'
  readonly sourceKinds = [redshiftSourceKind]
  protected readonly dialect = redshiftDialect
  readonly #options: RedshiftOfflineStoreOptions

  constructor(options: RedshiftOfflineStoreOptions) {
    super()
    if (!options || typeof options.database !== 'string' || options.database === '') {
      throw new LarderError('INVALID_CONFIG', 'redshiftOfflineStore needs a database', {
        component: COMPONENT,
        hint: "e.g. redshiftOfflineStore({ region: 'us-east-1', database: 'dev', workgroupName: 'wg' })",
      })
    }
    const targets = [
      options.workgroupName !== undefined,
      options.clusterIdentifier !== undefined,
    ].filter(Boolean).length
    if (targets !== 1) {
      throw new LarderError(
        'INVALID_CONFIG',
        'redshiftOfflineStore needs exactly one of workgroupName (serverless) and clusterIdentifier (provisioned)',
        {
          component: COMPONENT,
        },
      )
    }
    if (
      options.clusterIdentifier !== undefined &&
      options.dbUser === undefined &&
      options.secretArn === undefined
    ) {
      throw new LarderError('INVALID_CONFIG', 'a provisioned cluster needs dbUser or secretArn', {
        component: COMPONENT,
      })
    }
    this.#options = { ...options }
  }

  protected createRunner(): RedshiftRunner {
    const o = this.#options
    const client =
      o.client ??
      createRedshiftDataClient({
        ...(o.region ? { region: o.region } : {}),
        ...(o.endpoint ? { endpoint: o.endpoint } : {}),
        ...(o.credentials ? { credentials: o.credentials } : {}),
      })
    const target: RedshiftTarget = {
      database: o.database,
      ...(o.workgroupName ? { workgroupName: o.workgroupName } : {}),
      ...(o.clusterIdentifier ? { clusterIdentifier: o.clusterIdentifier } : {}),
      ...(o.dbUser ? { dbUser: o.dbUser } : {}),
      ...(o.secretArn ? { secretArn: o.secretArn } : {}),
    }
    const poll: PollOptions = {
      ...(o.pollIntervalMs !== undefined ? { pollIntervalMs: o.pollIntervalMs } : {}),
      ...(o.maxPollIntervalMs !== undefined ? { maxPollIntervalMs: o.maxPollIntervalMs } : {}),
    }
    return new RedshiftRunner(new DataApi(client, target, poll), () => {
      if (!o.client) client.destroy?.()
    })
  }

  protected sourceRelation(source: SourceSpec): SqlRelation {
    const spec = source as RedshiftSourceSpec
    if (spec.kind !== 'redshift') {
      throw new LarderError(
        'UNSUPPORTED',
        `source '${spec.name}' has kind '${spec.kind}'; the redshift store reads 'redshift' sources`,
        {
          component: COMPONENT,
        },
      )
    }
    if (typeof spec.query === 'string') return { sql: spec.query }
    return { table: sourceTableParts(spec) }
  }

  /** Creates table `name` (`schema.table` allowed) holding the rows of an Arrow table. */
  async createTable(name: string | string[], table: arrow.Table): Promise<void> {
    const runner = (await this.runner()) as RedshiftRunner
    await runner.load(typeof name === 'string' ? name.split('.') : name, table)
  }
}

/**
 * The Redshift offline store (tables or queries as sources, run through the Data API).
 * @example
 * offlineStore: redshiftOfflineStore({ region: 'us-east-1', database: 'dev', workgroupName: 'wg' })
 */
export function redshiftOfflineStore(options: RedshiftOfflineStoreOptions): RedshiftOfflineStore {
  return new RedshiftOfflineStore(options)
}
