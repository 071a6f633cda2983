/**
 * `bigqueryOfflineStore()`: historical retrieval, materialization reads and offline writes
 * run inside BigQuery, on core's `SqlOfflineStoreBase` with the BigQuery dialect.
 */
import {
  type EntityTable,
  LarderError,
  type LarderErrorCode,
  type OfflineStoreCapabilities,
  parseRelationName,
  type RetrievalPlan,
  type RunOptions,
  type SourceSpec,
  type SqlDialect,
  SqlOfflineStoreBase,
  type SqlRelation,
  type SqlRetrievalJob,
} from '@larder/core'
import type * as arrow from 'apache-arrow'
import { type BigQuerySourceSpec, bigquerySourceKind, sourceTableParts } from './bigquery-source.js'
import { bigqueryDialect, createExpiringTable } from './dialect.js'
import { writeParquetBatches } from './parquet.js'
import { BigQueryCallError, BigQueryRunner, bigqueryError } from './runner.js'

const COMPONENT = 'bigquery'

/** Options of {@link bigqueryOfflineStore}. */
export interface BigQueryOfflineStoreOptions {
  /** The project jobs run (and are billed) in; also the project of `dataset.table` names. */
  projectId: string
  /**
   * The dataset temporary tables go to (uploaded entity tables, staged writes, SQL entity
   * tables). Created when missing; its tables expire after 24 hours by themselves.
   */
  dataset: string
  /** Location of the datasets and jobs (`US`, `EU`, `europe-west1`...). */
  location?: string
  /**
   * Another endpoint than Google's, e.g. a local stand-in `http://127.0.0.1:9050`. With a
   * loopback endpoint and no credentials, no credentials are looked for.
   */
  apiEndpoint?: string
  /** A service-account key file. Absent: Application Default Credentials. */
  keyFilename?: string
  /** Service-account credentials as an object (`client_email`, `private_key`). */
  credentials?: { client_email?: string; private_key?: string; [key: string]: unknown }
  /** BigQuery cancels a job running longer. @default none (no limit) */
  jobTimeoutSeconds?: number
  /** Jobs that would bill more bytes fail instead of running. @default none */
  maximumBytesBilled?: number | bigint | string
  /** Labels put on every job (for billing reports). `larder: offline-store` is always added. */
  labels?: Record<string, string>
  /** Rows per page of results (and per record batch). @default 20000 */
  pageRows?: number
  /**
   * How often the client retries a request that failed on the way (rate limits, 5xx,
   * connection errors), with exponential backoff. @default 3 (the client's default)
   */
  maxRetries?: number
}

const LOOPBACK = /^https?:\/\/(127\.\d+\.\d+\.\d+|localhost|\[::1\])(:\d+)?(\/|$)/i

/** A fixed bearer token for a loopback stand-in: nothing is fetched from Google. */
const loopbackAuth = {
  getRequestHeaders: async () => new Headers({ authorization: 'Bearer larder-loopback' }),
  getAccessToken: async () => ({ token: 'larder-loopback' }),
  getProjectId: async () => undefined,
}

function invalidConfig(reason: string, hint?: string): LarderError {
  return new LarderError('INVALID_CONFIG', reason, {
    component: COMPONENT,
    ...(hint ? { hint } : {}),
  })
}

