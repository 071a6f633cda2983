/**
 * The BigQuery runner of `SqlOfflineStoreBase`: query jobs paged into Arrow record batches,
 * load jobs into expiring tables, table metadata, cancellation on abort and errors that name
 * the job. Talks to BigQuery only through the official `@google-cloud/bigquery` client.
 */
import { createReadStream } from 'node:fs'
import type { Readable } from 'node:stream'
import type { BigQuery, Dataset, Job, Table } from '@google-cloud/bigquery'
import {
  LarderError,
  relationParts,
  relationSql,
  type SourceSchema,
  type SqlDialect,
  type SqlQueryOptions,
  type SqlRelation,
  type SqlRunner,
  type SqlRunOptions,
} from '@larder/core'
import type * as arrow from 'apache-arrow'
import { TEMPORARY_TABLE_HOURS } from './dialect.js'
import {
  type BigQueryField,
  type BigQueryRow,
  describeFields,
  rowsToBatch,
  tableToNdjson,
} from './values.js'

const COMPONENT = 'bigquery'

/** What the runner needs besides the client. */
export interface RunnerSettings {
  projectId: string
  /** The dataset holding temporary tables. */
  dataset: string
  location?: string
  jobTimeoutSeconds?: number
  maximumBytesBilled?: string
  labels: Record<string, string>
  /** Rows per page of results. */
  pageRows: number
  dialect: SqlDialect
}

/**
 * A failure of one BigQuery call, naming the job (when one was created) and what it was.
 * `reason` is BigQuery's (`notFound`, `accessDenied`, `invalidQuery`, `quotaExceeded`...).
 */
export class BigQueryCallError extends Error {
  override readonly name = 'BigQueryCallError'
  /** BigQuery's reason code, when it gave one. */
  readonly reason: string | undefined
  /** The HTTP status, when there was an answer. */
  readonly status: number | undefined
  /** The job id, when a job was created. */
  readonly jobId: string | undefined

  constructor(err: unknown, what: string, jobId?: string) {
    const e = err as {
      message?: string
      code?: number | string
      errors?: Array<{ reason?: string; message?: string }>
      response?: {
        jobReference?: { jobId?: string }
        status?: { errorResult?: { reason?: string } }
      }
    }
    const id = jobId ?? e?.response?.jobReference?.jobId
    const raw = (e?.message ?? String(err)).split('\n')[0] ?? ''
    super(`${what}${id ? ` (job ${id})` : ''}: ${raw}`, { cause: err })
    this.jobId = id
    this.reason = e?.errors?.[0]?.reason ?? e?.response?.status?.errorResult?.reason
    this.status = typeof e?.code === 'number' ? e.code : undefined
    if (this.reason === undefined && typeof e?.code === 'string') this.reason = e.code
  }
}

/**
 * The LarderError of a failed call: a code and a hint from BigQuery's reason (missing table,
 * permission, quota, invalid query, unreachable endpoint).
 */
export function bigqueryError(
  err: unknown,
  what: string,
  settings: { location?: string },
): LarderError {
  const e = err instanceof BigQueryCallError ? err : new BigQueryCallError(err, 'BigQuery call')
  const reason = e.reason ?? ''
  const message = `${what}: ${e.message}`
  const make = (code: LarderError['code'], hint: string) =>
    new LarderError(code, message, { component: COMPONENT, hint, cause: err })
  if (reason === 'notFound' || e.status === 404) {
    return make(
      'NOT_FOUND',
      `check that the table or dataset exists${settings.location ? ` in location ${settings.location}` : ''} and its name is 'project.dataset.table' or 'dataset.table'`,
    )
  }
  if (
    reason === 'accessDenied' ||
    e.status === 401 ||
    (e.status === 403 && !/quota|rate/i.test(reason))
  ) {
    return make(
      'BACKEND_ERROR',
      'the credentials need roles/bigquery.jobUser on the project, bigquery.dataViewer on the source datasets and bigquery.dataEditor on the temporary dataset',
    )
  }
  if (/quotaExceeded|rateLimitExceeded/.test(reason)) {
    return make(
      'BACKEND_UNAVAILABLE',
      'a BigQuery quota was reached: retry later or raise the quota',
    )
  }
  if (reason === 'bytesBilledLimitExceeded') {
    return make(
      'BACKEND_ERROR',
      'the query scans more than maximumBytesBilled: raise it, or narrow the sources (datePartitionColumn)',
    )
  }
  if (reason === 'invalidQuery' || reason === 'invalid') {
    return make(
      'BACKEND_ERROR',
      'BigQuery rejected the SQL: check the source query, column names and types',
    )
  }
  if (reason === 'stopped' || reason === 'jobCancelled') {
    return make('BACKEND_ERROR', 'the job was cancelled (jobTimeoutSeconds, or by someone else)')
  }
  if (/ECONNREFUSED|ENOTFOUND|ETIMEDOUT|ECONNRESET|EAI_AGAIN/.test(`${reason} ${e.message}`)) {
    return make(
      'BACKEND_UNAVAILABLE',
      'BigQuery cannot be reached: check apiEndpoint and the network',
    )
  }
  if (e.status !== undefined && e.status >= 500) {
    return make('BACKEND_UNAVAILABLE', 'BigQuery failed on its side: retry later')
  }
  return make('BACKEND_ERROR', "see the cause for BigQuery's answer")
}

