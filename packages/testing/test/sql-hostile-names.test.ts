/**
 * Hostile names through the PostgreSQL backend (core's SQL compiler on a real database): no
 * feature, column or entity name can inject SQL; names that cannot be quoted are refused
 * before any SQL runs.
 */
import {
  ansiStringLiteral,
  compilePointInTimeSql,
  isLarderError,
  planHistoricalRetrieval,
  postgresDialect,
  quoteAnsiIdentifier,
} from '@larder/core'
import type * as arrow from 'apache-arrow'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import {
  at,
  checkOutcome,
  driver,
  findPostgres,
  type HistoricalCase,
  HOSTILE_IDENTIFIERS,
  literalTable,
  postgresOfflineStore,
  runOnStore,
  runReference,
} from '../src/index.js'

const found = await findPostgres()

describe.skipIf(!found.available)('hostile names cannot inject SQL', () => {
  const url = found.available ? found.url : ''
  const schema = `larder_hostile_${process.pid}_${Date.now()}`
  const admin = new pg.Client({ connectionString: url })
  const store = postgresOfflineStore({ connectionString: url, schema })
  beforeAll(async () => {
    await admin.connect()
    await admin.query(`CREATE SCHEMA ${quoteAnsiIdentifier(schema)}`)
  })
  afterAll(async () => {
    await store.close()
    await admin.query(`DROP SCHEMA ${quoteAnsiIdentifier(schema)} CASCADE`)
    await admin.end()
  })
  // The identifiers of the dialect suite: the first names the join key, the second the view
  // (and its table), the others features.
  const hostile = [...HOSTILE_IDENTIFIERS]
  const c: HistoricalCase = {
    name: 'hostile names',
    rule: 'identifiers are quoted; names never inject SQL',
    entities: [
      { kind: 'entity', name: 'who', joinKeys: [hostile[0] as string], valueType: 'int64' },
    ],
    views: [
      {
        name: hostile[1] as string,
        entities: ['who'],
        features: hostile.slice(2).map((name) => ({ name, valueType: 'string' as const })),
        timestampField: hostile[1] as string,
        table: literalTable({
          [hostile[0] as string]: ['int64', [1, 2]],
          [hostile[1] as string]: ['timestamp', [at(1), at(1)]],
          ...Object.fromEntries(
            hostile.slice(2).map((n, i) => [n, ['string', [`v${i}'1`, `v${i}"2`]] as const]),
          ),
        }),
      },
    ],
    entityTable: literalTable({
      [hostile[0] as string]: ['int64', [2, 1, 3]],
      event_timestamp: ['timestamp', [at(2), at(2), at(2)]],
    }),
    features: [{ view: hostile[1] as string }],
    fullFeatureNames: false,
  }
  const options = {
    loadSource: async (
      name: string,
      table: arrow.Table,
      fields: import('@larder/core').CommonSourceFields,
    ) => {
      await store.createTable(`${schema}.${name}`, table)
      return { kind: 'postgres', table: [schema, name], ...fields }
    },
  }
  test('the result equals the engine and the database is intact', async () => {
    await admin.query(`CREATE TABLE ${quoteAnsiIdentifier(schema)}."victim" (x INTEGER)`)
    const got = await runOnStore(store, options, c, { dir: '', caseId: 'hostile' })
    const reason = checkOutcome(c, got, await runReference(c))
    expect(reason).toBeUndefined()
    expect('table' in got && got.table.numRows).toBe(3)
    const victim = await admin.query(
      `SELECT count(*)::int AS n FROM ${quoteAnsiIdentifier(schema)}."victim"`,
    )
    expect(victim.rows).toEqual([{ n: 0 }])
  })
  test('a name with a NUL or a control character is rejected before any SQL runs', () => {
    const plan = planHistoricalRetrieval({
      features: ['v:f'],
      views: new Map([
        [
          'v',
          {
            kind: 'featureView',
            name: 'v',
            entities: ['driver'],
            features: [{ name: 'f', valueType: 'int64' }],
            source: {
              kind: 'sqltest',
              name: 'v',
              timestampField: 'ts',
              fieldMapping: { 'bad\u0000col': 'f' },
            },
            ttlSeconds: 0,
            online: false,
            offline: true,
          },
        ],
      ]),
      entities: new Map([['driver', driver]]),
      entityColumns: [
        { name: 'driver_id', valueType: 'int64' },
        { name: 'event_timestamp', valueType: 'timestamp' },
      ],
    })
    try {
      compilePointInTimeSql(
        plan,
        { entity: { table: 'e' }, sources: () => ({ table: 'v' }) },
        postgresDialect,
      )
      expect.unreachable('a NUL in a name must be rejected')
    } catch (err) {
      expect(isLarderError(err, 'INVALID_INPUT')).toBe(true)
    }
    expect(() => postgresDialect.quoteIdentifier('x'.repeat(64))).toThrow(/63 bytes/)
    expect(() => ansiStringLiteral('a\u0000b')).toThrow(/NUL/)
  })
})

if (!found.available) test.skip(`PostgreSQL unavailable: ${found.reason}`, () => {})
