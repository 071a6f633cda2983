// What SqlOfflineStoreBase gives a warehouse store beyond the conformance suite, on the
// PostgreSQL store: results left in a table, streamed batches, cancellation where the query
// runs, multi-part names, partition pruning, and clear errors.
import {
  type FeatureViewSpec,
  isLarderError,
  planHistoricalRetrieval,
  quoteAnsiIdentifier,
} from '@larder/core'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import {
  at,
  driver,
  findPostgres,
  literalTable,
  postgresOfflineStore,
  tableCells,
} from '../src/index.js'

const found = await findPostgres()

describe.skipIf(!found.available)('PostgreSQL store on SqlOfflineStoreBase', () => {
  const url = found.available ? found.url : ''
  const schema = `larder_pgfeat_${process.pid}_${Date.now()}`
  const q = quoteAnsiIdentifier
  const admin = new pg.Client({ connectionString: url })
  const store = postgresOfflineStore({ connectionString: url, batchRows: 2 })
  const view = (source: Record<string, unknown>): FeatureViewSpec => ({
    kind: 'featureView',
    name: 'stats',
    entities: ['driver'],
    features: [{ name: 'trips', valueType: 'int64' }],
    source: { kind: 'postgres', name: 'stats', timestampField: 'ts', ...source },
    ttlSeconds: 0,
    online: false,
    offline: true,
  })
  const planFor = (v: FeatureViewSpec) =>
    planHistoricalRetrieval({
      features: ['stats:trips'],
      views: new Map([['stats', v]]),
      entities: new Map([['driver', driver]]),
      entityColumns: [
        { name: 'driver_id', valueType: 'int64' },
        { name: 'event_timestamp', valueType: 'timestamp' },
      ],
    })
  const entities = literalTable({
    driver_id: ['int64', [1, 2, 1, 3, 2]],
    event_timestamp: ['timestamp', [at(15), at(15), at(25), at(25), at(40)]],
  })
  const expected = [
    [1n, at(15), 10n],
    [2n, at(15), null],
    [1n, at(25), 20n],
    [3n, at(25), null],
    [2n, at(40), 30n],
  ]
  beforeAll(async () => {
    await admin.connect()
    await admin.query(`CREATE SCHEMA ${q(schema)}`)
    await store.createTable(
      `${schema}.stats`,
      literalTable({
        driver_id: ['int64', [1, 1, 2]],
        ts: ['timestamp', [at(10), at(20), at(30)]],
        ds: ['string', ['2026-01-01', '2026-01-01', '2026-01-01']],
        trips: ['int64', [10, 20, 30]],
      }),
    )
  })
  afterAll(async () => {
    await store.close()
    await admin.query(`DROP SCHEMA ${q(schema)} CASCADE`)
    await admin.end()
  })

  test('a result streams in batches and stays in the database with toTable', async () => {
    const v = view({ table: [schema, 'stats'] })
    const job = await store.getHistoricalFeatures({ kind: 'arrow', table: entities }, planFor(v))
    const batches = []
    for await (const b of job.toArrowStream()) batches.push(b)
    expect(batches.length).toBe(3) // batchRows: 2
    expect(tableCells(await job.toArrow())).toEqual(expected)
    const parts = await job.toTable(`${schema}.training`)
    expect(parts).toEqual([schema, 'training'])
    const kept = await admin.query(
      `SELECT driver_id::int AS d, trips::int AS t FROM ${q(schema)}."training" ORDER BY 1, 2`,
    )
    expect(kept.rows.map((r) => [r.d, r.t])).toEqual([
      [1, 10],
      [1, 20],
      [2, 30],
      [2, null],
      [3, null],
    ])
    // Again: the table is replaced, not appended to.
    await job.toTable(`${schema}.training`)
    expect(
      (await admin.query(`SELECT count(*)::int AS n FROM ${q(schema)}."training"`)).rows,
    ).toEqual([{ n: 5 }])
    await job.close()
  })

  test('source reads are pruned to the entity time range and the date partitions', async () => {
    const v = view({ table: `${schema}.stats`, datePartitionColumn: 'ds' })
    const job = await store.getHistoricalFeatures({ kind: 'arrow', table: entities }, planFor(v))
    const sql = job.toSql()
    expect(sql).toContain(`"ts" <= CAST($1 AS TIMESTAMPTZ)`)
    expect(sql).toContain(`"ds" <= '2026-01-01'`)
    expect(tableCells(await job.toArrow())).toEqual(expected)
  })

  test('an abort stops the query where it runs and the store stays usable', async () => {
    // A source whose query sleeps 20 s in PostgreSQL.
    const slow = view({ query: `SELECT s.* FROM ${q(schema)}.stats s, pg_sleep(20)` })
    const controller = new AbortController()
    const reason = new Error('user cancelled')
    const job = await store.getHistoricalFeatures(
      { kind: 'arrow', table: entities },
      planFor(slow),
      {
        signal: controller.signal,
      },
    )
    const began = Date.now()
    setTimeout(() => controller.abort(reason), 300)
    await expect(job.toArrow()).rejects.toBe(reason)
    expect(Date.now() - began).toBeLessThan(10_000)
    const again = await store.getHistoricalFeatures(
      { kind: 'arrow', table: entities },
      planFor(view({ table: `${schema}.stats` })),
    )
    expect(tableCells(await again.toArrow())).toEqual(expected)
  }, 30_000)

  test('errors name the source and what is wrong', async () => {
    const missing = view({ table: `${schema}.nope` })
    const err = await store
      .getHistoricalFeatures({ kind: 'arrow', table: entities }, planFor(missing))
      .then(
        () => undefined,
        (e: unknown) => e,
      )
    expect(isLarderError(err, 'BACKEND_ERROR')).toBe(true)
    expect((err as Error).message).toMatch(
      /\[postgres\] cannot read source 'stats' \(".*"\."nope"\): relation .* does not exist/,
    )
    const noColumn = {
      ...view({ table: `${schema}.stats` }),
      features: [{ name: 'rate', valueType: 'float64' as const }],
    }
    const err2 = await store
      .getHistoricalFeatures(
        { kind: 'arrow', table: entities },
        planHistoricalRetrieval({
          features: ['stats:rate'],
          views: new Map([['stats', noColumn]]),
          entities: new Map([['driver', driver]]),
          entityColumns: [
            { name: 'driver_id', valueType: 'int64' },
            { name: 'event_timestamp', valueType: 'timestamp' },
          ],
        }),
      )
      .then(
        () => undefined,
        (e: unknown) => e,
      )
    expect(isLarderError(err2, 'SCHEMA_MISMATCH')).toBe(true)
    expect((err2 as Error).message).toContain(
      "has no column 'rate', the feature 'rate' of view 'stats'",
    )
  })
})

if (!found.available) test.skip(`PostgreSQL unavailable: ${found.reason}`, () => {})
