/**
 * The Redshift dialect of core's SQL compiler: PostgreSQL's quoting, literals and interval
 * arithmetic, Data API placeholders (`:p1`), Redshift types, and "temporary" tables that are
 * plain tables (the Data API has no session: a `TEMPORARY` table would vanish with the
 * statement that made it; the store drops them when the retrieval is done).
 */
import {
  ansiStringLiteral,
  elementType,
  isoMicros,
  LarderError,
  postgresDialect,
  quoteAnsiIdentifier,
  type SqlDialect,
  type ValueTypeName,
} from '@larder/core'

/** Longest identifier Redshift keeps, in bytes. */
export const REDSHIFT_MAX_IDENTIFIER = 127

const TYPES: Partial<Record<ValueTypeName, string>> = {
  int32: 'INTEGER',
  int64: 'BIGINT',
  float32: 'REAL',
  float64: 'DOUBLE PRECISION',
  string: 'VARCHAR(65535)',
  bool: 'BOOLEAN',
  timestamp: 'TIMESTAMPTZ',
}

/**
 * A Redshift string literal: single quotes and backslashes doubled (Redshift reads backslash
 * escapes in literals, as its QUOTE_LITERAL shows); NUL rejected.
 * @example
 * redshiftStringLiteral("it's a\\b") // the SQL text 'it''s a\\b' (one backslash in the value)
 */
export function redshiftStringLiteral(value: string): string {
  return ansiStringLiteral(value.replaceAll('\\', '\\\\'))
}

/**
 * Redshift: `"quoted"` identifiers (Redshift folds them to lower case unless
 * `enable_case_sensitive_identifier` is on, so two names differing only in case collide),
 * string literals with quotes and backslashes doubled, `:pN` Data API parameters, `TIMESTAMPTZ` instants. Redshift has
 * no array type Larder can use, and the stand-in no VARBYTE: `bytes` and `array<...>` features
 * are refused with a clear error.
 * @example
 * const { sql, params } = compilePullSql({ ... }, redshiftDialect)
 */
export const redshiftDialect: SqlDialect = {
  ...postgresDialect,
  name: 'redshift',
  maxIdentifierLength: REDSHIFT_MAX_IDENTIFIER,
  quoteIdentifier: (name) => quoteAnsiIdentifier(name, REDSHIFT_MAX_IDENTIFIER),
  stringLiteral: redshiftStringLiteral,
  // A cast rather than a typed literal (`TIMESTAMPTZ '...'`): Redshift takes both, the
  // stand-in's grammar check only the cast.
  timestampLiteral: (micros) => `CAST('${isoMicros(micros)}' AS TIMESTAMPTZ)`,
  placeholder: (index) => `:p${index}`,
  createTempTable: (name, query) =>
    `CREATE TABLE ${quoteAnsiIdentifier(name, REDSHIFT_MAX_IDENTIFIER)} AS ${query}`,
  typeName(type: ValueTypeName): string {
    const sql = elementType(type) ? undefined : TYPES[type]
    if (sql === undefined) {
      throw new LarderError(
        'UNSUPPORTED',
        `Redshift has no column type for Larder's ${type} (arrays would be SUPER, bytes VARBYTE; neither is supported yet)`,
        {
          component: 'redshift',
          hint: 'store the value as a string, or use another offline store',
        },
      )
    }
    return sql
  },
}
