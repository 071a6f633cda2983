import * as arrow from 'apache-arrow'
import { describe, expect, test } from 'vitest'
import {
  type EntitySpec,
  type FeatureViewSpec,
  fromArrowType,
  isLarderError,
  memoryOfflineStore,
  planHistoricalRetrieval,
  pointInTimeJoin,
  type RetrievalPlan,
  tableToRows,
} from '../src/index.js'

const US = new arrow.TimestampMicrosecond('UTC')
const T0 = Date.UTC(2026, 0, 1) * 1000 // epoch micros
const sec = (s: number) => BigInt(T0 + s * 1_000_000)

function ts(values: Array<bigint | null>, type: arrow.DataType = US): arrow.Vector {
  const data = new BigInt64Array(values.length)
  const valid = new Uint8Array(Math.ceil(values.length / 8) || 1)
  let nulls = 0
  values.forEach((v, i) => {
    if (v === null) nulls++
    else {
      data[i] = v
      valid[i >> 3] = (valid[i >> 3] as number) | (1 << (i & 7))
    }
  })
  return new arrow.Vector([
    arrow.makeData({
      type: type as arrow.TimestampMicrosecond,
      length: values.length,
      nullCount: nulls,
      nullBitmap: valid,
      data,
    }),
  ])
}

const driver: EntitySpec = {
  kind: 'entity',
  name: 'driver',
  joinKeys: ['driver_id'],
  valueType: 'int64',
}
const entities = new Map([['driver', driver]])

function view(partial: Partial<FeatureViewSpec> = {}): FeatureViewSpec {
  return {
    kind: 'featureView',
    name: 'stats',
    entities: ['driver'],
    features: [
      { name: 'trips', valueType: 'int64' },
      { name: 'rate', valueType: 'float64' },
    ],
    source: {
      kind: 'memory',
      name: 'stats',
      table: 'stats',
      timestampField: 'ts',
      createdTimestampColumn: 'created',
    },
    ttlSeconds: 0,
    online: true,
    offline: true,
    ...partial,
  }
}

function columnsOf(table: arrow.Table) {
  return table.schema.fields.map((f) => ({ name: f.name, valueType: fromArrowType(f.type) }))
}

function plan(
  entity: arrow.Table,
  features: Array<
    | string
    | { view: string; name?: string; features?: string[]; joinKeyMap?: Record<string, string> }
  >,
  views: FeatureViewSpec[],
  full = false,
): RetrievalPlan {
  return planHistoricalRetrieval({
    features,
    views: new Map(views.map((v) => [v.name, v])),
    entities,
    entityColumns: columnsOf(entity),
    fullFeatureNames: full,
  })
}

function expectError(fn: () => unknown, code: string, ...parts: string[]) {
  try {
    fn()
  } catch (err) {
    expect(isLarderError(err)).toBe(true)
    expect((err as { code: string }).code).toBe(code)
    for (const p of parts) expect((err as Error).message).toContain(p)
    return
  }
  throw new Error('expected an error')
}

const statsTable = new arrow.Table({
  driver_id: arrow.vectorFromArray([1n, 1n, 1n, 2n, 2n], new arrow.Int64()),
  ts: ts([sec(10), sec(20), sec(20), sec(5), sec(30)]),
  created: ts([sec(0), sec(2), sec(1), null, sec(0)]),
  trips: arrow.vectorFromArray([100n, 200n, 201n, 9007199254740993n, 300n], new arrow.Int64()),
  rate: arrow.vectorFromArray([0.1, 0.2, 0.21, 0.5, 0.3], new arrow.Float64()),
})

