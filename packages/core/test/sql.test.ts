import { describe, expect, test } from 'vitest'
import {
  type AsofJoinSpec,
  compilePointInTimeSql,
  compilePullSql,
  type FeatureViewSpec,
  isLarderError,
  isoMicros,
  planHistoricalRetrieval,
  postgresDialect,
  quoteAnsiIdentifier,
  type SqlDialect,
} from '../src/index.js'

const view: FeatureViewSpec = {
  kind: 'featureView',
  name: 'stats',
  entities: ['driver'],
  features: [
    { name: 'trips', valueType: 'int64' },
    { name: 'rate', valueType: 'float32' },
  ],
  source: {
    kind: 'sqltest',
    name: 'stats',
    timestampField: 'ts_src',
    createdTimestampColumn: 'created',
    fieldMapping: { trips_src: 'trips', ts_src: 'event_ts' },
  },
  ttlSeconds: 1.5,
  online: false,
  offline: true,
}
const plan = planHistoricalRetrieval({
  features: ['stats:trips', 'stats:rate'],
  views: new Map([['stats', view]]),
  entities: new Map([
    ['driver', { kind: 'entity', name: 'driver', joinKeys: ['driver_id'], valueType: 'int64' }],
  ]),
  entityColumns: [
    { name: 'driver_id', valueType: 'int64' },
    { name: 'event_timestamp', valueType: 'timestamp' },
  ],
})

describe('SQL compiler', () => {
  test('quotes identifiers and rejects what cannot be quoted', () => {
    expect(quoteAnsiIdentifier('a"b')).toBe('"a""b"')
    expect(quoteAnsiIdentifier('x"; DROP TABLE t; --')).toBe('"x""; DROP TABLE t; --"')
    for (const bad of ['', 'a\u0000b', 'line\nbreak']) {
      try {
        quoteAnsiIdentifier(bad)
        expect.unreachable()
      } catch (err) {
        expect(isLarderError(err, 'INVALID_INPUT')).toBe(true)
      }
    }
    expect(() => postgresDialect.quoteIdentifier('é'.repeat(32))).toThrow(/63 bytes/)
  })
  test('portable strategy: field mapping, TTL, tie-break, casts, order kept', () => {
    const { sql, params } = compilePointInTimeSql(
      plan,
      {
        entity: { sql: 'SELECT * FROM "e"' },
        sources: () => ({ table: 'stats_table', schema: 'raw' }),
      },
      postgresDialect,
    )
    expect(params).toEqual([])
    expect(sql).toContain(`"trips_src" AS "__f0"`)
    expect(sql).toContain(`"ts_src" AS "__ts"`)
    expect(sql).toContain(`FROM "raw"."stats_table"`)
    expect(sql).toContain(`INTERVAL '1500000 microseconds'`)
    expect(sql).toContain(`ORDER BY s."__ts" DESC, s."__cr" DESC NULLS LAST`)
    expect(sql).toContain(`CAST("v0"."__f0" AS BIGINT) AS "trips"`)
    expect(sql).toContain(`CAST("v0"."__f1" AS REAL) AS "rate"`)
    expect(sql).toContain('ROW_NUMBER() OVER () AS "__larder_row" FROM (SELECT * FROM "e")')
    expect(sql.trimEnd().endsWith('ORDER BY e."__larder_row"')).toBe(true)
    expect(sql).not.toContain('ASOF')
  })
  test('a dialect with an ASOF hook gets it, on a source deduplicated by created timestamp', () => {
    const seen: AsofJoinSpec[] = []
    const asof: SqlDialect = {
      ...postgresDialect,
      asofJoin: (j) => {
        seen.push(j)
        return `${j.left} ASOF LEFT JOIN ${j.right} ON ${j.equalities.map(([l, r]) => `${l} = ${r}`).join(' AND ')} AND ${j.leftTime} >= ${j.rightTime}`
      },
    }
    const { sql } = compilePointInTimeSql(
      plan,
      { entity: { table: 'entity', rowNumberColumn: 'n' }, sources: () => ({ table: 's' }) },
      asof,
    )
    expect(seen).toHaveLength(1)
    expect(seen[0]?.equalities).toEqual([['e."__e0"', '"s0"."__k0"']])
    expect(sql).toContain('ASOF LEFT JOIN')
    expect(sql).toContain('PARTITION BY "__k0", "__ts" ORDER BY "__cr" DESC NULLS LAST')
    expect(sql).toContain(`"n" AS "__larder_row"`)
  })
  test('pull queries bound the event timestamp inclusively and rank per key', () => {
    const start = 1_767_225_600_000_000n
    const { sql } = compilePullSql(
      {
        source: view.source,
        relation: { table: 's' },
        joinKeys: ['driver_id'],
        features: [{ name: 'trips', valueType: 'int64' }],
        start,
        end: start + 1n,
        mode: 'latest',
      },
      postgresDialect,
    )
    expect(sql).toContain(`"ts_src" >= TIMESTAMPTZ '${isoMicros(start)}'`)
    expect(sql).toContain(`"ts_src" <= TIMESTAMPTZ '2026-01-01 00:00:00.000001+00:00'`)
    expect(sql).toContain(
      'PARTITION BY "driver_id" ORDER BY "__event_ts" DESC, "__created_ts" DESC NULLS LAST',
    )
  })
})
