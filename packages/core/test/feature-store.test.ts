import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import * as arrow from 'apache-arrow'
import { beforeEach, describe, expect, test } from 'vitest'
import {
  type AnyDefinition,
  entity,
  FeatureStore,
  featureService,
  featureView,
  isLarderError,
  memoryOfflineStore,
  memoryOnlineStore,
  onDemandFeatureView,
  parseTime,
  pushSource,
  requestSource,
  type SourceSpec,
  t,
  toArrowVector,
} from '../src/index.js'

const T = (iso: string) => parseTime(iso)
const H = 3_600_000_000n

/** driver_stats: hand-made rows (times in hours after 2026-01-01T00:00Z). */
function driverStats(): arrow.Table {
  const base = T('2026-01-01T00:00:00Z')
  const rows: Array<[bigint, bigint, bigint, number | null, bigint]> = [
    // driver, event hour, created hour, conv_rate, trips
    [1001n, 0n, 0n, 0.1, 10n],
    [1001n, 2n, 2n, 0.2, 20n],
    [1001n, 2n, 3n, 0.25, 25n], // same event time, later created: wins
    [1002n, 1n, 1n, null, 30n],
    [1003n, 5n, 5n, 0.5, 50n],
    [2n ** 60n, 4n, 4n, 0.9, 2n ** 60n],
  ]
  return new arrow.Table({
    driver_id: toArrowVector(
      rows.map((r) => r[0]),
      'int64',
    ),
    event_timestamp: toArrowVector(
      rows.map((r) => base + r[1] * H),
      'timestamp',
    ),
    created: toArrowVector(
      rows.map((r) => base + r[2] * H),
      'timestamp',
    ),
    conv_rate: toArrowVector(
      rows.map((r) => r[3]),
      'float32',
    ),
    trips_raw: toArrowVector(
      rows.map((r) => r[4]),
      'int64',
    ),
  })
}

const source: SourceSpec = {
  kind: 'memory',
  name: 'driver_stats',
  table: 'driver_stats',
  timestampField: 'event_timestamp',
  createdTimestampColumn: 'created',
  fieldMapping: { trips_raw: 'trips' },
}
const driver = entity({ name: 'driver', joinKeys: ['driver_id'], valueType: t.int64 })
const stats = featureView({
  name: 'driver_stats',
  entities: [driver],
  ttl: { hours: 3 },
  schema: { conv_rate: t.float32, trips: t.int64 },
  source,
})
const push = pushSource({ name: 'stats_push', batchSource: source })
const fresh = featureView({
  name: 'driver_fresh',
  entities: [driver],
  schema: { conv_rate: t.float32, trips: t.int64 },
  source: push,
})
const extra = requestSource({ name: 'extra', schema: { bonus: t.float64 } })
const boosted = onDemandFeatureView({
  name: 'boosted',
  sources: [stats, extra],
  schema: { boosted_rate: t.float64 },
  transform: (c) => ({
    boosted_rate: c.conv_rate.map((v, i) => (v === null ? null : v + (c.bonus[i] ?? 0))),
  }),
})
const service = featureService({ name: 'svc', features: [stats.select('trips'), boosted] })

function open(
  clock: string,
  definitions: AnyDefinition[] = [driver, stats, push, fresh, extra, boosted, service],
) {
  const dir = mkdtempSync(join(tmpdir(), 'larder-fs-'))
  return new FeatureStore({
    repoPath: dir,
    config: {
      project: 'test',
      offlineStore: memoryOfflineStore({ driver_stats: driverStats() }),
      onlineStore: memoryOnlineStore(),
    },
    definitions: definitions.map((d) => ({ definition: d, origin: 'test' })),
    now: () => new Date(clock),
  })
}

