/**
 * `FileOfflineStore`: historical retrieval, materialization reads and offline pushes over
 * Parquet/CSV files, executed by an embedded DuckDB (spilling to disk beyond memory).
 */
import { randomUUID } from 'node:crypto'
import { mkdir, rename, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { basename, dirname, join, resolve } from 'node:path'
import {
  type DuckDBConnection,
  DuckDBInstance,
  type DuckDBType,
  type DuckDBValue,
} from '@duckdb/node-api'
import {
  CREATED_TS_COLUMN,
  checkSourceColumns,
  compilePointInTimeSql,
  compilePullSql,
  type EntityTable,
  EVENT_TS_COLUMN,
  LarderError,
  OfflineStoreBase,
  type OfflineStoreCapabilities,
  type OfflineWriteOptions,
  type PullRequest,
  type RetrievalJob,
  type RetrievalPlan,
  type RunOptions,
  type SourceSchema,
  type SourceSpec,
  sourceColumn,
  sweepStaleTempDirs,
  tableToRows,
  tempDirName,
  type ValueTypeName,
  WRITE_ID_COLUMN,
} from '@larder/core'
import type * as arrow from 'apache-arrow'
import * as Arrow from 'apache-arrow'
import {
  loadArrowTable,
  type OutputColumn,
  readExpression,
  resultBatches,
  resultTable,
  toMicrosUtc,
  valueTypeOfArrow,
} from './arrow-io.js'
import { valueTypeOfDuck } from './duck-types.js'
import { duckdbDialect } from './duckdb-dialect.js'
import { COMPONENT, fail, messageOf } from './fail.js'
import { writeFileSource } from './file-offline-write.js'
import { type FileFormat, type FileSourceSpec, fileSourceKind } from './file-source.js'
import { ident, literal, type ResolvedPath, readRelation, resolvePath } from './sql.js'

/** Options of {@link fileOfflineStore}. */
export interface FileOfflineStoreOptions {
  /**
   * DuckDB worker threads.
   * @default the number of CPU cores (DuckDB's default)
   */
  threads?: number
  /**
   * DuckDB memory limit of historical retrievals and writes, e.g. `'2GB'`; beyond it DuckDB
   * spills to `tempDirectory`.
   * @default 80% of RAM (DuckDB's default)
   */
  memoryLimit?: string
  /**
   * DuckDB memory limit of materialization reads (`pullLatest` / `pullAll`). They run on a
   * DuckDB instance of their own, so that materializing 10M rows takes about the memory of
   * 1M (the latest-row-per-key step spills to `tempDirectory` instead of growing with the
   * source) while historical joins keep `memoryLimit`.
   * @default '64MB'
   */
  pullMemoryLimit?: string
  /**
   * Where DuckDB spills data larger than memory.
   * @default a fresh `larder-duckdb-<pid>-*` folder in the OS temp folder, removed on `close()` (and, after a crash, by the next store that starts)
   */
  tempDirectory?: string
  /**
   * Rows per record batch of `pullLatest` / `pullAll`.
   * @default 65536
   */
  batchRows?: number
}

interface SourceRead {
  spec: FileSourceSpec
  resolved: ResolvedPath
  relation: string
}

/** Name of the entity-row-order column given to the compiler. */
const ROW_COLUMN = '__larder_row'

/** The feature output columns of a plan, in output order, with their value types. */
function plannedFeatures(plan: RetrievalPlan): OutputColumn[] {
  const types = new Map<string, ValueTypeName>()
  for (const view of plan.views) for (const f of view.features) types.set(f.outputName, f.valueType)
  const out: OutputColumn[] = []
  for (const name of plan.outputColumns) {
    const valueType = types.get(name)
    if (valueType) out.push({ name, valueType })
  }
  return out
}

/** `* REPLACE (CAST(c AS TIMESTAMPTZ) AS c, ...)` for the given columns. */
function asTimestamps(columns: ReadonlyArray<string | undefined>): string {
  const present = columns.filter((c): c is string => c !== undefined)
  if (present.length === 0) return '*'
  return `* REPLACE (${present.map((c) => `CAST(${ident(c)} AS TIMESTAMPTZ) AS ${ident(c)}`).join(', ')})`
}

/**
 * The offline store of `@larder/file`. Create it with {@link fileOfflineStore}.
 *
 * One embedded DuckDB instance, created on first use, with the session time zone set to
 * UTC (timestamps without a zone are UTC) and spilling to `tempDirectory`.
 */
export class FileOfflineStore extends OfflineStoreBase {
  readonly name = 'file'
  override readonly capabilities: OfflineStoreCapabilities = {
    fileEntityTable: true,
    offlineWrite: true,
  }
  readonly sourceKinds = [fileSourceKind]
  readonly #options: FileOfflineStoreOptions
  #instance: Promise<DuckDBInstance> | undefined
  #pullInstance: Promise<DuckDBInstance> | undefined
  #temp: Promise<string> | undefined
  #createdTempDir: string | undefined
  readonly #connections = new Set<DuckDBConnection>()

  constructor(options: FileOfflineStoreOptions = {}) {
    super()
    this.#options = { ...options }
  }

  /** The DuckDB instance (created on first use). */
  async instance(): Promise<DuckDBInstance> {
    this.#instance ??= this.#createInstance(this.#options.memoryLimit)
    return this.#instance
  }

  /** The spill folder (created on first use). */
  #tempDirectory(): Promise<string> {
    this.#temp ??= (async () => {
      let tempDirectory = this.#options.tempDirectory
      if (tempDirectory === undefined) {
        // Named with this pid: folders of processes that were killed are swept here.
        const swept = await sweepStaleTempDirs(tmpdir(), 'larder-duckdb-')
        if (swept.length > 0) {
          this.context?.logger.warn(
            { folders: swept },
            `[file] removed ${swept.length} DuckDB temp folder(s) of processes that were killed`,
          )
        }
        tempDirectory = join(tmpdir(), tempDirName('larder-duckdb-'))
        await mkdir(tempDirectory, { recursive: true })
        this.#createdTempDir = tempDirectory
      } else {
        await mkdir(tempDirectory, { recursive: true })
      }
      return tempDirectory
    })()
    return this.#temp
  }

  async #createInstance(
    memoryLimit: string | undefined,
    subfolder?: string,
  ): Promise<DuckDBInstance> {
    let tempDirectory = await this.#tempDirectory()
    if (subfolder !== undefined) {
      // Each instance spills into a folder of its own.
      tempDirectory = join(tempDirectory, subfolder)
      await mkdir(tempDirectory, { recursive: true })
    }
    const config: Record<string, string> = {
      temp_directory: tempDirectory,
      preserve_insertion_order: 'true',
    }
    if (this.#options.threads !== undefined) config.threads = String(this.#options.threads)
    if (memoryLimit !== undefined) config.memory_limit = memoryLimit
    try {
      return await DuckDBInstance.create(':memory:', config)
    } catch (err) {
      throw fail('BACKEND_UNAVAILABLE', `cannot start DuckDB: ${messageOf(err)}`, undefined, err)
    }
  }

  /** A connection to the materialization-read instance (its own memory limit). */
  async #connectPull(): Promise<DuckDBConnection> {
    this.#pullInstance ??= this.#createInstance(this.#options.pullMemoryLimit ?? '64MB', 'pulls')
    const connection = await (await this.#pullInstance).connect()
    await connection.run(`SET TimeZone = 'UTC'`)
    this.#connections.add(connection)
    return connection
  }

  /** A new DuckDB connection (session time zone UTC), closed with the store. */
  async connect(): Promise<DuckDBConnection> {
    const connection = await (await this.instance()).connect()
    await connection.run(`SET TimeZone = 'UTC'`)
    this.#connections.add(connection)
    return connection
  }

  #release(connection: DuckDBConnection): void {
    if (this.#connections.delete(connection)) connection.closeSync()
  }

  async close(): Promise<void> {
    for (const connection of this.#connections) connection.closeSync()
    this.#connections.clear()
    for (const instance of [this.#instance, this.#pullInstance]) {
      if (instance) (await instance.catch(() => undefined))?.closeSync()
    }
    this.#instance = undefined
    this.#pullInstance = undefined
    this.#temp = undefined
    if (this.#createdTempDir) {
      await rm(this.#createdTempDir, { recursive: true, force: true })
      this.#createdTempDir = undefined
    }
  }

  // ---------------------------------------------------------------- sources

  #fileSpec(source: SourceSpec): FileSourceSpec {
    if (source.kind !== 'file') {
      throw fail(
        'UNSUPPORTED',
        `source '${source.name}' has kind '${source.kind}'; the file offline store reads 'file' sources`,
        'define it with fileSource() or configure the offline store of that backend',
      )
    }
    const spec = source as FileSourceSpec
    fileSourceKind.validate(spec)
    return spec
  }

  async #sourceRead(source: SourceSpec): Promise<SourceRead> {
    const spec = this.#fileSpec(source)
    const resolved = await resolvePath(spec.path, this.context?.repoPath, spec.format)
    if (resolved.shape === 'missing') {
      throw fail(
        'NOT_FOUND',
        `source '${spec.name}': file '${resolved.path}' does not exist`,
        `check its path ('${spec.path}'; relative paths resolve against the repo folder ${this.context?.repoPath ?? process.cwd()})`,
      )
    }
    return {
      spec,
      resolved,
      relation: readRelation(resolved, spec.format, { hivePartitioning: spec.hivePartitioning }),
    }
  }

  /** Runs `SELECT * ... LIMIT 0` on a relation: names and DuckDB types of its columns. */
  async #describe(
    relation: string,
    what: string,
    path: string,
    format: FileFormat,
  ): Promise<Array<{ name: string; type: DuckDBType }>> {
    const connection = await this.connect()
    try {
      const result = await connection.run(`SELECT * FROM ${relation} LIMIT 0`)
      const names = result.columnNames()
      const types = result.columnTypes()
      return names.map((name, i) => ({ name, type: types[i]! }))
    } catch (err) {
      const message = messageOf(err)
      if (/no files found/i.test(message)) {
        throw fail(
          'NOT_FOUND',
          `${what}: no ${format === 'csv' ? 'CSV' : 'Parquet'} files match '${path}'`,
          'add data files there or fix the path',
          err,
        )
      }
      throw fail(
        'INVALID_INPUT',
        `${what}: cannot read '${path}' as ${format === 'csv' ? 'CSV' : 'Parquet'} (${message})`,
        format === 'parquet'
          ? "check that it is a Parquet file, or set format: 'csv' for CSV"
          : 'check that it is a CSV file with a header row',
        err,
      )
    } finally {
      this.#release(connection)
    }
  }

  /**
   * Columns of a file source (source names), their Larder value types (undefined when
   * Larder has none) and DuckDB's type names.
   * @throws LarderError NOT_FOUND / INVALID_INPUT naming the source and the path.
   */
  async sourceSchema(source: SourceSpec): Promise<SourceSchema> {
    const read = await this.#sourceRead(source)
    const columns = await this.#describe(
      read.relation,
      `source '${read.spec.name}'`,
      read.resolved.path,
      read.spec.format,
    )
    // The write-id column of appended rows is Larder's bookkeeping, never a feature.
    return columns
      .filter((c) => c.name !== WRITE_ID_COLUMN)
      .map((c) => ({
        name: c.name,
        valueType: valueTypeOfDuck(c.type),
        rawType: c.type.toString(),
      }))
  }

  /**
   * Checks that a source's files exist and read as its format, and that its timestamp
   * columns are there and hold times.
   */
  override async validateSource(source: SourceSpec): Promise<void> {
    const spec = this.#fileSpec(source)
    const schema = await this.sourceSchema(spec)
    const byName = new Map(schema.map((c) => [c.name, c]))
    const checks: Array<[string, string | undefined]> = [
      ['timestampField', spec.timestampField],
      ['createdTimestampColumn', spec.createdTimestampColumn],
    ]
    for (const [field, column] of checks) {
      if (column === undefined) continue
      const found = byName.get(column)
      if (!found) {
        throw fail(
          'SCHEMA_MISMATCH',
          `source '${spec.name}': ${field} '${column}' is not a column of '${spec.path}'`,
          `columns are ${schema.map((c) => c.name).join(', ')}`,
        )
      }
      if (found.valueType !== 'timestamp' && found.valueType !== 'string') {
        throw fail(
          'SCHEMA_MISMATCH',
          `source '${spec.name}': ${field} '${column}' has type ${found.rawType}, not a timestamp`,
        )
      }
    }
  }

  async entityTableSchema(entityTable: EntityTable): Promise<SourceSchema> {
    if (entityTable.kind === 'arrow') {
      return entityTable.table.schema.fields.map((f) => ({
        name: f.name,
        valueType: valueTypeOfArrow(f.type),
        rawType: String(f.type),
      }))
    }
    if (entityTable.kind !== 'file') throw this.#sqlEntityTable()
    const resolved = await this.#entityPath(entityTable)
    const columns = await this.#describe(
      readRelation(resolved, entityTable.format),
      'entity table',
      resolved.path,
      entityTable.format,
    )
    // The write-id column of appended rows is Larder's bookkeeping, never a feature.
    return columns
      .filter((c) => c.name !== WRITE_ID_COLUMN)
      .map((c) => ({
        name: c.name,
        valueType: valueTypeOfDuck(c.type),
        rawType: c.type.toString(),
      }))
  }

  #sqlEntityTable(): LarderError {
    return fail(
      'UNSUPPORTED',
      'the file offline store does not take entity tables given as SQL or table names',
      'pass rows, an Arrow table or a Parquet/CSV file',
    )
  }

  async #entityPath(entityTable: { path: string; format: FileFormat }): Promise<ResolvedPath> {
    const resolved = await resolvePath(entityTable.path, this.context?.repoPath, entityTable.format)
    if (resolved.shape === 'missing') {
      throw fail(
        'NOT_FOUND',
        `entity table file '${resolved.path}' does not exist`,
        'check the path of the entity table',
      )
    }
    return resolved
  }

  // ---------------------------------------------------------------- historical retrieval

  /**
   * Point-in-time join of an entity table (Arrow table or Parquet/CSV file) with the views of
   * a plan, run by DuckDB with the query of core's SQL compiler. The job's `toParquet` writes
   * straight from DuckDB. A job holds one DuckDB connection (with an Arrow entity table
   * loaded into it) until it is garbage-collected; it cannot run after `close()`.
   */
  async getHistoricalFeatures(
    entityTable: EntityTable,
    plan: RetrievalPlan,
    options: RunOptions = {},
  ): Promise<RetrievalJob> {
    if (entityTable.kind === 'sql' || entityTable.kind === 'table') throw this.#sqlEntityTable()
    options.signal?.throwIfAborted()
    const sources = new Map<string, SourceRead>()
    for (const view of plan.views) {
      const read = await this.#sourceRead(view.view.source)
      // Every column the join reads must be there: checked on the files' metadata, before
      // any data is read.
      const schema = await this.#describe(
        read.relation,
        `source '${read.spec.name}'`,
        read.resolved.path,
        read.spec.format,
      )
      checkSourceColumns(
        view,
        read.spec,
        new Set(schema.map((c) => c.name)),
        read.resolved.path,
        COMPONENT,
      )
      sources.set(view.projectionName, read)
    }
    const connection = await this.connect()
    try {
      const job = await this.#prepareJob(connection, entityTable, plan, sources, options.signal)
      // The job owns its connection (and the entity rows loaded into it): it is released
      // when the job is garbage-collected, not kept alive by the store until close().
      this.#connections.delete(connection)
      return job
    } catch (err) {
      this.#release(connection)
      throw err
    }
  }

  async #prepareJob(
    connection: DuckDBConnection,
    entityTable: Extract<EntityTable, { kind: 'arrow' | 'file' }>,
    plan: RetrievalPlan,
    sources: Map<string, SourceRead>,
    signal: AbortSignal | undefined,
  ): Promise<RetrievalJob> {
    const tableName = `__larder_entity_${randomUUID().replaceAll('-', '')}`
    const entityTs = asTimestamps([plan.entityTimestampColumn])
    const rowSelect = (from: string) =>
      `SELECT ${entityTs}, rowid AS ${ident(ROW_COLUMN)} FROM ${from}`
    let entityRelation: string
    let entityColumns: OutputColumn[]
    if (entityTable.kind === 'arrow') {
      entityColumns = await loadArrowTable(connection, tableName, entityTable.table, 'entity table')
      entityRelation = rowSelect(`temp.main.${ident(tableName)}`)
    } else {
      const resolved = await this.#entityPath(entityTable)
      const described = await this.#describe(
        readRelation(resolved, entityTable.format),
        'entity table',
        resolved.path,
        entityTable.format,
      )
      entityColumns = described.map((c) => ({
        name: c.name,
        valueType: valueTypeOfDuck(c.type) ?? 'string',
      }))
      if (entityTable.format === 'parquet' && resolved.shape === 'file') {
        // One Parquet file: its row numbers give the input order without a copy.
        const relation = readRelation(resolved, 'parquet', { fileRowNumber: true })
        entityRelation = `SELECT ${entityTs.replace('*', '* EXCLUDE ("file_row_number")')}, "file_row_number" AS ${ident(ROW_COLUMN)} FROM ${relation}`
      } else {
        await connection.run(
          `CREATE OR REPLACE TEMP TABLE ${ident(tableName)} AS SELECT * FROM ${readRelation(resolved, entityTable.format)}`,
        )
        entityRelation = rowSelect(`temp.main.${ident(tableName)}`)
      }
    }
    const known = new Set(entityColumns.map((c) => c.name))
    for (const column of [
      plan.entityTimestampColumn,
      ...plan.views.flatMap((v) => v.joinKeys.map((k) => k.entityColumn)),
    ]) {
      if (!known.has(column)) {
        throw fail(
          'INVALID_INPUT',
          `entity table has no column '${column}'`,
          `its columns are ${[...known].join(', ')}`,
        )
      }
    }
    // Core's SQL compiler with the DuckDB dialect (native ASOF JOIN): the same query shape
    // the warehouse backends run, ordered by entity row.
    const compiled = compilePointInTimeSql(
      plan,
      {
        entity: { sql: entityRelation, rowNumberColumn: ROW_COLUMN },
        sources: (view) => {
          // Every timestamp unit (and DATE) compares as TIMESTAMPTZ, microseconds, UTC.
          const read = sources.get(view.projectionName)!
          return {
            sql: `SELECT ${asTimestamps([read.spec.timestampField, read.spec.createdTimestampColumn])} FROM ${read.relation}`,
          }
        },
      },
      duckdbDialect,
    )
    const sql = compiled.sql
    this.context?.logger.debug({ sql }, '[file] historical retrieval query')
    const params = compiled.params as DuckDBValue[]
    const features = plannedFeatures(plan)
    const entityTypes = new Map(entityColumns.map((c) => [c.name, c.valueType]))
    const run = async <T>(what: string, body: () => Promise<T>): Promise<T> => {
      signal?.throwIfAborted()
      // An abort interrupts the query where it runs.
      const interrupt = () => connection.interrupt()
      signal?.addEventListener('abort', interrupt, { once: true })
      try {
        return await body()
      } catch (err) {
        signal?.throwIfAborted()
        if (err instanceof LarderError) throw err
        throw fail(
          'BACKEND_ERROR',
          `historical retrieval failed while ${what}: ${messageOf(err)}`,
          undefined,
          err,
        )
      } finally {
        signal?.removeEventListener('abort', interrupt)
      }
    }
    const arrowInput = entityTable.kind === 'arrow' ? entityTable.table : undefined
    // What is read back: entity columns from DuckDB only when they were not given as Arrow
    // (those come back exactly as given), features always.
    const selected: OutputColumn[] = []
    const exprs: string[] = []
    if (!arrowInput) {
      for (const name of plan.entityColumns) {
        const valueType: ValueTypeName = entityTypes.get(name) ?? 'string'
        selected.push({ name, valueType })
        exprs.push(readExpression(`q.${ident(name)}`, valueType))
      }
    }
    for (const f of features) {
      selected.push(f)
      exprs.push(readExpression(`q.${ident(f.name)}`, f.valueType))
    }
    // A projection of the ordered query keeps its order.
    const query = `SELECT ${exprs.length ? exprs.join(', ') : '1'} FROM (${sql}) AS q`
    // Entity columns as given, timestamps in micros UTC (converted once, sliced per batch).
    let entityVectors: Array<[string, arrow.Vector]> | undefined
    const withEntities = (features: arrow.Table | arrow.RecordBatch, offset: number) => {
      entityVectors ??= plan.entityColumns.flatMap((name): Array<[string, arrow.Vector]> => {
        const vector = arrowInput?.getChild(name)
        return vector ? [[name, toMicrosUtc(vector)]] : []
      })
      const whole = offset === 0 && features.numRows === arrowInput?.numRows
      const columns: Record<string, arrow.Vector> = {}
      for (const [name, vector] of entityVectors) {
        columns[name] = whole ? vector : vector.slice(offset, offset + features.numRows)
      }
      for (const f of plannedFeatures(plan)) columns[f.name] = features.getChild(f.name)!
      return new Arrow.Table(columns)
    }
    const toArrow = (): Promise<arrow.Table> =>
      run('reading the result', async () => {
        const joined = await resultTable(await connection.stream(query, params), selected)
        return arrowInput ? withEntities(joined, 0) : joined
      })
    const batchRows = this.#options.batchRows ?? 65_536
    async function* toArrowStream(): AsyncIterable<arrow.RecordBatch> {
      const result = await run('reading the result', () => connection.stream(query, params))
      const batches = resultBatches(result, selected, batchRows)[Symbol.asyncIterator]()
      let offset = 0
      for (;;) {
        const next = await run('reading the result', () => batches.next())
        if (next.done) return
        if (!arrowInput) yield next.value
        else yield* withEntities(next.value, offset).batches
        offset += next.value.numRows
      }
    }
    return {
      toArrow,
      toArrowStream,
      toRows: async () => tableToRows(await toArrow()),
      toParquet: (path: string) =>
        run(`writing ${path}`, async () => {
          const target = resolve(path)
          const temp = join(dirname(target), `.${basename(target)}.${randomUUID()}.tmp`)
          try {
            await connection.run(`COPY (${sql}) TO ${literal(temp)} (FORMAT parquet)`, params)
            await rename(temp, target)
          } finally {
            await rm(temp, { force: true })
          }
        }),
      toSql: () => sql,
    }
  }

  // ---------------------------------------------------------------- materialization reads

  /**
   * The latest row per entity key with `start <= event_ts <= end` (greatest event_ts, then
   * greatest created_ts), streamed as record batches.
   */
  pullLatest(request: PullRequest): AsyncIterable<arrow.RecordBatch> {
    return this.#pull(request, true)
  }

  /** Every row with `start <= event_ts <= end`, streamed as record batches. */
  pullAll(request: PullRequest): AsyncIterable<arrow.RecordBatch> {
    return this.#pull(request, false)
  }

  async *#pull(request: PullRequest, latest: boolean): AsyncGenerator<arrow.RecordBatch> {
    const signal = request.signal
    signal?.throwIfAborted()
    const read = await this.#sourceRead(request.view.source)
    const source = read.spec
    const schema = await this.#describe(
      read.relation,
      `source '${source.name}'`,
      read.resolved.path,
      source.format,
    )
    const types = new Map(schema.map((c) => [c.name, c.type]))
    const check = (larderName: string, role: string): DuckDBType => {
      const name = sourceColumn(source, larderName)
      const type = types.get(name)
      if (!type) {
        throw fail(
          'SCHEMA_MISMATCH',
          `source '${source.name}' has no column '${name}' (${role} '${larderName}' of view '${request.view.name}')`,
          `its columns are ${schema.map((c) => c.name).join(', ')}`,
        )
      }
      return type
    }
    const featureTypes = new Map(request.view.features.map((f) => [f.name, f.valueType]))
    const keys: OutputColumn[] = request.joinKeys.map((key) => ({
      name: key,
      valueType: valueTypeOfDuck(check(key, 'join key')) ?? 'string',
    }))
    const features: OutputColumn[] = request.features.map((feature) => ({
      name: feature,
      valueType:
        featureTypes.get(feature) ?? valueTypeOfDuck(check(feature, 'feature')) ?? 'string',
    }))
    for (const f of request.features) check(f, 'feature')
    check(source.timestampField, 'timestampField')
    if (source.createdTimestampColumn !== undefined) {
      check(source.createdTimestampColumn, 'createdTimestampColumn')
    }
    // Core's pull query (the one every warehouse runs) over the files, timestamps as
    // TIMESTAMPTZ (every unit, DATE, no zone = UTC); the projection reads it into Arrow.
    const compiled = compilePullSql(
      {
        source,
        relation: {
          sql: `SELECT ${asTimestamps([source.timestampField, source.createdTimestampColumn])} FROM ${read.relation}`,
        },
        joinKeys: request.joinKeys,
        features,
        start: request.start,
        end: request.end,
        mode: latest ? 'latest' : 'all',
      },
      duckdbDialect,
    )
    const columns: OutputColumn[] = [
      ...keys,
      ...features,
      { name: EVENT_TS_COLUMN, valueType: 'timestamp' },
      { name: CREATED_TS_COLUMN, valueType: 'timestamp' },
    ]
    const sql = `SELECT ${columns.map((c) => `${readExpression(`q.${ident(c.name)}`, c.valueType)} AS ${ident(c.name)}`).join(', ')} FROM (${compiled.sql}) AS q`
    const connection = await this.#connectPull()
    const interrupt = () => connection.interrupt()
    signal?.addEventListener('abort', interrupt, { once: true })
    try {
      this.context?.logger.debug(
        { sql, start: String(request.start), end: String(request.end) },
        `[file] ${latest ? 'pullLatest' : 'pullAll'} of source '${source.name}'`,
      )
      let result: Awaited<ReturnType<DuckDBConnection['stream']>>
      try {
        result = await connection.stream(sql, compiled.params as DuckDBValue[])
      } catch (err) {
        signal?.throwIfAborted()
        throw fail(
          'BACKEND_ERROR',
          `reading source '${source.name}' (${read.resolved.path}) failed: ${messageOf(err)}`,
          undefined,
          err,
        )
      }
      try {
        for await (const batch of resultBatches(
          result,
          columns,
          this.#options.batchRows ?? 65_536,
        )) {
          signal?.throwIfAborted()
          yield batch
        }
      } catch (err) {
        // An interrupted query fails with DuckDB's message: the caller gets its abort reason.
        signal?.throwIfAborted()
        throw err
      }
    } finally {
      signal?.removeEventListener('abort', interrupt)
      this.#release(connection)
    }
  }

  // ---------------------------------------------------------------- offline writes

  /**
   * Appends rows (larder names) to a file source: a new part file (or the single file
   * rewritten), staged under a temporary name and renamed, so nothing partial is ever
   * visible; given `options.writeId`, a retried write appends nothing. The rules are in
   * {@link writeFileSource} (file-offline-write.ts).
   * @throws LarderError NOT_FOUND when the source's file does not exist; SCHEMA_MISMATCH
   *   when a column is not in the source; INVALID_INPUT for a malformed write id.
   */
  async writeBatch(
    source: SourceSpec,
    table: arrow.Table,
    options: OfflineWriteOptions = {},
  ): Promise<void> {
    await writeFileSource(
      {
        repoPath: this.context?.repoPath,
        logger: this.context?.logger,
        describe: (relation, what, path, format) => this.#describe(relation, what, path, format),
        connect: () => this.connect(),
        release: (connection) => this.#release(connection),
      },
      this.#fileSpec(source),
      table,
      options,
    )
  }
}

/**
 * The offline store reading Parquet and CSV files with an embedded DuckDB.
 *
 * @example
 * // larder.config.ts
 * export default defineConfig({
 *   project: 'quickstart',
 *   offlineStore: fileOfflineStore({ memoryLimit: '4GB' }),
 *   onlineStore: sqliteOnlineStore({ path: 'data/online.db' }),
 * })
 */
export function fileOfflineStore(options: FileOfflineStoreOptions = {}): FileOfflineStore {
  return new FileOfflineStore(options)
}
