/**
 * The PostgreSQL dialect of the SQL compiler (the Redshift backend builds on it).
 */
import type { EpochMicros } from '../duration.js'
import { LarderError } from '../errors.js'
import { elementType, type ValueTypeName } from '../types.js'
import { ansiStringLiteral, isoMicros, quoteAnsiIdentifier, type SqlDialect } from './dialect.js'

const SCALARS: Record<string, string> = {
  int32: 'INTEGER',
  int64: 'BIGINT',
  float32: 'REAL',
  float64: 'DOUBLE PRECISION',
  string: 'TEXT',
  bytes: 'BYTEA',
  bool: 'BOOLEAN',
  timestamp: 'TIMESTAMPTZ',
}

/** Checks that `micros` is an integer amount before it is written into SQL. */
export function checkMicros(micros: bigint): bigint {
  if (typeof micros !== 'bigint') {
    throw new LarderError(
      'INTERNAL',
      `expected a bigint amount of microseconds, got ${typeof micros}`,
      {
        component: 'sql',
      },
    )
  }
  return micros
}

/**
 * PostgreSQL: `"quoted"` identifiers of at most 63 bytes, standard strings, `$n`
 * parameters, `TIMESTAMPTZ` instants. Sessions must run with `TimeZone = 'UTC'` when entity
 * or source timestamps are `TIMESTAMP` without zone (they are read as UTC then).
 *
 * @example
 * const { sql } = compilePointInTimeSql(plan, { entity: { table: 'entity_rows' }, sources }, postgresDialect)
 */
export const postgresDialect: SqlDialect = {
  name: 'postgres',
  maxIdentifierLength: 63,
  quoteIdentifier: (name) => quoteAnsiIdentifier(name, 63),
  stringLiteral: ansiStringLiteral,
  timestampLiteral: (micros: EpochMicros) => `TIMESTAMPTZ '${isoMicros(micros)}'`,
  subtractMicroseconds: (expr, micros) =>
    `(${expr} - INTERVAL '${checkMicros(micros)} microseconds')`,
  placeholder: (index) => `$${index}`,
  createTempTable: (name, query) =>
    `CREATE TEMPORARY TABLE ${quoteAnsiIdentifier(name, 63)} AS ${query}`,
  typeName(type: ValueTypeName): string {
    const element = elementType(type)
    return element ? `${SCALARS[element]}[]` : (SCALARS[type] as string)
  },
}