describe('apply checks views against their sources', () => {
  test('missing column and narrowing type are SCHEMA_MISMATCH naming view, column and source', async () => {
    const missing = featureView({
      name: 'bad',
      entities: [driver],
      schema: { nope: t.int64 },
      source,
    })
    await expect(open('2026-01-01T06:00:00Z', [driver, missing]).apply()).rejects.toThrow(
      /feature view 'bad': column 'nope' \(feature\) is not in source 'driver_stats'/,
    )
    const narrow = featureView({
      name: 'bad',
      entities: [driver],
      schema: { trips: t.int32 },
      source,
    })
    await expect(open('2026-01-01T06:00:00Z', [driver, narrow]).apply()).rejects.toThrow(
      /column 'trips' is int32 in the view but .* in source 'driver_stats'/,
    )
    const widened = featureView({
      name: 'ok',
      entities: [driver],
      schema: { conv_rate: t.float64 },
      source,
    })
    await expect(open('2026-01-01T06:00:00Z', [driver, widened]).apply()).resolves.toMatchObject({
      version: 1,
    })
  })

  test('a schema-less view gets its features inferred; re-apply has no changes; --skip bypasses', async () => {
    const inferred = featureView({ name: 'inferred', entities: [driver], source })
    const store = open('2026-01-01T06:00:00Z', [driver, inferred])
    const result = await store.apply()
    expect(result.text).toContain('Created feature view inferred')
    expect((await store.getFeatureView('inferred')).features).toEqual([
      { name: 'conv_rate', valueType: 'float32' },
      { name: 'trips', valueType: 'int64' },
    ])
    expect((await store.plan()).text).toBe('No changes to registry')
    const broken = featureView({
      name: 'x',
      entities: [driver],
      schema: { ghost: t.int64 },
      source,
    })
    await expect(
      open('2026-01-01T06:00:00Z', [driver, broken]).apply({ skipSourceValidation: true }),
    ).resolves.toBeDefined()
  })
})

