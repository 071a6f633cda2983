import { describe, expect, test } from 'vitest'
import {
  type AsofJoinSpec,
  compilePointInTimeSql,
  compilePullSql,
  type FeatureViewSpec,
  isLarderError,
  isoMicros,
  parseRelationName,
  planHistoricalRetrieval,
  postgresDialect,
  quoteAnsiIdentifier,
  quoteRelationName,
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
    const { sql, params } = compilePullSql(
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
    // PostgreSQL has placeholders: the bounds are bound as parameters, in placeholder order.
    expect(sql).toContain(`"ts_src" >= CAST($1 AS TIMESTAMPTZ)`)
    expect(sql).toContain(`"ts_src" <= CAST($2 AS TIMESTAMPTZ)`)
    expect(params).toEqual([isoMicros(start), '2026-01-01 00:00:00.000001+00:00'])
    expect(sql).toContain(
      'PARTITION BY "driver_id" ORDER BY "__event_ts" DESC, "__created_ts" DESC NULLS LAST',
    )
  })
  test('a dialect without placeholders gets literals', () => {
    const start = 1_767_225_600_000_000n
    const { placeholder: _, ...inline } = postgresDialect
    const { sql, params } = compilePullSql(
      {
        source: view.source,
        relation: { table: 's' },
        joinKeys: ['driver_id'],
        features: [],
        start,
        end: start,
        mode: 'all',
      },
      inline,
    )
    expect(params).toEqual([])
    expect(sql).toContain(`"ts_src" >= TIMESTAMPTZ '${isoMicros(start)}'`)
  })
  test('multi-part relations are quoted part by part, by the dialect when it says how', () => {
    expect(parseRelationName('proj.data set."my.table"')).toEqual(['proj', 'data set', 'my.table'])
    expect(parseRelationName('`a`.b')).toEqual(['a', 'b'])
    for (const bad of ['a..b', '.a', 'a.', '"open']) {
      expect(() => parseRelationName(bad)).toThrow(/relation name/)
    }
    const { sql } = compilePointInTimeSql(
      plan,
      {
        entity: { table: ['db', 'labels', 'rows'] },
        sources: () => ({ table: ['db', 'raw', 'we"ird'] }),
      },
      postgresDialect,
    )
    expect(sql).toContain('FROM "db"."labels"."rows" AS "__larder_entity_input"')
    expect(sql).toContain('FROM "db"."raw"."we""ird" AS "__larder_source"')
    const backticks: SqlDialect = {
      ...postgresDialect,
      quoteRelation: (parts) => `\`${parts.join('.')}\``,
    }
    expect(quoteRelationName(backticks, ['p', 'd', 't'])).toBe('`p.d.t`')
    expect(quoteRelationName(postgresDialect, ['p', 'd', 't'])).toBe('"p"."d"."t"')
  })
  test('the entity time range limits source reads and prunes date partitions', () => {
    const day = 86_400_000_000n
    const min = 1_767_225_600_000_000n + day // 2026-01-02
    const max = min + 3n * day // 2026-01-05
    const partitioned = {
      ...view,
      ttlSeconds: 86_400 * 2,
      source: { ...view.source, datePartitionColumn: 'ds' },
    }
    const p = planHistoricalRetrieval({
      features: ['stats:trips'],
      views: new Map([['stats', partitioned]]),
      entities: new Map([
        ['driver', { kind: 'entity', name: 'driver', joinKeys: ['driver_id'], valueType: 'int64' }],
      ]),
      entityColumns: [
        { name: 'driver_id', valueType: 'int64' },
        { name: 'event_timestamp', valueType: 'timestamp' },
      ],
    })
    const { sql, params } = compilePointInTimeSql(
      p,
      { entity: { table: 'e' }, sources: () => ({ table: 's' }), entityTimeRange: { min, max } },
      postgresDialect,
    )
    // [min - ttl, max] on the event timestamp (parameters), partition dates as constants.
    expect(sql).toContain(
      `"ts_src" >= CAST($1 AS TIMESTAMPTZ) AND "ts_src" <= CAST($2 AS TIMESTAMPTZ)`,
    )
    expect(params).toEqual([isoMicros(min - 2n * day), isoMicros(max)])
    expect(sql).toContain(`"ds" >= '2025-12-31' AND "ds" <= '2026-01-05'`)
    // TTL 0: no lower bound on the event timestamp nor on the partitions.
    const forever = planHistoricalRetrieval({
      features: ['stats:trips'],
      views: new Map([['stats', { ...partitioned, ttlSeconds: 0 }]]),
      entities: new Map([
        ['driver', { kind: 'entity', name: 'driver', joinKeys: ['driver_id'], valueType: 'int64' }],
      ]),
      entityColumns: [
        { name: 'driver_id', valueType: 'int64' },
        { name: 'event_timestamp', valueType: 'timestamp' },
      ],
    })
    const noTtl = compilePointInTimeSql(
      forever,
      { entity: { table: 'e' }, sources: () => ({ table: 's' }), entityTimeRange: { min, max } },
      postgresDialect,
    )
    expect(noTtl.params).toEqual([isoMicros(max)])
    expect(noTtl.sql).toContain(
      `WHERE "ts_src" IS NOT NULL AND "ts_src" <= CAST($1 AS TIMESTAMPTZ) AND "ds" <= '2026-01-05')`,
    )
  })
})
