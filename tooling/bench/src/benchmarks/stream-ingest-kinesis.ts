/**
 * Stream ingestion from Kinesis (the Kinesis case of stream ingestion): 20k JSON events
 * (scale 1) over 1,000 keys on a 2-shard stream of kinesalite (in the parent process, so no
 * subject pays for it), read from TRIM_HORIZON by
 * (a) `store.ingest()` of a stream feature view writing the SQLite online store and the
 *     offline log, checkpointing each shard after each batch (a fresh repo, so fresh
 *     checkpoints, per run);
 * (b) a bare GetRecords loop per shard with the same AWS SDK client, `JSON.parse` of every
 *     record and the latest event per key kept in a Map (the raw baseline).
 * Check: the latest `trips` per key (Larder: read back from the online store).
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  GetRecordsCommand,
  GetShardIteratorCommand,
  KinesisClient,
  ListShardsCommand,
} from '@aws-sdk/client-kinesis'
import { entity, FeatureStore, streamFeatureView, t } from '@larder/core'
import { startKinesalite } from '@larder/emulators'
import { fileOfflineStore, fileSource } from '@larder/file'
import { jsonFormat } from '@larder/formats'
import { kinesisConnector, kinesisSource } from '@larder/kinesis'
import { sqliteOnlineStore } from '@larder/sqlite'
import { NodeHttpHandler } from '@smithy/node-http-handler'
import { Digest } from '../digest.js'
import { compare, rateExtra, type SubjectFactory, type SubjectRunner } from '../harness.js'
import type { BenchContext, Benchmark, BenchResult } from '../types.js'

const KEYS = 1000
const STREAM = 'trips'
const credentials = { accessKeyId: 'larder-bench', secretAccessKey: 'larder-bench' }

interface Args {
  endpoint: string
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

async function openRepo(dir: string, endpoint: string) {
  const repo = mkdtempSync(join(dir, 'larder-'))
  const driver = entity({ name: 'driver', joinKeys: ['driver_id'], valueType: t.int64 })
  const source = kinesisSource({
    name: 'trips',
    streamName: STREAM,
    region: 'us-east-1',
    endpoint,
    format: jsonFormat(),
    timestampField: 'event_timestamp',
    batchSource: fileSource({
      name: 'trips_log',
      path: 'data/trips_log',
      timestampField: 'event_timestamp',
    }),
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
      streams: {
        connectors: [
          kinesisConnector({ credentials, minCallIntervalMs: 0, idleTimeBetweenReadsMs: 50 }),
        ],
      },
    },
    definitions: [driver, view].map((definition) => ({ definition, origin: 'bench' })),
  })
  await store.apply()
  return { store, repo }
}

export const subjects: Record<string, SubjectFactory> = {
  larder: (args): SubjectRunner => {
    const { endpoint, n, dir } = args as unknown as Args
    let store: FeatureStore | undefined
    let repo = ''
    return {
      async before() {
        ;({ store, repo } = await openRepo(dir, endpoint))
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
    const { endpoint, n } = args as unknown as Args
    const client = new KinesisClient({
      region: 'us-east-1',
      endpoint,
      credentials,
      requestHandler: new NodeHttpHandler(),
    })
    let latest = new Map<number, { ts: string; trips: number }>()
    return {
      async run() {
        latest = new Map()
        const shards = (await client.send(new ListShardsCommand({ StreamName: STREAM }))).Shards!
        let read = 0
        await Promise.all(
          shards.map(async (shard) => {
            let iterator = (
              await client.send(
                new GetShardIteratorCommand({
                  StreamName: STREAM,
                  ShardId: shard.ShardId!,
                  ShardIteratorType: 'TRIM_HORIZON',
                }),
              )
            ).ShardIterator
            while (iterator && read < n) {
              const out = await client.send(
                new GetRecordsCommand({ ShardIterator: iterator, Limit: 10_000 }),
              )
              for (const r of out.Records ?? []) {
                const e = JSON.parse(Buffer.from(r.Data!).toString('utf8')) as ReturnType<
                  typeof event
                >
                const prev = latest.get(e.driver_id)
                if (!prev || e.event_timestamp > prev.ts)
                  latest.set(e.driver_id, { ts: e.event_timestamp, trips: e.trips })
              }
              read += out.Records?.length ?? 0
              if ((out.Records?.length ?? 0) === 0) break
              iterator = out.NextShardIterator
            }
          }),
        )
        if (read !== n) throw new Error(`read ${read} of ${n} events`)
      },
      check: () => {
        const d = new Digest()
        for (const key of [...latest.keys()].sort((a, b) => a - b))
          d.row([key, latest.get(key)!.trips])
        return d.result()
      },
    }
  },
}

export default {
  name: 'stream-ingest-kinesis',
  description:
    'Kinesis ingestion (kinesalite): 20k JSON events over 1,000 keys on 2 shards into SQLite online + the Parquet offline log via store.ingest(), against a bare GetRecords loop parsing the same records',
  defaultScale: 1,
  async run(ctx: BenchContext): Promise<BenchResult[]> {
    const n = Math.round(20_000 * ctx.scale)
    const kinesis = await startKinesalite()
    const dir = mkdtempSync(join(tmpdir(), 'larder-bench-kinesis-'))
    try {
      await kinesis.createStream(STREAM, 2)
      const records = []
      for (let i = 0; i < n; i++) {
        const e = event(i)
        records.push({ key: String(e.driver_id), data: JSON.stringify(e) })
      }
      await kinesis.put(STREAM, records)
      ctx.log(`stream-ingest-kinesis: ${n} events put on a 2-shard stream`)
      const args = { endpoint: kinesis.endpoint, n, dir }
      return await compare(ctx, {
        caseName: `${n} JSON events, ${KEYS} keys, 2 shards (kinesalite)`,
        module: import.meta.url,
        rows: n,
        extra: rateExtra(n),
        subjects: [
          { name: 'larder store.ingest (SQLite online + Parquet log)', factory: 'larder', args },
          {
            name: 'GetRecords loop + JSON.parse (raw)',
            baseline: true,
            factory: 'raw',
            args,
          },
        ],
      })
    } finally {
      await kinesis.close()
      rmSync(dir, { recursive: true, force: true })
    }
  },
} satisfies Benchmark
