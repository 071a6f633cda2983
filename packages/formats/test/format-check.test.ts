// Apply's check of stream views against their record formats (core's checkStreamFormats),
// with the real formats: what a user sees from `larder plan` / `larder apply`.
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  type AnyDefinition,
  attachStreamRuntime,
  defineConfig,
  entity,
  FeatureStore,
  isLarderError,
  type LarderError,
  memoryOfflineStore,
  memoryOnlineStore,
  type SourceSpec,
  type StreamConnector,
  type StreamFormat,
  streamFeatureView,
  t,
} from '@larder/core'
import { type SchemaRegistryEmulator, startSchemaRegistryEmulator } from '@larder/emulators'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { avroFormat, jsonFormat, protobufFormat } from '../src/index.js'

const TRIP = {
  type: 'record',
  name: 'Trip',
  fields: [
    { name: 'driver_id', type: 'int' },
    { name: 'event_timestamp', type: { type: 'long', logicalType: 'timestamp-micros' } },
    { name: 'sent_at', type: 'long' },
    { name: 'conv_rate', type: 'double' },
    { name: 'trip_count', type: ['null', 'long'] },
    { name: 'city', type: 'string' },
    { name: 'meta', type: { type: 'map', values: 'string' } },
  ],
}

const connector: StreamConnector = {
  kind: 'test',
  createConsumer: () => {
    throw new Error('plan never consumes')
  },
}
const driver = entity({ name: 'driver', joinKeys: ['driver_id'], valueType: t.int64 })

function storeWith(
  format: StreamFormat,
  schema: Record<string, string>,
  source: Partial<SourceSpec> = {},
  repoPath = mkdtempSync(join(tmpdir(), 'larder-format-check-')),
  streams?: Parameters<typeof defineConfig>[0]['streams'],
) {
  const spec = {
    kind: 'test',
    name: 'trips',
    topic: 'trips',
    timestampField: 'event_timestamp',
    format: format.spec,
    batchSource: { kind: 'memory', name: 'trips_log', timestampField: 'event_timestamp' },
    ...source,
  } as SourceSpec
  attachStreamRuntime(spec, { connector, format })
  const view = streamFeatureView({
    name: 'driver_trips',
    entities: [driver],
    schema: schema as never,
    source: spec,
  })
  const definitions: AnyDefinition[] = [driver, view]
  return new FeatureStore({
    repoPath,
    config: defineConfig({
      project: 'p',
      offlineStore: memoryOfflineStore(),
      onlineStore: memoryOnlineStore(),
      ...(streams ? { streams } : {}),
    }),
    definitions: definitions.map((d) => ({ definition: d, origin: 'test' })),
  })
}

async function planError(store: FeatureStore): Promise<LarderError | undefined> {
  return store.plan().then(
    () => undefined,
    (err: unknown) => err as LarderError,
  )
}

let registry: SchemaRegistryEmulator
beforeAll(async () => {
  registry = await startSchemaRegistryEmulator({ basicAuth: { username: 'k', password: 's' } })
})
afterAll(async () => {
  await registry.close()
})

describe("plan checks a stream view against its format's schema", () => {
  const avro = avroFormat({ schema: TRIP })

  it('passes when the schema covers the view, with safe widenings and field mapping', async () => {
    const store = storeWith(
      avro,
      { conv_rate: t.float64, trips: t.int64, city: t.string },
      { fieldMapping: { trip_count: 'trips' } },
    )
    const plan = await store.plan()
    expect(plan.declared.streamFeatureViews.map((v) => v.name)).toEqual(['driver_trips'])
  })

  it('names a feature missing from the format', async () => {
    const err = await planError(storeWith(avro, { conv_rate: t.float64, trips: t.int64 }))
    expect(isLarderError(err, 'SCHEMA_MISMATCH')).toBe(true)
    expect(err?.message).toBe(
      "[larder] stream feature view 'driver_trips': field 'trips' (feature 'trips') is not in the avro format of source 'trips': its records have driver_id, event_timestamp, sent_at, conv_rate, trip_count, city, meta",
    )
  })

  it('names incompatible types, records and non-timestamp time fields', async () => {
    const narrowing = await planError(storeWith(avro, { conv_rate: t.float32 }))
    expect(narrowing?.message).toMatch(
      /field 'conv_rate' \(feature 'conv_rate'\) is float64 \(double\) in the avro format of source 'trips', but the view needs float32: declare a type/,
    )
    const record = await planError(storeWith(avro, { meta: t.string }))
    expect(record?.message).toMatch(/field 'meta' \(feature 'meta'\) is map in the avro format/)
    const notTime = await planError(
      storeWith(avro, { city: t.string }, { createdTimestampColumn: 'sent_at' }),
    )
    expect(notTime?.message).toMatch(
      /field 'sent_at' \(created timestamp\) is int64 \(long\) in the avro format of source 'trips', but the view needs a timestamp/,
    )
  })

  it('checks join keys against the entity type', async () => {
    const err = await planError(
      storeWith(avro, { conv_rate: t.float64 }, { fieldMapping: { city: 'driver_id' } }),
    )
    // driver_id now comes from 'city', a string: not an int64 join key.
    expect(err?.message).toMatch(
      /field 'city' \(join key of entity 'driver'\) is string in the avro format of source 'trips', but the view needs int64/,
    )
  })

  it('reads .proto files relative to the repo', async () => {
    const repo = mkdtempSync(join(tmpdir(), 'larder-format-check-'))
    writeFileSync(
      join(repo, 'trip.proto'),
      'syntax = "proto3";\npackage t;\nimport "google/protobuf/timestamp.proto";\n' +
        'message Trip { int64 driver_id = 1; google.protobuf.Timestamp event_timestamp = 2; string city = 3; }\n',
    )
    const format = protobufFormat({ protoFile: 'trip.proto', messageType: 't.Trip' })
    await storeWith(format, { city: t.string }, {}, repo).plan()
    const err = await planError(storeWith(format, { city: t.bool }, {}, repo))
    expect(err?.message).toMatch(/field 'city' \(feature 'city'\) is string in the protobuf format/)
  })

  it("reads the registry subject's latest version with the config's credentials", async () => {
    registry.register('trips-value', { schema: JSON.stringify(TRIP) })
    const format = avroFormat({ schemaRegistry: { url: registry.url } })
    const streams = { schemaRegistry: { auth: { username: 'k', password: 's' } } }
    const repo = mkdtempSync(join(tmpdir(), 'larder-format-check-'))
    await storeWith(format, { city: t.string }, {}, repo, streams).plan()
    const err = await planError(storeWith(format, { nope: t.string }, {}, repo, streams))
    expect(err?.message).toMatch(/field 'nope' \(feature 'nope'\) is not in the avro format/)
    // Without credentials the registry refuses: a clear error, not a pass.
    const refused = await planError(storeWith(format, { city: t.string }))
    expect(isLarderError(refused, 'BACKEND_ERROR')).toBe(true)
  })

  it('has nothing to check for JSON, and --skip-source-validation skips it all', async () => {
    await storeWith(jsonFormat(), { anything: t.string }).plan()
    await storeWith(avro, { nope: t.string }).plan({ skipSourceValidation: true })
  })
})
