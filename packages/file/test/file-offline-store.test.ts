import { mkdir, readdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import {
  CREATED_TS_COLUMN,
  EVENT_TS_COLUMN,
  planHistoricalRetrieval,
  pointInTimeJoin,
} from '@larder/core'
import * as arrow from 'apache-arrow'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { fileSource, fileSourceKind } from '../src/index.js'
import {
  collect,
  columnValues,
  DRIVER_STATS,
  driver,
  duck,
  entityTable,
  FIXTURES,
  micros,
  rejection,
  store,
  tempDir,
  view,
} from './helpers.js'

const entities = new Map([['driver', driver]])

describe('FileOfflineStore over driver_stats.parquet', () => {
  const s = store(FIXTURES)
  const source = fileSource({
    name: 'driver_stats',
    path: 'driver_stats.parquet',
    timestampField: 'event_timestamp',
    createdTimestampColumn: 'created',
  })
  const stats = view(
    'driver_hourly_stats',
    source,
    { conv_rate: 'float32', acc_rate: 'float32', avg_daily_trips: 'int64' },
    { ttlSeconds: 86400 },
  )
  afterAll(() => s.close())

  it('declares its capabilities', () => {
    expect(s.capabilities).toEqual({ fileEntityTable: true, offlineWrite: true })
    expect(s.sourceKinds).toEqual([fileSourceKind])
  })

  it('reads the schema of driver_stats with Larder value types', async () => {
    expect(await s.sourceSchema(source)).toEqual([
      { name: 'event_timestamp', valueType: 'timestamp', rawType: 'TIMESTAMP WITH TIME ZONE' },
      { name: 'driver_id', valueType: 'int64', rawType: 'BIGINT' },
      { name: 'conv_rate', valueType: 'float32', rawType: 'FLOAT' },
      { name: 'acc_rate', valueType: 'float32', rawType: 'FLOAT' },
      { name: 'avg_daily_trips', valueType: 'int32', rawType: 'INTEGER' },
      { name: 'created', valueType: 'timestamp', rawType: 'TIMESTAMP' },
    ])
    await expect(s.validateSource(source)).resolves.toBeUndefined()
  })

  it('pullLatest gives one row per driver: the greatest event_ts, then created', async () => {
    const request = {
      view: stats,
      joinKeys: ['driver_id'],
      features: ['conv_rate', 'avg_daily_trips'],
      start: 0n,
      end: micros('2100-01-01T00:00:00Z'),
    }
    const latest = await collect(s.pullLatest(request))
    expect(latest.schema.fields.map((f) => `${f.name}:${f.type}`)).toEqual([
      'driver_id:Int64',
      'conv_rate:Float32',
      'avg_daily_trips:Int64',
      `${EVENT_TS_COLUMN}:Timestamp<MICROSECOND, UTC>`,
      `${CREATED_TS_COLUMN}:Timestamp<MICROSECOND, UTC>`,
    ])
    const expected = await duck(`
      SELECT driver_id, conv_rate, avg_daily_trips::BIGINT, epoch_us(event_timestamp), epoch_us(created)
      FROM '${DRIVER_STATS}'
      QUALIFY row_number() OVER (PARTITION BY driver_id ORDER BY event_timestamp DESC, created DESC) = 1
      ORDER BY driver_id`)
    const ids = columnValues(latest, 'driver_id') as bigint[]
    const order = ids.map((_, i) => i).sort((a, b) => Number(ids[a]! - ids[b]!))
    const rows = order.map((i) =>
      ['driver_id', 'conv_rate', 'avg_daily_trips', EVENT_TS_COLUMN, CREATED_TS_COLUMN].map(
        (c) => columnValues(latest, c)[i],
      ),
    )
    expect(rows).toEqual(expected)
    expect(rows.length).toBe(5)
  })

  it('pullAll keeps both bounds inclusive', async () => {
    const [[minTs, maxTs, count]] = (await duck(
      `WITH d AS (SELECT DISTINCT epoch_us(event_timestamp) AS t FROM '${DRIVER_STATS}'),
         b AS (SELECT (SELECT t FROM d ORDER BY t LIMIT 1 OFFSET 10) AS lo, (SELECT t FROM d ORDER BY t DESC LIMIT 1 OFFSET 10) AS hi)
       SELECT lo, hi, (SELECT count(*) FROM '${DRIVER_STATS}' WHERE epoch_us(event_timestamp) BETWEEN lo AND hi) FROM b`,
    )) as [[bigint, bigint, bigint]]
    const all = await collect(
      s.pullAll({
        view: stats,
        joinKeys: ['driver_id'],
        features: ['acc_rate'],
        start: minTs,
        end: maxTs,
      }),
    )
    expect(BigInt(all.numRows)).toBe(count)
    const ts = columnValues(all, EVENT_TS_COLUMN) as bigint[]
    expect(ts.some((t) => t === minTs)).toBe(true)
    expect(ts.some((t) => t === maxTs)).toBe(true)
    expect(ts.every((t) => t >= minTs && t <= maxTs)).toBe(true)
  })

  it('streams pullAll in bounded record batches', async () => {
    const small = store(FIXTURES, { batchRows: 500 })
    try {
      const sizes: number[] = []
      for await (const batch of small.pullAll({
        view: stats,
        joinKeys: ['driver_id'],
        features: ['conv_rate'],
        start: 0n,
        end: micros('2100-01-01T00:00:00Z'),
      }))
        sizes.push(batch.numRows)
      expect(sizes.reduce((a, b) => a + b, 0)).toBe(1808)
      expect(sizes.length).toBeGreaterThan(1)
      expect(sizes.slice(0, -1).every((n) => n === 500)).toBe(true)
    } finally {
      await small.close()
    }
  })

  it('a pull stops on its AbortSignal: before it starts and between batches', async () => {
    const small = store(FIXTURES, { batchRows: 100 })
    const request = {
      view: stats,
      joinKeys: ['driver_id'],
      features: ['conv_rate'],
      start: 0n,
      end: micros('2100-01-01T00:00:00Z'),
    }
    try {
      const before = new AbortController()
      before.abort()
      await expect(
        collect(small.pullAll({ ...request, signal: before.signal })),
      ).rejects.toMatchObject({ name: 'AbortError' })
      const during = new AbortController()
      let batches = 0
      const reason = new Error('enough')
      await expect(
        (async () => {
          for await (const _ of small.pullAll({ ...request, signal: during.signal })) {
            batches++
            during.abort(reason)
          }
        })(),
      ).rejects.toBe(reason)
      expect(batches).toBe(1)
      // The store is still usable afterwards.
      expect((await collect(small.pullAll(request))).numRows).toBe(1808)
    } finally {
      await small.close()
    }
  })

  it('a historical job streams record batches equal to its table', async () => {
    const small = store(FIXTURES, { batchRows: 64 })
    try {
      const ids = Array.from({ length: 300 }, (_, i) => BigInt(1001 + (i % 5)))
      const times = ids.map((_, i) =>
        new Date(Date.parse('2024-08-28T00:00:00Z') + i * 600_000).toISOString(),
      )
      const plan = planHistoricalRetrieval({
        features: ['driver_hourly_stats:conv_rate', 'driver_hourly_stats:avg_daily_trips'],
        views: new Map([['driver_hourly_stats', stats]]),
        entities,
        entityColumns: [
          { name: 'driver_id', valueType: 'int64' },
          { name: 'event_timestamp', valueType: 'timestamp' },
        ],
      })
      const job = await small.getHistoricalFeatures(
        { kind: 'arrow', table: entityTable(ids, times) },
        plan,
      )
      const batches: arrow.RecordBatch[] = []
      for await (const b of job.toArrowStream?.() ?? []) batches.push(b)
      expect(batches.length).toBeGreaterThan(1)
      const streamed = new arrow.Table(batches)
      const whole = await job.toArrow()
      expect(streamed.schema.fields.map(String)).toEqual(whole.schema.fields.map(String))
      for (const name of ['driver_id', 'event_timestamp', 'conv_rate', 'avg_daily_trips']) {
        expect(columnValues(streamed, name)).toEqual(columnValues(whole, name))
      }
      // A sliced Arrow entity table (buffers shared with the whole table) reads as its rows.
      const sliced = await small.getHistoricalFeatures(
        {
          kind: 'arrow',
          table: entityTable(
            [0n, ...ids, 0n],
            ['2024-08-28T00:00:00Z', ...times, '2024-08-28T00:00:00Z'],
          ).slice(1, 301),
        },
        plan,
      )
      const slicedTable = await sliced.toArrow()
      for (const name of ['driver_id', 'event_timestamp', 'conv_rate', 'avg_daily_trips']) {
        expect(columnValues(slicedTable, name)).toEqual(columnValues(whole, name))
      }
      const aborted = new AbortController()
      aborted.abort()
      await expect(
        small.getHistoricalFeatures({ kind: 'arrow', table: entityTable(ids, times) }, plan, {
          signal: aborted.signal,
        }),
      ).rejects.toMatchObject({ name: 'AbortError' })
    } finally {
      await small.close()
    }
  })

  it('matches the in-memory engine on a historical retrieval over driver_stats', async () => {
    // 400 entity rows: the five drivers, an unknown one and nulls, times around the data.
    const ids: Array<bigint | null> = []
    const times: string[] = []
    const start = Date.parse('2024-08-25T00:00:00Z')
    for (let i = 0; i < 400; i++) {
      ids.push(i % 37 === 0 ? null : i % 11 === 0 ? 4242n : BigInt(1001 + (i % 5)))
      times.push(new Date(start + ((i * 7919) % 400) * 1_800_000 + (i % 3) * 1234).toISOString())
    }
    const entity = entityTable(ids, times)
    const plan = planHistoricalRetrieval({
      features: [
        'driver_hourly_stats:conv_rate',
        'driver_hourly_stats:avg_daily_trips',
        'driver_hourly_stats:acc_rate',
      ],
      views: new Map([['driver_hourly_stats', stats]]),
      entities,
      entityColumns: [
        { name: 'driver_id', valueType: 'int64' },
        { name: 'event_timestamp', valueType: 'timestamp' },
      ],
      fullFeatureNames: true,
    })
    const job = await s.getHistoricalFeatures({ kind: 'arrow', table: entity }, plan)
    const got = await job.toArrow()

    const all = await collect(
      s.pullAll({
        view: stats,
        joinKeys: ['driver_id'],
        features: ['conv_rate', 'acc_rate', 'avg_daily_trips'],
        start: 0n,
        end: micros('2100-01-01T00:00:00Z'),
      }),
    )
    const viewTable = new arrow.Table({
      driver_id: all.getChild('driver_id')!,
      conv_rate: all.getChild('conv_rate')!,
      acc_rate: all.getChild('acc_rate')!,
      avg_daily_trips: all.getChild('avg_daily_trips')!,
      event_timestamp: all.getChild(EVENT_TS_COLUMN)!,
      created: all.getChild(CREATED_TS_COLUMN)!,
    })
    const want = pointInTimeJoin(entity, plan, new Map([['driver_hourly_stats', viewTable]]))
    expect(got.schema.fields.map((f) => `${f.name}:${f.type}`)).toEqual(
      want.schema.fields.map((f) => `${f.name}:${f.type}`),
    )
    for (const f of want.schema.fields) {
      expect(columnValues(got, f.name), f.name).toEqual(columnValues(want, f.name))
    }
    expect(
      columnValues(got, 'driver_hourly_stats__conv_rate').filter((v) => v !== null).length,
    ).toBeGreaterThan(50)

    const rows = await job.toRows()
    expect(rows).toHaveLength(400)
    expect(typeof rows[1]!.driver_hourly_stats__avg_daily_trips).toMatch(/bigint|object/)
    expect(rows[1]!.event_timestamp).toBeInstanceOf(Date)
    expect(job.toSql?.()).toMatch(/ASOF LEFT JOIN/)
  })

  it('rejects a missing file naming the source and the path', async () => {
    const missing = fileSource({ name: 'gone', path: 'nope/missing.parquet', timestampField: 'ts' })
    const err = await rejection(s.validateSource(missing))
    expect(err.code).toBe('NOT_FOUND')
    expect(err.message).toMatch(
      /^\[larder\] \[file\] source 'gone': file '.*nope\/missing\.parquet' does not exist/,
    )
  })

  it('rejects a file that is not Parquet', async () => {
    await using dir = await tempDir()
    await writeFile(join(dir.path, 'bad.parquet'), 'this is not parquet\n')
    const bad = fileSource({
      name: 'bad',
      path: join(dir.path, 'bad.parquet'),
      timestampField: 'ts',
    })
    const err = await rejection(s.sourceSchema(bad))
    expect(err.code).toBe('INVALID_INPUT')
    expect(err.message).toMatch(/source 'bad': cannot read '.*bad\.parquet' as Parquet/)
  })

  it('rejects a source whose timestamp column is missing', async () => {
    const wrong = fileSource({ name: 'wrong', path: 'driver_stats.parquet', timestampField: 'ts' })
    const err = await rejection(s.validateSource(wrong))
    expect(err.code).toBe('SCHEMA_MISMATCH')
    expect(err.message).toMatch(/source 'wrong': timestampField 'ts' is not a column/)
  })
})

describe('FileOfflineStore point-in-time rules (hand-checked)', () => {
  let dir: Awaited<ReturnType<typeof tempDir>>
  let s: ReturnType<typeof store>
  beforeAll(async () => {
    dir = await tempDir()
    s = store(dir.path)
    await duck(`COPY (SELECT * FROM (VALUES
        (1::BIGINT, TIMESTAMPTZ '2024-01-01 10:00:00+00', TIMESTAMP '2024-01-01 10:05:00', 1::BIGINT),
        (1, TIMESTAMPTZ '2024-01-01 10:00:00+00', TIMESTAMP '2024-01-01 10:10:00', 2),
        (1, TIMESTAMPTZ '2024-01-01 11:00:00+00', NULL, 3),
        (2, TIMESTAMPTZ '2024-01-01 09:00:00+00', TIMESTAMP '2024-01-01 09:00:00', 20)
      ) t(driver_id, ts, created, trip_count)) TO '${join(dir.path, 'trips.parquet')}' (FORMAT parquet)`)
    await duck(`COPY (SELECT * FROM (VALUES
        (TIMESTAMP '2024-01-01 09:30:00', 7.5::DOUBLE),
        (TIMESTAMP '2024-01-01 10:45:00.000001', 8.5)
      ) t(ts, temperature)) TO '${join(dir.path, 'weather.parquet')}' (FORMAT parquet)`)
  })
  afterAll(async () => {
    await s.close()
    await dir[Symbol.asyncDispose]()
  })

  const trips = fileSource({
    name: 'trips',
    path: 'trips.parquet',
    timestampField: 'ts',
    createdTimestampColumn: 'created',
    fieldMapping: { trip_count: 'trips' },
  })
  const weather = fileSource({ name: 'weather', path: 'weather.parquet', timestampField: 'ts' })
  const views = new Map([
    ['trips', view('trips', trips, { trips: 'int64' }, { ttlSeconds: 3600 })],
    ['weather', view('weather', weather, { temperature: 'float64' }, { entities: [] })],
  ])
  const times = [
    '2024-01-01T10:30:00Z', // tie on event_ts: greatest created wins -> 2
    '2024-01-01T11:00:00Z', // event_ts == T inclusive -> 3
    '2024-01-01T12:00:00Z', // T - ttl == event_ts inclusive -> 3
    '2024-01-01T12:30:00Z', // outside the TTL -> null
    '2024-01-01T08:59:00Z', // before any row -> null
    '2024-01-01T10:00:00Z', // unknown driver -> null
    '2024-01-01T10:30:00Z', // duplicate of row 0
  ]
  const ids = [1n, 1n, 1n, 1n, 2n, 3n, 1n]
  const plan = () =>
    planHistoricalRetrieval({
      features: ['trips:trips', 'weather:temperature'],
      views,
      entities,
      entityColumns: [
        { name: 'driver_id', valueType: 'int64' },
        { name: 'event_timestamp', valueType: 'timestamp' },
      ],
    })
  const expectedTrips = [2n, 3n, 3n, null, null, null, 2n]
  const expectedTemp = [7.5, 8.5, 8.5, 8.5, null, 7.5, 7.5]

  it('joins an Arrow entity table: created tie-break, inclusive TTL, entity-less view, order', async () => {
    const job = await s.getHistoricalFeatures(
      { kind: 'arrow', table: entityTable(ids, times) },
      plan(),
    )
    const got = await job.toArrow()
    expect(got.schema.fields.map((f) => `${f.name}:${f.type}`)).toEqual([
      'driver_id:Int64',
      'event_timestamp:Timestamp<MICROSECOND, UTC>',
      'trips:Int64',
      'temperature:Float64',
    ])
    expect(columnValues(got, 'driver_id')).toEqual(ids)
    expect(columnValues(got, 'trips')).toEqual(expectedTrips)
    expect(columnValues(got, 'temperature')).toEqual(expectedTemp)
  })

  it('joins a Parquet entity table file and a CSV one, writes Parquet from DuckDB', async () => {
    const values = ids
      .map(
        (id, i) =>
          `(${id}::BIGINT, TIMESTAMPTZ '${times[i]!.replace('T', ' ').replace('Z', '+00')}', 'r${i}')`,
      )
      .join(', ')
    const parquet = join(dir.path, 'entities.parquet')
    const csv = join(dir.path, 'entities.csv')
    await duck(
      `COPY (SELECT * FROM (VALUES ${values}) t(driver_id, event_timestamp, label)) TO '${parquet}' (FORMAT parquet)`,
    )
    await duck(
      `COPY (SELECT driver_id, strftime(event_timestamp, '%Y-%m-%dT%H:%M:%SZ') AS event_timestamp, label FROM '${parquet}') TO '${csv}' (FORMAT csv, HEADER)`,
    )
    const filePlan = planHistoricalRetrieval({
      features: ['trips:trips', 'weather:temperature'],
      views,
      entities,
      entityColumns: [
        { name: 'driver_id', valueType: 'int64' },
        { name: 'event_timestamp', valueType: 'timestamp' },
        { name: 'label', valueType: 'string' },
      ],
    })
    for (const [path, format] of [
      ['entities.parquet', 'parquet'],
      [csv, 'csv'],
    ] as const) {
      const schema = await s.entityTableSchema({ kind: 'file', path, format })
      expect(schema.map((c) => c.name)).toEqual(['driver_id', 'event_timestamp', 'label'])
      const job = await s.getHistoricalFeatures({ kind: 'file', path, format }, filePlan)
      const got = await job.toArrow()
      expect(got.schema.fields.map((f) => `${f.name}:${f.type}`)).toEqual([
        'driver_id:Int64',
        'event_timestamp:Timestamp<MICROSECOND, UTC>',
        'label:Utf8',
        'trips:Int64',
        'temperature:Float64',
      ])
      expect(columnValues(got, 'label')).toEqual(ids.map((_, i) => `r${i}`))
      expect(columnValues(got, 'trips')).toEqual(expectedTrips)
      expect(columnValues(got, 'temperature')).toEqual(expectedTemp)
      const out = join(dir.path, `out-${format}.parquet`)
      await job.toParquet!(out)
      const rows = await duck(`SELECT label, trips, temperature, typeof(trips) FROM '${out}'`)
      expect(rows.map((r) => r[0])).toEqual(ids.map((_, i) => `r${i}`))
      expect(rows.map((r) => r[1])).toEqual(expectedTrips)
      expect(rows.map((r) => r[2])).toEqual(expectedTemp)
      expect(rows[0]![3]).toBe('BIGINT')
    }
    expect((await readdir(dir.path)).filter((f) => f.endsWith('.tmp'))).toEqual([])
  })

  it('rejects an entity table missing a join key before any work', async () => {
    const table = new arrow.Table({
      event_timestamp: entityTable([1n], ['2024-01-01T10:30:00Z']).getChild('event_timestamp')!,
      other: arrow.vectorFromArray([1n], new arrow.Int64()),
    })
    const p = { ...plan(), entityColumns: ['event_timestamp', 'other'] }
    const err = await rejection(s.getHistoricalFeatures({ kind: 'arrow', table }, p))
    expect(err.message).toMatch(/entity table has no column 'driver_id'/)
  })

  it('rejects SQL entity tables (no sqlEntityTable capability)', async () => {
    const err = await rejection(s.getHistoricalFeatures({ kind: 'sql', sql: 'select 1' }, plan()))
    expect(err.code).toBe('UNSUPPORTED')
  })
})

describe('FileOfflineStore sources: CSV, folders, globs, hive partitions', () => {
  let dir: Awaited<ReturnType<typeof tempDir>>
  let s: ReturnType<typeof store>
  const trips = (source: ReturnType<typeof fileSource>) => view('trips', source, { trips: 'int64' })
  const pull = (source: ReturnType<typeof fileSource>) =>
    collect(
      s.pullAll({
        view: trips(source),
        joinKeys: ['driver_id'],
        features: ['trips'],
        start: 0n,
        end: micros('2100-01-01T00:00:00Z'),
      }),
    )
  beforeAll(async () => {
    dir = await tempDir()
    s = store(dir.path)
    for (const [sub, day, first] of [
      ['day=2024-01-01', '2024-01-01', 1],
      ['day=2024-01-02', '2024-01-02', 10],
      ['day=2024-01-02/nested', '2024-01-02', 100],
    ] as const) {
      await mkdir(join(dir.path, 'hive', sub), { recursive: true })
      await duck(`COPY (SELECT range::BIGINT AS driver_id, TIMESTAMP '${day} 12:00:00' + INTERVAL (range) MINUTE AS ts,
        (range * 2)::INTEGER AS trips FROM range(${first}, ${first + 3})) TO '${join(dir.path, 'hive', sub, 'data.parquet')}' (FORMAT parquet)`)
    }
    await writeFile(
      join(dir.path, 'trips.csv'),
      'driver_id,ts,trips\n1,2024-01-01T10:00:00Z,5\n2,2024-01-01 11:00:00.123456,7\n',
    )
  })
  afterAll(async () => {
    await s.close()
    await dir[Symbol.asyncDispose]()
  })

  it('reads a CSV source (naive times are UTC, microseconds kept)', async () => {
    const csv = fileSource({ name: 'csv', path: 'trips.csv', timestampField: 'ts' })
    expect(csv.format).toBe('csv')
    const schema = await s.sourceSchema(csv)
    expect(schema.map((c) => [c.name, c.valueType])).toEqual([
      ['driver_id', 'int64'],
      ['ts', 'timestamp'],
      ['trips', 'int64'],
    ])
    const all = await pull(csv)
    expect(columnValues(all, 'trips')).toEqual([5n, 7n])
    expect(columnValues(all, EVENT_TS_COLUMN)).toEqual([
      micros('2024-01-01T10:00:00Z'),
      micros('2024-01-01T11:00:00Z') + 123456n,
    ])
  })

  it('reads every Parquet file under a folder, recursively, with hive columns', async () => {
    const folder = fileSource({ name: 'hive', path: 'hive', timestampField: 'ts' })
    const schema = await s.sourceSchema(folder)
    expect(schema.map((c) => c.name)).toEqual(['driver_id', 'ts', 'trips', 'day'])
    const all = await pull(folder)
    expect((columnValues(all, 'driver_id') as bigint[]).sort((a, b) => Number(a - b))).toEqual([
      1n,
      2n,
      3n,
      10n,
      11n,
      12n,
      100n,
      101n,
      102n,
    ])
  })

  it('reads a glob', async () => {
    const glob = fileSource({
      name: 'glob',
      path: 'hive/day=2024-01-02/*.parquet',
      timestampField: 'ts',
    })
    const all = await pull(glob)
    expect((columnValues(all, 'driver_id') as bigint[]).sort((a, b) => Number(a - b))).toEqual([
      10n,
      11n,
      12n,
    ])
  })

  it('reports a folder without data files', async () => {
    await mkdir(join(dir.path, 'empty'), { recursive: true })
    const empty = fileSource({ name: 'empty', path: 'empty', timestampField: 'ts' })
    const err = await rejection(s.validateSource(empty))
    expect(err.code).toBe('NOT_FOUND')
    expect(err.message).toMatch(/source 'empty': no Parquet files match/)
  })
})

describe('FileOfflineStore.writeBatch', () => {
  let dir: Awaited<ReturnType<typeof tempDir>>
  let s: ReturnType<typeof store>
  beforeAll(async () => {
    dir = await tempDir()
    s = store(dir.path)
  })
  afterAll(async () => {
    await s.close()
    await dir[Symbol.asyncDispose]()
  })
  const rows = (ids: bigint[], trips: number[], iso: string) => {
    const ts = entityTable(
      ids,
      ids.map(() => iso),
    ).getChild('event_timestamp')!
    return new arrow.Table({
      driver_id: arrow.vectorFromArray(ids, new arrow.Int64()),
      event_timestamp: ts,
      trips: arrow.vectorFromArray(trips, new arrow.Int32()),
    })
  }

  it('appends part files to a folder source and reads them back (field mapping applied)', async () => {
    const source = fileSource({
      name: 'pushed',
      path: 'pushed',
      timestampField: 'event_ts',
      fieldMapping: { event_ts: 'event_timestamp', trip_count: 'trips' },
    })
    await s.writeBatch(source, rows([1n, 2n], [10, 20], '2024-01-01T10:00:00.000001Z'))
    await s.writeBatch(source, rows([1n], [11], '2024-01-01T11:00:00Z'))
    const files = (await readdir(join(dir.path, 'pushed'))).sort()
    expect(files).toHaveLength(2)
    for (const f of files) expect(f).toMatch(/^part-\d+-[0-9a-f-]{36}\.parquet$/)
    expect((await s.sourceSchema(source)).map((c) => c.name)).toEqual([
      'driver_id',
      'event_ts',
      'trip_count',
    ])
    const latest = await collect(
      s.pullLatest({
        view: view('pushed', source, { trips: 'int64' }),
        joinKeys: ['driver_id'],
        features: ['trips'],
        start: 0n,
        end: micros('2100-01-01T00:00:00Z'),
      }),
    )
    const byId = new Map(
      (columnValues(latest, 'driver_id') as bigint[]).map((id, i) => [
        id,
        [columnValues(latest, 'trips')[i], columnValues(latest, EVENT_TS_COLUMN)[i]],
      ]),
    )
    expect(byId.get(1n)).toEqual([11n, micros('2024-01-01T11:00:00Z')])
    expect(byId.get(2n)).toEqual([20n, micros('2024-01-01T10:00:00Z') + 1n])
  })

  it('rewrites a single-file source with the rows appended, keeping its column types', async () => {
    const path = join(dir.path, 'single.parquet')
    await duck(
      `COPY (SELECT 1::BIGINT AS driver_id, TIMESTAMP '2024-01-01 09:00:00' AS event_timestamp, 5::SMALLINT AS trips) TO '${path}' (FORMAT parquet)`,
    )
    const source = fileSource({
      name: 'single',
      path: 'single.parquet',
      timestampField: 'event_timestamp',
    })
    await s.writeBatch(source, rows([3n], [30], '2024-01-02T00:00:00Z'))
    expect(
      await duck(`SELECT driver_id, trips, typeof(trips), typeof(event_timestamp) FROM '${path}'`),
    ).toEqual([
      [1n, 5, 'SMALLINT', 'TIMESTAMP'],
      [3n, 30, 'SMALLINT', 'TIMESTAMP'],
    ])
    expect((await readdir(dir.path)).filter((f) => f.endsWith('.tmp'))).toEqual([])
  })

  it('rejects a column the source does not have, writing nothing', async () => {
    const source = fileSource({
      name: 'single',
      path: 'single.parquet',
      timestampField: 'event_timestamp',
    })
    const table = new arrow.Table({
      ...Object.fromEntries(
        rows([4n], [1], '2024-01-03T00:00:00Z').schema.fields.map((f, i) => [
          f.name,
          rows([4n], [1], '2024-01-03T00:00:00Z').getChildAt(i)!,
        ]),
      ),
      extra: arrow.vectorFromArray([1]),
    })
    const err = await rejection(s.writeBatch(source, table))
    expect(err.code).toBe('SCHEMA_MISMATCH')
    expect(err.message).toMatch(/cannot write column 'extra' to source 'single'/)
    expect(await duck(`SELECT count(*) FROM '${join(dir.path, 'single.parquet')}'`)).toEqual([[2n]])
  })

  it('writes into the partitions of a hive-partitioned folder, keeping the partition column', async () => {
    for (const day of ['2024-01-01', '2024-01-02']) {
      await mkdir(join(dir.path, 'hive', `day=${day}`), { recursive: true })
      await duck(`COPY (SELECT 1::BIGINT AS driver_id, TIMESTAMP '${day} 10:00:00' AS event_timestamp, 1 AS trips)
        TO '${join(dir.path, 'hive', `day=${day}`, 'data.parquet')}' (FORMAT parquet)`)
    }
    const source = fileSource({ name: 'hive', path: 'hive', timestampField: 'event_timestamp' })
    const pushed = rows([7n, 8n], [70, 80], '2024-01-03T00:00:00Z')
    const table = new arrow.Table({
      ...Object.fromEntries(pushed.schema.fields.map((f, i) => [f.name, pushed.getChildAt(i)!])),
      day: arrow.vectorFromArray(['2024-01-02', '2024-01-03'], new arrow.Utf8()),
    })
    await s.writeBatch(source, table)
    expect(
      await duck(
        `SELECT driver_id, trips, day::VARCHAR FROM read_parquet('${join(dir.path, 'hive', '**', '*.parquet')}', hive_partitioning = true) ORDER BY driver_id, day`,
      ),
    ).toEqual([
      [1n, 1, '2024-01-01'],
      [1n, 1, '2024-01-02'],
      [7n, 70, '2024-01-02'],
      [8n, 80, '2024-01-03'],
    ])
    expect((await readdir(join(dir.path, 'hive'))).sort()).toEqual([
      'day=2024-01-01',
      'day=2024-01-02',
      'day=2024-01-03',
    ])
    expect((await readdir(dir.path)).filter((f) => f.endsWith('.tmp'))).toEqual([])
    expect((await s.sourceSchema(source)).map((c) => c.name)).toEqual([
      'driver_id',
      'event_timestamp',
      'trips',
      'day',
    ])
    const err = await rejection(s.writeBatch(source, pushed))
    expect(err.code).toBe('SCHEMA_MISMATCH')
    expect(err.message).toMatch(/partitioned by 'day' and the rows have no such column/)
  })

  it('writes into the folder of a glob source', async () => {
    const source = fileSource({
      name: 'g',
      path: 'globbed/*.parquet',
      timestampField: 'event_timestamp',
    })
    await s.writeBatch(source, rows([5n], [50], '2024-01-01T00:00:00Z'))
    expect(
      await duck(`SELECT driver_id, trips FROM '${join(dir.path, 'globbed', '*.parquet')}'`),
    ).toEqual([[5n, 50]])
  })
})

describe('FileOfflineStore spilling', () => {
  it('sets temp_directory, memory_limit and the UTC time zone, and spills beyond memory', async () => {
    await using dir = await tempDir()
    const s = store(dir.path, {
      memoryLimit: '100MB',
      tempDirectory: join(dir.path, 'spill'),
      threads: 1,
    })
    try {
      const connection = await s.connect()
      const [[temp, limit, zone]] = (
        await connection.runAndReadAll(
          `SELECT current_setting('temp_directory'), current_setting('memory_limit'), current_setting('TimeZone')`,
        )
      ).getRowsJS() as [[string, string, string]]
      expect(temp).toBe(join(dir.path, 'spill'))
      expect(limit).toMatch(/^9\d\.\d MiB$/)
      expect(zone).toBe('UTC')
      // Sorting ~300 MB of rows under a 100 MB limit only works by spilling.
      const reader = await connection.runAndReadAll(
        `SELECT count(*), max(h) FROM (SELECT hash(range) AS h, repeat('x', 20) || range::VARCHAR AS pad FROM range(6000000) ORDER BY pad DESC)`,
      )
      expect(reader.getRowsJS()[0]![0]).toBe(6000000n)
    } finally {
      await s.close()
    }
  }, 60_000)
})

describe('FileOfflineStore materialization reads', () => {
  it('run on a DuckDB instance of their own, spilling into its own folder, removed on close', async () => {
    await using dir = await tempDir()
    const spill = join(dir.path, 'spill')
    const s = store(FIXTURES, { tempDirectory: spill, pullMemoryLimit: '32MB' })
    const source = fileSource({
      name: 'driver_stats',
      path: 'driver_stats.parquet',
      timestampField: 'event_timestamp',
      createdTimestampColumn: 'created',
    })
    const stats = view('driver_hourly_stats', source, { conv_rate: 'float32' })
    try {
      const latest = await collect(
        s.pullLatest({
          view: stats,
          joinKeys: ['driver_id'],
          features: ['conv_rate'],
          start: 0n,
          end: micros('2100-01-01T00:00:00Z'),
        }),
      )
      expect(latest.numRows).toBe(5)
      expect((await readdir(spill)).includes('pulls')).toBe(true)
    } finally {
      await s.close()
    }
    // A store that made its own temp folder removes it, pull instance's folder included.
    const own = store(FIXTURES)
    await collect(
      own.pullAll({
        view: stats,
        joinKeys: ['driver_id'],
        features: ['conv_rate'],
        start: 0n,
        end: micros('2100-01-01T00:00:00Z'),
      }),
    )
    const connection = await own.connect()
    const [[temp]] = (
      await connection.runAndReadAll(`SELECT current_setting('temp_directory')`)
    ).getRowsJS() as [[string]]
    expect((await readdir(temp)).includes('pulls')).toBe(true)
    await own.close()
    await expect(readdir(temp)).rejects.toThrow(/ENOENT/)
  })
})

describe('FileOfflineStore value types', () => {
  it('returns every Larder value type as the view schema says, nulls kept', async () => {
    await using dir = await tempDir()
    const s = store(dir.path)
    try {
      await duck(`COPY (SELECT * FROM (VALUES
          (1::BIGINT, TIMESTAMP_NS '2024-01-01 10:00:00.123456789', true, 'a''b', '\\x00\\xFF'::BLOB, [1, 2]::BIGINT[], ['x', NULL]::VARCHAR[],
            TIMESTAMP '2024-02-01 00:00:00.000001', 1.5::FLOAT, 7::SMALLINT, DATE '2024-03-01'),
          (2, TIMESTAMP_NS '2024-01-01 10:00:00', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL)
        ) t(driver_id, ts, flag, name, raw, ints, strs, seen, score, small, day)) TO '${join(dir.path, 'types.parquet')}' (FORMAT parquet)`)
      const source = fileSource({ name: 'types', path: 'types.parquet', timestampField: 'ts' })
      const features = {
        flag: 'bool',
        name: 'string',
        raw: 'bytes',
        ints: 'array<int64>',
        strs: 'array<string>',
        seen: 'timestamp',
        score: 'float32',
        small: 'int32',
        day: 'timestamp',
      } as const
      const v = view('types', source, features)
      expect((await s.sourceSchema(source)).map((c) => c.valueType)).toEqual([
        'int64',
        'timestamp',
        'bool',
        'string',
        'bytes',
        'array<int64>',
        'array<string>',
        'timestamp',
        'float32',
        'int32',
        'timestamp',
      ])
      const plan = planHistoricalRetrieval({
        features: Object.keys(features).map((f) => `types:${f}`),
        views: new Map([['types', v]]),
        entities,
        entityColumns: [
          { name: 'driver_id', valueType: 'int64' },
          { name: 'event_timestamp', valueType: 'timestamp' },
        ],
      })
      const entity = entityTable(
        [1n, 2n, 3n],
        ['2024-01-02T00:00:00Z', '2024-01-02T00:00:00Z', '2024-01-02T00:00:00Z'],
      )
      const got = await (
        await s.getHistoricalFeatures({ kind: 'arrow', table: entity }, plan)
      ).toArrow()
      expect(got.schema.fields.map((f) => `${f.name}:${f.type}`)).toEqual([
        'driver_id:Int64',
        'event_timestamp:Timestamp<MICROSECOND, UTC>',
        'flag:Bool',
        'name:Utf8',
        'raw:Binary',
        'ints:List<Int64>',
        'strs:List<Utf8>',
        'seen:Timestamp<MICROSECOND, UTC>',
        'score:Float32',
        'small:Int32',
        'day:Timestamp<MICROSECOND, UTC>',
      ])
      expect(columnValues(got, 'flag')).toEqual([true, null, null])
      expect(columnValues(got, 'name')).toEqual(["a'b", null, null])
      expect(columnValues(got, 'raw')).toEqual([new Uint8Array([0, 255]), null, null])
      expect(columnValues(got, 'ints').map((l) => (l ? [...(l as Iterable<bigint>)] : l))).toEqual([
        [1n, 2n],
        null,
        null,
      ])
      expect(columnValues(got, 'strs').map((l) => (l ? [...(l as Iterable<string>)] : l))).toEqual([
        ['x', null],
        null,
        null,
      ])
      expect(columnValues(got, 'seen')).toEqual([micros('2024-02-01T00:00:00.000001Z'), null, null])
      expect(columnValues(got, 'score')).toEqual([1.5, null, null])
      expect(columnValues(got, 'small')).toEqual([7, null, null])
      expect(columnValues(got, 'day')).toEqual([micros('2024-03-01T00:00:00Z'), null, null])

      // Nanosecond event timestamps come out as microseconds (truncated), like the engine.
      const pulled = await collect(
        s.pullAll({
          view: v,
          joinKeys: ['driver_id'],
          features: ['flag'],
          start: 0n,
          end: micros('2100-01-01T00:00:00Z'),
        }),
      )
      expect(columnValues(pulled, EVENT_TS_COLUMN)).toEqual([
        micros('2024-01-01T10:00:00.123456Z'),
        micros('2024-01-01T10:00:00Z'),
      ])
      expect(columnValues(pulled, 'flag')).toEqual([true, null])
    } finally {
      await s.close()
    }
  })
})

describe('FileOfflineStore retrieval errors', () => {
  it('names a feature column missing from the source before reading data', async () => {
    const s = store(FIXTURES)
    try {
      const source = fileSource({
        name: 'driver_stats',
        path: 'driver_stats.parquet',
        timestampField: 'event_timestamp',
      })
      const plan = planHistoricalRetrieval({
        features: ['v:nope'],
        views: new Map([['v', view('v', source, { nope: 'int64' })]]),
        entities,
        entityColumns: [
          { name: 'driver_id', valueType: 'int64' },
          { name: 'event_timestamp', valueType: 'timestamp' },
        ],
      })
      const entity = entityTable([1001n], ['2024-08-26T12:00:00Z'])
      const err = await rejection(s.getHistoricalFeatures({ kind: 'arrow', table: entity }, plan))
      expect(err.code).toBe('SCHEMA_MISMATCH')
      expect(err.message).toMatch(
        /source 'driver_stats' \(.*driver_stats\.parquet\) has no column 'nope', the feature 'nope' of view 'v'/,
      )
    } finally {
      await s.close()
    }
  })
})
