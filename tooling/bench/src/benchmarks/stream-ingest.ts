/**
 * Stream ingestion from Kafka: 100k JSON events (scale 1) over 1,000 keys on a 3-partition
 * topic of the Kafka test broker (in the parent process, so no subject pays for it), read by
 * (a) `store.ingest()` of a stream feature view writing the SQLite online store and the
 *     offline log (Parquet parts through the file offline store), committing after each batch;
 * (b) a bare kafkajs consumer group parsing every value with `JSON.parse` and keeping the
 *     latest event per key (the raw baseline; target: Larder at >= 50% of its rate).
 * Each run is a fresh consumer group reading the whole topic from the beginning, timed until
 * the last event is written and committed (Larder) or parsed (raw), including leaving the
 * group. Check: the latest `trips` per key (Larder: read back from the online store).
 * Freshness case: after catch-up, single events sent one at a time to a topic being ingested,
 * each timed from `send` until `store.getOnlineFeatures` returns its value (Larder) or a
 * kafkajs `eachMessage` consumer sees it (raw). Target: p99 under 1 s.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { entity, FeatureStore, streamFeatureView, t } from '@larder/core'
import { startKafkaTestBroker } from '@larder/emulators'
import { fileOfflineStore, fileSource } from '@larder/file'
import { jsonFormat } from '@larder/formats'
import { kafkaSource } from '@larder/kafka'
import { sqliteOnlineStore } from '@larder/sqlite'
import { Kafka, logLevel } from 'kafkajs'
import { Digest } from '../digest.js'
import {
  compare,
  latencyExtra,
  rateExtra,
  type SubjectFactory,
  type SubjectRunner,
} from '../harness.js'
import type { BenchContext, Benchmark, BenchResult } from '../types.js'

process.env.KAFKAJS_NO_PARTITIONER_WARNING = '1'
const KEYS = 1000
const TOPIC = 'trips'

interface Args {
  brokers: string[]
  n: number
  dir: string
}

/** Event i: key i % 1000, event times permuted so that arrival order is not time order. */
function event(i: number) {
  return {
    driver_id: 1000 + (i % KEYS),
    event_timestamp: new Date(Date.UTC(2026, 0, 1) + ((i * 7919) % 100_003) * 1000).toISOString(),
    trips: i,
    conv_rate: (i % 997) / 997,
    city: `city-${i % 50}`,
  }
}

/** The expected winner per key, as both subjects must find it. */
function digestOf(latest: Map<number, { ts: string; trips: number }>): Digest {
  const d = new Digest()
  for (const key of [...latest.keys()].sort((a, b) => a - b)) d.row([key, latest.get(key)!.trips])
  return d
}

let runs = 0
const group = (kind: string) => `bench-${kind}-${process.pid}-${runs++}`

/** A repo with one stream view over `topic` (ttl none), its store opened and applied. */
async function openRepo(dir: string, brokers: string[], topic: string, groupId: string) {
  const repo = mkdtempSync(join(dir, 'larder-'))
  const driver = entity({ name: 'driver', joinKeys: ['driver_id'], valueType: t.int64 })
  const source = kafkaSource({
    name: 'trips',
    bootstrapServers: brokers,
    topic,
    format: jsonFormat(),
    timestampField: 'event_timestamp',
    batchSource: fileSource({
      name: 'trips_log',
      path: 'data/trips_log',
      timestampField: 'event_timestamp',
    }),
    groupId,
  })
  const view = streamFeatureView({
    name: 'driver_trips',
    entities: [driver],
    schema: { trips: t.int64, conv_rate: t.float64, city: t.string },
    source,
  })
  const store = new FeatureStore({
    repoPath: repo,
    config: {
      project: 'bench',
      offlineStore: fileOfflineStore(),
      onlineStore: sqliteOnlineStore({ path: join(repo, 'online.db') }),
    },
    definitions: [driver, view].map((definition) => ({ definition, origin: 'bench' })),
  })
  await store.apply()
  return { store, repo }
}

const FRESH_TOPIC = 'fresh'

