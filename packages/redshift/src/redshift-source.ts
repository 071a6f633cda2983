/**
 * `redshiftSource()`: a Redshift table or query, described as plain data (a serializable
 * `SourceSpec` with `kind: 'redshift'`) the registry stores.
 */
import {
  checkSource,
  checkTableOrQuery,
  LarderError,
  parseRelationName,
  type SourceKind,
  type SourceSpec,
  sourceSpecFrom,
} from '@larder/core'

const COMPONENT = 'redshift'

/** The spec of a Redshift source, as the registry stores it. */
export interface RedshiftSourceSpec extends SourceSpec {
  kind: 'redshift'
  /** Table name, optionally `schema.table`; exclusive with `query`. */
  table?: string
  /** Schema of `table`. @default the search path's (usually `public`) */
  schema?: string
  /** Database of `table`, when it is not the store's (cross-database reads). */
  database?: string
  /** A query whose rows are the source; exclusive with `table`. */
  query?: string
  timestampField: string
}

/** Options of {@link redshiftSource}. */
export interface RedshiftSourceOptions {
  /** Source name, unique in the repo. */
  name: string
  /** Table name (`zipcode_table` or `public.zipcode_table`); give this or `query`. */
  table?: string
  /** Schema of `table`. */
  schema?: string
  /** Database of `table`, when it is not the store's. */
  database?: string
  /** A Redshift query (`SELECT ...`); give this or `table`. */
  query?: string
  /** The event-timestamp column (source name). */
  timestampField: string
  /** Column breaking ties between rows with equal event timestamps. */
  createdTimestampColumn?: string
  /** `source column -> larder name`. */
  fieldMapping?: Record<string, string>
  /** A DATE column partitioning the table; reads are limited to the dates they need. */
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
 * A Redshift table or query as a batch source (read by `redshiftOfflineStore`).
 * @throws LarderError INVALID_DEFINITION naming the bad field.
 * @example
 * const zipcode = redshiftSource({
 *   name: 'zipcode', table: 'zipcode_table', schema: 'public',
 *   timestampField: 'event_timestamp', createdTimestampColumn: 'created_timestamp',
 * })
 */
export function redshiftSource(options: RedshiftSourceOptions): RedshiftSourceSpec {
  const spec = sourceSpecFrom<RedshiftSourceSpec>('redshift', options, [
    'table',
    'schema',
    'database',
    'query',
    'createdTimestampColumn',
    'fieldMapping',
    'datePartitionColumn',
    'description',
    'tags',
    'owner',
  ])
  checkSource(spec, redshiftSourceKind)
  return spec
}

/** The table of a source as name parts: `[database?, schema?, table]`. */
export function sourceTableParts(spec: RedshiftSourceSpec): string[] {
  let parts: string[]
  try {
    parts = parseRelationName(spec.table as string)
  } catch (err) {
    throw invalid(
      `redshift source '${spec.name}': table '${spec.table}' is not a table name (${(err as Error).message})`,
      'write it as table or schema.table; quote a part with double quotes',
    )
  }
  if (parts.length > 2 || (parts.length === 2 && spec.schema !== undefined)) {
    throw invalid(
      `redshift source '${spec.name}': table '${spec.table}' must be 'table' or 'schema.table' (the database goes in 'database')`,
    )
  }
  const withSchema = spec.schema !== undefined ? [spec.schema, ...parts] : parts
  if (spec.database !== undefined) {
    return withSchema.length === 1
      ? [spec.database, 'public', ...withSchema]
      : [spec.database, ...withSchema]
  }
  return withSchema
}

/**
 * The `redshift` source kind: a table or a query. Core checks the fields every source shares
 * (on definition, plan and registry load); this checks Redshift's own.
 */
export const redshiftSourceKind: SourceKind<RedshiftSourceSpec> = {
  kind: 'redshift',
  validate(spec: RedshiftSourceSpec): void {
    checkTableOrQuery(spec, {
      component: 'redshift',
      example: "e.g. table: 'zipcode_table' or query: 'SELECT ...'",
      nameKeys: ['schema', 'database'],
    })
    if (typeof spec.table === 'string') sourceTableParts(spec)
  },
}
