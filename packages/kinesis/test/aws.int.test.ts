// Opt-in: ingestion from a real Kinesis stream. Runs only with LARDER_TEST_AWS=1,
// AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN if temporary) and AWS_REGION
// set, and never in CI (CI set). It creates a one-shard stream `larder-test-<random>`, puts 20
// events, ingests them, checks the latest per key online, and deletes the stream (a shard-hour
// costs about a cent).
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  CreateStreamCommand,
  DeleteStreamCommand,
  DescribeStreamSummaryCommand,
  KinesisClient,
  PutRecordsCommand,
} from '@aws-sdk/client-kinesis'
import { entity, FeatureStore, streamFeatureView, t } from '@larder/core'
import { fileOfflineStore, fileSource } from '@larder/file'
import { jsonFormat } from '@larder/formats'
import { sqliteOnlineStore } from '@larder/sqlite'
import { describe, expect, test } from 'vitest'
import { kinesisSource } from '../src/index.js'

const env = process.env
const missing = [
  env.LARDER_TEST_AWS === '1' ? undefined : 'LARDER_TEST_AWS=1',
  env.AWS_ACCESS_KEY_ID ? undefined : 'AWS_ACCESS_KEY_ID',
  env.AWS_SECRET_ACCESS_KEY ? undefined : 'AWS_SECRET_ACCESS_KEY',
  env.AWS_REGION ? undefined : 'AWS_REGION',
].filter((m): m is string => m !== undefined)

if (env.CI) {
  describe('real Amazon Kinesis', () => {
    test.skip('skipped: never run in CI (it needs real AWS credentials and costs money)', () => {})
  })
} else if (missing.length > 0) {
  describe('real Amazon Kinesis', () => {
    test.skip(`skipped: opt-in, set ${missing.join(', ')} to ingest from a real Kinesis stream`, () => {})
  })
} else {
  test('ingests a real Kinesis stream: the latest event per key online', async () => {
    const region = env.AWS_REGION as string
    const stream = `larder-test-${Math.random().toString(36).slice(2, 10)}`
    const client = new KinesisClient({ region })
    const dir = mkdtempSync(join(tmpdir(), 'larder-kinesis-aws-'))
    await client.send(new CreateStreamCommand({ StreamName: stream, ShardCount: 1 }))
    try {
      for (let i = 0; ; i++) {
        const s = await client.send(new DescribeStreamSummaryCommand({ StreamName: stream }))
        if (s.StreamDescriptionSummary?.StreamStatus === 'ACTIVE') break
        if (i > 120) throw new Error(`stream ${stream} not ACTIVE after 2 minutes`)
        await new Promise((r) => setTimeout(r, 1000))
      }
      const events = Array.from({ length: 20 }, (_, i) => ({
        driver_id: 1000 + (i % 4),
        trips: i,
        event_timestamp: new Date(Date.UTC(2026, 0, 1, 0, (i * 7) % 20)).toISOString(),
      }))
      await client.send(
        new PutRecordsCommand({
          StreamName: stream,
          Records: events.map((e) => ({
            PartitionKey: String(e.driver_id),
            Data: Buffer.from(JSON.stringify(e)),
          })),
        }),
      )
      const driver = entity({ name: 'driver', joinKeys: ['driver_id'], valueType: t.int64 })
      const view = streamFeatureView({
        name: 'driver_trips',
        entities: [driver],
        ttl: { days: 3650 },
        schema: { trips: t.int64 },
        source: kinesisSource({
          name: 'trips',
          streamName: stream,
          region,
          format: jsonFormat(),
          timestampField: 'event_timestamp',
          batchSource: fileSource({
            name: 'trips_log',
            path: 'data/trips_log',
            timestampField: 'event_timestamp',
          }),
        }),
      })
      const store = new FeatureStore({
        repoPath: dir,
        config: {
          project: 'kinesis_aws',
          offlineStore: fileOfflineStore(),
          onlineStore: sqliteOnlineStore({ path: join(dir, 'online.db') }),
        },
        definitions: [driver, view].map((definition) => ({ definition, origin: 'test' })),
      })
      await store.apply()
      const ac = new AbortController()
      let read = 0
      const timer = setTimeout(() => ac.abort(), 60_000)
      const [summary] = await store.ingest({
        signal: ac.signal,
        onBatch: (b) => {
          read += b.records
          if (read >= 20) ac.abort()
        },
      })
      clearTimeout(timer)
      expect(summary).toMatchObject({ read: 20, writtenOffline: 20, deadLettered: 0 })
      const online = await store.getOnlineFeatures({
        entities: { driver_id: [1000, 1001, 1002, 1003] },
        features: ['driver_trips:trips'],
      })
      const want = [1000, 1001, 1002, 1003].map((k) => {
        const mine = events.filter((e) => e.driver_id === k)
        return mine.reduce((a, b) => (b.event_timestamp > a.event_timestamp ? b : a)).trips
      })
      expect(online.toRows().map((r) => Number(r.trips))).toEqual(want)
      await store.close()
    } finally {
      await client.send(new DeleteStreamCommand({ StreamName: stream })).catch(() => {})
      client.destroy()
      rmSync(dir, { recursive: true, force: true })
    }
  }, 240_000)
}