function checkOptions(options: BigQueryOfflineStoreOptions): void {
  if (!options || typeof options !== 'object')
    throw invalidConfig('bigqueryOfflineStore() needs an options object')
  if (typeof options.projectId !== 'string' || options.projectId === '') {
    throw invalidConfig(
      'bigqueryOfflineStore: projectId is required',
      "e.g. projectId: 'my-project'",
    )
  }
  if (typeof options.dataset !== 'string' || !/^[A-Za-z0-9_]{1,1024}$/.test(options.dataset)) {
    throw invalidConfig(
      `bigqueryOfflineStore: dataset '${String(options.dataset)}' is not a dataset name`,
      "name the dataset for temporary tables with letters, digits and underscores, e.g. dataset: 'larder_tmp'",
    )
  }
  if (
    options.jobTimeoutSeconds !== undefined &&
    !(Number.isFinite(options.jobTimeoutSeconds) && options.jobTimeoutSeconds > 0)
  ) {
    throw invalidConfig('bigqueryOfflineStore: jobTimeoutSeconds must be a positive number')
  }
  if (
    options.maximumBytesBilled !== undefined &&
    !/^\d+$/.test(String(options.maximumBytesBilled))
  ) {
    throw invalidConfig('bigqueryOfflineStore: maximumBytesBilled must be a whole number of bytes')
  }
  if (
    options.pageRows !== undefined &&
    !(Number.isInteger(options.pageRows) && options.pageRows > 0)
  ) {
    throw invalidConfig('bigqueryOfflineStore: pageRows must be a positive integer')
  }
  for (const [k, v] of Object.entries(options.labels ?? {})) {
    if (
      !/^[a-z][a-z0-9_-]{0,62}$/.test(k) ||
      typeof v !== 'string' ||
      !/^[a-z0-9_-]{0,63}$/.test(v)
    ) {
      throw invalidConfig(
        `bigqueryOfflineStore: label '${k}: ${String(v)}' is not a BigQuery label`,
        'keys and values: lowercase letters, digits, _ and -, at most 63 characters',
      )
    }
  }
}

/** The BigQuery offline store. Create it with {@link bigqueryOfflineStore}. */
export class BigQueryOfflineStore extends SqlOfflineStoreBase {
  readonly name = 'bigquery'
  /** The source kinds this store reads (`bigquerySource()` specs). */
  readonly sourceKinds = [bigquerySourceKind]
  override readonly capabilities: OfflineStoreCapabilities = {
    sqlEntityTable: true,
    tableEntityTable: true,
    fileEntityTable: true,
    offlineWrite: true,
  }
  protected readonly dialect: SqlDialect
  readonly #options: BigQueryOfflineStoreOptions

  constructor(options: BigQueryOfflineStoreOptions) {
    super()
    checkOptions(options)
    this.#options = { ...options, labels: { ...options.labels } }
    const temporary = [options.projectId, options.dataset]
    this.dialect = {
      ...bigqueryDialect,
      createTempTable: (name, query) => createExpiringTable([...temporary, name], query),
    }
  }

  protected async createRunner(): Promise<BigQueryRunner> {
    const o = this.#options
    const { BigQuery } = await import('@google-cloud/bigquery')
    const loopback = o.apiEndpoint !== undefined && LOOPBACK.test(o.apiEndpoint)
    const client = new BigQuery({
      projectId: o.projectId,
      ...(o.location ? { location: o.location } : {}),
      ...(o.apiEndpoint ? { apiEndpoint: o.apiEndpoint.replace(/\/+$/, '') } : {}),
      ...(o.keyFilename ? { keyFilename: o.keyFilename } : {}),
      ...(o.maxRetries !== undefined
        ? { retryOptions: { autoRetry: o.maxRetries > 0, maxRetries: o.maxRetries } }
        : {}),
      ...(o.credentials ? { credentials: o.credentials } : {}),
      ...(loopback && !o.keyFilename && !o.credentials
        ? { authClient: loopbackAuth as never }
        : {}),
    })
    const runner = new BigQueryRunner(client, {
      projectId: o.projectId,
      dataset: o.dataset,
      ...(o.location ? { location: o.location } : {}),
      ...(o.jobTimeoutSeconds !== undefined ? { jobTimeoutSeconds: o.jobTimeoutSeconds } : {}),
      ...(o.maximumBytesBilled !== undefined
        ? { maximumBytesBilled: String(o.maximumBytesBilled) }
        : {}),
      labels: { ...o.labels, larder: 'offline-store' },
      pageRows: o.pageRows ?? 20_000,
      dialect: this.dialect,
    })
    await runner.ensureDataset()
    return runner
  }

