import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { DuckDBInstance } from '@duckdb/node-api'
import { type KafkaTestBroker, startKafkaTestBroker } from '@larder/emulators'
import { type Admin, Kafka, logLevel } from 'kafkajs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  children,
  type Event,
  events,
  type Ingest,
  larder,
  latest,
  startIngest,
  waitFor,
} from './ingest-helpers.js'

process.env.KAFKAJS_NO_PARTITIONER_WARNING = '1'

let broker: KafkaTestBroker
let kafka: Kafka
let admin: Admin
const dirs: string[] = []

beforeAll(async () => {
  broker = await startKafkaTestBroker({ partitions: 3 })
  kafka = new Kafka({ brokers: broker.brokers, logLevel: logLevel.NOTHING })
  admin = kafka.admin()
  await admin.connect()
})
afterAll(async () => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL')
  await admin?.disconnect()
  await broker?.close()
  for (const d of dirs) rmSync(d, { recursive: true, force: true })
})

/** A feature repo with one Kafka-fed stream view over `topic`. */
function makeRepo(topic: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'larder-ingest-'))
  dirs.push(dir)
  writeFileSync(
    join(dir, 'larder.config.ts'),
    `import { defineConfig } from '@larder/core'
import { fileOfflineStore } from '@larder/file'
import { kafkaConnector } from '@larder/kafka'
import { sqliteOnlineStore } from '@larder/sqlite'
export default defineConfig({
  project: 'ingest_test',
  offlineStore: fileOfflineStore(),
  onlineStore: sqliteOnlineStore({ path: 'data/online.db' }),
  streams: { connectors: [kafkaConnector({ maxBatchRecords: 100, sessionTimeout: 4000, heartbeatInterval: 200, maxWaitTimeInMs: 100 })] },
})
`,
  )
  writeFileSync(
    join(dir, 'features.ts'),
    `import { entity, streamFeatureView, t } from '@larder/core'
import { fileSource } from '@larder/file'
import { kafkaSource } from '@larder/kafka'
import { jsonFormat } from '@larder/formats'
export const driver = entity({ name: 'driver', joinKeys: ['driver_id'], valueType: t.int64 })
const log = fileSource({ name: 'trips_log', path: 'data/trips_log', timestampField: 'event_timestamp', createdTimestampColumn: 'created' })
export const trips = kafkaSource({
  name: 'trips', bootstrapServers: ${JSON.stringify(broker.brokers)}, topic: '${topic}', format: jsonFormat(),
  timestampField: 'event_timestamp', createdTimestampColumn: 'created', batchSource: log,
})
export const driverTrips = streamFeatureView({
  name: 'driver_trips', entities: [driver], ttl: { days: 3650 },
  schema: { trips: t.int64, city: t.string }, source: trips,
})
`,
  )
  mkdirSync(join(dir, 'data'), { recursive: true })
  return dir
}

async function produce(topic: string, list: Event[]) {
  const producer = kafka.producer()
  await producer.connect()
  for (let i = 0; i < list.length; i += 500) {
    await producer.send({
      topic,
      messages: list
        .slice(i, i + 500)
        .map((e) => ({ key: String(e.driver_id), value: JSON.stringify(e) })),
    })
  }
  await producer.disconnect()
}

/** True when the group committed every partition up to its end. */
async function caughtUp(topic: string, groupId: string): Promise<boolean> {
  const ends = await admin.fetchTopicOffsets(topic)
  const [committed] = await admin.fetchOffsets({ groupId, topics: [topic] })
  return ends.every(
    (e) => committed?.partitions.find((p) => p.partition === e.partition)?.offset === e.high,
  )
}

