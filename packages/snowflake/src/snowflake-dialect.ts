/**
 * The Snowflake dialect of core's SQL compiler: `"quoted"` identifiers (case kept), string
 * literals doubling quotes and backslashes (Snowflake reads backslash escapes), `:N` binds,
 * `TIMESTAMP_TZ` instants, `DATEADD(microsecond, ...)` arithmetic, Snowflake types, and
 * "temporary" tables as plain tables the store drops when the retrieval is done.
 */
import {
  ansiStringLiteral,
  elementType,
  isoMicros,
  LarderError,
  quoteAnsiIdentifier,
  type SqlDialect,
  type ValueTypeName,
} from '@larder/core'

/** Longest identifier Snowflake keeps, in characters. */
export const SNOWFLAKE_MAX_IDENTIFIER = 255

const TYPES: Partial<Record<ValueTypeName, string>> = {
  int32: 'INTEGER',
  int64: 'BIGINT',
  float32: 'FLOAT',
  float64: 'DOUBLE',
  string: 'VARCHAR',
  bool: 'BOOLEAN',
  timestamp: 'TIMESTAMP_TZ',
  bytes: 'BINARY',
}

/**
 * A Snowflake string literal: single quotes and backslashes doubled; NUL rejected.
 * @example
 * snowflakeStringLiteral("it's") // the SQL text 'it''s'
 */
export function snowflakeStringLiteral(value: string): string {
  return ansiStringLiteral(value.replaceAll('\\', '\\\\'))
}

/**
 * Snowflake. Arrays (ARRAY/VARIANT) are refused with a clear error.
 * @example
 * const { sql, params } = compilePullSql({ ... }, snowflakeDialect)
 */
export const snowflakeDialect: SqlDialect = {
  name: 'snowflake',
  maxIdentifierLength: SNOWFLAKE_MAX_IDENTIFIER,
  quoteIdentifier: (name) => quoteAnsiIdentifier(name, SNOWFLAKE_MAX_IDENTIFIER),
  stringLiteral: snowflakeStringLiteral,
  timestampLiteral: (micros) => `CAST('${isoMicros(micros)}' AS TIMESTAMP_TZ)`,
  subtractMicroseconds: (expr, micros) => {
    if (typeof micros !== 'bigint') {
      throw new LarderError('INTERNAL', 'expected a bigint amount of microseconds', {
        component: 'sql',
      })
    }
    return `DATEADD(microsecond, ${-micros}, ${expr})`
  },
  placeholder: (index) => `:${index}`,
  createTempTable: (name, query) =>
    `CREATE TABLE ${quoteAnsiIdentifier(name, SNOWFLAKE_MAX_IDENTIFIER)} AS ${query}`,
  typeName(type: ValueTypeName): string {
    const sql = elementType(type) ? undefined : TYPES[type]
    if (sql === undefined) {
      throw new LarderError(
        'UNSUPPORTED',
        `the Snowflake store has no column type for Larder's ${type} (ARRAY/VARIANT are not supported yet)`,
        {
          component: 'snowflake',
          hint: 'store the value as a string, or use another offline store',
        },
      )
    }
    return sql
  },
}
