/**
 * `FileOfflineStore`: historical retrieval, materialization reads and offline pushes over
 * Parquet/CSV files, executed by an embedded DuckDB (spilling to disk beyond memory).
 */
import { randomUUID } from 'node:crypto'
import { existsSync } from 'node:fs'
import { mkdir, readdir, realpath, rename, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { basename, dirname, extname, join, matchesGlob, relative, resolve } from 'node:path'
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
  sweepStaleTemps,
  tableToRows,
  tempDirName,
  tempPathFor,
  type ValueTypeName,
  WRITE_ID_COLUMN,
  WRITE_ID_PATTERN,
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
import { type FileFormat, type FileSourceSpec, fileSourceKind } from './file-source.js'
import { ident, isGlob, literal, type ResolvedPath, readRelation, resolvePath } from './sql.js'

/** Options of {@link fileOfflineStore}. */
export interface FileOfflineStoreOptions {
  /**
   * DuckDB worker threads.
   * @default the number of CPU cores (DuckDB's default)
   */
  threads?: number
  /**
   * DuckDB memory limit, e.g. `'2GB'`; beyond it DuckDB spills to `tempDirectory`.
   * @default 80% of RAM (DuckDB's default)
   */
  memoryLimit?: string
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
  #createdTempDir: string | undefined
  readonly #connections = new Set<DuckDBConnection>()

  constructor(options: FileOfflineStoreOptions = {}) {
    super()
    this.#options = { ...options }
  }

  /** The DuckDB instance (created on first use). */
  async instance(): Promise<DuckDBInstance> {
    this.#instance ??= this.#createInstance()
    return this.#instance
  }

  async #createInstance(): Promise<DuckDBInstance> {
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
    const config: Record<string, string> = {
      temp_directory: tempDirectory,
      preserve_insertion_order: 'true',
    }
    if (this.#options.threads !== undefined) config.threads = String(this.#options.threads)
    if (this.#options.memoryLimit !== undefined) config.memory_limit = this.#options.memoryLimit
    try {
      return await DuckDBInstance.create(':memory:', config)
    } catch (err) {
      throw fail('BACKEND_UNAVAILABLE', `cannot start DuckDB: ${messageOf(err)}`, undefined, err)
    }
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
    const instance = this.#instance
    this.#instance = undefined
    if (instance) (await instance.catch(() => undefined))?.closeSync()
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
    const connection = await this.connect()
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
   * Appends rows (larder names) to a file source, columns renamed to source names and cast
   * to the source's column types (the written schema is the source's). Nothing partial is
   * ever visible: files are written under a temporary name, then renamed; temp files of
   * writers that were killed are removed by the next write to the same place.
   *
   * Every appended row carries the write id in the hidden column `__larder_write_id`
   * ({@link WRITE_ID_COLUMN}); given `options.writeId`, a write whose id is already stored
   * appends nothing (a retried push is exact).
   *
   * - folder source: a new `part-<write id>.parquet` (`.csv` for CSV) in the folder; in a
   *   hive-partitioned folder, one part per partition under its `key=value` folders (the rows
   *   must hold the partition columns);
   * - glob source: the same, in the glob's folder (the name must match the glob);
   * - single-file source: the file is rewritten with the rows appended (Feast's behaviour;
   *   costs a full rewrite: prefer a folder for frequent pushes). A symbolic link is
   *   followed: the real file is rewritten and the link kept;
   * - missing file (a path with an extension): NOT_FOUND, as for materialization (create it
   *   first, so that its schema is the one you chose); a missing folder is created.
   * @throws LarderError NOT_FOUND when the source's path does not exist; SCHEMA_MISMATCH
   *   when a column is not in the source; INVALID_INPUT for a malformed write id.
   */
  async writeBatch(
    source: SourceSpec,
    table: arrow.Table,
    options: OfflineWriteOptions = {},
  ): Promise<void> {
    const spec = this.#fileSpec(source)
    if (options.writeId !== undefined && !WRITE_ID_PATTERN.test(options.writeId)) {
      throw fail(
        'INVALID_INPUT',
        `write id '${options.writeId.slice(0, 70)}' is not 1 to 64 letters, digits, '_' or '-'`,
      )
    }
    const writeId = options.writeId ?? `${Date.now()}-${randomUUID()}`
    const resolved = await resolvePath(spec.path, this.context?.repoPath, spec.format)
    if (resolved.shape === 'missing' && extname(resolved.path) !== '') {
      // A new file would get the pushed rows' types, not the ones the source was meant to
      // have (and materialization answers NOT_FOUND for it): refuse, as materialization does.
      throw fail(
        'NOT_FOUND',
        `source '${spec.name}': file '${resolved.path}' does not exist, so rows cannot be appended to it`,
        `create it first with the source's columns (materialization needs it too), or point the source at a folder, which pushes create`,
      )
    }
    let existing: Array<{ name: string; type: DuckDBType }> | undefined
    if (resolved.shape !== 'missing')
      try {
        existing = await this.#describe(
          readRelation(resolved, spec.format, {
            ...(resolved.shape !== 'file' && { hivePartitioning: spec.hivePartitioning }),
          }),
          `source '${spec.name}'`,
          resolved.path,
          spec.format,
        )
      } catch (err) {
        // An empty folder or a glob matching nothing yet: the first part sets the schema.
        if (resolved.shape === 'file' || !(err instanceof LarderError && err.code === 'NOT_FOUND'))
          throw err
      }
    const existingTypes = existing ? new Map(existing.map((c) => [c.name, c.type])) : undefined
    const select: string[] = []
    for (const field of table.schema.fields) {
      const target = sourceColumn(spec, field.name)
      if (existingTypes && !existingTypes.has(target)) {
        throw fail(
          'SCHEMA_MISMATCH',
          `cannot write column '${field.name}' to source '${spec.name}': '${resolved.path}' has no column '${target}'`,
          `its columns are ${[...existingTypes.keys()].filter((c) => c !== WRITE_ID_COLUMN).join(', ')}`,
        )
      }
      const type = existingTypes?.get(target)
      select.push(
        type
          ? `CAST(${ident(field.name)} AS ${type.toString()}) AS ${ident(target)}`
          : `${ident(field.name)} AS ${ident(target)}`,
      )
    }
    select.push(`${literal(writeId)}::VARCHAR AS ${ident(WRITE_ID_COLUMN)}`)
    const plan = await this.#writePlan(spec, resolved, table, writeId)
    if (options.writeId !== undefined && (await this.#holdsWrite(plan, resolved, spec, writeId)))
      return
    await mkdir(dirname(plan.target), { recursive: true })
    const swept = [
      ...(await sweepStaleTemps(plan.target)),
      ...(plan.hive.length > 0 ? await sweepStaleTemps(resolved.path) : []),
    ]
    if (swept.length > 0) {
      this.context?.logger.warn(
        { files: swept },
        `[file] removed ${swept.length} temp file(s) a killed writer left next to source '${spec.name}'`,
      )
    }
    const connection = await this.connect()
    // Staged next to the target (same file system, so renames are atomic); a partitioned
    // write stages next to the source folder, outside what readers scan.
    const temp = tempPathFor(plan.hive.length > 0 ? resolved.path : plan.target)
    const tableName = `__larder_push_${randomUUID().replaceAll('-', '')}`
    const format = spec.format
    const copyOptions = format === 'csv' ? '(FORMAT csv, HEADER true)' : '(FORMAT parquet)'
    try {
      await loadArrowTable(connection, tableName, table, `rows for source '${spec.name}'`)
      let query = `SELECT ${select.join(', ')} FROM temp.main.${ident(tableName)}`
      if (plan.singleFile) {
        query = `SELECT * FROM ${readRelation({ ...resolved, path: plan.target, pattern: plan.target }, format)} UNION ALL BY NAME ${query}`
      }
      if (plan.hive.length > 0) {
        // Partitioned COPY into a staging folder next to the source, then each finished file
        // is renamed into its partition: readers never see a partial file.
        const pattern = literal(`${plan.partStem}-{i}`)
        const hiveOptions = `${copyOptions.slice(0, -1)}, PARTITION_BY (${plan.hive.map(ident).join(', ')}), FILENAME_PATTERN ${pattern})`
        await connection.run(`COPY (${query}) TO ${literal(temp)} ${hiveOptions}`)
        for (const file of await listFiles(temp)) {
          const destination = join(resolved.path, relative(temp, file))
          await mkdir(dirname(destination), { recursive: true })
          await rename(file, destination)
        }
      } else {
        await connection.run(`COPY (${query}) TO ${literal(temp)} ${copyOptions}`)
        await rename(temp, plan.target)
      }
    } catch (err) {
      if (err instanceof LarderError) throw err
      throw fail(
        'BACKEND_ERROR',
        `writing to source '${spec.name}' (${plan.target}) failed: ${messageOf(err)}`,
        undefined,
        err,
      )
    } finally {
      await rm(temp, { force: true, recursive: true })
      this.#release(connection)
    }
  }

  /** Where a write goes: the file to (re)write or the new part, and the hive keys. */
  async #writePlan(
    spec: FileSourceSpec,
    resolved: ResolvedPath,
    table: arrow.Table,
    writeId: string,
  ): Promise<{ target: string; singleFile: boolean; hive: string[]; partStem: string }> {
    const ext = spec.format === 'csv' ? '.csv' : '.parquet'
    const partStem = `part-${writeId}`
    if (resolved.shape === 'file') {
      // Follow a symbolic link: rewrite the real file, keep the link.
      return { target: await realpath(resolved.path), singleFile: true, hive: [], partStem }
    }
    if (resolved.shape === 'missing') {
      return { target: join(resolved.path, partStem + ext), singleFile: false, hive: [], partStem }
    }
    if (resolved.shape === 'glob') {
      let folder = resolved.path
      while (isGlob(folder)) folder = dirname(folder)
      const target = join(folder, partStem + ext)
      if (!matchesGlob(target, resolved.pattern)) {
        throw fail(
          'UNSUPPORTED',
          `source '${spec.name}': a new part file '${basename(target)}' in '${folder}' would not match the glob '${spec.path}'`,
          'point the source at a folder, or use a glob like data/*.parquet',
        )
      }
      return { target, singleFile: false, hive: [], partStem }
    }
    // A hive-partitioned folder gets the rows under their `key=value` folders: a part at its
    // root would turn hive partitioning off for the whole source.
    const hive = spec.hivePartitioning !== false ? await hiveKeys(resolved.path) : []
    for (const key of hive) {
      if (!table.schema.fields.some((f) => sourceColumn(spec, f.name) === key)) {
        throw fail(
          'SCHEMA_MISMATCH',
          `cannot write to source '${spec.name}': '${resolved.path}' is partitioned by '${key}' and the rows have no such column`,
          `add the column '${spec.fieldMapping?.[key] ?? key}' to the rows`,
        )
      }
    }
    return { target: join(resolved.path, partStem + ext), singleFile: false, hive, partStem }
  }

  /** True when the source already holds the rows of write `writeId`. */
  async #holdsWrite(
    plan: { target: string; singleFile: boolean; hive: string[]; partStem: string },
    resolved: ResolvedPath,
    spec: FileSourceSpec,
    writeId: string,
  ): Promise<boolean> {
    if (!plan.singleFile) {
      if (plan.hive.length === 0) return existsSync(plan.target)
      const prefix = `${plan.partStem}-`
      return (await listFiles(resolved.path)).some((f) => basename(f).startsWith(prefix))
    }
    const relation = readRelation(
      { ...resolved, path: plan.target, pattern: plan.target },
      spec.format,
    )
    const connection = await this.connect()
    try {
      const columns = (await connection.run(`SELECT * FROM ${relation} LIMIT 0`)).columnNames()
      if (!columns.includes(WRITE_ID_COLUMN)) return false
      const found = await connection.run(
        `SELECT 1 FROM ${relation} WHERE ${ident(WRITE_ID_COLUMN)} = ${literal(writeId)} LIMIT 1`,
      )
      return (await found.getRows()).length > 0
    } finally {
      this.#release(connection)
    }
  }
}

/** The hive partition keys of a folder, outermost first (`day=.../hour=...` -> day, hour). */
async function hiveKeys(folder: string): Promise<string[]> {
  const keys: string[] = []
  let current = folder
  for (;;) {
    const entries = await readdir(current, { withFileTypes: true })
    const partition = entries.find((e) => e.isDirectory() && /^[^=.][^=]*=/.test(e.name))
    if (!partition) return keys
    keys.push(partition.name.slice(0, partition.name.indexOf('=')))
    current = join(current, partition.name)
  }
}

/** Every file under a folder, recursively. */
async function listFiles(folder: string): Promise<string[]> {
  const out: string[] = []
  for (const entry of await readdir(folder, { withFileTypes: true })) {
    const path = join(folder, entry.name)
    if (entry.isDirectory()) out.push(...(await listFiles(path)))
    else out.push(path)
  }
  return out
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
