import { describe, expect, test } from 'vitest'
import {
  type AnyDefinition,
  aggregation,
  collectRepo,
  entity,
  featureService,
  featureView,
  isLarderError,
  onDemandFeatureView,
  pushSource,
  requestSource,
  type SourceSpec,
  t,
} from '../src/index.js'

const src = (over: Partial<SourceSpec> = {}): SourceSpec => ({
  kind: 'file',
  name: 'driver_stats',
  path: 'data/driver_stats.parquet',
  timestampField: 'event_timestamp',
  ...over,
})

const at = (...defs: AnyDefinition[]) =>
  defs.map((d, i) => ({ definition: d, origin: `features.ts#d${i}` }))

function expectDefinitionError(fn: () => unknown, pattern: RegExp) {
  try {
    fn()
  } catch (err) {
    expect(isLarderError(err, 'INVALID_DEFINITION')).toBe(true)
    expect((err as Error).message).toMatch(pattern)
    return
  }
  throw new Error('expected an INVALID_DEFINITION error')
}

const driver = entity({ name: 'driver', joinKeys: ['driver_id'], valueType: t.int64 })

describe('definitions', () => {
  test('a feature view carries a serializable spec', () => {
    const view = featureView({
      name: 'driver_hourly_stats',
      entities: [driver],
      ttl: { days: 1 },
      schema: { conv_rate: t.float32, trips: t.int64, tags: t.array(t.string) },
      source: src({ createdTimestampColumn: 'created' }),
      tags: { team: 'x' },
    })
    expect(JSON.parse(JSON.stringify(view.spec))).toEqual({
      kind: 'featureView',
      name: 'driver_hourly_stats',
      entities: ['driver'],
      features: [
        { name: 'conv_rate', valueType: 'float32' },
        { name: 'trips', valueType: 'int64' },
        { name: 'tags', valueType: 'array<string>' },
      ],
      source: {
        kind: 'file',
        name: 'driver_stats',
        path: 'data/driver_stats.parquet',
        timestampField: 'event_timestamp',
        createdTimestampColumn: 'created',
      },
      ttlSeconds: 86400,
      online: true,
      offline: true,
      tags: { team: 'x' },
    })
  })

  test('ttl accepts seconds, ISO-8601 and objects; schema-less views are marked for inference', () => {
    expect(featureView({ name: 'a', source: src(), ttl: 'PT1H' }).spec.ttlSeconds).toBe(3600)
    expect(featureView({ name: 'b', source: src(), ttl: 90 }).spec.ttlSeconds).toBe(90)
    expect(featureView({ name: 'c', source: src() }).spec).toMatchObject({
      ttlSeconds: 0,
      schemaInferred: true,
    })
    expectDefinitionError(
      () => featureView({ name: 'd', source: src(), ttl: 'one hour' }),
      /ttl 'one hour' is not an ISO-8601 duration/,
    )
    expectDefinitionError(
      () => featureView({ name: 'e', source: src(), ttl: -5 }),
      /ttl must be a finite duration >= 0/,
    )
  })

  test('createdTimestampColumn equal to timestampField is rejected', () => {
    expectDefinitionError(
      () =>
        featureView({
          name: 'v',
          source: src({ createdTimestampColumn: 'event_timestamp' }),
          schema: { x: t.int64 },
        }),
      /source 'driver_stats': createdTimestampColumn 'event_timestamp' is the same column as timestampField/,
    )
  })

  test('a schema name that is also a field-mapping key is rejected', () => {
    expectDefinitionError(
      () =>
        featureView({
          name: 'v',
          source: src({ fieldMapping: { trips_raw: 'trips' } }),
          schema: { trips_raw: t.int64 },
        }),
      /feature 'trips_raw' is also a fieldMapping key/,
    )
  })

  test('two source columns mapped to one name are rejected', () => {
    expectDefinitionError(
      () =>
        featureView({
          name: 'v',
          source: src({ fieldMapping: { a: 'x', b: 'x' } }),
          schema: { x: t.int64 },
        }),
      /fieldMapping maps both 'a' and 'b' to 'x'/,
    )
  })

  test('a join key declared in the schema must match the entity type', () => {
    expectDefinitionError(
      () =>
        featureView({
          name: 'v',
          entities: [driver],
          source: src(),
          schema: { driver_id: t.string, x: t.int64 },
        }),
      /schema declares join key 'driver_id' as string but entity 'driver' has valueType int64/,
    )
    // The same type is accepted and the key is not a feature.
    const ok = featureView({
      name: 'v',
      entities: [driver],
      source: src(),
      schema: { driver_id: t.int64, x: t.int64 },
    })
    expect(ok.spec.features.map((f) => f.name)).toEqual(['x'])
  })

  test('bad names, types and entity key types are rejected', () => {
    expectDefinitionError(() => entity({ name: '1driver' }), /entity name "1driver" is invalid/)
    expectDefinitionError(
      () => entity({ name: 'd', valueType: t.float64 }),
      /valueType "float64" cannot be a key/,
    )
    expectDefinitionError(
      () => featureView({ name: 'v', source: src(), schema: { x: 'decimal' as never } }),
      /feature 'x' has unknown type "decimal"/,
    )
    expectDefinitionError(
      () => featureView({ name: 'v', source: src({ timestampField: undefined }), schema: {} }),
      /timestampField is required/,
    )
    expectDefinitionError(
      () => aggregation({ function: 'median' as never, column: 'x', window: 60 }),
      /aggregation function "median" is unknown/,
    )
    expectDefinitionError(
      () => aggregation({ function: 'sum', column: 'x', window: 60, slide: 120 }),
      /slide must be > 0 and <= window/,
    )
  })

  test('projections rename, remap join keys and select features', () => {
    const view = featureView({
      name: 'v',
      entities: [driver],
      source: src(),
      schema: { a: t.int64, b: t.float64 },
    })
    expect(
      view.withName('v2').withJoinKeyMap({ driver_id: 'rider_id' }).select('b').projection,
    ).toEqual({
      view: 'v',
      name: 'v2',
      joinKeyMap: { driver_id: 'rider_id' },
      features: ['b'],
    })
    expectDefinitionError(() => view.select('zzz' as 'a'), /view 'v' has no feature 'zzz'/)
  })
})