describe('planHistoricalRetrieval', () => {
  const entity = new arrow.Table({
    driver_id: arrow.vectorFromArray([1n], new arrow.Int64()),
    event_timestamp: ts([sec(0)]),
  })
  test('names outputs and orders columns by request', () => {
    const p = plan(entity, ['stats:rate', 'stats:trips'], [view()])
    expect(p.outputColumns).toEqual(['driver_id', 'event_timestamp', 'rate', 'trips'])
    expect(p.entityTimestampColumn).toBe('event_timestamp')
    expect(p.views).toHaveLength(1)
    expect(p.views[0]?.createdTimestampColumn).toBe('created')
    const full = plan(entity, [{ view: 'stats', name: 's2' }], [view()], true)
    expect(full.outputColumns).toEqual(['driver_id', 'event_timestamp', 's2__trips', 's2__rate'])
    expect(full.views[0]?.features.map((f) => f.ref)).toEqual(['s2:trips', 's2:rate'])
  })
  test('unknown view and feature name what exists', () => {
    expectError(() => plan(entity, ['nope:trips'], [view()]), 'NOT_FOUND', "'nope'", "'stats'")
    expectError(
      () => plan(entity, ['stats:nope'], [view()]),
      'NOT_FOUND',
      "'nope'",
      "'trips'",
      "'rate'",
    )
    expectError(() => plan(entity, ['stats'], [view()]), 'INVALID_INPUT', "'stats'")
  })
  test('collisions name both references', () => {
    expectError(
      () =>
        plan(
          entity,
          ['stats:trips', { view: 'stats', name: 'other', features: ['trips'] }],
          [view()],
        ),
      'INVALID_INPUT',
      "'stats:trips'",
      "'other:trips'",
    )
    expectError(
      () => plan(entity, ['stats:trips', 'stats:trips'], [view()], true),
      'INVALID_INPUT',
      'stats__trips',
    )
    const clash = view({ features: [{ name: 'driver_id', valueType: 'int64' }] })
    expectError(
      () => plan(entity, ['stats:driver_id'], [clash]),
      'INVALID_INPUT',
      "entity column 'driver_id'",
    )
  })
  test('missing join key and join-key map', () => {
    const other = new arrow.Table({
      rider: arrow.vectorFromArray([1n], new arrow.Int64()),
      event_timestamp: ts([sec(0)]),
    })
    expectError(
      () => plan(other, ['stats:trips'], [view()]),
      'INVALID_INPUT',
      "'driver_id'",
      "'stats'",
    )
    const p = plan(other, [{ view: 'stats', joinKeyMap: { driver_id: 'rider' } }], [view()])
    expect(p.views[0]?.joinKeys).toEqual([{ name: 'driver_id', entityColumn: 'rider' }])
    expectError(
      () => plan(other, [{ view: 'stats', joinKeyMap: { x: 'rider' } }], [view()]),
      'INVALID_INPUT',
      "'x'",
    )
  })
  test('entity timestamp column: event_timestamp, the only one, explicit, else an error naming candidates', () => {
    const cols = (names: string[]) =>
      names.map((name) => ({
        name,
        valueType:
          name.startsWith('t') || name === 'event_timestamp'
            ? ('timestamp' as const)
            : ('int64' as const),
      }))
    const p = (names: string[], explicit?: string) =>
      planHistoricalRetrieval({
        features: [],
        views: new Map(),
        entities,
        entityColumns: cols(names),
        ...(explicit ? { entityTimestampColumn: explicit } : {}),
      })
    expect(p(['driver_id', 'event_timestamp', 't2']).entityTimestampColumn).toBe('event_timestamp')
    expect(p(['driver_id', 't1']).entityTimestampColumn).toBe('t1')
    expect(p(['driver_id', 't1', 't2'], 't2').entityTimestampColumn).toBe('t2')
    expectError(() => p(['driver_id', 't1', 't2']), 'INVALID_INPUT', "'t1'", "'t2'")
    expectError(() => p(['driver_id']), 'INVALID_INPUT', 'no timestamp column')
    expectError(() => p(['driver_id', 't1'], 'zz'), 'INVALID_INPUT', "'zz'")
  })
})

