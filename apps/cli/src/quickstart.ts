#!/usr/bin/env node
/**
 * `pnpm quickstart`: Larder's tour on real data, in a temporary repo made by `larder init`.
 * 1. apply the driver example; 2. build a training set with a point-in-time join;
 * 3. materialize incrementally; 4. read online features; 5. a second example on Feast's
 * credit-scoring data (loan applications joined with zipcode features, TTL 3650 days);
 * 6. streaming: trip events into the Kafka test broker, `larder ingest`, the values online
 * (inside the monorepo, where the test broker is).
 */
import { cp, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { installRepoResolution } from './hooks.js'
import { quietKafkajsTimerWarning } from './warnings.js'

quietKafkajsTimerWarning()
installRepoResolution()
const { FeatureStore } = await import('@larder/core')
const { initRepo, larderCommand } = await import('./commands/init.js')
const { errorLine, table } = await import('./output.js')
const { ProgressPrinter } = await import('./progress.js')

const CREDIT_DATA = fileURLToPath(new URL('../quickstart-data', import.meta.url))
const out = (s = '') => process.stdout.write(`${s}\n`)
const step = (n: number, title: string) => out(`\n== ${n}. ${title}`)

const CREDIT_CONFIG = `import { defineConfig } from '@larder/core'
import { fileOfflineStore } from '@larder/file'
import { sqliteOnlineStore } from '@larder/sqlite'

export default defineConfig({
  project: 'credit_scoring',
  offlineStore: fileOfflineStore(),
  onlineStore: sqliteOnlineStore({ path: 'data/online.db' }),
})
`

const CREDIT_FEATURES = `import { entity, featureView, t } from '@larder/core'
import { fileSource } from '@larder/file'

export const zipcode = entity({ name: 'zipcode', joinKeys: ['zipcode'], valueType: t.int64 })

export const zipcodeFeatures = featureView({
  name: 'zipcode_features',
  entities: [zipcode],
  ttl: { days: 3650 },
  schema: {
    city: t.string, state: t.string, location_type: t.string,
    tax_returns_filed: t.int64, population: t.int64, total_wages: t.int64,
  },
  source: fileSource({
    name: 'zipcode_table', path: 'data/zipcode_table.parquet',
    timestampField: 'event_timestamp', createdTimestampColumn: 'created_timestamp',
  }),
})
`

const STREAM_CONFIG = CREDIT_CONFIG.replace("'credit_scoring'", "'streaming'")

const streamFeatures = (
  brokers: string[],
) => `import { entity, streamFeatureView, t } from '@larder/core'
import { fileSource } from '@larder/file'
import { jsonFormat } from '@larder/formats'
import { kafkaSource } from '@larder/kafka'

export const driver = entity({ name: 'driver', joinKeys: ['driver_id'], valueType: t.int64 })

export const trips = kafkaSource({
  name: 'driver_trips_stream', bootstrapServers: ${JSON.stringify(brokers)}, topic: 'driver_trips',
  format: jsonFormat(), timestampField: 'event_timestamp',
  batchSource: fileSource({ name: 'driver_trips_log', path: 'data/driver_trips_log', timestampField: 'event_timestamp' }),
})

export const driverTrips = streamFeatureView({
  name: 'driver_trips', entities: [driver], ttl: { days: 1 },
  schema: { trips_today: t.int64, rating: t.float64 }, source: trips,
})
`

/** Step 6: events into the Kafka test broker, ingestion, the values online. */
async function streaming(root: string): Promise<void> {
  let emulators: typeof import('@larder/emulators')
  try {
    emulators = await import('@larder/emulators')
  } catch {
    out('(skipped: the Kafka test broker comes with the monorepo, tooling/emulators)')
    return
  }
  const { Kafka, logLevel } = await import('kafkajs')
  const { ingestSummaryLine } = await import('./commands/ingest.js')
  const broker = await emulators.startKafkaTestBroker()
  const repo = join(root, 'stream_repo')
  try {
    await broker.createTopic('driver_trips', 1)
    await mkdir(repo, { recursive: true })
    await writeFile(join(repo, 'larder.config.ts'), STREAM_CONFIG)
    await writeFile(join(repo, 'features.ts'), streamFeatures(broker.brokers))
    const minutes = (m: number) => new Date(Date.now() - m * 60_000).toISOString()
    const events = [
      { driver_id: 1001, event_timestamp: minutes(2), trips_today: 14, rating: 4.8 },
      { driver_id: 1002, event_timestamp: minutes(1), trips_today: 9, rating: 4.6 },
      // Arrives last but is older: the write rule keeps 1001's newer value online.
      { driver_id: 1001, event_timestamp: minutes(30), trips_today: 11, rating: 4.7 },
    ]
    const kafka = new Kafka({ brokers: broker.brokers, logLevel: logLevel.NOTHING })
    const producer = kafka.producer()
    await producer.connect()
    await producer.send({
      topic: 'driver_trips',
      messages: [
        ...events.map((e) => ({ key: String(e.driver_id), value: JSON.stringify(e) })),
        { key: '1003', value: 'not json' },
      ],
    })
    await producer.disconnect()
    out(
      `4 events sent to topic driver_trips on the Kafka test broker (${broker.brokers[0]}), one of them garbage`,
    )
    const store = await FeatureStore.open(repo)
    try {
      out((await store.apply()).text)
      const stop = new AbortController()
      let read = 0
      const summary = await store.ingest({
        signal: stop.signal,
        onBatch: (b) => {
          read += b.records
          if (read >= 4) stop.abort()
        },
      })
      for (const s of summary) out(ingestSummaryLine(s))
      const online = await store.getOnlineFeatures({
        entities: { driver_id: [1001, 1002] },
        features: ['driver_trips:trips_today', 'driver_trips:rating'],
      })
      out(table(online.toRows()))
    } finally {
      await store.close()
    }
  } finally {
    await broker.close()
  }
}

async function main(): Promise<void> {
  const started = performance.now()
  const root = await mkdtemp(join(tmpdir(), 'larder-quickstart-'))
  const keep = process.argv.includes('--keep')
  try {
    const repo = await initRepo(join(root, 'driver_repo'))
    out(`Created a feature repo with Feast's driver data in ${repo}`)
    const store = await FeatureStore.open(repo)
    try {
      step(1, 'larder apply')
      out((await store.apply()).text)

      step(2, 'Training set: the driver stats each label row would have seen (point-in-time join)')
      const now = Date.now()
      const hours = (h: number) => new Date(now - h * 3_600_000)
      const entityDf = [
        {
          driver_id: 1001,
          event_timestamp: hours(2.2),
          label_driver_reported_satisfaction: 1,
          val_to_add: 1,
          val_to_add_2: 10,
        },
        {
          driver_id: 1002,
          event_timestamp: hours(5.8),
          label_driver_reported_satisfaction: 5,
          val_to_add: 2,
          val_to_add_2: 20,
        },
        {
          driver_id: 1003,
          event_timestamp: hours(0.5),
          label_driver_reported_satisfaction: 3,
          val_to_add: 3,
          val_to_add_2: 30,
        },
        {
          driver_id: 1001,
          event_timestamp: hours(30),
          label_driver_reported_satisfaction: 2,
          val_to_add: 4,
          val_to_add_2: 40,
        },
      ]
      const job = await store.getHistoricalFeatures({
        entityDf,
        features: [
          'driver_hourly_stats:conv_rate',
          'driver_hourly_stats:acc_rate',
          'driver_hourly_stats:avg_daily_trips',
          'transformed_conv_rate:conv_rate_plus_val1',
        ],
      })
      out(table(await job.toRows()))

      step(3, 'larder materialize-incremental now')
      const progress = new ProgressPrinter(process.stdout)
      const results = await store.materializeIncremental('now', { onProgress: progress.update })
      out(
        `${results.reduce((a, r) => a + r.rowsWritten, 0)} rows written to the online store (SQLite)`,
      )

      step(4, 'Online features for drivers 1001, 1002, 1003 and an unknown 9999')
      const online = await store.getOnlineFeatures({
        entities: {
          driver_id: [1001, 1002, 1003, 9999],
          val_to_add: [1, 2, 3, 4],
          val_to_add_2: [10, 20, 30, 40],
        },
        featureService: 'driver_activity',
      })
      out(table(online.toRows()))
      out(
        `statuses of conv_rate: ${online.columns.find((c) => c.name === 'conv_rate')?.statuses.join(', ')}`,
      )
    } finally {
      await store.close()
    }

    step(
      5,
      "Credit scoring: Feast's loan applications joined with zipcode features (TTL 3650 days)",
    )
    const credit = join(root, 'credit_repo')
    await cp(CREDIT_DATA, join(credit, 'data'), { recursive: true })
    await writeFile(join(credit, 'larder.config.ts'), CREDIT_CONFIG)
    await writeFile(join(credit, 'features.ts'), CREDIT_FEATURES)
    const creditStore = await FeatureStore.open(credit)
    try {
      out((await creditStore.apply()).text)
      const began = performance.now()
      const training = await (
        await creditStore.getHistoricalFeatures({
          entityDf: { path: join(credit, 'data', 'loan_table.parquet') },
          features: [
            'zipcode_features:city',
            'zipcode_features:state',
            'zipcode_features:population',
            'zipcode_features:total_wages',
          ],
        })
      ).toArrow()
      const ms = Math.round(performance.now() - began)
      const city = training.getChild('city')!
      let matched = 0
      for (let i = 0; i < city.length; i++) if (city.get(i) !== null) matched++
      out(
        `${training.numRows.toLocaleString('en-US')} loan rows x ${training.numCols} columns in ${ms} ms; ${matched.toLocaleString('en-US')} rows found zipcode features`,
      )
      const head = (await import('@larder/core')).tableToRows(training.slice(0, 5))
      out(
        table(head, [
          'loan_id',
          'zipcode',
          'event_timestamp',
          'loan_amnt',
          'loan_status',
          'city',
          'state',
          'population',
          'total_wages',
        ]),
      )
    } finally {
      await creditStore.close()
    }
    step(6, 'Streaming: larder ingest from Kafka (the test broker), then the values online')
    await streaming(root)
    out(
      `\nDone in ${((performance.now() - started) / 1000).toFixed(1)} s.${keep ? ` Repos kept in ${root}` : ''}`,
    )
    out(`Next: ${larderCommand()} init my_repo, then edit my_repo/features.ts (see README.md).`)
  } finally {
    if (!keep) await rm(root, { recursive: true, force: true })
  }
}

try {
  await main()
} catch (err) {
  process.stderr.write(`${errorLine(err)}\n`)
  process.exitCode = 1
}
