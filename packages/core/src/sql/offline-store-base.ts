/**
 * `SqlOfflineStoreBase`: everything a warehouse offline store shares. A backend supplies a
 * {@link SqlDialect} and a {@link SqlRunner} (how to talk to its database) and says where a
 * source's rows are (`sourceRelation`); the base does the rest, once for every warehouse:
 * required-column checks, the entity table (upload, SQL, table name), the point-in-time join
 * (`compilePointInTimeSql`, partitions pruned to the entity time range), the pulls
 * (`compilePullSql`), offline writes, result typing, cancellation, error wrapping and the
 * cleanup of temporary objects.
 */
import { randomUUID } from 'node:crypto'
import * as arrow from 'apache-arrow'
import {
  CREATED_TS_COLUMN,
  EVENT_TS_COLUMN,
  OfflineStoreBase,
  type OfflineStoreCapabilities,
  type OfflineWriteOptions,
  type PullRequest,
  type RetrievalJob,
  type SourceSchema,
} from '../contracts.js'
import type { EpochMicros } from '../duration.js'
import { LarderError, type LarderErrorCode } from '../errors.js'
import { readMicros } from '../pit/columns.js'
import type { EntityTable, PlannedView, RetrievalPlan, RunOptions } from '../retrieval.js'
import { type SourceSpec, sourceColumn } from '../spec.js'
import { fromArrowType, toArrowType, type ValueTypeName } from '../types.js'
import { readColumn, tableToRows, toArrowVector } from '../values.js'
import { compilePointInTimeSql, compilePullSql, relationSql, type SqlRelation } from './compile.js'
import { parseRelationName, quoteRelationName, type SqlDialect } from './dialect.js'

/** A result column and the Larder value type it must have. */
export interface SqlColumn {
  name: string
  valueType: ValueTypeName
}

/** Options of every runner call. */
export interface SqlRunOptions {
  /**
   * Aborts the call. A runner that can stop work where it runs (PostgreSQL's
   * `pg_cancel_backend`, BigQuery's `jobs.cancel`, Snowflake's abort) should do so when it
   * fires; the base also checks it between steps and batches.
   */
  signal?: AbortSignal
}

/** Options of {@link SqlRunner.query}. */
export interface SqlQueryOptions extends SqlRunOptions {
  /**
   * The result's columns, in order, with the value types the base will give them. A runner
   * may build its batches of exactly these types; it may also return any Arrow types that
   * hold the same values (int64 for int32, float64 for a REAL read as double, any timestamp
   * unit): the base converts each column by position to the exact type.
   */
  columns: readonly SqlColumn[]
}

/**
 * How {@link SqlOfflineStoreBase} talks to a database. Everything a store creates in one
 * retrieval must be visible to the runner's later calls: run them on one session (session
 * temporary tables) or create temporary objects that any session sees (expiring tables).
 *
 * Values of parameters (`params`): strings (timestamps are `isoMicros` text inside a
 * `CAST(... AS <timestamp type>)`), numbers and bigints, in placeholder order.
 */
export interface SqlRunner {
  /**
   * Creates a new temporary relation named after `name` (a fresh, safe identifier the base
   * made) holding the Arrow table's rows, with its column names and value types
   * (`fromArrowType`), and returns it. Called for entity tables given as rows or Arrow, and
   * for offline writes (staging).
   */
  uploadTable(name: string, table: arrow.Table, options: SqlRunOptions): Promise<SqlRelation>
  /**
   * Optional: like `uploadTable` for a Parquet/CSV file the database reads itself (a load
   * job, `COPY`). Declare `fileEntityTable` when the runner has it.
   */
  uploadFile?(
    name: string,
    path: string,
    format: 'parquet' | 'csv',
    options: SqlRunOptions,
  ): Promise<SqlRelation>
  /** Runs a query and yields its rows as record batches, in the query's order. */
  query(
    sql: string,
    params: readonly unknown[],
    options: SqlQueryOptions,
  ): AsyncIterable<arrow.RecordBatch>
  /** Runs a statement without a result (DDL, INSERT). */
  execute(sql: string, params: readonly unknown[], options: SqlRunOptions): Promise<void>
  /**
   * The columns of a relation (a table or a query), in order: name, Larder value type
   * (undefined when Larder has none) and the database's type name.
   */
  describe(relation: SqlRelation, options: SqlRunOptions): Promise<SourceSchema>
  /**
   * Drops temporary relations made by `uploadTable`/`uploadFile` or the dialect's
   * `createTempTable`; relations already gone are not an error.
   */
  dropTemporary(relations: readonly SqlRelation[]): Promise<void>
  /**
   * The relation a temporary name made by the dialect's `createTempTable` refers to.
   * @default `{ table: name }`
   */
  temporaryRelation?(name: string): SqlRelation
  /** Closes connections. */
  close(): Promise<void>
}