  protected sourceRelation(source: SourceSpec): SqlRelation {
    if (source.kind !== 'bigquery') {
      throw new LarderError(
        'UNSUPPORTED',
        `source '${source.name}' has kind '${source.kind}'; the bigquery offline store reads bigquerySource() sources`,
        { component: COMPONENT },
      )
    }
    const spec = source as BigQuerySourceSpec
    if (typeof spec.query === 'string') return { sql: spec.query }
    const parts = sourceTableParts(spec)
    return { table: parts.length === 2 ? [this.#options.projectId, ...parts] : parts }
  }

  /**
   * Creates a table (`'dataset.table'` or `'project.dataset.table'`) holding the rows of an
   * Arrow table, by one load job: for seeding sources in tests and examples.
   * @throws LarderError when the table exists or a column type cannot be stored.
   */
  async createTable(name: string, table: arrow.Table): Promise<void> {
    const parts = parseRelationName(name)
    if (parts.length < 2 || parts.length > 3) {
      throw new LarderError(
        'INVALID_INPUT',
        `table name '${name}' must be 'dataset.table' or 'project.dataset.table'`,
        {
          component: COMPONENT,
        },
      )
    }
    const full = parts.length === 2 ? [this.#options.projectId, ...parts] : parts
    const runner = (await this.runner()) as BigQueryRunner
    try {
      await runner.createTable(full, table, false)
    } catch (err) {
      throw this.wrap(err, 'BACKEND_ERROR', `cannot create table '${name}'`)
    }
  }

  /**
   * The point-in-time join in BigQuery (see `SqlOfflineStoreBase`); the job also writes Parquet
   * (`toParquet(path)`) from the result's pages as they arrive.
   */
  override async getHistoricalFeatures(
    entityTable: EntityTable,
    plan: RetrievalPlan,
    options: RunOptions = {},
  ): Promise<SqlRetrievalJob> {
    const job = await super.getHistoricalFeatures(entityTable, plan, options)
    return {
      ...job,
      toParquet: (path: string) =>
        writeParquetBatches(job.toArrowStream(), path, () => job.toArrow()),
    }
  }

  /** `CREATE OR REPLACE TABLE`: one statement, the old table stays until the new one is whole. */
  protected override createTableStatements(target: string, query: string): string[] {
    return [`CREATE OR REPLACE TABLE ${target} AS ${query}`]
  }

  /** BigQuery failures become LarderErrors naming the job, with a hint from BigQuery's reason. */
  protected override wrap(
    err: unknown,
    code: LarderErrorCode,
    what: string,
    signal?: AbortSignal,
  ): unknown {
    if (signal?.aborted) return signal.reason
    if (err instanceof BigQueryCallError) return bigqueryError(err, what, this.#options)
    const e = err as { code?: unknown; errors?: unknown; name?: string }
    if (
      e &&
      typeof e === 'object' &&
      ('errors' in e || e.name === 'ApiError' || e.name === 'FetchError')
    ) {
      return bigqueryError(err, what, this.#options)
    }
    return super.wrap(err, code, what, signal)
  }
}

/**
 * The BigQuery offline store: the point-in-time join compiled by core runs in BigQuery,
 * entity tables given as rows/Arrow/Parquet/CSV are uploaded by load jobs into expiring
 * tables, results come back page by page as Arrow record batches.
 *
 * @throws LarderError INVALID_CONFIG naming a bad option.
 * @example
 * const store = bigqueryOfflineStore({ projectId: 'my-project', dataset: 'larder_tmp', location: 'EU' })
 * // local stand-in: bigqueryOfflineStore({ projectId: 'test', dataset: 'larder_tmp', apiEndpoint: 'http://127.0.0.1:9050' })
 */
export function bigqueryOfflineStore(options: BigQueryOfflineStoreOptions): BigQueryOfflineStore {
  return new BigQueryOfflineStore(options)
}
