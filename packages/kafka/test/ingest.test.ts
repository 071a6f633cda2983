// store.ingest() against the Kafka test broker (real kafkajs over loopback), with the real
// file offline store (the offline log) and the real SQLite online store.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  type AnyDefinition,
  entity,
  FeatureStore,
  type IngestViewSummary,
  streamFeatureView,
  t,
  type ValueTypeName,
} from '@larder/core'
import { type KafkaTestBroker, startKafkaTestBroker } from '@larder/emulators'
import { fileOfflineStore, fileSource } from '@larder/file'
import { jsonFormat } from '@larder/formats'
import { sqliteOnlineStore } from '@larder/sqlite'
import { Kafka, logLevel } from 'kafkajs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DEAD_LETTER_HEADERS, kafkaSource } from '../src/index.js'

process.env.KAFKAJS_NO_PARTITIONER_WARNING = '1'

const json = jsonFormat()

interface Event {
  driver_id: number
  event_timestamp: string
  created: string
  conv_rate: number
  trips: number
  city: string
}

let broker: KafkaTestBroker
const dirs: string[] = []

beforeAll(async () => {
  broker = await startKafkaTestBroker({ partitions: 3 })
})
afterAll(async () => {
  await broker?.close()
  for (const d of dirs) rmSync(d, { recursive: true, force: true })
})

function repo(topic: string, extra: Partial<Parameters<typeof kafkaSource>[0]> = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'larder-kafka-'))
  dirs.push(dir)
  const driver = entity({ name: 'driver', joinKeys: ['driver_id'], valueType: t.int64 })
  const log = fileSource({
    name: `${topic}_log`,
    path: 'data/trips_log',
    timestampField: 'event_timestamp',
    createdTimestampColumn: 'created',
  })
  const trips = kafkaSource({
    name: topic,
    bootstrapServers: broker.brokers,
    topic,
    format: json,
    timestampField: 'event_timestamp',
    createdTimestampColumn: 'created',
    batchSource: log,
    watermarkDelay: { minutes: 5 },
    ...extra,
  })
  const view = streamFeatureView({
    name: 'driver_trips',
    entities: [driver],
    ttl: { days: 3650 },
    schema: { conv_rate: t.float64, trips: t.int64, city: t.string },
    source: trips,
  })
  const definitions: AnyDefinition[] = [driver, view]
  const store = new FeatureStore({
    repoPath: dir,
    config: {
      project: 'kafka_test',
      offlineStore: fileOfflineStore(),
      onlineStore: sqliteOnlineStore({ path: join(dir, 'online.db') }),
    },
    definitions: definitions.map((d) => ({ definition: d, origin: 'test' })),
  })
  return { store, dir }
}

async function produce(topic: string, messages: Array<{ key: string; value: string | Buffer }>) {
  const kafka = new Kafka({ brokers: broker.brokers, logLevel: logLevel.NOTHING })
  const producer = kafka.producer()
  await producer.connect()
  await producer.send({
    topic,
    messages: messages.map((m) => ({ ...m, headers: { origin: 'test' } })),
  })
  await producer.disconnect()
}

/** Ingests until `until` holds for the summed counts, then stops; returns the summary. */
async function ingestUntil(
  store: FeatureStore,
  until: (read: number) => boolean,
): Promise<IngestViewSummary[]> {
  const ac = new AbortController()
  let read = 0
  const run = store.ingest({
    signal: ac.signal,
    onBatch: (e) => {
      read += e.records
      if (until(read)) ac.abort()
    },
  })
  const timer = setTimeout(() => ac.abort(), 15_000)
  try {
    return await run
  } finally {
    clearTimeout(timer)
  }
}

const at = (minute: number, second = 0) =>
  new Date(Date.UTC(2026, 0, 1, 12, minute, second)).toISOString()