/** The row-order column added to uploaded and SQL entity tables. */
const ROW_COLUMN = '__larder_row'

function messageOf(err: unknown): string {
  return err instanceof Error ? (err.message.split('\n')[0] ?? '') : String(err)
}

function sameType(a: arrow.DataType, b: arrow.DataType): boolean {
  return a.typeId === b.typeId && String(a) === String(b)
}

/**
 * Rows of a driver (arrays of values, in `columns` order) as record batches of at most
 * `batchRows` rows with the columns' exact types; `convert` turns a driver value into
 * Larder's canonical value of the column's type (int64 bigint, timestamps epoch-micro
 * bigint...). No rows: one empty batch with the columns, so the schema is still known.
 * For runners whose client returns rows (pg, snowflake-sdk, the Data API).
 */
export function* rowBatches(
  rows: readonly unknown[][],
  columns: readonly SqlColumn[],
  convert: (value: unknown, type: ValueTypeName) => unknown,
  batchRows = 10_000,
): Iterable<arrow.RecordBatch> {
  for (let start = 0; start === 0 || start < rows.length; start += batchRows) {
    const slice = rows.slice(start, start + batchRows)
    const vectors: Record<string, arrow.Vector> = {}
    columns.forEach((c, i) => {
      vectors[c.name] = toArrowVector(
        slice.map((row) =>
          row[i] === null || row[i] === undefined ? null : convert(row[i], c.valueType),
        ),
        c.valueType,
      )
    })
    yield* new arrow.Table(vectors).batches
    if (rows.length === 0) return
  }
}

/**
 * The Larder value type of each column of an Arrow table, for a runner creating a table to
 * upload it into.
 * @throws LarderError INVALID_INPUT naming a column whose Arrow type Larder cannot store.
 */
export function columnValueTypes(table: arrow.Table, component?: string): ValueTypeName[] {
  return table.schema.fields.map((f) => {
    const vt = fromArrowType(f.type)
    if (!vt) {
      throw new LarderError(
        'INVALID_INPUT',
        `column '${f.name}' has Arrow type ${String(f.type)}, which Larder cannot store`,
        component ? { component } : {},
      )
    }
    return vt
  })
}

/**
 * A batch with exactly the given columns and types (by position; names from `columns`).
 * @throws LarderError BACKEND_ERROR when the batch has fewer columns.
 */
export function conformBatch(
  batch: arrow.RecordBatch,
  columns: readonly SqlColumn[],
  what: string,
): arrow.RecordBatch {
  if (batch.numCols < columns.length) {
    throw new LarderError(
      'BACKEND_ERROR',
      `${what}: the database returned ${batch.numCols} columns, expected ${columns.length}`,
      { component: 'sql' },
    )
  }
  let same = batch.numCols === columns.length
  const vectors: Record<string, arrow.Vector> = {}
  columns.forEach((c, i) => {
    const vector = batch.getChildAt(i) as arrow.Vector
    const field = batch.schema.fields[i] as arrow.Field
    const type = toArrowType(c.valueType)
    if (sameType(vector.type, type)) {
      vectors[c.name] = vector
      if (field.name !== c.name) same = false
    } else {
      same = false
      vectors[c.name] = toArrowVector(
        readColumn(vector, c.valueType, `${what}, column '${c.name}'`),
        c.valueType,
      )
    }
  })
  if (same) return batch
  return new arrow.Table(vectors).batches[0] ?? emptyBatch(columns)
}

