/**
 * `snowflakeSource()`: a Snowflake table or query, described as plain data (a serializable
 * `SourceSpec` with `kind: 'snowflake'`) the registry stores.
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

const COMPONENT = 'snowflake'

/** The spec of a Snowflake source, as the registry stores it. */
export interface SnowflakeSourceSpec extends SourceSpec {
  kind: 'snowflake'
  /** Table name, optionally `schema.table`; exclusive with `query`. */
  table?: string
  /** Schema of `table`. @default the connection's schema */
  schema?: string
  /** Database of `table`, when it is not the store's (cross-database reads). */
  database?: string
  /** A query whose rows are the source; exclusive with `table`. */
  query?: string
  timestampField: string
}

/** Options of {@link snowflakeSource}. */
export interface SnowflakeSourceOptions {
  /** Source name, unique in the repo. */
  name: string
  /** Table name (`ZIPCODE_TABLE`, `PUBLIC.ZIPCODE_TABLE` or `DB.PUBLIC.ZIPCODE_TABLE`); give this or `query`. */
  table?: string
  /** Schema of `table`. */
  schema?: string
  /** Database of `table`, when it is not the store's. */
  database?: string
  /** A Snowflake query (`SELECT ...`); give this or `table`. */
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
 * A Snowflake table or query as a batch source (read by `snowflakeOfflineStore`).
 * @throws LarderError INVALID_DEFINITION naming the bad field.
 * @example
 * const zipcode = snowflakeSource({
 *   name: 'zipcode', table: 'ZIPCODE_TABLE', schema: 'PUBLIC',
 *   timestampField: 'event_timestamp', createdTimestampColumn: 'created_timestamp',
 * })
 */
export function snowflakeSource(options: SnowflakeSourceOptions): SnowflakeSourceSpec {
  const spec = sourceSpecFrom<SnowflakeSourceSpec>('snowflake', options, [
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
  checkSource(spec, snowflakeSourceKind)
  return spec
}

/** The table of a source as name parts: `[database?, schema?, table]`. */
export function sourceTableParts(spec: SnowflakeSourceSpec): string[] {
  let parts: string[]
  try {
    parts = parseRelationName(spec.table as string)
  } catch (err) {
    throw invalid(
      `snowflake source '${spec.name}': table '${spec.table}' is not a table name (${(err as Error).message})`,
      'write it as TABLE, SCHEMA.TABLE or DATABASE.SCHEMA.TABLE; quote a part with double quotes',
    )
  }
  const withSchema = spec.schema !== undefined ? [spec.schema, ...parts] : parts
  const full = spec.database !== undefined ? [spec.database, ...withSchema] : withSchema
  if (full.length > 3 || (spec.database !== undefined && full.length !== 3)) {
    throw invalid(
      `snowflake source '${spec.name}': '${full.join('.')}' is not DATABASE.SCHEMA.TABLE, SCHEMA.TABLE or TABLE`,
    )
  }
  return full
}

/**
 * The `snowflake` source kind: a table or a query. Core checks the fields every source shares
 * (on definition, plan and registry load); this checks Snowflake's own.
 */
export const snowflakeSourceKind: SourceKind<SnowflakeSourceSpec> = {
  kind: 'snowflake',
  validate(spec: SnowflakeSourceSpec): void {
    checkTableOrQuery(spec, {
      component: 'snowflake',
      example: "e.g. table: 'ZIPCODE_TABLE' or query: 'SELECT ...'",
      nameKeys: ['schema', 'database'],
    })
    if (typeof spec.table === 'string') sourceTableParts(spec)
  },
}