describe('store.ingest from Kafka', () => {
  it('keeps the latest event per key online (created breaks ties), logs every event once, dead-letters garbage, counts late events', async () => {
    const topic = `trips_${Math.random().toString(36).slice(2, 8)}`
    await broker.createTopic(topic, 3)
    const { store } = repo(topic)
    await store.apply()
    const events: Event[] = []
    const ev = (driver: number, minute: number, created: number, trips: number) => {
      const e = {
        driver_id: driver,
        event_timestamp: at(minute),
        created: at(minute, created),
        conv_rate: driver + minute / 100,
        trips,
        city: `c${driver}-${trips}`,
      }
      events.push(e)
      return { key: String(driver), value: JSON.stringify(e) }
    }
    const good = [
      ev(1001, 30, 0, 1),
      ev(1001, 10, 0, 2), // out of order: older, must not win online; 20 minutes late
      ev(1001, 30, 5, 3), // same event time, later created: wins
      ev(1001, 30, 1, 4), // same event time, earlier created: loses
      ev(1002, 5, 0, 5),
      ev(1002, 6, 0, 6),
      ev(1003, 1, 0, 7),
    ]
    const garbage = [
      { key: '1001', value: 'not json {' },
      { key: '1002', value: JSON.stringify({ event_timestamp: at(1), trips: 1 }) }, // no driver_id
      { key: '1003', value: JSON.stringify({ ...events[6], trips: 'many' }) }, // wrong type
    ]
    await produce(topic, [...good.slice(0, 3), garbage[0]!, ...good.slice(3), ...garbage.slice(1)])
    const total = good.length + garbage.length
    const [summary] = await ingestUntil(store, (read) => read >= total)

    // Late, computed independently from the broker's partitions: > 5 minutes behind the
    // newest event time seen before it on the same partition (garbage has no event time).
    let expectedLate = 0
    for (let p = 0; p < 3; p++) {
      let max = -Infinity
      for (const r of broker.readRecords(topic, p)) {
        let e: Partial<Event>
        try {
          e = JSON.parse(Buffer.from(r.value!).toString())
        } catch {
          continue
        }
        if (typeof e.driver_id !== 'number' || typeof e.trips !== 'number') continue
        const ts = Date.parse(e.event_timestamp!)
        if (ts < max - 5 * 60_000) expectedLate++
        max = Math.max(max, ts)
      }
    }
    expect(expectedLate).toBeGreaterThanOrEqual(1)
    expect(summary).toMatchObject({
      view: 'driver_trips',
      read: total,
      writtenOffline: good.length,
      deadLettered: 3,
      late: expectedLate,
    })

    const online = await store.getOnlineFeatures({
      entities: { driver_id: [1001, 1002, 1003] },
      features: ['driver_trips:trips', 'driver_trips:city'],
    })
    expect(online.toRows()).toEqual([
      { driver_id: 1001n, trips: 3n, city: 'c1001-3' },
      { driver_id: 1002n, trips: 6n, city: 'c1002-6' },
      { driver_id: 1003n, trips: 7n, city: 'c1003-7' },
    ])

    // Historical retrieval over the offline log sees every event: at each event's own time
    // the winner is that event (or, at 12:30 for 1001, the tie's latest created).
    const entityDf = events.map((e) => ({
      driver_id: e.driver_id,
      event_timestamp: new Date(e.event_timestamp),
    }))
    const rows = await (
      await store.getHistoricalFeatures({ entityDf, features: ['driver_trips:trips'] })
    ).toRows()
    expect(rows.map((r) => r.trips)).toEqual([3n, 2n, 3n, 3n, 5n, 6n, 7n])

    // Dead letters keep key, value and headers, plus headers naming error and position.
    const dlq = broker.readRecords(`${topic}.dlq`, 0)
    expect(dlq).toHaveLength(3)
    const header = (r: (typeof dlq)[number], name: string) => {
      const h = r.headers.find((x) => x.key === name)
      return h?.value === null || h === undefined ? undefined : Buffer.from(h.value).toString()
    }
    const codes = dlq.map((r) => header(r, DEAD_LETTER_HEADERS.code)).sort()
    expect(codes).toEqual(['DECODE_ERROR', 'INVALID_RECORD', 'INVALID_RECORD'])
    const bad = dlq.find((r) => header(r, DEAD_LETTER_HEADERS.code) === 'DECODE_ERROR')!
    expect(Buffer.from(bad.value!).toString()).toBe('not json {')
    expect(Buffer.from(bad.key!).toString()).toBe('1001')
    expect(header(bad, 'origin')).toBe('test')
    expect(header(bad, DEAD_LETTER_HEADERS.topic)).toBe(topic)
    const source = broker
      .readRecords(topic, Number(header(bad, DEAD_LETTER_HEADERS.partition)))
      .find((r) => String(r.offset) === header(bad, DEAD_LETTER_HEADERS.offset))
    expect(Buffer.from(source!.value!).toString()).toBe('not json {')
    const wrongType = dlq.find((r) =>
      header(r, DEAD_LETTER_HEADERS.message)?.includes("feature 'trips'"),
    )
    expect(wrongType).toBeDefined()
    const noKey = dlq.find((r) =>
      header(r, DEAD_LETTER_HEADERS.message)?.includes("join key 'driver_id' is missing"),
    )
    expect(noKey).toBeDefined()

    // A second run of the same group reads nothing again: positions were committed.
    const again = await store.ingest({ signal: AbortSignal.timeout(1500) })
    expect(again[0]).toMatchObject({ read: 0, deadLettered: 0 })
    await store.close()
  }, 30_000)

  it('from: re-reads every partition from the first record at or after a time (seek by time)', async () => {
    const topic = `replay_${Math.random().toString(36).slice(2, 8)}`
    await broker.createTopic(topic, 3)
    const { store } = repo(topic)
    await store.apply()
    const e = (driver: number, trips: number) => ({
      key: String(driver),
      value: JSON.stringify({
        driver_id: driver,
        event_timestamp: at(trips),
        created: at(trips),
        conv_rate: 0.5,
        trips,
        city: 'x',
      }),
    })
    await produce(topic, [e(1, 1), e(2, 2), e(3, 3)])
    await new Promise((r) => setTimeout(r, 30))
    const from = BigInt(Date.now()) * 1000n
    await new Promise((r) => setTimeout(r, 30))
    await produce(topic, [e(1, 4), e(2, 5)])
    expect((await ingestUntil(store, (read) => read >= 5))[0]?.read).toBe(5)
    const ac = new AbortController()
    let read = 0
    const timer = setTimeout(() => ac.abort(), 10_000)
    const [again] = await store.ingest({
      from,
      signal: ac.signal,
      onBatch: (b) => {
        read += b.records
        if (read >= 2) ac.abort()
      },
    })
    clearTimeout(timer)
    // The two records produced after `from`, read again: no-ops online, logged again offline.
    expect(again).toMatchObject({ read: 2, writtenOnline: 0, writtenOffline: 2 })
    await store.close()
  }, 30_000)

  it('fails with one clear line when the topic does not exist, at apply and at ingest', async () => {
    const { store } = repo('no_such_topic')
    await expect(store.apply()).rejects.toThrow(
      /topic 'no_such_topic' of source 'no_such_topic' does not exist/,
    )
    const applied = await store.apply({ skipSourceValidation: true })
    expect(applied.warnings).toEqual([
      expect.stringMatching(/stream of source 'no_such_topic' not checked: .*does not exist/),
    ])
    await expect(store.ingest({ signal: AbortSignal.timeout(5000) })).rejects.toThrow(
      /topic 'no_such_topic' of source 'no_such_topic' does not exist/,
    )
    await store.close()
  })

  it('apply: an unreachable broker is an error naming it (a warning when skipping source validation)', async () => {
    const { store } = repo('trips_down', { bootstrapServers: ['127.0.0.1:1'] })
    await expect(store.plan()).rejects.toThrow(
      /cannot reach Kafka at 127.0.0.1:1 for source 'trips_down'/,
    )
    const plan = await store.plan({ skipSourceValidation: true })
    expect(plan.warnings[0]).toMatch(/cannot reach Kafka at 127.0.0.1:1/)
    await store.close()
  }, 20_000)

  it("apply: the format's known schema must cover the view's fields with compatible types", async () => {
    const topic = `typed_${Math.random().toString(36).slice(2, 8)}`
    await broker.createTopic(topic, 1)
    const field = (name: string, type: ValueTypeName | undefined, sourceType: string) => ({
      name,
      type,
      sourceType,
      nullable: false,
    })
    const fields = [
      field('driver_id', 'int64', 'long'),
      field('event_timestamp', 'timestamp', 'timestamp-micros'),
      field('created', 'timestamp', 'timestamp-micros'),
      field('conv_rate', 'float64', 'double'),
      field('trips', 'string', 'string'),
      field('city', 'string', 'string'),
    ]
    const typed = {
      spec: json.spec,
      createDecoder: json.createDecoder.bind(json),
      describe: async () => ({ fields }),
    }
    await expect(repo(topic, { format: typed }).store.plan()).rejects.toThrow(
      /stream feature view 'driver_trips': field 'trips' \(feature 'trips'\) is string in the json format of source '.*', but the view needs int64/,
    )
    fields[4] = field('trips', 'int32', 'int')
    await expect(repo(topic, { format: typed }).store.plan()).resolves.toMatchObject({
      warnings: [],
    })
    fields.splice(1, 1)
    await expect(repo(topic, { format: typed }).store.plan()).rejects.toThrow(
      /field 'event_timestamp' \(event timestamp\) is not in the json format/,
    )
  })
})
