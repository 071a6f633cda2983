/**
 * A real feature repo on a temp dir for the server tests: Parquet files written with
 * @larder/file, the registry applied, the SQLite online store materialized.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  type AnyDefinition,
  entity,
  FeatureStore,
  featureService,
  featureView,
  formatTime,
  onDemandFeatureView,
  pushSource,
  requestSource,
  t,
  toArrowVector,
} from '@larder/core'
import { fileOfflineStore, fileSource, writeTableFile } from '@larder/file'
import { sqliteOnlineStore } from '@larder/sqlite'
import * as arrow from 'apache-arrow'
import { createFeatureServer, type FeatureServer, type FeatureServerOptions } from '../src/index.js'

export const BIG = 2n ** 60n + 1n // beyond 2^53: must survive JSON exactly
export const HOUR = 3_600_000_000n

export const driver = entity({ name: 'driver', joinKeys: ['driver_id'], valueType: t.int64 })
export const stats = featureView({
  name: 'driver_hourly_stats',
  entities: [driver],
  ttl: 0,
  schema: { conv_rate: t.float32, acc_rate: t.float32, trips: t.int64 },
  source: fileSource({
    name: 'driver_stats',
    path: 'data/driver_stats.parquet',
    timestampField: 'event_timestamp',
    createdTimestampColumn: 'created',
  }),
})
const pushBatch = fileSource({
  name: 'driver_push_batch',
  path: 'data/driver_push.parquet',
  timestampField: 'event_timestamp',
})
export const push = pushSource({ name: 'driver_push', batchSource: pushBatch })
export const fresh = featureView({
  name: 'driver_fresh',
  entities: [driver],
  schema: { rating: t.float64, big: t.int64, payload: t.bytes },
  source: push,
})
export const req = requestSource({ name: 'req', schema: { bonus: t.float64 } })
export const boosted = onDemandFeatureView({
  name: 'boosted',
  sources: [stats, req],
  schema: { boosted_rate: t.float64 },
  transform: (c) => ({
    boosted_rate: c.conv_rate.map((v, i) => (v === null ? null : v + (c.bonus[i] ?? 0))),
  }),
})
export const svc = featureService({ name: 'driver_svc', features: [stats] })

export const DEFINITIONS: AnyDefinition[] = [driver, stats, push, fresh, req, boosted, svc]

/** Whole hours: the data's latest row is one hour before now. */
export function baseTime(): bigint {
  const now = BigInt(Date.now()) * 1000n
  return now - (now % HOUR) - 3n * HOUR
}

async function writeData(dir: string, base: bigint): Promise<void> {
  mkdirSync(join(dir, 'data'), { recursive: true })
  const rows: Array<[bigint, bigint, number, number, bigint]> = [
    [1001n, 0n, 0.5, 0.75, 10n],
    [1001n, 1n, 0.25, 0.5, 11n],
    [1002n, 1n, 0.125, 0.25, BIG],
    [BIG, 2n, 0.875, 1, 7n],
  ]
  const ts = rows.map((r) => base + r[1] * HOUR)
  await writeTableFile(
    new arrow.Table({
      driver_id: toArrowVector(
        rows.map((r) => r[0]),
        'int64',
      ),
      event_timestamp: toArrowVector(ts, 'timestamp'),
      created: toArrowVector(ts, 'timestamp'),
      conv_rate: toArrowVector(
        rows.map((r) => r[2]),
        'float32',
      ),
      acc_rate: toArrowVector(
        rows.map((r) => r[3]),
        'float32',
      ),
      trips: toArrowVector(
        rows.map((r) => r[4]),
        'int64',
      ),
    }),
    join(dir, 'data/driver_stats.parquet'),
  )
  await writeTableFile(
    new arrow.Table({
      driver_id: toArrowVector([1n], 'int64'),
      event_timestamp: toArrowVector([base], 'timestamp'),
      rating: toArrowVector([1.5], 'float64'),
      big: toArrowVector([1n], 'int64'),
      payload: toArrowVector([new Uint8Array([0])], 'bytes'),
    }),
    join(dir, 'data/driver_push.parquet'),
  )
}

/** Opens a store on `dir` with the given definitions (another process's view of the repo). */
export function openStore(
  dir: string,
  definitions: AnyDefinition[] = DEFINITIONS,
  registryTtlSeconds = 60,
): FeatureStore {
  return new FeatureStore({
    repoPath: dir,
    config: {
      project: 'server_test',
      registry: 'data/registry.json',
      offlineStore: fileOfflineStore(),
      onlineStore: sqliteOnlineStore({ path: 'data/online.db' }),
    },
    definitions: definitions.map((definition) => ({ definition, origin: 'test' })),
    registryTtlSeconds,
  })
}

/** A fresh repo: data written, definitions applied; the batch view not yet materialized. */
export async function makeRepo(): Promise<{ dir: string; base: bigint }> {
  const dir = mkdtempSync(join(tmpdir(), 'larder-server-'))
  const base = baseTime()
  await writeData(dir, base)
  const store = openStore(dir)
  await store.apply()
  await store.close()
  return { dir, base }
}

/**
 * A fresh repo with the batch view materialized and a server over it on a free port (no
 * logger). `close()` stops the server and removes the repo.
 */
export async function serveRepo(options: FeatureServerOptions = {}): Promise<{
  dir: string
  base: bigint
  store: FeatureStore
  server: FeatureServer
  close(): Promise<void>
}> {
  const { dir, base } = await makeRepo()
  const store = openStore(dir)
  await store.materialize(formatTime(base - HOUR), formatTime(base + 10n * HOUR))
  const server = await createFeatureServer(store, { port: 0, logger: false, ...options })
  return {
    dir,
    base,
    store,
    server,
    async close() {
      await server.close()
      rmSync(dir, { recursive: true, force: true })
    },
  }
}
