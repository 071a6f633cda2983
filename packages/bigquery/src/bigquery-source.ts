/**
 * `bigquerySource()`: a BigQuery table or query, described as plain data (a serializable
 * `SourceSpec` with `kind: 'bigquery'`) the registry stores.
 */
import {
  checkSource,
  LarderError,
  parseRelationName,
  type SourceKind,
  type SourceSpec,
} from '@larder/core'

const COMPONENT = 'bigquery'

/** The spec of a BigQuery source, as the registry stores it. */
export interface BigQuerySourceSpec extends SourceSpec {
  kind: 'bigquery'
  /** `project.dataset.table` or `dataset.table` (the store's project); exclusive with `query`. */
  table?: string
  /** A GoogleSQL query whose rows are the source; exclusive with `table`. */
  query?: string
  timestampField: string
}

/** Options of {@link bigquerySource}. */
export interface BigQuerySourceOptions {
  /** Source name, unique in the repo. */
  name: string
  /** `project.dataset.table` or `dataset.table`; give this or `query`. */
  table?: string
  /** A GoogleSQL query (`SELECT ...`); give this or `table`. */
  query?: string
  /** The event-timestamp column (source name). */
  timestampField: string
  /** Column breaking ties between rows with equal event timestamps. */
  createdTimestampColumn?: string
  /** `source column -> larder name`. */
  fieldMapping?: Record<string, string>
  /**
   * A DATE (or `YYYY-MM-DD` string) column partitioning the table: reads are limited to the
   * dates they need, so BigQuery scans (and bills) only those partitions.
   */
  datePartitionColumn?: string
  description?: string
  tags?: Record<string, string>
  owner?: string
}

function invalid(reason: string, hint?: string): LarderError {
  return new LarderError('INVALID_DEFINITION', reason, {
    component: COMPONENT,
    ...(hint ? { hint } : {}),
  })
}

/**
 * A BigQuery table or query as a batch source (read by `bigqueryOfflineStore`).
 *
 * @throws LarderError INVALID_DEFINITION when `name` or `timestampField` is missing, both
 * or neither of `table` and `query` are given, or `table` is not `[project.]dataset.table`.
 * @example
 * const zipcode = bigquerySource({
 *   name: 'zipcode',
 *   table: 'my-project.my_dataset.zipcode_table',
 *   timestampField: 'event_timestamp',
 *   createdTimestampColumn: 'created_timestamp',
 * })
 */
export function bigquerySource(options: BigQuerySourceOptions): BigQuerySourceSpec {
  if (!options || typeof options !== 'object')
    throw invalid('bigquerySource() needs an options object')
  const spec = {
    kind: 'bigquery',
    name: options.name,
    timestampField: options.timestampField,
  } as BigQuerySourceSpec
  const optional = [
    'table',
    'query',
    'createdTimestampColumn',
    'fieldMapping',
    'datePartitionColumn',
    'description',
    'tags',
    'owner',
  ] as const
  for (const key of optional) {
    const value = options[key]
    if (value !== undefined) (spec as Record<string, unknown>)[key] = structuredClone(value)
  }
  checkSource(spec, bigquerySourceKind)
  return spec
}

/** The parts of a source table name: `[project, dataset, table]` or `[dataset, table]`. */
export function sourceTableParts(spec: BigQuerySourceSpec): string[] {
  let parts: string[]
  try {
    parts = parseRelationName(spec.table as string)
  } catch (err) {
    throw invalid(
      `bigquery source '${spec.name}': table '${spec.table}' is not a table name (${(err as Error).message.split(': ')[0]?.replace(/^\[larder\] \[sql\] /, '')})`,
      'write it as dataset.table or project.dataset.table; quote a part with backticks',
    )
  }
  if (parts.length < 2 || parts.length > 3) {
    throw invalid(
      `bigquery source '${spec.name}': table '${spec.table}' must be 'dataset.table' or 'project.dataset.table'`,
    )
  }
  return parts
}

/**
 * The `bigquery` source kind: a table or a query. Core checks the fields every source shares
 * (on definition, plan and registry load); this checks BigQuery's own.
 */
export const bigquerySourceKind: SourceKind<BigQuerySourceSpec> = {
  kind: 'bigquery',
  validate(spec: BigQuerySourceSpec): void {
    if (!spec || typeof spec !== 'object') throw invalid('bigquerySource() needs an options object')
    const what = `bigquery source '${spec.name}'`
    const hasTable = spec.table !== undefined
    const hasQuery = spec.query !== undefined
    if (hasTable === hasQuery) {
      throw invalid(
        `${what} needs exactly one of table and query`,
        "e.g. table: 'my-project.my_dataset.zipcode_table' or query: 'SELECT ...'",
      )
    }
    if (hasTable) {
      if (typeof spec.table !== 'string' || spec.table.trim() === '')
        throw invalid(`${what}: table must be a name`)
      sourceTableParts(spec)
    }
    if (hasQuery && (typeof spec.query !== 'string' || spec.query.trim() === '')) {
      throw invalid(`${what}: query must be GoogleSQL text`)
    }
  },
}

/** True when a spec is a BigQuery source. */
export function isBigQuerySource(source: SourceSpec): source is BigQuerySourceSpec {
  return source.kind === 'bigquery'
}
