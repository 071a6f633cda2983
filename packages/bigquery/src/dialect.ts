/**
 * The BigQuery (GoogleSQL) dialect of core's SQL compiler: backtick identifiers with
 * backslash escapes, `'...'` strings with backslash escapes, `TIMESTAMP '...'` instants,
 * `TIMESTAMP_SUB(x, INTERVAL n MICROSECOND)` and `@name` parameters.
 */
import {
  checkIdentifier,
  type EpochMicros,
  elementType,
  isoMicros,
  LarderError,
  type SqlDialect,
  type ValueTypeName,
} from '@larder/core'

const COMPONENT = 'bigquery'

/** Longest column name BigQuery keeps (characters; 300 per the quotas page). */
export const BIGQUERY_MAX_COLUMN_NAME = 300

const SCALARS: Record<string, string> = {
  int32: 'INT64',
  int64: 'INT64',
  float32: 'FLOAT64',
  float64: 'FLOAT64',
  string: 'STRING',
  bytes: 'BYTES',
  bool: 'BOOL',
  timestamp: 'TIMESTAMP',
}

/** Escapes text for a GoogleSQL quoted identifier or string literal (backslash escapes). */
function escapeText(text: string, quote: string): string {
  let out = ''
  for (const ch of text) {
    if (ch === '\\') out += '\\\\'
    else if (ch === quote) out += `\\${quote}`
    else if (ch === '\n') out += '\\n'
    else if (ch === '\r') out += '\\r'
    else if (ch === '\t') out += '\\t'
    else if (ch < ' ' || ch === '\u007f') {
      out += `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`
    } else out += ch
  }
  return out
}

/**
 * A GoogleSQL quoted identifier: `` `name` `` with `\` and `` ` `` escaped by a backslash.
 * @throws LarderError INVALID_INPUT for an empty name, a control character or a name longer
 * than BigQuery keeps.
 */
export function quoteBigQueryIdentifier(name: string): string {
  checkIdentifier(name)
  if ([...name].length > BIGQUERY_MAX_COLUMN_NAME) {
    throw new LarderError(
      'INVALID_INPUT',
      `name '${name.slice(0, 40)}...' is longer than ${BIGQUERY_MAX_COLUMN_NAME} characters, the longest BigQuery name`,
      { component: COMPONENT, hint: 'use a shorter name' },
    )
  }
  return `\`${escapeText(name, '`')}\``
}

/**
 * A GoogleSQL string literal: `'...'` with `\`, `'` and control characters escaped.
 * @throws LarderError INVALID_INPUT for text holding NUL.
 */
export function bigqueryStringLiteral(value: string): string {
  if (value.includes('\u0000')) {
    throw new LarderError('INVALID_INPUT', 'a BigQuery string literal cannot contain NUL', {
      component: COMPONENT,
    })
  }
  return `'${escapeText(value, "'")}'`
}

function checkMicros(micros: bigint): bigint {
  if (typeof micros !== 'bigint') {
    throw new LarderError(
      'INTERNAL',
      `expected a bigint amount of microseconds, got ${typeof micros}`,
      {
        component: COMPONENT,
      },
    )
  }
  return micros
}

/**
 * GoogleSQL for core's compiler. Table names are quoted part by part
 * (`` `project`.`dataset`.`table` ``); time bounds are `@p1`, `@p2`... parameters (strings,
 * cast to TIMESTAMP). `createTempTable` makes a table that expires after a day in the
 * current default dataset; the store replaces it with one that names its dataset.
 *
 * @example
 * const { sql, params } = compilePointInTimeSql(plan, { entity, sources }, bigqueryDialect)
 */
export const bigqueryDialect: SqlDialect = {
  name: 'bigquery',
  maxIdentifierLength: BIGQUERY_MAX_COLUMN_NAME,
  quoteIdentifier: quoteBigQueryIdentifier,
  stringLiteral: bigqueryStringLiteral,
  timestampLiteral: (micros: EpochMicros) => `TIMESTAMP '${isoMicros(micros)}'`,
  subtractMicroseconds: (expr, micros) =>
    `TIMESTAMP_SUB(${expr}, INTERVAL ${checkMicros(micros)} MICROSECOND)`,
  placeholder: (index) => `@p${index}`,
  createTempTable: (name, query) => createExpiringTable([name], query),
  typeName(type: ValueTypeName): string {
    const element = elementType(type)
    return element ? `ARRAY<${SCALARS[element]}>` : (SCALARS[type] as string)
  },
}

/** How long temporary tables live unless dropped first. */
export const TEMPORARY_TABLE_HOURS = 24

/**
 * `CREATE TABLE <parts> OPTIONS (expiration_timestamp = now + 24h) AS <query>`: a table that
 * BigQuery deletes by itself even when the process dies before dropping it.
 */
export function createExpiringTable(parts: readonly string[], query: string): string {
  return `CREATE TABLE ${parts.map(quoteBigQueryIdentifier).join('.')} OPTIONS (expiration_timestamp = TIMESTAMP_ADD(CURRENT_TIMESTAMP(), INTERVAL ${TEMPORARY_TABLE_HOURS} HOUR)) AS ${query}`
}
