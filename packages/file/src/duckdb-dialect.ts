/**
 * The DuckDB dialect of core's point-in-time SQL compiler, with DuckDB's native ASOF JOIN.
 */
import {
  type AsofJoinSpec,
  ansiStringLiteral,
  type EpochMicros,
  isoMicros,
  quoteAnsiIdentifier,
  type SqlDialect,
} from '@larder/core'
import { sqlTypeOf } from './duck-types.js'

/**
 * DuckDB without ASOF: the portable ranking strategy (the same SQL a warehouse runs).
 * Sessions must run with `SET TimeZone = 'UTC'` when timestamps are `TIMESTAMP` without zone.
 */
export const duckdbPortableDialect: SqlDialect = {
  name: 'duckdb',
  quoteIdentifier: (name) => quoteAnsiIdentifier(name),
  stringLiteral: ansiStringLiteral,
  timestampLiteral: (micros: EpochMicros) => `TIMESTAMPTZ '${isoMicros(micros)}'`,
  subtractMicroseconds: (expr, micros) =>
    `(${expr} - to_microseconds(CAST(${BigInt(micros)} AS BIGINT)))`,
  placeholder: (index) => `$${index}`,
  createTempTable: (name, query) => `CREATE TEMP TABLE ${quoteAnsiIdentifier(name)} AS ${query}`,
  typeName: sqlTypeOf,
}

/**
 * DuckDB with its native ASOF JOIN: per entity row the source row with the greatest
 * `event_ts <= T` and equal keys. The compiler first keeps one source row per
 * (keys, event_ts), the greatest created timestamp (ASOF alone would pick any of equal
 * event timestamps), and checks the TTL lower bound on the matched row.
 *
 * @example
 * const { sql } = compilePointInTimeSql(plan, { entity: { table: 'entity_rows' }, sources }, duckdbDialect)
 */
export const duckdbDialect: SqlDialect = {
  ...duckdbPortableDialect,
  asofJoin(join: AsofJoinSpec): string {
    const on = [
      ...join.equalities.map(([l, r]) => `${l} = ${r}`),
      `${join.leftTime} >= ${join.rightTime}`,
    ]
    return `${join.left} ASOF LEFT JOIN ${join.right} ON ${on.join(' AND ')}`
  },
}