interface QueryPage {
  jobComplete?: boolean
  schema?: { fields?: BigQueryField[] }
  rows?: BigQueryRow[]
  pageToken?: string
}

/** Typed named parameters `@p1, @p2...` of a query. */
function parameters(values: readonly unknown[]): {
  params?: Record<string, unknown>
  types?: Record<string, string>
} {
  if (values.length === 0) return {}
  const params: Record<string, unknown> = {}
  const types: Record<string, string> = {}
  values.forEach((v, i) => {
    const name = `p${i + 1}`
    if (typeof v === 'bigint') {
      params[name] = v.toString()
      types[name] = 'INT64'
    } else if (typeof v === 'number') {
      params[name] = v
      types[name] = Number.isInteger(v) ? 'INT64' : 'FLOAT64'
    } else if (typeof v === 'boolean') {
      params[name] = v
      types[name] = 'BOOL'
    } else {
      params[name] = String(v)
      types[name] = 'STRING'
    }
  })
  return { params, types }
}

function request<T>(client: BigQuery, options: Record<string, unknown>): Promise<T> {
  return new Promise((resolve, reject) => {
    client.request(options as never, (err: unknown, body: unknown) =>
      err ? reject(err) : resolve(body as T),
    )
  })
}

/** The runner. One per store; every call is a job or a REST call, no session state. */
export class BigQueryRunner implements SqlRunner {
  readonly #client: BigQuery
  readonly #settings: RunnerSettings

  constructor(client: BigQuery, settings: RunnerSettings) {
    this.#client = client
    this.#settings = settings
  }