function emptyBatch(columns: readonly SqlColumn[]): arrow.RecordBatch {
  const fields = columns.map((c) => new arrow.Field(c.name, toArrowType(c.valueType), true))
  return new arrow.RecordBatch(
    new arrow.Schema(fields),
    arrow.makeData({
      type: new arrow.Struct(fields),
      length: 0,
      children: fields.map((f) => arrow.makeData({ type: f.type, length: 0 } as never)),
    }),
  )
}

/**
 * The columns of a source a planned view reads, checked against the source's columns.
 * @throws LarderError SCHEMA_MISMATCH naming the source, the column, its role and the view.
 */
export function checkSourceColumns(
  view: PlannedView,
  source: SourceSpec,
  present: ReadonlySet<string>,
  where: string,
  component: string,
): void {
  const needed: Array<[string, string]> = [
    ...view.joinKeys.map((k): [string, string] => ['join key', k.name]),
    ['timestamp column', view.timestampColumn],
    ...(view.createdTimestampColumn === undefined
      ? []
      : [['created timestamp column', view.createdTimestampColumn] as [string, string]]),
    ...view.features.map((f): [string, string] => ['feature', f.feature]),
  ]
  for (const [role, name] of needed) {
    const column = sourceColumn(source, name)
    if (!present.has(column)) {
      throw new LarderError(
        'SCHEMA_MISMATCH',
        `source '${source.name}' (${where}) has no column '${column}', the ${role} '${name}' of view '${view.projectionName}'`,
        { component, hint: `its columns are ${[...present].join(', ')}` },
      )
    }
  }
}

/** Least and greatest non-null instant of a timestamp column, or undefined when none. */
function timeRange(
  vector: arrow.Vector,
  what: string,
): { min: EpochMicros; max: EpochMicros } | undefined {
  const micros = readMicros(vector, what)
  let min = Number.POSITIVE_INFINITY
  let max = Number.NEGATIVE_INFINITY
  for (const m of micros) {
    if (Number.isNaN(m)) continue
    if (m < min) min = m
    if (m > max) max = m
  }
  return min <= max ? { min: BigInt(min), max: BigInt(max) } : undefined
}

/** Adds the 1-based row-order column to an entity table. */
function withRowNumbers(table: arrow.Table): arrow.Table {
  const rows = new BigInt64Array(table.numRows)
  for (let i = 0; i < rows.length; i++) rows[i] = BigInt(i + 1)
  const vectors: Record<string, arrow.Vector> = {}
  for (const f of table.schema.fields) vectors[f.name] = table.getChild(f.name) as arrow.Vector
  vectors[ROW_COLUMN] = arrow.makeVector(rows)
  return new arrow.Table(vectors)
}

/** A retrieval job of {@link SqlOfflineStoreBase}: its query, run on demand. */
export interface SqlRetrievalJob extends RetrievalJob {
  toArrowStream(): AsyncIterable<arrow.RecordBatch>
  toTable(name: string): Promise<string[]>
  toSql(): string
  /** Drops the temporary objects of this job now (else they go when the store closes). */
  close(): Promise<void>
}

/**
 * The base of warehouse offline stores. Extend it with a dialect, a runner and where a
 * source's rows are; see `docs/writing-a-backend.md` for a complete store in ~60 lines.
 *
 * Capabilities by default: SQL and table-name entity tables, offline writes (into a table
 * source), Parquet/CSV entity tables when the runner has `uploadFile` (declare it).
 *
 * @example
 * class MyStore extends SqlOfflineStoreBase {
 *   readonly name = 'mydb'
 *   readonly sourceKinds = [mydbSourceKind]
 *   protected readonly dialect = postgresDialect
 *   protected createRunner() { return new MyRunner(this.options) }
 *   protected sourceRelation(source: SourceSpec) { return { table: source.table as string[] } }
 * }
 */
export abstract class SqlOfflineStoreBase extends OfflineStoreBase {
  override readonly capabilities: OfflineStoreCapabilities = {
    sqlEntityTable: true,
    tableEntityTable: true,
    offlineWrite: true,
  }
  /** The dialect of the database. */
  protected abstract readonly dialect: SqlDialect
  /** Makes the runner; called once, on first use (lazy connect). */
  protected abstract createRunner(): SqlRunner | Promise<SqlRunner>
  /**
   * Where a source's rows are: a table (multi-part name) or a query. Throw a LarderError
   * (UNSUPPORTED) for a source of another kind.
   */
  protected abstract sourceRelation(source: SourceSpec): SqlRelation