describe('collectRepo (whole-repo checks)', () => {
  const view = featureView({
    name: 'stats',
    entities: [driver],
    source: src(),
    schema: { a: t.int64 },
  })

  test('duplicate names name both places', () => {
    const other = featureView({
      name: 'stats',
      entities: [driver],
      source: src(),
      schema: { b: t.int64 },
    })
    expectDefinitionError(
      () => collectRepo(at(driver, view, other)),
      /duplicate name 'stats': feature view at features.ts#d1 and feature view at features.ts#d2/,
    )
    const otherEntity = entity({ name: 'driver', joinKeys: ['id'] })
    expectDefinitionError(() => collectRepo(at(driver, otherEntity)), /duplicate name 'driver'/)
  })

  test('the same object exported twice is one definition', () => {
    const repo = collectRepo([...at(driver, view), { definition: view, origin: 'other.ts#stats' }])
    expect(repo.featureViews).toHaveLength(1)
  })

  test('two different sources with one name are rejected', () => {
    const v2 = featureView({
      name: 'stats2',
      entities: [driver],
      source: src({ path: 'other.parquet' }),
      schema: { a: t.int64 },
    })
    expectDefinitionError(
      () => collectRepo(at(driver, view, v2)),
      /two different sources are named 'driver_stats'/,
    )
  })

  test('unknown entity, view and feature references are rejected', () => {
    expectDefinitionError(
      () => collectRepo(at(view)),
      /feature view 'stats' refers to unknown entity 'driver'/,
    )
    const missingView = featureService({
      name: 'svc',
      features: [
        featureView({ name: 'ghost', source: src({ name: 'g' }), schema: { a: t.int64 } }),
      ],
    })
    expectDefinitionError(
      () => collectRepo(at(driver, view, missingView)),
      /feature service 'svc' refers to unknown feature view 'ghost'/,
    )
    const badFeature = featureService({
      name: 'svc',
      features: [{ name: 'stats', schema: {}, projection: { view: 'stats', features: ['nope'] } }],
    })
    expectDefinitionError(
      () => collectRepo(at(driver, view, badFeature)),
      /feature service 'svc' refers to feature 'stats:nope', which does not exist/,
    )
  })

  test('sources of views, push sources and request sources are registered once each', () => {
    const push = pushSource({ name: 'push', batchSource: src() })
    const fresh = featureView({
      name: 'fresh',
      entities: [driver],
      source: push,
      schema: { a: t.int64 },
    })
    const req = requestSource({ name: 'req', schema: { x: t.int64 } })
    const odfv = onDemandFeatureView({
      name: 'od',
      sources: [view, req],
      schema: { y: t.int64 },
      transform: (c) => ({ y: c.a.map((v, i) => (v === null ? null : v + (c.x[i] ?? 0n))) }),
    })
    const repo = collectRepo(at(driver, view, push, fresh, req, odfv))
    expect(repo.dataSources.map((s) => `${s.kind}:${s.name}`).sort()).toEqual([
      'file:driver_stats',
      'push:push',
      'request:req',
    ])
    expect(repo.onDemandTransforms.get('od')?.({ a: [1n, null], x: [2n, 3n] })).toEqual({
      y: [3n, null],
    })
  })
})
