// store.ingest() of Schema Registry framed Avro and Protobuf records from the Kafka test broker,
// with @larder/formats, the Schema Registry stand-in, the file offline log and SQLite online:
// exact int64 and microsecond timestamps end to end, bad framing dead-lettered, one schema
// fetch per id, credentials from the config's streams section.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  type AnyDefinition,
  entity,
  FeatureStore,
  type StreamFormat,
  streamFeatureView,
  t,
} from '@larder/core'
import {
  type KafkaTestBroker,
  type SchemaRegistryEmulator,
  startKafkaTestBroker,
  startSchemaRegistryEmulator,
} from '@larder/emulators'
import { fileOfflineStore, fileSource } from '@larder/file'
import { avroFormat, protobufFormat } from '@larder/formats'
import { sqliteOnlineStore } from '@larder/sqlite'
import avro from 'avsc'
import { Kafka, logLevel } from 'kafkajs'
import protobuf from 'protobufjs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DEAD_LETTER_HEADERS, kafkaSource } from '../src/index.js'

process.env.KAFKAJS_NO_PARTITIONER_WARNING = '1'

const AUTH = { username: 'ingest', password: 'not-in-the-registry' }
let broker: KafkaTestBroker
let registry: SchemaRegistryEmulator
const dirs: string[] = []

beforeAll(async () => {
  broker = await startKafkaTestBroker({ partitions: 2 })
  registry = await startSchemaRegistryEmulator({ basicAuth: AUTH })
})
afterAll(async () => {
  await broker?.close()
  await registry?.close()
  for (const d of dirs) rmSync(d, { recursive: true, force: true })
})

/** A repo with one stream view over `topic` decoded by `format`. */
function repo(topic: string, format: StreamFormat) {
  const dir = mkdtempSync(join(tmpdir(), 'larder-kafka-formats-'))
  dirs.push(dir)
  const driver = entity({ name: 'driver', joinKeys: ['driver_id'], valueType: t.int64 })
  const trips = kafkaSource({
    name: topic,
    bootstrapServers: broker.brokers,
    topic,
    format,
    timestampField: 'event_timestamp',
    batchSource: fileSource({
      name: `${topic}_log`,
      path: 'data/log',
      timestampField: 'event_timestamp',
    }),
  })
  const view = streamFeatureView({
    name: 'driver_trips',
    entities: [driver],
    ttl: { days: 3650 },
    schema: { trips: t.int64, city: t.string },
    source: trips,
  })
  const definitions: AnyDefinition[] = [driver, view]
  const store = new FeatureStore({
    repoPath: dir,
    config: {
      project: 'formats_test',
      offlineStore: fileOfflineStore(),
      onlineStore: sqliteOnlineStore({ path: join(dir, 'online.db') }),
      // Credentials at run time, from the app's config: never in the registry file.
      streams: { schemaRegistry: { auth: AUTH } },
    },
    definitions: definitions.map((d) => ({ definition: d, origin: 'test' })),
  })
  return store
}

async function produce(topic: string, values: Buffer[]) {
  const kafka = new Kafka({ brokers: broker.brokers, logLevel: logLevel.NOTHING })
  const producer = kafka.producer()
  await producer.connect()
  await producer.send({ topic, messages: values.map((value, i) => ({ key: String(i), value })) })
  await producer.disconnect()
}

/** Confluent framing as the serializers write it: magic byte 0, schema id, [indexes], body. */
function framed(id: number, body: Uint8Array, indexes: number[] = []): Buffer {
  const header = Buffer.alloc(5)
  header.writeInt32BE(id, 1)
  return Buffer.concat([header, Buffer.from(indexes), body])
}

async function ingestAll(store: FeatureStore, total: number) {
  const ac = new AbortController()
  let read = 0
  const timer = setTimeout(() => ac.abort(), 15_000)
  try {
    return await store.ingest({
      signal: ac.signal,
      onBatch: (e) => {
        read += e.records
        if (read >= total) ac.abort()
      },
    })
  } finally {
    clearTimeout(timer)
  }
}

const BIG = 9007199254740993n // 2^53 + 1: not a float

/** Features at two instants one microsecond apart around the event time. */
async function aroundEventTime(store: FeatureStore) {
  const job = await store.getHistoricalFeatures({
    entityDf: [
      { driver_id: 7, event_timestamp: '2026-01-01T12:00:00.123455Z' },
      { driver_id: 7, event_timestamp: '2026-01-01T12:00:00.123456Z' },
    ],
    features: ['driver_trips:trips'],
  })
  return (await job.toRows()).map((r) => r.trips)
}