describe('serving', () => {
  let store: FeatureStore
  beforeEach(async () => {
    store = open('2026-01-01T06:00:00Z')
    await store.apply()
  })

  test('a cancelled materialization rejects with the abort reason and records no interval', async () => {
    const before = new AbortController()
    before.abort()
    await expect(
      store.materialize('2025-12-31T00:00:00Z', '2026-01-01T06:00:00Z', {
        signal: before.signal,
      }),
    ).rejects.toMatchObject({ name: 'AbortError' })
    // Cancelled after its first batch: the rows written stay, the interval is not recorded.
    const during = new AbortController()
    const reason = new Error('stop')
    await expect(
      store.materialize('2025-12-31T00:00:00Z', '2026-01-01T06:00:00Z', {
        signal: during.signal,
        onProgress: () => during.abort(reason),
      }),
    ).rejects.toBe(reason)
    expect((await store.registryDump()).materializations).toEqual({})
  })

  test('materialize then read: statuses, timestamps, order, duplicates, winner by created timestamp', async () => {
    const results = await store.materialize('2025-12-31T00:00:00Z', '2026-01-01T06:00:00Z')
    expect(results.find((r) => r.view === 'driver_stats')).toMatchObject({
      rowsRead: 4,
      rowsWritten: 4,
    })
    const res = await store.getOnlineFeatures({
      entities: { driver_id: [1001, 1002, 9999, 1003, 1001] },
      features: ['driver_stats:conv_rate', 'driver_stats:trips'],
    })
    expect(res.featureNames).toEqual(['driver_id', 'conv_rate', 'trips'])
    const json = res.toJSON()
    expect(json.results[0]?.values).toEqual([1001, 1002, 9999, 1003, 1001])
    // 1001: event 02:00 (winner created 03:00) -> age 4h > ttl 3h: OUTSIDE_MAX_AGE
    // 1002: event 01:00, conv_rate null -> OUTSIDE_MAX_AGE (age 5h); 1003: event 05:00 -> PRESENT
    expect(json.results[1]?.statuses).toEqual([
      'OUTSIDE_MAX_AGE',
      'OUTSIDE_MAX_AGE',
      'NOT_FOUND',
      'PRESENT',
      'OUTSIDE_MAX_AGE',
    ])
    expect(json.results[1]?.event_timestamps).toEqual([
      '2026-01-01T02:00:00Z',
      '2026-01-01T01:00:00Z',
      '1970-01-01T00:00:00Z',
      '2026-01-01T05:00:00Z',
      '2026-01-01T02:00:00Z',
    ])
    expect(json.results[1]?.values).toEqual([null, null, null, 0.5, null])
    expect(json.results[2]?.values).toEqual([null, null, null, 50, null])

    // Read again an hour after the winner row for 1001 was written: within ttl, value 0.25 / 25.
    const early = open('2026-01-01T04:00:00Z')
    await early.apply()
    await early.materialize('2025-12-31T00:00:00Z', '2026-01-01T06:00:00Z')
    const rows = (
      await early.getOnlineFeatures({
        entityRows: [{ driver_id: 1001 }, { driver_id: 1002 }],
        features: ['driver_stats:conv_rate', 'driver_stats:trips'],
      })
    ).toJSON()
    expect(rows.results[1]?.values).toEqual([0.25, null])
    expect(rows.results[1]?.statuses).toEqual(['PRESENT', 'NULL_VALUE'])
    expect(rows.results[2]?.values).toEqual([25, 30])
    // trips of 1002 is not null: its statuses stay its own (features of one view share
    // their event times and statuses until a null needs its own status).
    expect(rows.results[2]?.statuses).toEqual(['PRESENT', 'PRESENT'])
    expect(rows.results[1]?.event_timestamps).toEqual(rows.results[2]?.event_timestamps)
    expect(rows.results[1]?.event_timestamps).toEqual([
      '2026-01-01T02:00:00Z',
      '2026-01-01T01:00:00Z',
    ])

    // One feature list reused, then changed in place: each read follows the list as it is.
    const features = ['driver_stats:conv_rate', 'driver_stats:trips']
    const read = () => early.getOnlineFeatures({ entityRows: [{ driver_id: 1003 }], features })
    expect((await read()).featureNames).toEqual(['driver_id', 'conv_rate', 'trips'])
    features[1] = 'driver_stats:conv_rate'
    features[0] = 'driver_stats:trips'
    expect((await read()).toJSON().results.map((r) => r.values[0])).toEqual([1003, 50, 0.5])
  })

  test('int64 beyond 2^53 is exact (bigint in rows, string in JSON)', async () => {
    await store.materialize('2025-12-31T00:00:00Z', '2026-01-01T06:00:00Z')
    const res = await store.getOnlineFeatures({
      entities: { driver_id: [String(2n ** 60n)] },
      features: ['driver_stats:trips'],
    })
    expect(res.toRows()).toEqual([{ driver_id: 2n ** 60n, trips: 2n ** 60n }])
    expect(res.toJSON().results[1]?.values).toEqual([String(2n ** 60n)])
  })

  test('feature service with an on-demand view and request data; full feature names', async () => {
    await store.materialize('2025-12-31T00:00:00Z', '2026-01-01T06:00:00Z')
    const res = await store.getOnlineFeatures({
      entities: { driver_id: [1003, 9999], bonus: [1, 2] },
      featureService: 'svc',
      fullFeatureNames: true,
    })
    expect(res.featureNames).toEqual(['driver_id', 'driver_stats__trips', 'boosted__boosted_rate'])
    expect(res.toJSON().results[2]?.values).toEqual([1.5, null])
    await expect(
      store.getOnlineFeatures({ entities: { driver_id: [1003] }, featureService: 'svc' }),
    ).rejects.toThrow(/request data 'bonus' is required by on-demand feature view 'boosted'/)
  })

  test('bad requests are clear errors', async () => {
    const bad = async (
      req: Parameters<FeatureStore['getOnlineFeatures']>[0],
      pattern: RegExp,
      code: string,
    ) => {
      const err = await store.getOnlineFeatures(req).then(
        () => undefined,
        (e: unknown) => e,
      )
      expect(isLarderError(err)).toBe(true)
      expect((err as { code: string }).code).toBe(code)
      expect((err as Error).message).toMatch(pattern)
    }
    await bad(
      { entities: { driver_id: [1] }, features: ['nope:x'] },
      /feature view 'nope' is not registered/,
      'NOT_FOUND',
    )
    await bad(
      { entities: { driver_id: [1] }, features: ['driver_stats:nope'] },
      /feature 'driver_stats:nope' does not exist/,
      'NOT_FOUND',
    )
    await bad(
      { entities: { rider: [1] }, features: ['driver_stats:trips'] },
      /miss join key 'driver_id'/,
      'INVALID_INPUT',
    )
    await bad(
      { entities: { driver_id: ['abc'] }, features: ['driver_stats:trips'] },
      /join key 'driver_id', row 0: expected int64, got "abc"/,
      'INVALID_INPUT',
    )
    await bad(
      { entities: { driver_id: [1] }, features: ['driver_stats:trips', 'driver_fresh:trips'] },
      /would both be returned as 'trips'/,
      'INVALID_INPUT',
    )
    await bad(
      { entities: { driver_id: [1] }, features: ['driver_stats'] },
      /not of the form 'view:feature'/,
      'INVALID_INPUT',
    )
  })

  test('push: every row checked before any write; newer wins; late older rows ignored', async () => {
    const err = await store
      .push('stats_push', {
        driver_id: [7, 8],
        event_timestamp: ['2026-01-01T05:00:00Z', '2026-01-01T05:00:00Z'],
        conv_rate: [0.1, 'x'],
        trips: [1, 2],
      })
      .catch((e: unknown) => e)
    expect((err as Error).message).toMatch(/column 'conv_rate', row 1: expected float32, got "x"/)
    const read = async () =>
      (
        await store.getOnlineFeatures({
          entities: { driver_id: [7, 8] },
          features: ['driver_fresh:trips'],
        })
      ).toJSON().results[1]
    expect((await read())?.statuses).toEqual(['NOT_FOUND', 'NOT_FOUND'])
    await expect(
      store.push('stats_push', [
        { driver_id: 7, event_timestamp: '2026-01-01T05:00:00Z', conv_rate: 0.5 },
      ]),
    ).rejects.toThrow(/missing column\(s\) 'trips'/)
    const ok = await store.push('stats_push', [
      { driver_id: 7, event_timestamp: '2026-01-01T05:00:00Z', conv_rate: 0.5, trips: 5 },
    ])
    expect(ok).toMatchObject({ views: ['driver_fresh'], rows: 1, onlineRowsWritten: 1 })
    const late = await store.push('stats_push', [
      { driver_id: 7, event_timestamp: '2026-01-01T04:00:00Z', conv_rate: 0.1, trips: 1 },
    ])
    expect(late.onlineRowsWritten).toBe(0)
    expect((await read())?.values).toEqual([5, null])
    await expect(store.push('nope', [])).rejects.toThrow(/push source 'nope' is not registered/)
    const row = { driver_id: 9, event_timestamp: '2026-01-01T05:00:00Z', conv_rate: 0.5, trips: 5 }
    await expect(store.push('stats_push', [row], { to: 'offline' })).rejects.toThrow(
      /cannot append pushed rows/,
    )
  })

  test('writeToOnlineStore writes one view directly', async () => {
    const r = await store.writeToOnlineStore('driver_stats', {
      driver_id: [42],
      event_timestamp: ['2026-01-01T05:30:00.123456Z'],
      conv_rate: [0.75],
      trips: [3],
    })
    expect(r).toEqual({ rows: 1, rowsWritten: 1 })
    const json = (
      await store.getOnlineFeatures({
        entities: { driver_id: [42] },
        features: ['driver_stats:conv_rate'],
      })
    ).toJSON()
    expect(json.results[1]).toEqual({
      values: [0.75],
      statuses: ['PRESENT'],
      event_timestamps: ['2026-01-01T05:30:00.123456Z'],
    })
  })

  test('materializeIncremental continues from the recorded end; start after end is an error', async () => {
    // First run: no interval yet, ttl 3h -> start = now - 3h = 03:00: 1003 (05:00) and 2^60 (04:00).
    const first = await store.materializeIncremental('2026-01-01T06:00:00Z', {
      views: ['driver_stats'],
    })
    expect(first[0]).toMatchObject({ rowsRead: 2 })
    const data = await store.registryDump()
    expect(data.materializations.driver_stats?.[0]).toMatchObject({
      start: '2026-01-01T03:00:00Z',
      end: '2026-01-01T06:00:00Z',
    })
    const second = await store.materializeIncremental('2026-01-01T07:00:00Z', {
      views: ['driver_stats'],
    })
    expect(second[0]).toMatchObject({ rowsRead: 0 })
    // The second interval touches the first: the registry keeps one merged interval.
    expect((await store.registryDump()).materializations.driver_stats).toMatchObject([
      { start: '2026-01-01T03:00:00Z', end: '2026-01-01T07:00:00Z' },
    ])
    await expect(
      store.materializeIncremental('2026-01-01T05:00:00Z', { views: ['driver_stats'] }),
    ).rejects.toThrow(/already materialized up to/)
    await expect(store.materialize('2026-01-02', '2026-01-01')).rejects.toThrow(/is after end/)
  })

  test('re-apply with a changed definition keeps the intervals of views that remain', async () => {
    await store.materialize('2025-12-31T00:00:00Z', '2026-01-01T06:00:00Z', {
      views: ['driver_stats'],
    })
    const before = (await store.registryDump()).materializations.driver_stats
    expect(before).toHaveLength(1)
    const longer = featureView({
      name: 'driver_stats',
      entities: [driver],
      ttl: { hours: 6 },
      schema: { conv_rate: t.float32, trips: t.int64 },
      source,
    })
    const again = open('2026-01-01T06:00:00Z', [driver, longer])
    const dir = (store as unknown as { repoPath: string }).repoPath
    const moved = new FeatureStore({
      repoPath: dir,
      config: again.config,
      definitions: [driver, longer].map((definition) => ({ definition, origin: 'test' })),
    })
    const result = await moved.apply()
    expect(result.text).toContain('ttlSeconds: 10800 -> 21600')
    expect(result.text).toContain('Deleted feature view driver_fresh')
    const after = await moved.registryDump()
    expect(after.materializations.driver_stats).toEqual(before)
    expect(after.materializations.driver_fresh).toBeUndefined()
  })

  test('historical retrieval: point-in-time values, on-demand outputs, request order', async () => {
    const job = await store.getHistoricalFeatures({
      entityDf: [
        { driver_id: 1001, event_timestamp: new Date('2026-01-01T02:30:00Z'), bonus: 1 },
        { driver_id: 1001, event_timestamp: new Date('2026-01-01T01:59:59Z'), bonus: 1 },
        { driver_id: 1001, event_timestamp: new Date('2026-01-01T09:00:00Z'), bonus: 1 },
        { driver_id: 1003, event_timestamp: new Date('2026-01-01T05:00:00Z'), bonus: 0.5 },
      ],
      features: ['boosted:boosted_rate', 'driver_stats:trips'],
    })
    const rows = await job.toRows()
    expect(
      rows.map((r) => [
        r.boosted_rate === null ? null : Number((r.boosted_rate as number).toFixed(4)),
        r.trips,
      ]),
    ).toEqual([
      [1.25, 25n], // 02:00 row, created 03:00 wins the tie
      [1.1, 10n], // 00:00 row (02:00 is in the future)
      [null, null], // last row 02:00 is 7h old > ttl 3h
      [1, 50n], // exactly at the event time (inclusive)
    ])
    expect(Object.keys(rows[0]!)).toEqual([
      'driver_id',
      'event_timestamp',
      'bonus',
      'boosted_rate',
      'trips',
    ])
  })

  test('request data keeps its declared type: a float64 of whole numbers stays a number', async () => {
    const job = await store.getHistoricalFeatures({
      entityDf: [
        { driver_id: 1001, event_timestamp: new Date('2026-01-01T02:30:00Z'), bonus: 10 },
        { driver_id: 1003, event_timestamp: new Date('2026-01-01T05:00:00Z'), bonus: 2 },
      ],
      features: ['boosted:boosted_rate'],
    })
    const table = await job.toArrow()
    expect(String(table.getChild('bonus')?.type)).toBe('Float64')
    const rows = await job.toRows()
    expect(rows.map((r) => r.bonus)).toEqual([10, 2])
    expect(typeof rows[0]?.bonus).toBe('number')
    // A column no definition declares is still inferred from its values.
    const loose = await store.getHistoricalFeatures({
      entityDf: [{ driver_id: 1001, event_timestamp: new Date('2026-01-01T02:30:00Z'), n: 10 }],
      features: ['driver_stats:trips'],
    })
    expect((await loose.toRows())[0]?.n).toBe(10n)
  })

  test('entity tables of a kind the offline store does not declare are refused, naming it', async () => {
    const refused = [
      [{ sql: 'SELECT 1' }, 'SQL'],
      [{ table: 'analytics.labels' }, 'table names'],
      [{ path: 'labels.parquet' }, 'Parquet/CSV files'],
    ] as const
    for (const [entityDf, label] of refused) {
      const err = await store
        .getHistoricalFeatures({ entityDf, features: ['driver_stats:trips'] })
        .then(
          () => undefined,
          (e: unknown) => e,
        )
      expect(isLarderError(err, 'UNSUPPORTED')).toBe(true)
      expect((err as Error).message).toContain(
        `offline store 'memory' does not accept entity tables given as ${label}; it accepts rows or Arrow tables`,
      )
    }
  })

  test('a retrieval streams its batches and is cancelled by its signal', async () => {
    const entityDf = [{ driver_id: 1001, event_timestamp: new Date('2026-01-01T02:30:00Z') }]
    const job = await store.getHistoricalFeatures({ entityDf, features: ['driver_stats:trips'] })
    const batches: arrow.RecordBatch[] = []
    for await (const b of job.toArrowStream()) batches.push(b)
    expect(new arrow.Table(batches).getChild('trips')?.toArray()).toEqual(
      (await job.toArrow()).getChild('trips')?.toArray(),
    )
    await expect(job.toTable('t')).rejects.toThrow(/cannot leave results in a table/)
    const controller = new AbortController()
    controller.abort()
    await expect(
      store.getHistoricalFeatures({
        entityDf,
        features: ['driver_stats:trips'],
        signal: controller.signal,
      }),
    ).rejects.toMatchObject({ name: 'AbortError' })
  })
})