describe('pointInTimeJoin', () => {
  test('winner rule, created tie-break, nulls, order and duplicates (hand-checked)', () => {
    const entity = new arrow.Table({
      driver_id: arrow.vectorFromArray([1n, 2n, 1n, 3n, 1n, 2n, 1n], new arrow.Int64()),
      event_timestamp: ts([sec(25), sec(4), sec(15), sec(100), sec(25), sec(30), sec(9)]),
    })
    const p = plan(entity, ['stats:trips', 'stats:rate'], [view()])
    const out = pointInTimeJoin(entity, p, new Map([['stats', statsTable]]))
    expect(out.schema.fields.map((f) => `${f.name}:${f.type}`)).toEqual([
      'driver_id:Int64',
      'event_timestamp:Timestamp<MICROSECOND, UTC>',
      'trips:Int64',
      'rate:Float64',
    ])
    const rows = tableToRows(out).map((r) => [r.trips, r.rate])
    expect(rows).toEqual([
      [200n, 0.2], // ts 20 tie: created 2 beats created 1
      [null, null], // driver 2's first row is at 5 > 4
      [100n, 0.1],
      [null, null], // unknown driver
      [200n, 0.2], // duplicate row gets the same features
      [300n, 0.3], // inclusive: ts 30 <= 30
      [null, null],
    ])
  })
  test('TTL edges are inclusive; TTL 0 is unbounded', () => {
    const entity = new arrow.Table({
      driver_id: arrow.vectorFromArray([1n, 1n, 1n], new arrow.Int64()),
      event_timestamp: ts([sec(30), sec(30) + 1n, sec(1000)]),
    })
    const p = plan(entity, ['stats:trips'], [view({ ttlSeconds: 10 })])
    const out = pointInTimeJoin(entity, p, new Map([['stats', statsTable]]))
    expect(tableToRows(out).map((r) => r.trips)).toEqual([200n, null, null])
    const p0 = plan(entity, ['stats:trips'], [view({ ttlSeconds: 0 })])
    expect(
      tableToRows(pointInTimeJoin(entity, p0, new Map([['stats', statsTable]]))).map(
        (r) => r.trips,
      ),
    ).toEqual([200n, 200n, 200n])
  })
  test('int64 beyond 2^53 stays exact; widening int32 -> int64 and float32 -> float64', () => {
    const entity = new arrow.Table({
      driver_id: arrow.vectorFromArray([2n], new arrow.Int64()),
      event_timestamp: ts([sec(6)]),
    })
    const out = pointInTimeJoin(
      entity,
      plan(entity, ['stats:trips'], [view()]),
      new Map([['stats', statsTable]]),
    )
    expect(out.getChild('trips')?.get(0)).toBe(9007199254740993n)
    const narrow = new arrow.Table({
      driver_id: arrow.vectorFromArray([2], new arrow.Int32()),
      ts: ts([sec(1)]),
      created: ts([null]),
      trips: arrow.vectorFromArray([-7], new arrow.Int32()),
      rate: arrow.vectorFromArray([0.5], new arrow.Float32()),
    })
    const w = pointInTimeJoin(
      entity,
      plan(entity, ['stats:trips', 'stats:rate'], [view()]),
      new Map([['stats', narrow]]),
    )
    expect(String(w.getChild('trips')?.type)).toBe('Int64')
    expect(w.getChild('trips')?.get(0)).toBe(-7n)
    expect(String(w.getChild('rate')?.type)).toBe('Float64')
    expect(w.getChild('rate')?.get(0)).toBe(0.5)
  })
  test('a type that cannot be read is an error naming the feature', () => {
    const entity = new arrow.Table({
      driver_id: arrow.vectorFromArray([2n], new arrow.Int64()),
      event_timestamp: ts([sec(6)]),
    })
    const bad = new arrow.Table({
      driver_id: arrow.vectorFromArray([2n], new arrow.Int64()),
      ts: ts([sec(1)]),
      created: ts([null]),
      trips: arrow.vectorFromArray([1.5], new arrow.Float64()),
      rate: arrow.vectorFromArray([0.5], new arrow.Float64()),
    })
    expectError(
      () =>
        pointInTimeJoin(entity, plan(entity, ['stats:trips'], [view()]), new Map([['stats', bad]])),
      'SCHEMA_MISMATCH',
      "'trips'",
    )
  })
  test('timestamps of any unit and zone, microsecond precision, output us UTC', () => {
    const entity = new arrow.Table({
      driver_id: arrow.vectorFromArray([1n, 1n], new arrow.Int64()),
      event_timestamp: ts(
        [(sec(20) - 1n) * 1000n + 999n, sec(20) * 1000n],
        new arrow.TimestampNanosecond(),
      ),
    })
    const out = pointInTimeJoin(
      entity,
      plan(entity, ['stats:trips'], [view()]),
      new Map([['stats', statsTable]]),
    )
    // 20 s minus 1 ns truncates to 20 s minus 1 us: before the ts-20 rows.
    expect(tableToRows(out).map((r) => r.trips)).toEqual([100n, 200n])
    expect(String(out.getChild('event_timestamp')?.type)).toBe('Timestamp<MICROSECOND, UTC>')
    const raw = out.getChild('event_timestamp')?.data[0]?.values as BigInt64Array
    expect(raw[0]).toBe(sec(20) - 1n)
    const ms = new arrow.Table({
      driver_id: arrow.vectorFromArray([1n], new arrow.Int64()),
      when: ts([(sec(10) / 1000n) as bigint], new arrow.TimestampMillisecond()),
    })
    const pm = planHistoricalRetrieval({
      features: ['stats:trips'],
      views: new Map([['stats', view()]]),
      entities,
      entityColumns: columnsOf(ms),
    })
    expect(pm.entityTimestampColumn).toBe('when')
    expect(
      tableToRows(pointInTimeJoin(ms, pm, new Map([['stats', statsTable]]))).map((r) => r.trips),
    ).toEqual([100n])
  })
  test('array features (generic path) keep their element types; int32 lists widen to int64', () => {
    const entity = new arrow.Table({
      driver_id: arrow.vectorFromArray([1n, 2n, 3n], new arrow.Int64()),
      event_timestamp: ts([sec(50), sec(50), sec(50)]),
    })
    const list = (t: arrow.DataType) => new arrow.List(new arrow.Field('item', t, true))
    const v = view({
      features: [
        { name: 'ids', valueType: 'array<int64>' },
        { name: 'tags', valueType: 'array<string>' },
      ],
    })
    const table = new arrow.Table({
      driver_id: arrow.vectorFromArray([1n, 2n], new arrow.Int64()),
      ts: ts([sec(1), sec(1)]),
      created: ts([null, null]),
      ids: arrow.vectorFromArray([[1, -2], null], list(new arrow.Int32())),
      tags: arrow.vectorFromArray([['a', null], []], list(new arrow.Utf8())),
    })
    const out = pointInTimeJoin(
      entity,
      plan(entity, ['stats:ids', 'stats:tags'], [v]),
      new Map([['stats', table]]),
    )
    expect(String(out.getChild('ids')?.type)).toBe('List<Int64>')
    expect(tableToRows(out).map((r) => [r.ids, r.tags])).toEqual([
      [
        [1n, -2n],
        ['a', null],
      ],
      [null, []],
      [null, null],
    ])
  })
  test('instants beyond 2255 (a 9999-12-31 sentinel) keep their order and exact output', () => {
    const far = 253402300799999999n // 9999-12-31T23:59:59.999999Z
    const entity = new arrow.Table({
      driver_id: arrow.vectorFromArray([1n, 1n], new arrow.Int64()),
      event_timestamp: ts([sec(15), far]),
    })
    const v = view({ features: [{ name: 'seen', valueType: 'timestamp' }] })
    const table = new arrow.Table({
      driver_id: arrow.vectorFromArray([1n, 1n], new arrow.Int64()),
      ts: ts([sec(10), far - 1n]),
      created: ts([null, null]),
      seen: ts([far, sec(1)]),
    })
    const out = pointInTimeJoin(
      entity,
      plan(entity, ['stats:seen'], [v]),
      new Map([['stats', table]]),
    )
    const raw = (name: string, i: number) => {
      const values = (out.getChild(name) as arrow.Vector).data[0]?.values as BigInt64Array
      return values[i]
    }
    expect(raw('seen', 0)).toBe(far)
    expect(raw('seen', 1)).toBe(sec(1))
    expect(raw('event_timestamp', 1)).toBe(far)
  })
  test('multiple join keys, string keys, entity-less views and chunked entity tables', () => {
    const pair: EntitySpec = {
      kind: 'entity',
      name: 'pair',
      joinKeys: ['a', 'b'],
      valueType: 'string',
    }
    const ents = new Map([['pair', pair]])
    const pv: FeatureViewSpec = view({
      name: 'p',
      entities: ['pair'],
      features: [{ name: 'v', valueType: 'string' }],
      source: { kind: 'memory', name: 'p', timestampField: 'ts' },
    })
    const global: FeatureViewSpec = view({
      name: 'g',
      entities: [],
      features: [{ name: 'v', valueType: 'string' }],
      source: { kind: 'memory', name: 'g', timestampField: 'ts' },
      ttlSeconds: 5,
    })
    const ptab = new arrow.Table({
      a: arrow.vectorFromArray(['x', 'x', 'y'], new arrow.Utf8()),
      b: arrow.vectorFromArray(['1', '2', '1'], new arrow.Utf8()),
      ts: ts([sec(1), sec(1), sec(1)]),
      v: arrow.vectorFromArray(['x1', 'x2', 'y1'], new arrow.Utf8()),
    })
    const gtab = new arrow.Table({
      ts: ts([sec(1), sec(8)]),
      v: arrow.vectorFromArray(['g1', 'g8'], new arrow.Utf8()),
    })
    const part = (a: string[], b: string[], t: bigint[]) =>
      new arrow.Table({
        a: arrow.vectorFromArray(a, new arrow.Utf8()),
        b: arrow.vectorFromArray(b, new arrow.Utf8()),
        event_timestamp: ts(t),
      })
    const entity = part(['x', 'y'], ['2', '2'], [sec(2), sec(2)]).concat(
      part(['y', 'x'], ['1', '1'], [sec(9), sec(20)]),
    )
    expect(entity.batches).toHaveLength(2)
    const p = planHistoricalRetrieval({
      features: ['p:v', { view: 'g', name: 'g', features: ['v'] }],
      views: new Map([
        ['p', pv],
        ['g', global],
      ]),
      entities: ents,
      entityColumns: columnsOf(entity),
      fullFeatureNames: true,
    })
    const out = pointInTimeJoin(
      entity,
      p,
      new Map<string, arrow.Table>([
        ['p', ptab],
        ['g', gtab],
      ]),
    )
    expect(tableToRows(out).map((r) => [r.a, r.b, r.p__v, r.g__v])).toEqual([
      ['x', '2', 'x2', 'g1'],
      ['y', '2', null, 'g1'],
      ['y', '1', 'y1', 'g8'],
      ['x', '1', 'x1', null], // p has no TTL; g: 20 - 8 > ttl 5
    ])
  })
  test('a full tie yields exactly one row: the last one in the view table', () => {
    const entity = new arrow.Table({
      driver_id: arrow.vectorFromArray([1n], new arrow.Int64()),
      event_timestamp: ts([sec(50)]),
    })
    const tie = new arrow.Table({
      driver_id: arrow.vectorFromArray([1n, 1n, 1n], new arrow.Int64()),
      ts: ts([sec(5), sec(5), sec(5)]),
      created: ts([sec(1), sec(1), sec(0)]),
      trips: arrow.vectorFromArray([1n, 2n, 3n], new arrow.Int64()),
      rate: arrow.vectorFromArray([1, 2, 3], new arrow.Float64()),
    })
    const out = pointInTimeJoin(
      entity,
      plan(entity, ['stats:trips'], [view()]),
      new Map([['stats', tie]]),
    )
    expect(out.numRows).toBe(1)
    expect(out.getChild('trips')?.get(0)).toBe(2n)
  })
})