  /** Makes the temporary dataset when it does not exist (tables in it expire after a day). */
  async ensureDataset(): Promise<void> {
    const ds = this.#dataset()
    try {
      const [exists] = await ds.exists()
      if (exists) return
      await ds.create({
        ...(this.#settings.location ? { location: this.#settings.location } : {}),
        defaultTableExpirationMs: String(TEMPORARY_TABLE_HOURS * 3_600_000),
        description:
          'Temporary tables of Larder (entity uploads, staged writes); they expire by themselves',
      } as never)
    } catch (err) {
      if ((err as { code?: number })?.code === 409) return
      throw new BigQueryCallError(
        err,
        `preparing dataset '${this.#settings.dataset}' for temporary tables`,
      )
    }
  }

  #dataset(projectId = this.#settings.projectId, id = this.#settings.dataset): Dataset {
    return this.#client.dataset(id, {
      projectId,
      ...(this.#settings.location ? { location: this.#settings.location } : {}),
    })
  }

  /** The client table of a relation's parts (`[project, dataset, table]` or `[dataset, table]`). */
  #table(relation: SqlRelation): Table {
    if ('sql' in relation)
      throw new LarderError('INTERNAL', 'a query is not a table', { component: COMPONENT })
    const parts = relationParts(relation)
    if (parts.length === 3) return this.#dataset(parts[0], parts[1]).table(parts[2] as string)
    if (parts.length === 2) return this.#dataset(undefined, parts[0]).table(parts[1] as string)
    return this.#dataset().table(parts[0] as string)
  }

  #expiry(): string {
    return String(Date.now() + TEMPORARY_TABLE_HOURS * 3_600_000)
  }

  /** The relation of a temporary table name (in the temporary dataset). */
  temporaryRelation(name: string): SqlRelation {
    return { table: [this.#settings.projectId, this.#settings.dataset, name] }
  }

  async #createJob(sql: string, params: readonly unknown[], signal?: AbortSignal): Promise<Job> {
    signal?.throwIfAborted()
    const s = this.#settings
    try {
      const [job] = await this.#client.createQueryJob({
        query: sql,
        ...parameters(params),
        useLegacySql: false,
        jobPrefix: 'larder_',
        labels: s.labels,
        ...(s.location ? { location: s.location } : {}),
        ...(s.jobTimeoutSeconds !== undefined ? { jobTimeoutMs: s.jobTimeoutSeconds * 1000 } : {}),
        ...(s.maximumBytesBilled !== undefined ? { maximumBytesBilled: s.maximumBytesBilled } : {}),
      } as never)
      return job
    } catch (err) {
      throw new BigQueryCallError(err, 'query job')
    }
  }

  /** Cancels the job when the signal fires; returns the function removing the listener. */
  #cancelOnAbort(job: Job, signal?: AbortSignal): () => void {
    if (!signal) return () => {}
    const cancel = () => {
      job.cancel().catch(() => {})
    }
    signal.addEventListener('abort', cancel, { once: true })
    return () => signal.removeEventListener('abort', cancel)
  }

  async #page(job: Job, maxResults: number, pageToken?: string): Promise<QueryPage> {
    try {
      return await request<QueryPage>(this.#client, {
        uri: `/queries/${job.id}`,
        qs: {
          maxResults,
          'formatOptions.useInt64Timestamp': true,
          ...(job.location ? { location: job.location } : {}),
          ...(pageToken ? { pageToken } : {}),
        },
      })
    } catch (err) {
      throw new BigQueryCallError(err, 'reading query results', job.id)
    }
  }

  /** Waits for a job to finish (pages of zero rows until `jobComplete`). */
  async #wait(job: Job, signal?: AbortSignal): Promise<QueryPage> {
    for (;;) {
      signal?.throwIfAborted()
      const page = await this.#page(job, 0)
      if (page.jobComplete !== false) return page
    }
  }

  async *query(
    sql: string,
    params: readonly unknown[],
    options: SqlQueryOptions,
  ): AsyncIterable<arrow.RecordBatch> {
    const { signal, columns } = options
    const job = await this.#createJob(sql, params, signal)
    const stop = this.#cancelOnAbort(job, signal)
    try {
      let token: string | undefined
      let first = true
      for (;;) {
        signal?.throwIfAborted()
        const page = await this.#page(job, this.#settings.pageRows, token)
        if (page.jobComplete === false) continue
        const rows = page.rows ?? []
        if (rows.length > 0 || first) {
          yield* rowsToBatch(rows, page.schema?.fields ?? [], columns, `query job ${job.id}`)
        }
        first = false
        token = page.pageToken
        if (!token) return
      }
    } finally {
      stop()
    }
  }

  async execute(sql: string, params: readonly unknown[], options: SqlRunOptions): Promise<void> {
    const job = await this.#createJob(sql, params, options.signal)
    const stop = this.#cancelOnAbort(job, options.signal)
    try {
      await this.#wait(job, options.signal)
    } finally {
      stop()
    }
  }

  async describe(relation: SqlRelation, options: SqlRunOptions): Promise<SourceSchema> {
    options.signal?.throwIfAborted()
    if ('sql' in relation) {
      const job = await this.#createJob(
        `SELECT * FROM ${relationSql(relation, this.#settings.dialect)} AS \`__larder_described\` LIMIT 0`,
        [],
        options.signal,
      )
      const page = await this.#wait(job, options.signal)
      return describeFields(page.schema?.fields ?? [])
    }
    const table = this.#table(relation)
    try {
      const [meta] = await table.getMetadata()
      return describeFields(
        (meta as { schema?: { fields?: BigQueryField[] } }).schema?.fields ?? [],
      )
    } catch (err) {
      throw new BigQueryCallError(
        err,
        `reading the schema of table ${relationSql(relation, this.#settings.dialect)}`,
      )
    }
  }

  /** Runs a load job into `table` from `data`; resolves when the job is done. */
  #load(
    table: Table,
    data: string | Readable,
    metadata: Record<string, unknown>,
    signal?: AbortSignal,
  ): Promise<void> {
    signal?.throwIfAborted()
    const where = `load job into ${table.dataset.id}.${table.id}`
    return new Promise((resolve, reject) => {
      let jobId: string | undefined
      let stop = () => {}
      const stream = table.createWriteStream({
        ...metadata,
        jobPrefix: 'larder_load_',
        labels: this.#settings.labels,
      } as never)
      stream.on('job', (job: Job) => {
        jobId = job.id
        stop = this.#cancelOnAbort(job, signal)
      })
      stream.on('complete', () => {
        stop()
        resolve()
      })
      stream.on('error', (err: unknown) => {
        stop()
        reject(signal?.aborted ? signal.reason : new BigQueryCallError(err, where, jobId))
      })
      if (typeof data === 'string') stream.end(data)
      else {
        data.on('error', (err) => stream.destroy(err))
        data.pipe(stream)
      }
    })
  }

  /**
   * Creates table `parts` (`[project, dataset, table]`) holding an Arrow table's rows: a table
   * with the rows' schema (expiring after a day when `temporary`), then one load job.
   */
  async createTable(
    parts: readonly string[],
    table: arrow.Table,
    temporary: boolean,
    signal?: AbortSignal,
  ): Promise<SqlRelation> {
    const [projectId, datasetId, tableId] = parts as [string, string, string]
    const { fields, body } = tableToNdjson(table, `table '${tableId}'`)
    const dataset = this.#dataset(projectId, datasetId)
    try {
      await dataset.createTable(tableId, {
        schema: { fields },
        ...(temporary ? { expirationTime: this.#expiry() } : {}),
      } as never)
    } catch (err) {
      throw new BigQueryCallError(err, `creating table ${datasetId}.${tableId}`)
    }
    if (table.numRows > 0) {
      await this.#load(
        dataset.table(tableId),
        body,
        {
          sourceFormat: 'NEWLINE_DELIMITED_JSON',
          schema: { fields },
          writeDisposition: 'WRITE_APPEND',
          createDisposition: 'CREATE_NEVER',
        },
        signal,
      )
    }
    return { table: [...parts] }
  }

  uploadTable(name: string, table: arrow.Table, options: SqlRunOptions): Promise<SqlRelation> {
    const parts = relationParts(this.temporaryRelation(name) as { table: string[] })
    return this.createTable(parts, table, true, options.signal)
  }

  async uploadFile(
    name: string,
    path: string,
    format: 'parquet' | 'csv',
    options: SqlRunOptions,
  ): Promise<SqlRelation> {
    const target = this.#dataset().table(name)
    await this.#load(
      target,
      createReadStream(path),
      {
        sourceFormat: format === 'parquet' ? 'PARQUET' : 'CSV',
        autodetect: true,
        ...(format === 'csv' ? { skipLeadingRows: 1 } : {}),
        writeDisposition: 'WRITE_EMPTY',
        createDisposition: 'CREATE_IF_NEEDED',
      },
      options.signal,
    )
    try {
      await target.setMetadata({ expirationTime: this.#expiry() })
    } catch (err) {
      throw new BigQueryCallError(
        err,
        `setting the expiration of temporary table ${this.#settings.dataset}.${name}`,
      )
    }
    return this.temporaryRelation(name)
  }

  async dropTemporary(relations: readonly SqlRelation[]): Promise<void> {
    for (const r of relations) {
      if ('sql' in r) continue
      try {
        await this.#table(r).delete()
      } catch (err) {
        if ((err as { code?: number })?.code !== 404) {
          throw new BigQueryCallError(
            err,
            `dropping temporary table ${relationSql(r, this.#settings.dialect)}`,
          )
        }
      }
    }
  }

  async close(): Promise<void> {}
}