/** Sends event `i` of the freshness case alone. */
async function sendOne(producer: ReturnType<Kafka['producer']>, i: number, key: number) {
  const e = { ...event(i), driver_id: key, event_timestamp: new Date().toISOString() }
  await producer.send({
    topic: FRESH_TOPIC,
    messages: [{ key: String(key), value: JSON.stringify(e) }],
  })
}

export const subjects: Record<string, SubjectFactory> = {
  freshLarder: async (args): Promise<SubjectRunner> => {
    const { brokers, n, dir } = args as unknown as Args
    const key = 5000 + process.pid
    const { store, repo } = await openRepo(dir, brokers, FRESH_TOPIC, group('fresh-larder'))
    const stop = new AbortController()
    const running = store.ingest({ signal: stop.signal })
    const producer = new Kafka({ brokers, logLevel: logLevel.NOTHING }).producer()
    await producer.connect()
    let last = 0
    let sent = 0
    return {
      async run() {
        const samplesMs: number[] = []
        for (let j = 0; j < n; j++) {
          const i = 1_000_000 + sent++
          const began = performance.now()
          await sendOne(producer, i, key)
          for (;;) {
            const row = (
              await store.getOnlineFeatures({
                entities: { driver_id: [key] },
                features: ['driver_trips:trips'],
              })
            ).toRows()[0]
            if (row?.trips === BigInt(i)) break
            await new Promise((r) => setTimeout(r, 2))
          }
          samplesMs.push(performance.now() - began)
          last = i
        }
        return { samplesMs }
      },
      check: () => {
        const d = new Digest()
        d.row([n, last - (sent - n)])
        return d.result()
      },
      async close() {
        stop.abort()
        await running
        await producer.disconnect()
        await store.close()
        rmSync(repo, { recursive: true, force: true })
      },
    }
  },

  freshRaw: async (args): Promise<SubjectRunner> => {
    const { brokers, n } = args as unknown as Args
    const key = 6000 + process.pid
    const kafka = new Kafka({ brokers, logLevel: logLevel.NOTHING })
    const consumer = kafka.consumer({ groupId: group('fresh-raw'), maxWaitTimeInMs: 500 })
    await consumer.connect()
    await consumer.subscribe({ topics: [FRESH_TOPIC], fromBeginning: false })
    let waiting: { i: number; done: () => void } | undefined
    await consumer.run({
      eachMessage: async ({ message }) => {
        const e = JSON.parse(message.value!.toString('utf8')) as ReturnType<typeof event>
        if (e.driver_id === key && waiting && e.trips === waiting.i) waiting.done()
      },
    })
    // Joined once the first own event comes back.
    const producer = kafka.producer()
    await producer.connect()
    let sent = 0
    let last = 0
    const roundTrip = async (i: number) => {
      const seen = new Promise<void>((done) => {
        waiting = { i, done }
      })
      await sendOne(producer, i, key)
      await seen
    }
    await roundTrip(2_000_000)
    return {
      async run() {
        const samplesMs: number[] = []
        for (let j = 0; j < n; j++) {
          const i = 1_000_000 + sent++
          const began = performance.now()
          await roundTrip(i)
          samplesMs.push(performance.now() - began)
          last = i
        }
        return { samplesMs }
      },
      check: () => {
        const d = new Digest()
        d.row([n, last - (sent - n)])
        return d.result()
      },
      async close() {
        await consumer.disconnect()
        await producer.disconnect()
      },
    }
  },

  larder: (args): SubjectRunner => {
    const { brokers, n, dir } = args as unknown as Args
    let store: FeatureStore | undefined
    let repo = ''
    return {
      async before() {
        ;({ store, repo } = await openRepo(dir, brokers, TOPIC, group('larder')))
      },
      async run() {
        const stop = new AbortController()
        let read = 0
        const [summary] = await store!.ingest({
          signal: stop.signal,
          onBatch: (e) => {
            read += e.records
            if (read >= n) stop.abort()
          },
        })
        if (summary?.read !== n) throw new Error(`read ${summary?.read} of ${n} events`)
      },
      async check() {
        const keys = Array.from({ length: KEYS }, (_, i) => 1000 + i)
        const res = await store!.getOnlineFeatures({
          entities: { driver_id: keys },
          features: ['driver_trips:trips'],
        })
        const d = new Digest()
        for (const row of res.toRows()) d.row([row.driver_id, row.trips])
        return d.result()
      },
      async after() {
        await store?.close()
        rmSync(repo, { recursive: true, force: true })
      },
    }
  },

  raw: (args): SubjectRunner => {
    const { brokers, n } = args as unknown as Args
    const kafka = new Kafka({ brokers, logLevel: logLevel.NOTHING })
    let latest = new Map<number, { ts: string; trips: number }>()
    return {
      async run() {
        latest = new Map()
        const consumer = kafka.consumer({ groupId: group('raw'), maxWaitTimeInMs: 500 })
        await consumer.connect()
        await consumer.subscribe({ topics: [TOPIC], fromBeginning: true })
        let read = 0
        await new Promise<void>((resolve, reject) => {
          consumer
            .run({
              eachBatch: async ({ batch, resolveOffset }) => {
                for (const m of batch.messages) {
                  const e = JSON.parse(m.value!.toString('utf8')) as ReturnType<typeof event>
                  const prev = latest.get(e.driver_id)
                  if (!prev || e.event_timestamp > prev.ts)
                    latest.set(e.driver_id, { ts: e.event_timestamp, trips: e.trips })
                  resolveOffset(m.offset)
                }
                read += batch.messages.length
                if (read >= n) resolve()
              },
            })
            .catch(reject)
        })
        await consumer.disconnect()
      },
      check: () => digestOf(latest).result(),
    }
  },
}