describe('larder ingest (child process, Kafka test broker)', () => {
  it('after kill -9 mid-stream and a restart: online holds the latest event per key, the offline log every event once; SIGTERM exits 0', async () => {
    const topic = `trips_${Math.random().toString(36).slice(2, 8)}`
    await broker.createTopic(topic, 3)
    const dir = makeRepo(topic)
    const apply = await larder(dir, ['apply'])
    expect(apply.stderr).toBe('')
    expect(apply.status).toBe(0)

    const all = events(0, 3000, 40)
    await produce(topic, all.slice(0, 1500))
    const first = startIngest(dir)
    const logDir = join(dir, 'data', 'trips_log')
    const parts = () => {
      try {
        return readdirSync(logDir).filter((f) => f.endsWith('.parquet')).length
      } catch {
        return 0
      }
    }
    await waitFor('the first offline-log parts', () => parts() >= 3)
    const more = produce(topic, all.slice(1500))
    await waitFor('more parts', () => parts() >= 6)
    first.child.kill('SIGKILL')
    expect((await first.exited).signal).toBe('SIGKILL')
    await more
    expect(await caughtUp(topic, 'larder.ingest_test.driver_trips')).toBe(false)

    const second = startIngest(dir, ['--metrics-port', '0'])
    await waitFor('the restarted ingest to catch up', () =>
      caughtUp(topic, 'larder.ingest_test.driver_trips'),
    )
    // Prometheus metrics of the running process.
    const url = /metrics on (http:\/\/\S+)/.exec(second.err())?.[1]
    expect(url, second.err()).toBeDefined()
    const metrics = await (await fetch(url!)).text()
    const records = Number(
      /larder_ingest_records_total\{view="driver_trips"\} (\d+)/.exec(metrics)?.[1],
    )
    expect(records).toBeGreaterThan(0)
    expect(metrics).toMatch(/larder_ingest_consumer_lag\{view="driver_trips",partition="\d"\} 0/)
    expect(metrics).toMatch(/larder_ingest_batch_seconds_count\{view="driver_trips"\} [1-9]/)
    expect(metrics).toMatch(/larder_ingest_freshness_seconds_count\{view="driver_trips"\} [1-9]/)
    const stoppedAt = Date.now()
    second.child.kill('SIGTERM')
    const exit = await second.exited
    expect(exit.code, second.err()).toBe(0)
    expect(Date.now() - stoppedAt).toBeLessThan(8000)
    expect(second.out()).toMatch(
      /^driver_trips: [\d,]+ read, [\d,]+ written online, [\d,]+ written offline, 0 dead-lettered, 0 late\n$/,
    )
    expect(Number(/: ([\d,]+) read/.exec(second.out())![1]!.replaceAll(',', ''))).toBe(records)

    // Online: the latest event per key (event time, then created), whatever the order.
    const keys = [...new Set(all.map((e) => e.driver_id))]
    const online = await larder(dir, [
      'get-online-features',
      '--entities',
      JSON.stringify({ driver_id: keys }),
      '--features',
      'driver_trips:trips',
    ])
    expect(online.status, online.stderr).toBe(0)
    const body = JSON.parse(online.stdout) as { results: Array<{ values: unknown[] }> }
    expect(body.results[1]!.values.map(Number)).toEqual(keys.map((k) => latest(all, k)!.trips))

    // Offline log: every event's position once (a replayed batch may have been appended
    // again: same position, same row), and historical retrieval sees each event once.
    const db = await (await DuckDBInstance.create(':memory:')).connect()
    const read = `read_parquet('${logDir}/*.parquet')`
    const stats = (
      await db.runAndReadAll(
        `SELECT count(DISTINCT __stream_position) AS positions,
                count(DISTINCT (__stream_position, driver_id, trips, city, event_timestamp, created)) AS variants,
                count(DISTINCT trips) AS events
         FROM ${read}`,
      )
    ).getRowObjects()[0]!
    expect(Number(stats.positions)).toBe(3000)
    expect(Number(stats.variants)).toBe(3000)
    expect(Number(stats.events)).toBe(3000)
    db.closeSync()

    const entityCsv = join(dir, 'entities.csv')
    writeFileSync(
      entityCsv,
      `driver_id,event_timestamp\n${all.map((e) => `${e.driver_id},${e.event_timestamp}`).join('\n')}\n`,
    )
    const out = join(dir, 'training.csv')
    const hist = await larder(dir, [
      'get-historical-features',
      '--entity-df',
      entityCsv,
      '--features',
      'driver_trips:trips',
      '--output',
      out,
    ])
    expect(hist.status, hist.stderr).toBe(0)
    const got = readFileSync(out, 'utf8').trim().split('\n').slice(1)
    expect(got.map((l) => Number(l.split(',').at(-1)))).toEqual(
      all.map((e) => latest(all, e.driver_id, e.event_timestamp)!.trips),
    )
  }, 60_000)

  it('a member joining mid-stream: the running batch is committed before its partition moves, so no event is written twice', async () => {
    const topic = `rebalance_${Math.random().toString(36).slice(2, 8)}`
    await broker.createTopic(topic, 3)
    const dir = makeRepo(topic)
    const applied = await larder(dir, ['apply'])
    expect(applied.status, applied.stderr).toBe(0)
    const a = startIngest(dir)
    await waitFor('the first member', () => /reading partitions 0, 1, 2/.test(a.err()))
    const list = events(0, 3000, 40)
    await produce(topic, list.slice(0, 1500))
    const logDir = join(dir, 'data', 'trips_log')
    await waitFor('the first parts', () => {
      try {
        return readdirSync(logDir).filter((f) => f.endsWith('.parquet')).length >= 3
      } catch {
        return false
      }
    })
    // B joins while A is still writing; the rest arrives while both share the partitions.
    const b = startIngest(dir)
    await waitFor('the second member to get partitions', () =>
      /reading partitions \d/.test(b.err()),
    )
    await produce(topic, list.slice(1500))
    await waitFor('both to catch up', () => caughtUp(topic, 'larder.ingest_test.driver_trips'))
    a.child.kill('SIGTERM')
    b.child.kill('SIGTERM')
    const [ea, eb] = await Promise.all([a.exited, b.exited])
    expect(ea.code, a.err()).toBe(0)
    expect(eb.code, b.err()).toBe(0)
    expect(b.err()).toMatch(/reading partitions \d/)
    const db = await (await DuckDBInstance.create(':memory:')).connect()
    const stats = (
      await db.runAndReadAll(
        `SELECT count(*) AS rows, count(DISTINCT __stream_position) AS positions FROM read_parquet('${logDir}/*.parquet')`,
      )
    ).getRowObjects()[0]!
    db.closeSync()
    expect(Number(stats.positions)).toBe(3000)
    expect(Number(stats.rows)).toBe(3000)
  }, 60_000)

  it('two ingest processes in one group share the partitions, each record read once', async () => {
    const topic = `shared_${Math.random().toString(36).slice(2, 8)}`
    await broker.createTopic(topic, 3)
    const dir = makeRepo(topic)
    const applied = await larder(dir, ['apply'])
    expect(applied.status, applied.stderr).toBe(0)
    const lastAssignment = (i: Ingest) => {
      const lines = i.err().match(/reading partitions [^\n]*/g) ?? []
      const last = lines.at(-1)
      return last === undefined
        ? undefined
        : last
            .replace('reading partitions ', '')
            .split(', ')
            .filter((p) => p !== '(none)')
    }
    const a = startIngest(dir)
    await waitFor('the first member', () => lastAssignment(a)?.length === 3)
    const b = startIngest(dir)
    await waitFor('the partitions to be split between both', () => {
      const pa = lastAssignment(a) ?? []
      const pb = lastAssignment(b) ?? []
      return pa.length > 0 && pb.length > 0 && pa.length + pb.length === 3
    })
    expect(new Set([...lastAssignment(a)!, ...lastAssignment(b)!])).toEqual(
      new Set(['0', '1', '2']),
    )
    const list = events(0, 600, 30)
    await produce(topic, list)
    await waitFor('both to catch up', () => caughtUp(topic, 'larder.ingest_test.driver_trips'))
    a.child.kill('SIGTERM')
    b.child.kill('SIGTERM')
    const [ea, eb] = await Promise.all([a.exited, b.exited])
    expect(ea.code, a.err()).toBe(0)
    expect(eb.code, b.err()).toBe(0)
    const readOf = (i: Ingest) => Number(/: ([\d,]+) read/.exec(i.out())![1]!.replaceAll(',', ''))
    expect(readOf(a)).toBeGreaterThan(0)
    expect(readOf(b)).toBeGreaterThan(0)
    expect(readOf(a) + readOf(b)).toBe(600)

    // A view that is not a stream view: one line, exit 1, nothing started.
    const bad = await larder(dir, ['ingest', '--views', 'nope'])
    expect(bad.status).toBe(1)
    expect(bad.stderr.trim().split('\n')).toEqual([
      expect.stringMatching(/^error: .*stream feature view 'nope' is not registered/),
    ])
  }, 60_000)
})