describe('ingesting Schema Registry framed records', () => {
  it('Avro: exact longs, timestamp-micros to the microsecond, bad framing dead-lettered', async () => {
    const topic = `avro_${Math.random().toString(36).slice(2, 8)}`
    await broker.createTopic(topic, 2)
    const schema = {
      type: 'record',
      name: 'Trip',
      fields: [
        { name: 'driver_id', type: 'long' },
        { name: 'event_timestamp', type: { type: 'long', logicalType: 'timestamp-micros' } },
        { name: 'trips', type: 'long' },
        { name: 'city', type: 'string' },
      ],
    }
    const id = registry.register(`${topic}-value`, { schema: JSON.stringify(schema) })
    // The producer side: avsc with bigint longs (the values exceed 2^53).
    const long = avro.types.LongType.__with({
      fromBuffer: (b: Buffer) => b.readBigInt64LE(),
      toBuffer: (n: bigint) => {
        const b = Buffer.alloc(8)
        b.writeBigInt64LE(n)
        return b
      },
      fromJSON: BigInt,
      toJSON: Number,
      isValid: (n: unknown) => typeof n === 'bigint',
      compare: (a: bigint, b: bigint) => (a === b ? 0 : a < b ? -1 : 1),
    })
    const type = avro.Type.forSchema(schema as avro.Schema, { registry: { long } })
    const micros = 1767268800123456n // 2026-01-01T12:00:00.123456Z
    const record = (driver: bigint, trips: bigint, city: string) =>
      framed(
        id,
        // timestamp-micros is avsc's own (number) long on the producer side: below 2^53.
        type.toBuffer({ driver_id: driver, event_timestamp: Number(micros), trips, city }),
      )
    const store = repo(topic, avroFormat({ schemaRegistry: { url: registry.url } }))
    await store.apply() // also checks the view against the subject's latest schema
    await produce(topic, [
      record(7n, BIG, 'Lyon'),
      record(8n, 2n, 'Nice'),
      Buffer.from('{"driver_id": 9}'), // not framed
      framed(id + 1000, Buffer.from([2])), // unknown schema id
      record(9n, 3n, 'Metz'),
    ])
    const [summary] = await ingestAll(store, 5)
    expect(summary).toMatchObject({ read: 5, writtenOnline: 3, deadLettered: 2 })
    const online = await store.getOnlineFeatures({
      entities: { driver_id: [7, 8, 9] },
      features: ['driver_trips:trips', 'driver_trips:city'],
    })
    expect(online.toRows()).toEqual([
      { driver_id: 7n, trips: BIG, city: 'Lyon' },
      { driver_id: 8n, trips: 2n, city: 'Nice' },
      { driver_id: 9n, trips: 3n, city: 'Metz' },
    ])
    expect(await aroundEventTime(store)).toEqual([null, BIG])
    const dlq = broker.readRecords(`${topic}.dlq`, 0)
    const messages = dlq.map((r) => {
      const h = r.headers.find((x) => x.key === DEAD_LETTER_HEADERS.message)
      return h?.value ? Buffer.from(h.value).toString() : ''
    })
    expect(messages.sort()).toEqual([
      expect.stringContaining('expected magic byte 0 of the Schema Registry framing, got 0x7b'),
      expect.stringContaining(`schema id ${id + 1000} is not in the Schema Registry`),
    ])
    // One fetch per id for the whole run (the unknown id is asked again per record, never kept).
    expect(registry.count('GET', `/schemas/ids/${id}`)).toBe(1)
    expect(JSON.stringify(store.declared())).not.toContain(AUTH.password)
    await store.close()
  }, 30_000)

  it('Protobuf: message indexes, google.protobuf.Timestamp to the microsecond', async () => {
    const topic = `proto_${Math.random().toString(36).slice(2, 8)}`
    await broker.createTopic(topic, 2)
    const proto =
      'syntax = "proto3";\npackage trips.v1;\nimport "google/protobuf/timestamp.proto";\n' +
      'message Header { string source = 1; }\n' +
      'message Trip { int64 driver_id = 1; google.protobuf.Timestamp event_timestamp = 2; ' +
      'int64 trips = 3; string city = 4; }\n'
    const id = registry.register(`${topic}-value`, { schema: proto, schemaType: 'PROTOBUF' })
    const root = protobuf.parse(proto, { keepCase: true }).root
    root.addJSON(protobuf.common.get('google/protobuf/timestamp.proto')?.nested as never)
    const Trip = root.lookupType('trips.v1.Trip')
    const body = (driver: number, trips: bigint, city: string) =>
      Trip.encode(
        Trip.fromObject({
          driver_id: driver,
          event_timestamp: { seconds: 1767268800, nanos: 123456789 },
          trips: trips.toString(),
          city,
        }),
      ).finish()
    // messageType names the records' type for apply's check (decoding follows the indexes).
    const store = repo(
      topic,
      protobufFormat({ schemaRegistry: { url: registry.url }, messageType: 'trips.v1.Trip' }),
    )
    await store.apply()
    // Trip is the file's second message: indexes [1] = count 1 (zigzag 0x02), index 1 (0x02).
    await produce(topic, [
      framed(id, body(7, BIG, 'Lyon'), [0x02, 0x02]),
      framed(id, body(8, 5n, 'Nice'), [0x02, 0x02]),
      framed(id, body(9, 6n, 'Metz'), [0x02, 0x08]), // index 4: no such message
    ])
    const [summary] = await ingestAll(store, 3)
    expect(summary).toMatchObject({ read: 3, writtenOnline: 2, deadLettered: 1 })
    const online = await store.getOnlineFeatures({
      entities: { driver_id: [7, 8] },
      features: ['driver_trips:trips', 'driver_trips:city'],
    })
    expect(online.toRows()).toEqual([
      { driver_id: 7n, trips: BIG, city: 'Lyon' },
      { driver_id: 8n, trips: 5n, city: 'Nice' },
    ])
    expect(await aroundEventTime(store)).toEqual([null, BIG])
    expect(registry.count('GET', `/schemas/ids/${id}`)).toBe(1)
    await store.close()
  }, 30_000)
})
