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
  type ServiceRow,
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
const svc2 = featureService({
  name: 'svc2',
  features: [driverStats.select('conv_rate', 'seen').withName('ds'), boosted],
})
const defs = { driver, driverStats, req, boosted, svc, svc2 }
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
    expectTypeOf<ServiceName<Defs>>().toEqualTypeOf<'svc' | 'svc2'>()
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

  test('feature services: their features typed by their views, aliases in full names', () => {
    type Row = ServiceRow<Defs, 'svc2'>
    expectTypeOf<Row['conv_rate']>().toEqualTypeOf<number | null>()
    expectTypeOf<Row['seen']>().toEqualTypeOf<Date | null>()
    expectTypeOf<Row['boosted']>().toEqualTypeOf<number | null>()
    type Full = ServiceRow<Defs, 'svc2', true>
    expectTypeOf<Full['ds__conv_rate']>().toEqualTypeOf<number | null>()
    expectTypeOf<Full['boosted__boosted']>().toEqualTypeOf<number | null>()
    expectTypeOf<ServiceRow<Defs, 'svc'>['trips']>().toEqualTypeOf<bigint | null>()
  })

  test('historical rows are typed exactly like online rows, by reference or by service', () => {
    const store = new FeatureStore({
      repoPath: '.',
      config: {
        project: 'types',
        offlineStore: memoryOfflineStore(),
        onlineStore: memoryOnlineStore(),
      },
    }).typed<Defs>()
    const entityDf = [{ driver_id: 1, event_timestamp: new Date(), bonus: 1.5 }]
    const byRefs = async () =>
      (
        await store.getHistoricalFeatures({
          entityDf,
          features: ['driver_hourly_stats:conv_rate', 'boosted:boosted'],
        })
      ).toRows()
    type RefRow = Awaited<ReturnType<typeof byRefs>>[number]
    expectTypeOf<RefRow['conv_rate']>().toEqualTypeOf<number | null>()
    expectTypeOf<RefRow['boosted']>().toEqualTypeOf<number | null>()
    const online = async () =>
      (
        await store.getOnlineFeatures({
          entities: { driver_id: [1], bonus: [1.5] },
          features: ['driver_hourly_stats:conv_rate', 'boosted:boosted'],
        })
      ).toRows()
    expectTypeOf<Awaited<ReturnType<typeof online>>[number]>().toEqualTypeOf<RefRow>()
    const full = async () =>
      (
        await store.getHistoricalFeatures({
          entityDf,
          features: ['driver_hourly_stats:trips'],
          fullFeatureNames: true,
        })
      ).toRows()
    expectTypeOf<
      Awaited<ReturnType<typeof full>>[number]['driver_hourly_stats__trips']
    >().toEqualTypeOf<bigint | null>()
    const byService = async () =>
      (await store.getHistoricalFeatures({ entityDf, featureService: 'svc2' })).toRows()
    type SvcRow = Awaited<ReturnType<typeof byService>>[number]
    expectTypeOf<SvcRow['seen']>().toEqualTypeOf<Date | null>()
    expectTypeOf<SvcRow['boosted']>().toEqualTypeOf<number | null>()
    const onlineService = async () =>
      (
        await store.getOnlineFeatures({ entities: { driver_id: [1] }, featureService: 'svc' })
      ).toRows()
    expectTypeOf<Awaited<ReturnType<typeof onlineService>>[number]['trips']>().toEqualTypeOf<
      bigint | null
    >()
    const badService = () =>
      store.getHistoricalFeatures({
        entityDf,
        // @ts-expect-error: 'other' is not a feature service
        featureService: 'other',
      })
    const badRef = () =>
      store.getHistoricalFeatures({
        entityDf,
        // @ts-expect-error: 'nope' is not a feature of driver_hourly_stats
        features: ['driver_hourly_stats:nope'],
      })
    void [byRefs, online, full, byService, onlineService, badService, badRef]
  })
})
