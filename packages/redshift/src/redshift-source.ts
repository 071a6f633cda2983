/**
 * `redshiftSource()`: a Redshift table or query, described as plain data (a serializable
 * `SourceSpec` with `kind: 'redshift'`) the registry stores.
 */
import {
  checkSource,
  LarderError,
  parseRelationName,
  type SourceKind,
  type SourceSpec,
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
  if (!options || typeof options !== 'object')
    throw invalid('redshiftSource() needs an options object')
  const spec = {
    kind: 'redshift',
    name: options.name,
    timestampField: options.timestampField,
  } as RedshiftSourceSpec
  const optional = [
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
  ] as const
  for (const key of optional) {
    const value = options[key]
    if (value !== undefined) (spec as Record<string, unknown>)[key] = structuredClone(value)
  }
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
    if (!spec || typeof spec !== 'object') throw invalid('redshiftSource() needs an options object')
    const hasTable = typeof spec.table === 'string' && spec.table !== ''
    const hasQuery = typeof spec.query === 'string' && spec.query.trim() !== ''
    if (hasTable === hasQuery) {
      throw invalid(
        `redshift source '${spec.name}' needs exactly one of 'table' and 'query'`,
        "e.g. table: 'zipcode_table' or query: 'SELECT ...'",
      )
    }
    for (const key of ['schema', 'database'] as const) {
      const value = spec[key]
      if (value !== undefined && (typeof value !== 'string' || value === '')) {
        throw invalid(`redshift source '${spec.name}': '${key}' must be a non-empty name`)
      }
    }
    if (hasQuery && (spec.schema !== undefined || spec.database !== undefined)) {
      throw invalid(
        `redshift source '${spec.name}': 'schema' and 'database' go with 'table', not 'query'`,
      )
    }
    if (hasTable) sourceTableParts(spec)
  },
}
