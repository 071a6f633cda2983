import { randomUUID } from 'node:crypto'
import { rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { QueryResult } from '../warehouse/duckdb.js'
import { WarehouseDb } from '../warehouse/duckdb.js'
import type { EmulatorRequest, EmulatorResponse } from '../warehouse/http.js'
import { HttpError, parseJsonBody, startLoopbackServer } from '../warehouse/http.js'
import { duckIdent, duckString } from '../warehouse/lexer.js'
import { SqlRejection } from '../warehouse/sql.js'
import type { BigQueryParameter } from './dialect.js'
import { translateBigQuery } from './dialect.js'
import type { BigQueryField, BigQueryRow } from './values.js'
import { duckTypeFor, fieldFor, toApiValue } from './values.js'

/** Options for {@link startBigQueryEmulator}. */
export interface BigQueryEmulatorOptions {
  /** Port on 127.0.0.1; 0 (default) picks a free one. */
  port?: number
  /** DuckDB database file; in-memory when omitted. */
  database?: string
  /** Project id reported in resources (any project id in request paths is accepted). */
  projectId?: string
  /** Rows per result page when the client does not send `maxResults` (default 10,000). */
  defaultPageRows?: number
  /** How many query jobs keep their result rows for getQueryResults (default 100, oldest dropped first). */
  keptResults?: number
}

/** A running BigQuery emulator. */
export interface BigQueryEmulator {
  /** Base URL to pass as the client's `apiEndpoint`. */
  url: string
  port: number
  projectId: string
  /** Runs DuckDB SQL directly (test setup, e.g. `CREATE SCHEMA ds; CREATE TABLE ds.t AS FROM range(10)`). */
  query(sql: string): Promise<QueryResult>
  /**
   * Makes query jobs look long-running, as on BigQuery: a job whose SQL `hold(jobId, sql)`
   * accepts runs, but its state stays RUNNING (getQueryResults answers `jobComplete: false`
   * after waiting up to `timeoutMs`, at most 200 ms here) until `release(jobId)` or a
   * `jobs.cancel`, which ends it with `stopped` ("Job execution was cancelled"), as the API
   * does. `holdQueries(undefined)` stops holding new jobs.
   */
  holdQueries(hold: ((jobId: string, sql: string) => boolean) | undefined): void
  /** Ends the hold of a job: it completes with its result. */
  release(jobId: string): void
  close(): Promise<void>
}

const LOCATION = 'US'

interface StoredJob {
  resource: Record<string, unknown>
  /** Result of a query job (absent for load jobs and failed jobs). */
  result?: { fields: BigQueryField[]; rows: QueryResult['rows'] }
  /** HTTP error answered by getQueryResults for a failed job. */
  failure?: EmulatorResponse
  /** Set when the result rows were dropped to bound memory. */
  expired?: boolean
}

/** Builds an error body the way the BigQuery REST API does (the client turns it into an ApiError). */
export function apiError(status: number, reason: string, message: string): HttpError {
  const statusText: Record<number, string> = {
    400: 'INVALID_ARGUMENT',
    404: 'NOT_FOUND',
    409: 'ALREADY_EXISTS',
    500: 'INTERNAL',
    501: 'UNIMPLEMENTED',
  }
  return new HttpError({
    status,
    json: {
      error: {
        code: status,
        message,
        errors: [{ message, domain: 'global', reason }],
        status: statusText[status] ?? 'UNKNOWN',
      },
    },
  })
}

const badRequest = (message: string): never => {
  throw apiError(400, 'invalid', message)
}

/**
 * Starts a BigQuery REST API stand-in backed by DuckDB on 127.0.0.1: datasets are DuckDB schemas,
 * GoogleSQL is validated then translated (see README.md). Point `@google-cloud/bigquery` at
 * `url` with `apiEndpoint`.
 */
export async function startBigQueryEmulator(
  options: BigQueryEmulatorOptions = {},
): Promise<BigQueryEmulator> {
  const db = await WarehouseDb.open(options.database)
  const projectId = options.projectId ?? 'larder-emulator'
  const pageRows = options.defaultPageRows ?? 10_000
  const keptResults = options.keptResults ?? 100
  const jobs = new Map<string, StoredJob>()
  const withRows: string[] = []
  let holdPredicate: ((jobId: string, sql: string) => boolean) | undefined
  const held = new Set<string>()
  /** Stores a job; only the last `keptResults` jobs keep their result rows in memory. */
  const remember = (jobId: string, stored: StoredJob): void => {
    jobs.set(jobId, stored)
    if (!stored.result || stored.result.rows.length === 0) return
    withRows.push(jobId)
    while (withRows.length > keptResults) {
      const old = jobs.get(withRows.shift()!)
      if (old?.result) {
        old.expired = true
        old.result = { fields: old.result.fields, rows: [] }
      }
    }
  }

  /** Maps a DuckDB error to the BigQuery error the real service would give. */
  const duckError = (err: unknown, project: string, tables: readonly string[] = []): HttpError => {
    const message = err instanceof Error ? err.message.split('\n')[0]! : String(err)
    let m =
      /Table with name "?([^"\s]+)"? does not exist because schema "([^"]+)" does not exist/.exec(
        message,
      )
    if (m)
      return apiError(
        404,
        'notFound',
        `Not found: Dataset ${project}:${m[2]} was not found in location ${LOCATION}`,
      )
    m = /Table with name "?([^"\s!]+)"? does not exist/.exec(message)
    if (m) {
      const bare = m[1]!
      const full = tables.find((t) => t.toLowerCase().endsWith(`.${bare.toLowerCase()}`)) ?? bare
      return apiError(
        404,
        'notFound',
        `Not found: Table ${project}:${full} was not found in location ${LOCATION}`,
      )
    }
    m = /Schema with name "?([^"\s!]+)"? does not exist/.exec(message)
    if (m)
      return apiError(
        404,
        'notFound',
        `Not found: Dataset ${project}:${m[1]} was not found in location ${LOCATION}`,
      )
    m = /Referenced column "?([^"\s]+)"? not found/.exec(message)
    if (m) return apiError(400, 'invalidQuery', `Unrecognized name: ${m[1]}`)
    m = /already exists/.exec(message)
    if (m)
      return apiError(
        409,
        'duplicate',
        `Already Exists: ${message.replace(/^[A-Za-z ]+Error: /, '')}`,
      )
    return apiError(400, 'invalidQuery', message.replace(/^[A-Za-z ]+Error: /, ''))
  }

  const rejection = (err: SqlRejection): HttpError =>
    apiError(err.kind === 'unsupported' ? 501 : 400, 'invalidQuery', err.message)

  const jobResource = (
    project: string,
    jobId: string,
    configuration: Record<string, unknown>,
    extra: Record<string, unknown>,
  ): Record<string, unknown> => {
    const now = String(Date.now())
    return {
      kind: 'bigquery#job',
      etag: randomUUID(),
      id: `${project}:${LOCATION}.${jobId}`,
      selfLink: `${server.url}/bigquery/v2/projects/${project}/jobs/${jobId}?location=${LOCATION}`,
      jobReference: { projectId: project, jobId, location: LOCATION },
      configuration,
      status: { state: 'DONE' },
      statistics: { creationTime: now, startTime: now, endTime: now },
      ...extra,
    }
  }

  /** Runs a GoogleSQL query job to completion and stores it under `jobId`. */
  const runQueryJob = async (
    project: string,
    jobId: string,
    query: Record<string, unknown>,
  ): Promise<StoredJob> => {
    const configuration = { jobType: 'QUERY', query }
    const fail = (err: HttpError): StoredJob => {
      const body = err.response.json as { error: { message: string; errors: unknown[] } }
      const stored: StoredJob = {
        resource: jobResource(project, jobId, configuration, {
          status: { state: 'DONE', errorResult: body.error.errors[0], errors: body.error.errors },
        }),
        failure: err.response,
      }
      remember(jobId, stored)
      return stored
    }
    if (query.useLegacySql === true) {
      return fail(
        apiError(
          400,
          'invalidQuery',
          'Legacy SQL is not supported by the emulator (set useLegacySql: false)',
        ),
      )
    }
    if (typeof query.query !== 'string')
      return fail(apiError(400, 'invalid', 'Required parameter is missing: query'))
    const defaultDataset = (query.defaultDataset as { datasetId?: string } | undefined)?.datasetId
    let translated: ReturnType<typeof translateBigQuery>
    try {
      translated = translateBigQuery(query.query, {
        queryParameters: query.queryParameters as BigQueryParameter[] | undefined,
        ...(defaultDataset ? { defaultDataset } : {}),
      })
    } catch (err) {
      if (err instanceof SqlRejection) return fail(rejection(err))
      throw err
    }
    let sql = translated.sql
    const destination = query.destinationTable as { datasetId: string; tableId: string } | undefined
    if (destination && translated.statementType === 'SELECT') {
      const target = `${duckIdent(destination.datasetId)}.${duckIdent(destination.tableId)}`
      const disposition = (query.writeDisposition as string | undefined) ?? 'WRITE_EMPTY'
      sql =
        disposition === 'WRITE_APPEND'
          ? `INSERT INTO ${target} ${sql}`
          : disposition === 'WRITE_TRUNCATE'
            ? `CREATE OR REPLACE TABLE ${target} AS ${sql}`
            : `CREATE TABLE ${target} AS ${sql}`
    }
    let result: QueryResult
    try {
      result = await db.run(sql, translated.params)
    } catch (err) {
      return fail(duckError(err, project, translated.tables))
    }
    const fields = result.returnsRows ? result.columns.map((c) => fieldFor(c.name, c.type)) : []
    const queryStats: Record<string, unknown> = {
      totalBytesProcessed: '0',
      cacheHit: false,
      statementType: translated.statementType,
    }
    if (!result.returnsRows) queryStats.numDmlAffectedRows = String(result.rowsChanged)
    const stored: StoredJob = {
      resource: jobResource(project, jobId, configuration, {
        statistics: { ...queryStatsTimes(), totalBytesProcessed: '0', query: queryStats },
      }),
      result: { fields, rows: result.rows },
    }
    if (holdPredicate?.(jobId, query.query)) {
      held.add(jobId)
      stored.resource.status = { state: 'RUNNING' }
    }
    remember(jobId, stored)
    return stored
  }

  /** A held job: RUNNING until released or cancelled. */
  const isHeld = (jobId: string): boolean => held.has(jobId)
  const release = (jobId: string): void => {
    if (!held.delete(jobId)) return
    const stored = jobs.get(jobId)
    if (stored) stored.resource.status = { state: 'DONE' }
  }
  const cancel = (project: string, jobId: string): void => {
    if (!held.delete(jobId)) return // a finished job: cancelling changes nothing
    const stored = jobs.get(jobId)
    if (!stored) return
    const error = apiError(
      400,
      'stopped',
      'Job execution was cancelled: User requested cancellation',
    )
    const body = error.response.json as { error: { errors: unknown[] } }
    stored.resource.status = {
      state: 'DONE',
      errorResult: body.error.errors[0],
      errors: body.error.errors,
    }
    stored.failure = error.response
    delete stored.result
    void project
  }

  const queryStatsTimes = (): Record<string, string> => {
    const now = String(Date.now())
    return { creationTime: now, startTime: now, endTime: now }
  }

  /** One page of a stored result in the jobs.query / getQueryResults shape. */
  const resultPage = (
    project: string,
    jobId: string,
    stored: StoredJob,
    params: {
      maxResults?: number
      pageToken?: string
      startIndex?: number
      useInt64Timestamp: boolean
    },
  ): Record<string, unknown> => {
    const result = stored.result!
    const stats = (stored.resource.statistics as { query?: Record<string, unknown> } | undefined)
      ?.query
    const base: Record<string, unknown> = {
      jobReference: { projectId: project, jobId, location: LOCATION },
      totalBytesProcessed: '0',
      jobComplete: true,
      cacheHit: false,
    }
    if (stats?.numDmlAffectedRows !== undefined) {
      base.numDmlAffectedRows = stats.numDmlAffectedRows
      return base
    }
    if (result.fields.length === 0) return base
    let offset = params.startIndex ?? 0
    if (params.pageToken) {
      const decoded = Number(Buffer.from(params.pageToken, 'base64url').toString('utf8'))
      if (!Number.isInteger(decoded) || decoded < 0)
        badRequest(`Invalid page token: ${params.pageToken}`)
      offset = decoded
    }
    const limit = params.maxResults ?? pageRows
    const slice = result.rows.slice(offset, offset + limit)
    const rows: BigQueryRow[] = slice.map((row) => ({
      f: result.fields.map((field, i) => ({
        v: toApiValue(row[i] ?? null, field, { useInt64Timestamp: params.useInt64Timestamp }),
      })),
    }))
    const page: Record<string, unknown> = {
      ...base,
      schema: { fields: result.fields },
      totalRows: String(result.rows.length),
      rows,
    }
    const next = offset + slice.length
    if (next < result.rows.length) page.pageToken = Buffer.from(String(next)).toString('base64url')
    return page
  }

  const datasetExists = async (dataset: string): Promise<boolean> => {
    const r = await db.run('SELECT 1 FROM information_schema.schemata WHERE schema_name = $1', [
      dataset,
    ])
    return r.rows.length > 0
  }

  /** Columns of a table as BigQuery fields plus DuckDB type text, or a 404. */
  const tableColumns = async (
    project: string,
    dataset: string,
    table: string,
  ): Promise<{ fields: BigQueryField[]; duckTypes: Map<string, string> }> => {
    if (!(await datasetExists(dataset))) {
      throw apiError(404, 'notFound', `Not found: Dataset ${project}:${dataset}`)
    }
    let result: QueryResult
    try {
      result = await db.run(`SELECT * FROM ${duckIdent(dataset)}.${duckIdent(table)} LIMIT 0`)
    } catch {
      throw apiError(404, 'notFound', `Not found: Table ${project}:${dataset}.${table}`)
    }
    const info = await db.run(
      'SELECT column_name, data_type FROM information_schema.columns WHERE table_schema = $1 AND table_name = $2 ORDER BY ordinal_position',
      [dataset, table],
    )
    return {
      fields: result.columns.map((c) => fieldFor(c.name, c.type)),
      duckTypes: new Map(info.rows.map((r) => [String(r[0]), String(r[1])])),
    }
  }

  const tableResource = async (
    project: string,
    dataset: string,
    table: string,
  ): Promise<Record<string, unknown>> => {
    const { fields } = await tableColumns(project, dataset, table)
    const count = await db.run(`SELECT count(*) FROM ${duckIdent(dataset)}.${duckIdent(table)}`)
    return {
      kind: 'bigquery#table',
      etag: randomUUID(),
      id: `${project}:${dataset}.${table}`,
      selfLink: `${server.url}/bigquery/v2/projects/${project}/datasets/${dataset}/tables/${table}`,
      tableReference: { projectId: project, datasetId: dataset, tableId: table },
      schema: { fields },
      numRows: String(count.rows[0]?.[0] ?? '0'),
      numBytes: '0',
      type: 'TABLE',
      location: LOCATION,
      creationTime: String(Date.now()),
      lastModifiedTime: String(Date.now()),
    }
  }

  const datasetResource = (project: string, dataset: string): Record<string, unknown> => ({
    kind: 'bigquery#dataset',
    etag: randomUUID(),
    id: `${project}:${dataset}`,
    selfLink: `${server.url}/bigquery/v2/projects/${project}/datasets/${dataset}`,
    datasetReference: { projectId: project, datasetId: dataset },
    location: LOCATION,
    creationTime: String(Date.now()),
    lastModifiedTime: String(Date.now()),
  })

  /** Inserts a newline-delimited JSON file into an existing table, matching fields by name. */
  const insertJsonFile = async (
    dataset: string,
    table: string,
    file: string,
    duckTypes: Map<string, string>,
  ) => {
    const columns = [...duckTypes].map(([n, t]) => `${duckString(n)}: ${duckString(t)}`).join(', ')
    return db.run(
      `INSERT INTO ${duckIdent(dataset)}.${duckIdent(table)} BY NAME SELECT * FROM read_json(${duckString(file)}, format = 'newline_delimited', columns = {${columns}})`,
    )
  }

  const withTempFile = async <T>(
    data: Buffer | string,
    ext: string,
    fn: (path: string) => Promise<T>,
  ): Promise<T> => {
    const path = join(tmpdir(), `larder-bq-${randomUUID()}.${ext}`)
    await writeFile(path, data)
    try {
      return await fn(path)
    } finally {
      await rm(path, { force: true })
    }
  }

  /** Runs a load job (configuration.load) on uploaded bytes. */
  const runLoadJob = async (
    project: string,
    jobId: string,
    load: Record<string, unknown>,
    data: Buffer,
  ): Promise<StoredJob> => {
    const configuration = { jobType: 'LOAD', load }
    const dest = load.destinationTable as { datasetId?: string; tableId?: string } | undefined
    const finish = (extra: Record<string, unknown>, failure?: HttpError): StoredJob => {
      const stored: StoredJob = { resource: jobResource(project, jobId, configuration, extra) }
      if (failure) {
        const body = failure.response.json as { error: { errors: unknown[] } }
        stored.resource.status = {
          state: 'DONE',
          errorResult: body.error.errors[0],
          errors: body.error.errors,
        }
        stored.failure = failure.response
      }
      remember(jobId, stored)
      return stored
    }
    try {
      if (!dest?.datasetId || !dest.tableId)
        badRequest('Load configuration must specify destinationTable')
      const dataset = dest!.datasetId!
      const table = dest!.tableId!
      const target = `${duckIdent(dataset)}.${duckIdent(table)}`
      const format = String(load.sourceFormat ?? 'CSV').toUpperCase()
      const ext = { CSV: 'csv', NEWLINE_DELIMITED_JSON: 'json', PARQUET: 'parquet' }[format]
      if (!ext) {
        throw apiError(
          501,
          'invalid',
          `Source format ${format} is not supported by the emulator (CSV, NEWLINE_DELIMITED_JSON, PARQUET)`,
        )
      }
      if (!(await datasetExists(dataset))) {
        throw apiError(404, 'notFound', `Not found: Dataset ${project}:${dataset}`)
      }
      const schemaFields = (load.schema as { fields?: BigQueryField[] } | undefined)?.fields
      let exists = true
      try {
        await db.run(`SELECT * FROM ${target} LIMIT 0`)
      } catch {
        exists = false
      }
      const disposition = String(load.writeDisposition ?? 'WRITE_APPEND')
      if (!exists) {
        if (load.createDisposition === 'CREATE_NEVER') {
          throw apiError(404, 'notFound', `Not found: Table ${project}:${dataset}.${table}`)
        }
        if (schemaFields?.length) {
          await db.run(
            `CREATE TABLE ${target} (${schemaFields.map((f) => `${duckIdent(f.name)} ${duckTypeFor(f)}`).join(', ')})`,
          )
        } else if (!load.autodetect && format !== 'PARQUET') {
          badRequest('No schema specified on job or table.')
        }
      } else if (disposition === 'WRITE_TRUNCATE') {
        await db.run(`DELETE FROM ${target}`)
      } else if (disposition === 'WRITE_EMPTY') {
        const n = await db.run(`SELECT count(*) FROM ${target}`)
        if (Number(n.rows[0]?.[0] ?? 0) > 0) {
          throw apiError(
            409,
            'duplicate',
            `Already Exists: Table ${project}:${dataset}.${table} is not empty`,
          )
        }
      }
      const skip = Number(load.skipLeadingRows ?? 0)
      const delim = String(load.fieldDelimiter ?? ',')
      const outputRows = await withTempFile(data, ext, async (path) => {
        const file = duckString(path)
        const created = !exists && !schemaFields?.length
        if (created) {
          const reader =
            format === 'CSV'
              ? `read_csv(${file}, header = ${skip > 0}, delim = ${duckString(delim)})`
              : format === 'PARQUET'
                ? `read_parquet(${file})`
                : `read_json(${file}, format = 'newline_delimited')`
          await db.run(`CREATE TABLE ${target} AS SELECT * FROM ${reader}`)
          const n = await db.run(`SELECT count(*) FROM ${target}`)
          return Number(n.rows[0]?.[0] ?? 0)
        }
        const { duckTypes } = await tableColumns(project, dataset, table)
        if (format === 'NEWLINE_DELIMITED_JSON')
          return (await insertJsonFile(dataset, table, path, duckTypes)).rowsChanged
        if (format === 'PARQUET') {
          return (await db.run(`INSERT INTO ${target} BY NAME SELECT * FROM read_parquet(${file})`))
            .rowsChanged
        }
        const columns = [...duckTypes]
          .map(([n, t]) => `${duckString(n)}: ${duckString(t)}`)
          .join(', ')
        const quote = duckString(String(load.quote ?? '"'))
        const r = await db.run(
          `INSERT INTO ${target} SELECT * FROM read_csv(${file}, header = false, skip = ${skip}, delim = ${duckString(delim)}, quote = ${quote}, columns = {${columns}})`,
        )
        return r.rowsChanged
      })
      return finish({
        statistics: {
          ...queryStatsTimes(),
          load: {
            inputFiles: '1',
            inputFileBytes: String(data.length),
            outputRows: String(outputRows),
            outputBytes: '0',
          },
        },
      })
    } catch (err) {
      if (err instanceof HttpError) return finish({}, err)
      return finish({}, duckError(err, project))
    }
  }

  const route = async (req: EmulatorRequest): Promise<EmulatorResponse> => {
    const upload = /^\/upload\/bigquery\/v2\/projects\/([^/]+)\/jobs$/.exec(req.path)
    if (upload && req.method === 'POST') return uploadJob(decodeURIComponent(upload[1]!), req)
    const m = /^\/bigquery\/v2\/projects\/([^/]+)(\/.*)?$/.exec(req.path)
    if (!m) throw apiError(404, 'notFound', `Not found: ${req.method} ${req.path}`)
    const project = decodeURIComponent(m[1]!)
    const parts = (m[2] ?? '').split('/').filter(Boolean).map(decodeURIComponent)
    const body = (): Record<string, unknown> =>
      parseJsonBody<Record<string, unknown>>(req.body, badRequest)
    const key = `${req.method} ${parts.map((p, i) => (i % 2 === 1 ? ':' : p)).join('/')}`
    switch (key) {
      case 'POST queries':
        return { status: 200, json: await jobsQuery(project, body()) }
      case 'GET queries/:':
        return { status: 200, json: await getQueryResults(project, parts[1]!, req.query) }
      case 'POST jobs':
        return { status: 200, json: await jobsInsert(project, body()) }
      case 'GET jobs/:':
        return { status: 200, json: getJob(project, parts[1]!).resource }
      case 'POST jobs/:/cancel':
        cancel(project, parts[1]!)
        return {
          status: 200,
          json: { kind: 'bigquery#jobCancelResponse', job: getJob(project, parts[1]!).resource },
        }
      case 'POST datasets': {
        const ref = (body().datasetReference ?? {}) as { datasetId?: string }
        if (!ref.datasetId) badRequest('Required parameter is missing: datasetReference.datasetId')
        if (await datasetExists(ref.datasetId!)) {
          throw apiError(409, 'duplicate', `Already Exists: Dataset ${project}:${ref.datasetId}`)
        }
        await db.run(`CREATE SCHEMA ${duckIdent(ref.datasetId!)}`)
        return { status: 200, json: datasetResource(project, ref.datasetId!) }
      }
      case 'GET datasets/:': {
        if (!(await datasetExists(parts[1]!)))
          throw apiError(404, 'notFound', `Not found: Dataset ${project}:${parts[1]}`)
        return { status: 200, json: datasetResource(project, parts[1]!) }
      }
      case 'DELETE datasets/:': {
        if (!(await datasetExists(parts[1]!)))
          throw apiError(404, 'notFound', `Not found: Dataset ${project}:${parts[1]}`)
        const cascade = req.query.get('deleteContents') === 'true'
        try {
          await db.run(`DROP SCHEMA ${duckIdent(parts[1]!)}${cascade ? ' CASCADE' : ''}`)
        } catch {
          throw apiError(400, 'resourceInUse', `Dataset ${project}:${parts[1]} is still in use`)
        }
        return { status: 204 }
      }
      case 'POST datasets/:/tables': {
        const b = body() as {
          tableReference?: { tableId?: string }
          schema?: { fields?: BigQueryField[] }
        }
        const dataset = parts[1]!
        const table = b.tableReference?.tableId
        if (!table) badRequest('Required parameter is missing: tableReference.tableId')
        if (!(await datasetExists(dataset)))
          throw apiError(404, 'notFound', `Not found: Dataset ${project}:${dataset}`)
        const fields = b.schema?.fields ?? []
        if (fields.length === 0) badRequest('The emulator needs a schema to create a table')
        let ddl: string
        try {
          ddl = fields
            .map(
              (f) =>
                `${duckIdent(f.name)} ${duckTypeFor(f)}${f.mode === 'REQUIRED' ? ' NOT NULL' : ''}`,
            )
            .join(', ')
        } catch (err) {
          return badRequest((err as Error).message)
        }
        try {
          await db.run(`CREATE TABLE ${duckIdent(dataset)}.${duckIdent(table!)} (${ddl})`)
        } catch (err) {
          const e = duckError(err, project)
          if (e.response.status === 409)
            throw apiError(409, 'duplicate', `Already Exists: Table ${project}:${dataset}.${table}`)
          throw e
        }
        return { status: 200, json: await tableResource(project, dataset, table!) }
      }
      case 'GET datasets/:/tables/:':
        return { status: 200, json: await tableResource(project, parts[1]!, parts[3]!) }
      case 'PATCH datasets/:/tables/:':
      case 'PUT datasets/:/tables/:': {
        // Only metadata the emulator can accept without keeping it (no expiry happens here).
        const b = body()
        const other = Object.keys(b).filter(
          (k) =>
            ![
              'expirationTime',
              'description',
              'labels',
              'tableReference',
              'etag',
              'kind',
              'id',
            ].includes(k),
        )
        if (other.length > 0) {
          throw apiError(
            501,
            'notImplemented',
            `The emulator does not patch table fields ${other.join(', ')}`,
          )
        }
        const resource = await tableResource(project, parts[1]!, parts[3]!)
        return { status: 200, json: { ...resource, ...b, tableReference: resource.tableReference } }
      }
      case 'DELETE datasets/:/tables/:': {
        await tableColumns(project, parts[1]!, parts[3]!)
        await db.run(`DROP TABLE ${duckIdent(parts[1]!)}.${duckIdent(parts[3]!)}`)
        return { status: 204 }
      }
      case 'POST datasets/:/tables/:/insertAll':
        return { status: 200, json: await insertAll(project, parts[1]!, parts[3]!, body()) }
      case 'GET datasets/:/tables/:/data':
        return { status: 200, json: await listTableData(project, parts[1]!, parts[3]!, req.query) }
      default:
        throw apiError(
          501,
          'notImplemented',
          `The emulator does not implement ${req.method} ${req.path}`,
        )
    }
  }

  const getJob = (project: string, jobId: string): StoredJob => {
    const stored = jobs.get(jobId)
    if (!stored) throw apiError(404, 'notFound', `Not found: Job ${project}:${LOCATION}.${jobId}`)
    return stored
  }

  const jobsQuery = async (
    project: string,
    b: Record<string, unknown>,
  ): Promise<Record<string, unknown>> => {
    if (b.dryRun) throw apiError(501, 'invalid', 'dryRun is not supported by the emulator')
    const jobId = `job_${randomUUID().replaceAll('-', '_')}`
    const stored = await runQueryJob(project, jobId, b)
    if (stored.failure) throw new HttpError(stored.failure)
    if (isHeld(jobId)) {
      return {
        kind: 'bigquery#queryResponse',
        jobReference: { projectId: project, jobId, location: LOCATION },
        jobComplete: false,
      }
    }
    const format = b.formatOptions as { useInt64Timestamp?: boolean } | undefined
    return {
      kind: 'bigquery#queryResponse',
      ...resultPage(project, jobId, stored, {
        ...(typeof b.maxResults === 'number' ? { maxResults: b.maxResults } : {}),
        useInt64Timestamp: format?.useInt64Timestamp === true,
      }),
    }
  }

  const getQueryResults = async (
    project: string,
    jobId: string,
    qs: URLSearchParams,
  ): Promise<Record<string, unknown>> => {
    const stored = getJob(project, jobId)
    if (isHeld(jobId)) {
      // Still running: wait a little (the API waits up to timeoutMs), then say so.
      const wait = Math.min(200, Number(qs.get('timeoutMs') ?? 200))
      await new Promise((r) => setTimeout(r, wait))
      if (isHeld(jobId)) {
        return {
          kind: 'bigquery#getQueryResultsResponse',
          jobReference: { projectId: project, jobId, location: LOCATION },
          jobComplete: false,
        }
      }
    }
    if (stored.failure) throw new HttpError(stored.failure)
    if (!stored.result) badRequest(`Job ${jobId} is not a query job`)
    if (stored.expired) {
      throw apiError(
        404,
        'notFound',
        `Not found: results of job ${project}:${LOCATION}.${jobId} were dropped by the emulator (it keeps the last ${keptResults})`,
      )
    }
    const maxResults = qs.get('maxResults')
    const startIndex = qs.get('startIndex')
    const pageToken = qs.get('pageToken')
    return {
      kind: 'bigquery#getQueryResultsResponse',
      etag: randomUUID(),
      ...resultPage(project, jobId, stored, {
        ...(maxResults ? { maxResults: Number(maxResults) } : {}),
        ...(startIndex ? { startIndex: Number(startIndex) } : {}),
        ...(pageToken ? { pageToken } : {}),
        useInt64Timestamp: qs.get('formatOptions.useInt64Timestamp') === 'true',
      }),
    }
  }

  const jobIdFrom = (b: Record<string, unknown>): string => {
    const ref = b.jobReference as { jobId?: string } | undefined
    const jobId = ref?.jobId ?? `job_${randomUUID().replaceAll('-', '_')}`
    if (jobs.has(jobId)) throw apiError(409, 'duplicate', `Already Exists: Job ${jobId}`)
    return jobId
  }

  const jobsInsert = async (
    project: string,
    b: Record<string, unknown>,
  ): Promise<Record<string, unknown>> => {
    const configuration = (b.configuration ?? {}) as Record<string, unknown>
    const jobId = jobIdFrom(b)
    if (configuration.dryRun)
      throw apiError(501, 'invalid', 'dryRun is not supported by the emulator')
    if (configuration.query) {
      const stored = await runQueryJob(
        project,
        jobId,
        configuration.query as Record<string, unknown>,
      )
      // Job-level settings come back in the job resource, as the API returns them.
      for (const key of ['labels', 'jobTimeoutMs'] as const) {
        if (configuration[key] !== undefined) {
          ;(stored.resource.configuration as Record<string, unknown>)[key] = configuration[key]
        }
      }
      return stored.resource
    }
    if (configuration.load) {
      throw apiError(
        501,
        'invalid',
        'Load jobs from sourceUris (gs://) are not supported; upload the file instead',
      )
    }
    throw apiError(
      501,
      'invalid',
      'Only query jobs and uploaded load jobs are supported by the emulator',
    )
  }

  const uploadJob = async (project: string, req: EmulatorRequest): Promise<EmulatorResponse> => {
    if (req.query.get('uploadType') !== 'multipart') {
      throw apiError(501, 'invalid', 'Only uploadType=multipart is supported by the emulator')
    }
    const boundary = /boundary="?([^";]+)"?/.exec(String(req.headers['content-type'] ?? ''))?.[1]
    if (!boundary) badRequest('multipart upload without a boundary')
    const [meta, data] = splitMultipart(req.body, boundary!)
    if (!meta || !data) badRequest('multipart upload needs a metadata part and a media part')
    const b = parseJsonBody<Record<string, unknown>>(meta!, badRequest)
    const load = (b.configuration as { load?: Record<string, unknown> } | undefined)?.load
    if (!load) badRequest('upload metadata must carry configuration.load')
    const stored = await runLoadJob(project, jobIdFrom(b), load!, data!)
    return { status: 200, json: stored.resource }
  }

  const insertAll = async (
    project: string,
    dataset: string,
    table: string,
    b: Record<string, unknown>,
  ): Promise<Record<string, unknown>> => {
    const { duckTypes } = await tableColumns(project, dataset, table)
    const rows = (b.rows ?? []) as Array<{ json?: Record<string, unknown> }>
    const insertErrors: Array<{ index: number; errors: Array<Record<string, string>> }> = []
    const valid: string[] = []
    rows.forEach((row, index) => {
      const json = row.json ?? {}
      const unknown = Object.keys(json).filter((k) => !duckTypes.has(k))
      if (unknown.length > 0 && b.ignoreUnknownValues !== true) {
        insertErrors.push({
          index,
          errors: [
            {
              reason: 'invalid',
              location: unknown[0]!,
              debugInfo: '',
              message: `no such field: ${unknown[0]}.`,
            },
          ],
        })
        return
      }
      const kept = Object.fromEntries(Object.entries(json).filter(([k]) => duckTypes.has(k)))
      valid.push(JSON.stringify(kept))
    })
    if (insertErrors.length > 0 && b.skipInvalidRows !== true) {
      const failed = new Set(insertErrors.map((e) => e.index))
      rows.forEach((_, index) => {
        if (!failed.has(index)) {
          insertErrors.push({
            index,
            errors: [{ reason: 'stopped', location: '', debugInfo: '', message: '' }],
          })
        }
      })
      return { kind: 'bigquery#tableDataInsertAllResponse', insertErrors }
    }
    if (valid.length > 0) {
      try {
        await withTempFile(valid.join('\n'), 'json', (path) =>
          insertJsonFile(dataset, table, path, duckTypes),
        )
      } catch (err) {
        throw duckError(err, project)
      }
    }
    return {
      kind: 'bigquery#tableDataInsertAllResponse',
      ...(insertErrors.length > 0 ? { insertErrors } : {}),
    }
  }

  const listTableData = async (
    project: string,
    dataset: string,
    table: string,
    qs: URLSearchParams,
  ): Promise<Record<string, unknown>> => {
    const { fields } = await tableColumns(project, dataset, table)
    const token = qs.get('pageToken')
    const start = token
      ? Number(Buffer.from(token, 'base64url').toString('utf8'))
      : Number(qs.get('startIndex') ?? 0)
    const limit = Number(qs.get('maxResults') ?? pageRows)
    const target = `${duckIdent(dataset)}.${duckIdent(table)}`
    const total = Number((await db.run(`SELECT count(*) FROM ${target}`)).rows[0]?.[0] ?? 0)
    const r = await db.run(`SELECT * FROM ${target} LIMIT ${limit} OFFSET ${start}`)
    const useInt64Timestamp = qs.get('formatOptions.useInt64Timestamp') === 'true'
    const page: Record<string, unknown> = {
      kind: 'bigquery#tableDataList',
      etag: randomUUID(),
      totalRows: String(total),
      rows: r.rows.map((row) => ({
        f: fields.map((f, i) => ({ v: toApiValue(row[i] ?? null, f, { useInt64Timestamp }) })),
      })),
    }
    if (start + r.rows.length < total)
      page.pageToken = Buffer.from(String(start + r.rows.length)).toString('base64url')
    return page
  }

  const server = await startLoopbackServer(options.port ?? 0, route, (err) => {
    const e = apiError(
      500,
      'internalError',
      `Emulator error: ${err instanceof Error ? err.message : String(err)}`,
    )
    return e.response
  })

  return {
    url: server.url,
    port: server.port,
    projectId,
    query: (sql) => db.run(sql),
    holdQueries: (hold) => {
      holdPredicate = hold
    },
    release,
    close: async () => {
      await server.close()
      db.close()
    },
  }
}

/** Splits a multipart/related body into its parts' payloads. */
function splitMultipart(body: Buffer, boundary: string): Buffer[] {
  const delimiter = Buffer.from(`--${boundary}`)
  const parts: Buffer[] = []
  let pos = body.indexOf(delimiter)
  while (pos >= 0) {
    const start = pos + delimiter.length
    if (body.slice(start, start + 2).toString() === '--') break
    const next = body.indexOf(delimiter, start)
    if (next < 0) break
    const part = body.subarray(start, next)
    const headerEnd = part.indexOf('\r\n\r\n')
    let payload = headerEnd >= 0 ? part.subarray(headerEnd + 4) : part
    if (payload.subarray(payload.length - 2).toString() === '\r\n')
      payload = payload.subarray(0, payload.length - 2)
    parts.push(payload)
    pos = next
  }
  return parts
}