describe('memoryOfflineStore', () => {
  const source = {
    kind: 'memory',
    name: 'stats',
    table: 'raw',
    timestampField: 'ts',
    createdTimestampColumn: 'created',
    fieldMapping: { trip_count: 'trips' },
  }
  const raw = new arrow.Table({
    driver_id: arrow.vectorFromArray([1n, 1n, 1n, 2n, 2n], new arrow.Int64()),
    ts: statsTable.getChild('ts') as arrow.Vector,
    created: statsTable.getChild('created') as arrow.Vector,
    trip_count: statsTable.getChild('trips') as arrow.Vector,
    rate: statsTable.getChild('rate') as arrow.Vector,
  })
  const v = view({ source })
  test('historical retrieval applies the field mapping', async () => {
    const store = memoryOfflineStore({ raw })
    const entity = new arrow.Table({
      driver_id: arrow.vectorFromArray([1n], new arrow.Int64()),
      event_timestamp: ts([sec(21)]),
    })
    const job = await store.getHistoricalFeatures(
      { kind: 'arrow', table: entity },
      plan(entity, ['stats:trips'], [v]),
    )
    expect((await job.toRows()).map((r) => r.trips)).toEqual([200n])
  })
  test('pullLatest and pullAll: winner rule, inclusive bounds', async () => {
    const store = memoryOfflineStore({ raw })
    const collect = async (it: AsyncIterable<arrow.RecordBatch>) => {
      const rows: Record<string, unknown>[] = []
      for await (const b of it) rows.push(...tableToRows(new arrow.Table(b)))
      return rows
    }
    const req = {
      view: v,
      joinKeys: ['driver_id'],
      features: ['trips'],
      start: sec(5),
      end: sec(20),
    }
    const latest = await collect(store.pullLatest(req))
    expect(latest.map((r) => [r.driver_id, r.trips, (r.__event_ts as Date).getTime()])).toEqual([
      [1n, 200n, Number(sec(20) / 1000n)],
      [2n, 9007199254740993n, Number(sec(5) / 1000n)],
    ])
    const all = await collect(store.pullAll(req))
    expect(all.map((r) => r.trips)).toEqual([100n, 200n, 201n, 9007199254740993n])
    expect((await store.sourceSchema(source)).map((c) => c.name)).toContain('trip_count')
    await expect(
      store.sourceSchema({ kind: 'memory', name: 'x', table: 'missing' }),
    ).rejects.toThrow(/missing/)
  })
})