export default {
  name: 'stream-ingest',
  description:
    'Kafka ingestion (test broker): 100k JSON events over 1,000 keys into SQLite online + the Parquet offline log via store.ingest(), against a bare kafkajs consumer group parsing the same topic',
  defaultScale: 1,
  async run(ctx: BenchContext): Promise<BenchResult[]> {
    const n = Math.round(100_000 * ctx.scale)
    const broker = await startKafkaTestBroker({ partitions: 3 })
    const dir = mkdtempSync(join(tmpdir(), 'larder-bench-stream-'))
    try {
      await broker.createTopic(TOPIC, 3)
      const kafka = new Kafka({ brokers: broker.brokers, logLevel: logLevel.NOTHING })
      const producer = kafka.producer()
      await producer.connect()
      for (let i = 0; i < n; i += 1000) {
        const messages = []
        for (let j = i; j < Math.min(n, i + 1000); j++) {
          const e = event(j)
          messages.push({ key: String(e.driver_id), value: JSON.stringify(e) })
        }
        await producer.send({ topic: TOPIC, messages })
      }
      await producer.disconnect()
      ctx.log(`stream-ingest: ${n} events produced to a 3-partition topic`)
      const args = { brokers: broker.brokers, n, dir }
      await broker.createTopic(FRESH_TOPIC, 1)
      const fresh = Math.max(20, Math.round(200 * ctx.scale))
      const freshness = await compare(ctx, {
        caseName: `freshness: ${fresh} single events, send -> served online (timesMs per event)`,
        module: import.meta.url,
        rows: fresh,
        unit: 'op',
        extra: latencyExtra,
        subjects: [
          {
            name: 'larder ingest -> getOnlineFeatures returns it',
            factory: 'freshLarder',
            args: { ...args, n: fresh },
          },
          {
            name: 'kafkajs eachMessage sees it (raw)',
            baseline: true,
            factory: 'freshRaw',
            args: { ...args, n: fresh },
          },
        ],
      })
      const throughput = await compare(ctx, {
        caseName: `${n} JSON events, ${KEYS} keys, 3 partitions`,
        module: import.meta.url,
        rows: n,
        extra: rateExtra(n),
        subjects: [
          { name: 'larder store.ingest (SQLite online + Parquet log)', factory: 'larder', args },
          {
            name: 'kafkajs consumer group + JSON.parse (raw)',
            baseline: true,
            factory: 'raw',
            args,
          },
        ],
      })
      return [...throughput, ...freshness]
    } finally {
      await broker.close()
      rmSync(dir, { recursive: true, force: true })
    }
  },
} satisfies Benchmark
