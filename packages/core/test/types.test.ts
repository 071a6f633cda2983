// Type tests: checked by `tsc` (pnpm typecheck) through expectTypeOf and @ts-expect-error;
// the runtime part checks that typed() is the same store.
import { describe, expect, expectTypeOf, test } from 'vitest'
import {
  entity,
  type FeatureRef,
  FeatureStore,
  featureService,
  featureView,
  memoryOfflineStore,
  memoryOnlineStore,
  onDemandFeatureView,
  type ResultRow,
  requestSource,
  type ServiceName,
  type TsValueOf,
  t,
} from '../src/index.js'

const src = { kind: 'memory', name: 's', table: 's', timestampField: 'ts' }
const driver = entity({ name: 'driver', joinKeys: ['driver_id'] })
const driverStats = featureView({
  name: 'driver_hourly_stats',
  entities: [driver],
  schema: {
    conv_rate: t.float32,
    trips: t.int64,
    seen: t.timestamp,
    tags: t.array(t.string),
    raw: t.bytes,
    ok: t.bool,
  },
  source: src,
})
const req = requestSource({ name: 'req', schema: { bonus: t.float64 } })
const boosted = onDemandFeatureView({
  name: 'boosted',
  sources: [driverStats, req],
  schema: { boosted: t.float64 },
  transform: (c) => {
    expectTypeOf(c.conv_rate).toEqualTypeOf<Array<number | null>>()
    expectTypeOf(c.trips).toEqualTypeOf<Array<bigint | null>>()
    expectTypeOf(c.bonus).toEqualTypeOf<Array<number | null>>()
    return { boosted: c.conv_rate.map((v, i) => (v === null ? null : v + (c.bonus[i] ?? 0))) }
  },
})
const svc = featureService({ name: 'svc', features: [driverStats.select('trips')] })
const defs = { driver, driverStats, req, boosted, svc }
type Defs = typeof defs

describe('types flow from definitions to results', () => {
  test('value types map to TypeScript types', () => {
    expectTypeOf<TsValueOf<'int64'>>().toEqualTypeOf<bigint>()
    expectTypeOf<TsValueOf<'float32'>>().toEqualTypeOf<number>()
    expectTypeOf<TsValueOf<'timestamp'>>().toEqualTypeOf<Date>()
    expectTypeOf<TsValueOf<'array<string>'>>().toEqualTypeOf<Array<string | null>>()
    expectTypeOf<TsValueOf<'bytes'>>().toEqualTypeOf<Uint8Array>()
  })

  test('references are the views features, and nothing else', () => {
    expectTypeOf<'driver_hourly_stats:conv_rate'>().toMatchTypeOf<FeatureRef<Defs>>()
    expectTypeOf<'boosted:boosted'>().toMatchTypeOf<FeatureRef<Defs>>()
    expectTypeOf<'driver_hourly_stats:nope'>().not.toMatchTypeOf<FeatureRef<Defs>>()
    expectTypeOf<'nope:conv_rate'>().not.toMatchTypeOf<FeatureRef<Defs>>()
    expectTypeOf<ServiceName<Defs>>().toEqualTypeOf<'svc'>()
  })

  test('result rows are typed by reference, with and without full names', () => {
    type Row = ResultRow<
      Defs,
      'driver_hourly_stats:conv_rate' | 'driver_hourly_stats:trips' | 'boosted:boosted'
    >
    expectTypeOf<Row['conv_rate']>().toEqualTypeOf<number | null>()
    expectTypeOf<Row['trips']>().toEqualTypeOf<bigint | null>()
    expectTypeOf<Row['boosted']>().toEqualTypeOf<number | null>()
    type Full = ResultRow<Defs, 'driver_hourly_stats:seen', true>
    expectTypeOf<Full['driver_hourly_stats__seen']>().toEqualTypeOf<Date | null>()
  })

  test('a typed store checks references at compile time', async () => {
    const store = new FeatureStore({
      repoPath: '.',
      config: {
        project: 'types',
        offlineStore: memoryOfflineStore(),
        onlineStore: memoryOnlineStore(),
      },
    }).typed<Defs>()
    expect(store).toBeInstanceOf(FeatureStore)
    const call = () =>
      store.getOnlineFeatures({
        entities: { driver_id: [1] },
        features: ['driver_hourly_stats:conv_rate', 'driver_hourly_stats:tags'],
      })
    type Rows = ReturnType<Awaited<ReturnType<typeof call>>['toRows']>
    expectTypeOf<Rows[number]['conv_rate']>().toEqualTypeOf<number | null>()
    expectTypeOf<Rows[number]['tags']>().toEqualTypeOf<Array<string | null> | null>()
    const entities = { driver_id: [1] }
    const bad = () =>
      store.getOnlineFeatures({
        entities,
        // @ts-expect-error: 'nope' is not a feature of driver_hourly_stats
        features: ['driver_hourly_stats:nope'],
      })
    const badService = () =>
      store.getOnlineFeatures({
        entities,
        // @ts-expect-error: 'other' is not a feature service
        featureService: 'other',
      })
    void bad
    void badService
    void call
  })
})
