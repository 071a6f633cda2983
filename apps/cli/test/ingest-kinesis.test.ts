import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { DuckDBInstance } from '@duckdb/node-api'
import { type KinesisStandIn, startKinesalite } from '@larder/emulators'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  children,
  type Event,
  events,
  larder,
  latest,
  startIngest,
  waitFor,
} from './ingest-helpers.js'

const ENV = {
  ...process.env,
  AWS_ACCESS_KEY_ID: 'larder-test',
  AWS_SECRET_ACCESS_KEY: 'larder-test',
  AWS_EC2_METADATA_DISABLED: 'true',
}

let kinesis: KinesisStandIn
const dirs: string[] = []

beforeAll(async () => {
  kinesis = await startKinesalite()
})
afterAll(async () => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL')
  await kinesis?.close()
  for (const d of dirs) rmSync(d, { recursive: true, force: true })
})

function makeRepo(stream: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'larder-ingest-kinesis-'))
  dirs.push(dir)
  writeFileSync(
    join(dir, 'larder.config.ts'),
    `import { defineConfig } from '@larder/core'
import { fileOfflineStore } from '@larder/file'
import { kinesisConnector } from '@larder/kinesis'
import { sqliteOnlineStore } from '@larder/sqlite'
export default defineConfig({
  project: 'ingest_kinesis',
  offlineStore: fileOfflineStore(),
  onlineStore: sqliteOnlineStore({ path: 'data/online.db' }),
  streams: { connectors: [kinesisConnector({ maxRecordsPerCall: 100, minCallIntervalMs: 20, idleTimeBetweenReadsMs: 50, shardSyncIntervalMs: 200 })] },
})
`,
  )
  writeFileSync(
    join(dir, 'features.ts'),
    `import { entity, streamFeatureView, t } from '@larder/core'
import { fileSource } from '@larder/file'
import { kinesisSource } from '@larder/kinesis'
import { jsonFormat } from '@larder/formats'
export const driver = entity({ name: 'driver', joinKeys: ['driver_id'], valueType: t.int64 })
const log = fileSource({ name: 'trips_log', path: 'data/trips_log', timestampField: 'event_timestamp', createdTimestampColumn: 'created' })
export const trips = kinesisSource({
  name: 'trips', streamName: '${stream}', region: 'us-east-1', endpoint: '${kinesis.endpoint}',
  format: jsonFormat(), timestampField: 'event_timestamp', createdTimestampColumn: 'created', batchSource: log,
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

async function offline(dir: string) {
  const db = await (await DuckDBInstance.create(':memory:')).connect()
  try {
    const row = (
      await db.runAndReadAll(
        `SELECT count(DISTINCT __stream_position) AS positions,
                count(DISTINCT (__stream_position, driver_id, trips, city, event_timestamp, created)) AS variants,
                count(DISTINCT trips) AS events
         FROM read_parquet('${join(dir, 'data/trips_log')}/**/*.parquet')`,
      )
    ).getRowObjects()[0]!
    return {
      positions: Number(row.positions),
      variants: Number(row.variants),
      events: Number(row.events),
    }
  } catch {
    return { positions: 0, variants: 0, events: 0 }
  } finally {
    db.closeSync()
  }
}

const put = (stream: string, list: Event[]) =>
  kinesis.put(
    stream,
    list.map((e) => ({ key: String(e.driver_id), data: JSON.stringify(e) })),
  )

describe('larder ingest (child process, kinesalite)', () => {
  it('kill -9 mid-stream, a split and a merge while down, restart: latest per key online, every event once offline; SIGTERM exits 0 with checkpoints', async () => {
    const stream = `trips_${Math.random().toString(36).slice(2, 8)}`
    await kinesis.createStream(stream, 2)
    const dir = makeRepo(stream)
    const apply = await larder(dir, ['apply'], ENV)
    expect(apply.status, apply.stderr).toBe(0)
    const first = events(0, 2000, 50)
    await put(stream, first)

    const killed = startIngest(dir, [], ENV)
    await waitFor('some events in the offline log', async () => (await offline(dir)).events >= 300)
    killed.child.kill('SIGKILL')
    await killed.exited
    expect((await offline(dir)).events).toBeLessThan(2000)

    // While it is down: split shard 0, merge its upper child with shard 1, more events.
    const [s0, s1] = await kinesis.shards(stream)
    const mid = await kinesis.split(stream, s0!.ShardId!)
    const second = events(2000, 500, 50)
    await put(stream, second)
    const upper = (await kinesis.shards(stream)).find(
      (s) =>
        !s.SequenceNumberRange?.EndingSequenceNumber && s.HashKeyRange!.StartingHashKey === mid,
    )!
    await kinesis.merge(stream, upper.ShardId!, s1!.ShardId!)
    const third = events(2500, 500, 50)
    await put(stream, third)
    const all = [...first, ...second, ...third]

    const restarted = startIngest(dir, [], ENV)
    await waitFor(
      'every event in the offline log',
      async () => (await offline(dir)).events >= 3000,
      30_000,
    )
    const stoppedAt = Date.now()
    restarted.child.kill('SIGTERM')
    const exit = await restarted.exited
    expect(exit.code, restarted.err()).toBe(0)
    expect(Date.now() - stoppedAt).toBeLessThan(8000)
    expect(restarted.out()).toMatch(/^driver_trips: [\d,]+ read, .*0 dead-lettered/m)

    // Every shard checkpointed: closed ones ended, open ones at their last record.
    const cp = JSON.parse(
      readFileSync(join(dir, 'data/kinesis-checkpoints/ingest_kinesis.driver_trips.json'), 'utf8'),
    ) as { shards: Record<string, { sequenceNumber?: string; ended?: boolean }> }
    for (const s of await kinesis.shards(stream)) {
      const closed = s.SequenceNumberRange?.EndingSequenceNumber !== undefined
      expect(cp.shards[s.ShardId!]?.ended === true, s.ShardId).toBe(closed)
      expect(cp.shards[s.ShardId!]?.sequenceNumber, s.ShardId).toBeDefined()
    }

    const keys = [...new Set(all.map((e) => e.driver_id))]
    const online = await larder(
      dir,
      [
        'get-online-features',
        '--entities',
        JSON.stringify({ driver_id: keys }),
        '--features',
        'driver_trips:trips',
      ],
      ENV,
    )
    expect(online.status, online.stderr).toBe(0)
    const body = JSON.parse(online.stdout) as { results: Array<{ values: unknown[] }> }
    expect(body.results[1]!.values.map(Number)).toEqual(keys.map((k) => latest(all, k)!.trips))
    // A replayed batch may be appended again with the same position and row: never a new event.
    expect(await offline(dir)).toEqual({ positions: 3000, variants: 3000, events: 3000 })
  }, 60_000)
})