  #runner: Promise<SqlRunner> | undefined
  readonly #temporary = new Set<SqlRelation>()
  readonly #uploadedFiles = new WeakMap<object, Promise<SqlRelation>>()

  /** The runner (made on first use). */
  protected async runner(): Promise<SqlRunner> {
    this.#runner ??= Promise.resolve()
      .then(() => this.createRunner())
      .catch((err) => {
        this.#runner = undefined
        throw this.wrap(err, 'BACKEND_UNAVAILABLE', `cannot connect to ${this.name}`)
      })
    return this.#runner
  }

  /**
   * A LarderError of this store for a failure of the database (kept as `cause`); LarderErrors
   * and abort reasons pass through unchanged.
   */
  protected wrap(err: unknown, code: LarderErrorCode, what: string, signal?: AbortSignal): unknown {
    if (signal?.aborted) return signal.reason
    if (err instanceof LarderError) return err
    if (err instanceof Error && err.name === 'AbortError') return err
    return new LarderError(code, `${what}: ${messageOf(err)}`, { component: this.name, cause: err })
  }

  async #step<T>(
    what: string,
    signal: AbortSignal | undefined,
    body: () => Promise<T>,
  ): Promise<T> {
    signal?.throwIfAborted()
    try {
      return await body()
    } catch (err) {
      throw this.wrap(err, 'BACKEND_ERROR', what, signal)
    }
  }

  #tempName(): string {
    return `__larder_tmp_${randomUUID().replaceAll('-', '')}`
  }

  #describeWhere(relation: SqlRelation): string {
    return 'sql' in relation ? 'its query' : relationSql(relation, this.dialect)
  }

  /** Columns of a source (source names) as the database describes them. */
  async sourceSchema(source: SourceSpec, options: RunOptions = {}): Promise<SourceSchema> {
    const relation = this.sourceRelation(source)
    const runner = await this.runner()
    return this.#step(
      `cannot read source '${source.name}' (${this.#describeWhere(relation)})`,
      options.signal,
      () => runner.describe(relation, options),
    )
  }

  /** Checks that a source can be read and its timestamp columns exist and hold times. */
  override async validateSource(source: SourceSpec): Promise<void> {
    const schema = await this.sourceSchema(source)
    const byName = new Map(schema.map((c) => [c.name, c]))
    for (const [field, column] of [
      ['timestampField', source.timestampField],
      ['createdTimestampColumn', source.createdTimestampColumn],
    ] as const) {
      if (column === undefined) continue
      const found = byName.get(column)
      if (!found) {
        throw new LarderError(
          'SCHEMA_MISMATCH',
          `source '${source.name}': ${field} '${column}' is not one of its columns`,
          {
            component: this.name,
            hint: `columns are ${schema.map((c) => c.name).join(', ')}`,
          },
        )
      }
      if (found.valueType !== 'timestamp') {
        throw new LarderError(
          'SCHEMA_MISMATCH',
          `source '${source.name}': ${field} '${column}' has type ${found.rawType}, not a timestamp`,
          {
            component: this.name,
          },
        )
      }
    }
  }

  async #fileRelation(
    entityTable: Extract<EntityTable, { kind: 'file' }>,
    options: RunOptions,
  ): Promise<SqlRelation> {
    let uploaded = this.#uploadedFiles.get(entityTable)
    if (!uploaded) {
      uploaded = (async () => {
        const runner = await this.runner()
        if (!runner.uploadFile) {
          throw new LarderError(
            'UNSUPPORTED',
            `offline store '${this.name}' cannot upload entity files`,
            {
              component: this.name,
              hint: 'pass rows, an Arrow table, SQL or a table name',
            },
          )
        }
        const upload = runner.uploadFile.bind(runner)
        const relation = await this.#step(
          `uploading entity file '${entityTable.path}'`,
          options.signal,
          () => upload(this.#tempName(), entityTable.path, entityTable.format, options),
        )
        this.#temporary.add(relation)
        return relation
      })()
      this.#uploadedFiles.set(entityTable, uploaded)
    }
    return uploaded
  }

  /** Columns of an entity table given as a file, SQL or a table name. */
  async entityTableSchema(
    entityTable: EntityTable,
    options: RunOptions = {},
  ): Promise<SourceSchema> {
    if (entityTable.kind === 'arrow') {
      return entityTable.table.schema.fields.map((f) => ({
        name: f.name,
        valueType: fromArrowType(f.type),
        rawType: String(f.type),
      }))
    }
    const relation =
      entityTable.kind === 'file'
        ? await this.#fileRelation(entityTable, options)
        : entityTable.kind === 'sql'
          ? { sql: entityTable.sql }
          : { table: entityTable.table }
    const runner = await this.runner()
    const schema = await this.#step(
      `cannot read the entity table (${this.#describeWhere(relation)})`,
      options.signal,
      () => runner.describe(relation, options),
    )
    return schema.filter((c) => c.name !== ROW_COLUMN)
  }

  /**
   * The point-in-time join, run where the data lives. Source columns are checked first; an
   * entity table of rows/Arrow is uploaded with its row order, SQL is materialized once in a
   * temporary table (`createTempTable`), a table name is read in place. Source reads are
   * limited to `[min entity ts - ttl, max entity ts]` (and their date partitions).
   */
  async getHistoricalFeatures(
    entityTable: EntityTable,
    plan: RetrievalPlan,
    options: RunOptions = {},
  ): Promise<SqlRetrievalJob> {
    const signal = options.signal
    const run = signal ? { signal } : {}
    const runner = await this.runner()
    const sources = new Map<string, SqlRelation>()
    for (const view of plan.views) {
      const source = view.view.source as SourceSpec
      const relation = this.sourceRelation(source)
      const schema = await this.#step(
        `cannot read source '${source.name}' (${this.#describeWhere(relation)})`,
        signal,
        () => runner.describe(relation, run),
      )
      checkSourceColumns(
        view,
        source,
        new Set(schema.map((c) => c.name)),
        this.#describeWhere(relation),
        this.name,
      )
      sources.set(view.projectionName, relation)
    }
    const temporary: SqlRelation[] = []
    const keep = (rel: SqlRelation) => {
      temporary.push(rel)
      this.#temporary.add(rel)
      return rel
    }
    let entity: SqlRelation & { rowNumberColumn?: string }
    let range: { min: EpochMicros; max: EpochMicros } | undefined
    const entityTypes = new Map<string, ValueTypeName>()
    const arrowInput = entityTable.kind === 'arrow' ? entityTable.table : undefined
    try {
      if (entityTable.kind === 'arrow') {
        const table = entityTable.table
        const name = this.#tempName()
        const rel = await this.#step('uploading the entity table', signal, () =>
          runner.uploadTable(name, withRowNumbers(table), run),
        )
        entity = { ...keep(rel), rowNumberColumn: ROW_COLUMN }
        const ts = table.getChild(plan.entityTimestampColumn)
        if (ts) range = timeRange(ts, `entity timestamp column '${plan.entityTimestampColumn}'`)
        for (const f of table.schema.fields) {
          const vt = fromArrowType(f.type)
          if (vt) entityTypes.set(f.name, vt)
        }
      } else {
        let base: SqlRelation
        if (entityTable.kind === 'sql') {
          // The query runs once: its rows (numbered in its order) go to a temporary table.
          const name = this.#tempName()
          const query = `SELECT *, ROW_NUMBER() OVER () AS ${this.dialect.quoteIdentifier(ROW_COLUMN)} FROM (${entityTable.sql}) AS ${this.dialect.quoteIdentifier('__larder_entity_sql')}`
          await this.#step('running the entity SQL', signal, () =>
            runner.execute(this.dialect.createTempTable(name, query), [], run),
          )
          base = keep(runner.temporaryRelation?.(name) ?? { table: name })
          entity = { ...base, rowNumberColumn: ROW_COLUMN }
        } else if (entityTable.kind === 'file') {
          base = await this.#fileRelation(entityTable, run)
          temporary.push(base)
          entity = base
        } else {
          base = { table: entityTable.table }
          entity = base
        }
        const described = await this.#step('reading the entity table', signal, () =>
          runner.describe(base, run),
        )
        for (const c of described) if (c.valueType) entityTypes.set(c.name, c.valueType)
        for (const name of plan.entityColumns) {
          if (!entityTypes.has(name)) {
            throw new LarderError(
              'INVALID_INPUT',
              `entity column '${name}' has a type Larder cannot read`,
              {
                component: this.name,
                hint: 'cast it in the entity SQL to a number, string, bool, bytes or timestamp',
              },
            )
          }
        }
        const q = (n: string) => this.dialect.quoteIdentifier(n)
        const ts = q(plan.entityTimestampColumn)
        const rangeColumns: SqlColumn[] = [
          { name: 'min', valueType: 'timestamp' },
          { name: 'max', valueType: 'timestamp' },
        ]
        const bounds = await this.#collect(
          runner,
          `SELECT MIN(${ts}) AS ${q('min')}, MAX(${ts}) AS ${q('max')} FROM ${relationSql(base, this.dialect)} AS ${q('__larder_entity_input')}`,
          [],
          rangeColumns,
          'reading the entity time range',
          signal,
        )
        if (bounds.numRows === 1) {
          const min = readMicros(bounds.getChild('min') as arrow.Vector, 'min')[0] as number
          const max = readMicros(bounds.getChild('max') as arrow.Vector, 'max')[0] as number
          if (!Number.isNaN(min) && !Number.isNaN(max))
            range = { min: BigInt(min), max: BigInt(max) }
        }
      }
    } catch (err) {
      await this.#drop(temporary)
      throw err
    }
    const compiled = compilePointInTimeSql(
      plan,
      {
        entity,
        sources: (view) => sources.get(view.projectionName) as SqlRelation,
        ...(range ? { entityTimeRange: range } : {}),
      },
      this.dialect,
    )
    this.context?.logger.debug({ sql: compiled.sql }, `[${this.name}] historical retrieval query`)
    const types = new Map(entityTypes)
    for (const view of plan.views)
      for (const f of view.features) types.set(f.outputName, f.valueType)
    const columns: SqlColumn[] = plan.outputColumns.map((name) => ({
      name,
      valueType: types.get(name) as ValueTypeName,
    }))
    const featureCount = plan.outputColumns.length - plan.entityColumns.length
    return this.#job(
      runner,
      compiled.sql,
      compiled.params,
      columns,
      featureCount,
      arrowInput,
      temporary,
      signal,
    )
  }

  #job(
    runner: SqlRunner,
    sql: string,
    params: readonly unknown[],
    columns: SqlColumn[],
    featureCount: number,
    arrowInput: arrow.Table | undefined,
    temporary: SqlRelation[],
    signal: AbortSignal | undefined,
  ): SqlRetrievalJob {
    const store = this
    const entityCount = columns.length - featureCount
    async function* stream(): AsyncIterable<arrow.RecordBatch> {
      let offset = 0
      for await (const batch of store.#batches(
        runner,
        sql,
        params,
        columns,
        'historical retrieval',
        signal,
      )) {
        if (!arrowInput) {
          yield batch
          continue
        }
        // Entity columns come back exactly as they were given, features from the database.
        const vectors: Record<string, arrow.Vector> = {}
        const slice = arrowInput.slice(offset, offset + batch.numRows)
        columns.forEach((c, i) => {
          if (i < entityCount) {
            const v = slice.getChild(c.name) as arrow.Vector
            vectors[c.name] = arrow.DataType.isTimestamp(v.type)
              ? toArrowVector(readColumn(v, 'timestamp', c.name), 'timestamp')
              : v
          } else vectors[c.name] = batch.getChildAt(i) as arrow.Vector
        })
        offset += batch.numRows
        yield* new arrow.Table(vectors).batches
      }
    }
    const toArrow = async (): Promise<arrow.Table> => {
      const batches: arrow.RecordBatch[] = []
      for await (const b of stream()) batches.push(b)
      if (batches.length > 0) return new arrow.Table(batches)
      const fields = columns.map((c, i) => {
        const given =
          i < entityCount ? arrowInput?.schema.fields.find((f) => f.name === c.name) : undefined
        return new arrow.Field(
          c.name,
          given && !arrow.DataType.isTimestamp(given.type) ? given.type : toArrowType(c.valueType),
          true,
        )
      })
      return new arrow.Table(new arrow.Schema(fields))
    }
    return {
      toArrow,
      toRows: async () => tableToRows(await toArrow()),
      toArrowStream: stream,
      toTable: async (name: string) => {
        const parts = parseRelationName(name)
        const target = quoteRelationName(this.dialect, parts)
        const statements = this.createTableStatements(target, sql)
        for (const [i, statement] of statements.entries()) {
          // The last statement holds the query, and so its parameters.
          const bound = i === statements.length - 1 ? params : []
          await this.#step(`writing the result to table ${target}`, signal, () =>
            runner.execute(statement, bound, signal ? { signal } : {}),
          )
        }
        return parts
      },
      toSql: () => sql,
      close: () => this.#drop(temporary),
    }
  }

  /**
   * The statements that leave a query's result in table `target` (quoted), replacing one of
   * that name; the last one holds the query (it gets the query's parameters). Override for
   * `CREATE OR REPLACE TABLE`.
   * @default `DROP TABLE IF EXISTS target`, then `CREATE TABLE target AS query`
   */
  protected createTableStatements(target: string, query: string): string[] {
    return [`DROP TABLE IF EXISTS ${target}`, `CREATE TABLE ${target} AS ${query}`]
  }

  async *#batches(
    runner: SqlRunner,
    sql: string,
    params: readonly unknown[],
    columns: readonly SqlColumn[],
    what: string,
    signal: AbortSignal | undefined,
  ): AsyncIterable<arrow.RecordBatch> {
    signal?.throwIfAborted()
    const options: SqlQueryOptions = signal ? { columns, signal } : { columns }
    let iterator: AsyncIterator<arrow.RecordBatch>
    try {
      iterator = runner.query(sql, params, options)[Symbol.asyncIterator]()
    } catch (err) {
      throw this.wrap(err, 'BACKEND_ERROR', `${what} failed`, signal)
    }
    try {
      for (;;) {
        let next: IteratorResult<arrow.RecordBatch>
        try {
          next = await iterator.next()
        } catch (err) {
          throw this.wrap(err, 'BACKEND_ERROR', `${what} failed`, signal)
        }
        if (next.done) return
        signal?.throwIfAborted()
        yield conformBatch(next.value, columns, `[${this.name}] ${what}`)
      }
    } finally {
      await iterator.return?.()
    }
  }

  async #collect(
    runner: SqlRunner,
    sql: string,
    params: readonly unknown[],
    columns: readonly SqlColumn[],
    what: string,
    signal: AbortSignal | undefined,
  ): Promise<arrow.Table> {
    const batches: arrow.RecordBatch[] = []
    for await (const b of this.#batches(runner, sql, params, columns, what, signal)) batches.push(b)
    return batches.length > 0 ? new arrow.Table(batches) : new arrow.Table(emptyBatch(columns))
  }

  async #drop(relations: readonly SqlRelation[]): Promise<void> {
    const mine = relations.filter((r) => this.#temporary.delete(r))
    if (mine.length === 0 || !this.#runner) return
    const runner = await this.#runner
    try {
      await runner.dropTemporary(mine)
    } catch (err) {
      this.context?.logger.warn(
        { err: messageOf(err) },
        `[${this.name}] could not drop temporary objects`,
      )
    }
  }

  /** The latest row per entity key with `start <= event_ts <= end` (winner rule). */
  pullLatest(request: PullRequest): AsyncIterable<arrow.RecordBatch> {
    return this.#pull(request, 'latest')
  }

  /** Every row with `start <= event_ts <= end`. */
  pullAll(request: PullRequest): AsyncIterable<arrow.RecordBatch> {
    return this.#pull(request, 'all')
  }

  async *#pull(request: PullRequest, mode: 'latest' | 'all'): AsyncIterable<arrow.RecordBatch> {
    const source = request.view.source as SourceSpec
    const signal = request.signal
    const relation = this.sourceRelation(source)
    const runner = await this.runner()
    const schema = await this.#step(
      `cannot read source '${source.name}' (${this.#describeWhere(relation)})`,
      signal,
      () => runner.describe(relation, signal ? { signal } : {}),
    )
    const types = new Map(schema.map((c) => [c.name, c.valueType]))
    const featureTypes = new Map(request.view.features.map((f) => [f.name, f.valueType]))
    const column = (name: string, role: string): string => {
      const col = sourceColumn(source, name)
      if (!types.has(col)) {
        throw new LarderError(
          'SCHEMA_MISMATCH',
          `source '${source.name}' has no column '${col}' (${role} '${name}' of view '${request.view.name}')`,
          { component: this.name, hint: `its columns are ${schema.map((c) => c.name).join(', ')}` },
        )
      }
      return col
    }
    const features = request.features.map((name) => ({
      name,
      valueType: (featureTypes.get(name) ??
        types.get(column(name, 'feature')) ??
        'string') as ValueTypeName,
    }))
    for (const f of request.features) column(f, 'feature')
    const columns: SqlColumn[] = [
      ...request.joinKeys.map((k) => ({
        name: k,
        valueType: types.get(column(k, 'join key')) ?? ('string' as ValueTypeName),
      })),
      ...features,
      { name: EVENT_TS_COLUMN, valueType: 'timestamp' },
      { name: CREATED_TS_COLUMN, valueType: 'timestamp' },
    ]
    const { sql, params } = compilePullSql(
      {
        source,
        relation,
        joinKeys: request.joinKeys,
        features,
        start: request.start,
        end: request.end,
        mode,
      },
      this.dialect,
    )
    this.context?.logger.debug(
      { sql },
      `[${this.name}] ${mode === 'latest' ? 'pullLatest' : 'pullAll'} of source '${source.name}'`,
    )
    yield* this.#batches(runner, sql, params, columns, `reading source '${source.name}'`, signal)
  }

  /**
   * Appends rows (larder names) to a table source, in one `INSERT ... SELECT` from a staged
   * upload: all rows or none. Columns are renamed to source names and checked first.
   * `options.writeId` is not kept by table sources yet (a retried push may append twice).
   * @throws LarderError SCHEMA_MISMATCH naming a column the source does not have.
   */
  async writeBatch(
    source: SourceSpec,
    table: arrow.Table,
    options: OfflineWriteOptions = {},
  ): Promise<void> {
    const signal = options.signal
    const relation = this.sourceRelation(source)
    if ('sql' in relation) {
      throw new LarderError(
        'UNSUPPORTED',
        `source '${source.name}' is a query; offline writes need a table source`,
        {
          component: this.name,
        },
      )
    }
    const schema = await this.sourceSchema(source, options)
    const present = new Set(schema.map((c) => c.name))
    const q = (n: string) => this.dialect.quoteIdentifier(n)
    const targets: string[] = []
    const selects: string[] = []
    for (const field of table.schema.fields) {
      const target = sourceColumn(source, field.name)
      if (!present.has(target)) {
        throw new LarderError(
          'SCHEMA_MISMATCH',
          `cannot write column '${field.name}' to source '${source.name}': it has no column '${target}'`,
          { component: this.name, hint: `its columns are ${[...present].join(', ')}` },
        )
      }
      targets.push(q(target))
      selects.push(q(field.name))
    }
    const runner = await this.runner()
    const run = signal ? { signal } : {}
    const staged = await this.#step(`staging rows for source '${source.name}'`, signal, () =>
      runner.uploadTable(this.#tempName(), table, run),
    )
    this.#temporary.add(staged)
    try {
      await this.#step(`writing to source '${source.name}'`, signal, () =>
        runner.execute(
          `INSERT INTO ${relationSql(relation, this.dialect)} (${targets.join(', ')}) SELECT ${selects.join(', ')} FROM ${relationSql(staged, this.dialect)} AS ${q('__larder_staged')}`,
          [],
          run,
        ),
      )
    } finally {
      await this.#drop([staged])
    }
  }

  /** Drops every temporary object still held, then closes the runner. */
  async close(): Promise<void> {
    const runner = this.#runner
    this.#runner = undefined
    if (!runner) return
    const resolved = await runner.catch(() => undefined)
    if (!resolved) return
    const left = [...this.#temporary]
    this.#temporary.clear()
    try {
      if (left.length > 0) await resolved.dropTemporary(left)
    } catch (err) {
      this.context?.logger.warn(
        { err: messageOf(err) },
        `[${this.name}] could not drop temporary objects`,
      )
    } finally {
      await resolved.close()
    }
  }
}
