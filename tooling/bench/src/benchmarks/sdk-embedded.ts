/**
 * The embedded default through the SDK (`FeatureStore`, file offline store + SQLite online
 * store), against the raw code a user would otherwise write, in the same run:
 * - materialize N rows (N entities) from Parquet into SQLite vs a raw batched upsert loop of
 *   the same rows (already in memory) with node:sqlite; peak RSS of the materialization;
 * - getOnlineFeatures for 1 entity x 50 features and 100 entities x 50 features vs the raw
 *   prepared SELECTs on the same SQLite table.
 * Scale 1 = 1M rows; `--scale 10` = 10M rows (flat memory check).
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { DatabaseSync } from 'node:sqlite'
import { DuckDBInstance } from '@duckdb/node-api'
import {
  type AnyDefinition,
  entity,
  FeatureStore,
  featureView,
  serializeEntityKey,
  t,
} from '@larder/core'
import { fileOfflineStore, fileSource } from '@larder/file'
import { columnName, sqliteOnlineStore, tableName } from '@larder/sqlite'
import type { Benchmark, BenchResult } from '../types.js'

const quantile = (sorted: number[], q: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN

/** Samples RSS while `fn` runs and returns the peak (MB). */
async function withPeakRss<T>(fn: () => Promise<T>): Promise<{ value: T; peakMb: number }> {
  let peak = process.memoryUsage.rss()
  const timer = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage.rss())
  }, 20)
  try {
    const value = await fn()
    peak = Math.max(peak, process.memoryUsage.rss())
    return { value, peakMb: peak / 2 ** 20 }
  } finally {
    clearInterval(timer)
  }
}

const bench: Benchmark = {
  name: 'sdk-embedded',
  description:
    'FeatureStore on the embedded default: materialize into SQLite and online reads, vs raw SQLite',
  defaultScale: 1,
  async run(ctx) {
    const n = Math.max(1000, Math.round(1_000_000 * ctx.scale))
    const dir = mkdtempSync(join(tmpdir(), 'larder-bench-sdk-'))
    const results: BenchResult[] = []
    try {
      // Data: one row per driver, 3 features; and a 50-feature table for reads.
      ctx.log(`writing ${n.toLocaleString('en-US')} rows of Parquet`)
      const duck = await DuckDBInstance.create(':memory:')
      const c = await duck.connect()
      await c.run("SET TimeZone = 'UTC'")
      await c.run(
        `COPY (SELECT i::BIGINT AS driver_id, TIMESTAMPTZ '2026-01-01 00:00:00+00' + to_seconds(i % 86400) AS event_timestamp,
           (hash(i) % 1000) / 1000.0::FLOAT AS conv_rate, (hash(i + 1) % 1000) / 1000.0::FLOAT AS acc_rate, (hash(i + 2) % 500)::BIGINT AS trips
           FROM range(${n}) r(i)) TO '${join(dir, 'stats.parquet')}' (FORMAT parquet)`,
      )
      const wide = 10_000
      const cols = Array.from(
        { length: 50 },
        (_, j) => `(hash(i * 50 + ${j}) % 10000) / 100.0::DOUBLE AS f${j}`,
      ).join(', ')
      await c.run(
        `COPY (SELECT i::BIGINT AS driver_id, TIMESTAMPTZ '2026-01-01 00:00:00+00' AS event_timestamp, ${cols} FROM range(${wide}) r(i)) TO '${join(dir, 'wide.parquet')}' (FORMAT parquet)`,
      )
      c.closeSync()
      duck.closeSync()

      const driver = entity({ name: 'driver', joinKeys: ['driver_id'], valueType: t.int64 })
      const stats = featureView({
        name: 'stats',
        entities: [driver],
        schema: { conv_rate: t.float32, acc_rate: t.float32, trips: t.int64 },
        source: fileSource({
          name: 'stats',
          path: 'stats.parquet',
          timestampField: 'event_timestamp',
        }),
      })
      const wideSchema = Object.fromEntries(
        Array.from({ length: 50 }, (_, j) => [`f${j}`, t.float64]),
      )
      const wideView = featureView({
        name: 'wide',
        entities: [driver],
        schema: wideSchema,
        source: fileSource({
          name: 'wide',
          path: 'wide.parquet',
          timestampField: 'event_timestamp',
        }),
      })
      const definitions = ([driver, stats, wideView] as AnyDefinition[]).map((definition) => ({
        definition,
        origin: 'bench',
      }))
      const store = new FeatureStore({
        repoPath: dir,
        config: {
          project: 'bench',
          offlineStore: fileOfflineStore(),
          onlineStore: sqliteOnlineStore({ path: 'online.db' }),
        },
        definitions,
      })
      await store.apply()

      // 1. Materialization, timed once per run on a fresh online table.
      const caseName = `materialize ${n.toLocaleString('en-US')} rows into SQLite`
      const larderTimes: number[] = []
      let larderPeak = 0
      for (let r = 0; r < ctx.runs; r++) {
        await store.config.onlineStore.update({ keep: [], drop: [stats.spec], entities: [] })
        await store.config.onlineStore.update({ keep: [stats.spec], drop: [], entities: [] })
        globalThis.gc?.()
        const t0 = performance.now()
        const { peakMb } = await withPeakRss(() =>
          store.materialize('2025-12-31T00:00:00Z', '2026-01-02T00:00:00Z', { views: ['stats'] }),
        )
        larderTimes.push(performance.now() - t0)
        larderPeak = Math.max(larderPeak, peakMb)
        ctx.log(
          `larder materialize run ${r + 1}: ${larderTimes.at(-1)!.toFixed(0)} ms, peak RSS ${peakMb.toFixed(0)} MB`,
        )
      }
      results.push({
        case: caseName,
        subject: 'larder FeatureStore.materialize (Parquet -> SQLite)',
        baseline: false,
        timesMs: larderTimes,
        peakRssMb: larderPeak,
        rows: n,
        extra: { rowsPerS: Math.round(n / (Math.min(...larderTimes) / 1000)) },
      })

      // Raw: the same rows in memory, a prepared upsert in 10k-row transactions.
      const keys: Uint8Array[] = new Array(n)
      for (let i = 0; i < n; i++)
        keys[i] = serializeEntityKey([{ name: 'driver_id', valueType: 'int64', value: BigInt(i) }])
      const raw = new DatabaseSync(join(dir, 'raw.db'))
      raw.exec('PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL')
      const rawTimes: number[] = []
      for (let r = 0; r < ctx.runs; r++) {
        raw.exec(
          'DROP TABLE IF EXISTS raw; CREATE TABLE raw (k BLOB PRIMARY KEY NOT NULL, event_ts INTEGER NOT NULL, created_ts INTEGER, conv_rate REAL, acc_rate REAL, trips INTEGER) WITHOUT ROWID',
        )
        const upsert = raw.prepare(
          'INSERT INTO raw (k, event_ts, created_ts, conv_rate, acc_rate, trips) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (k) DO UPDATE SET event_ts = excluded.event_ts, created_ts = excluded.created_ts, conv_rate = excluded.conv_rate, acc_rate = excluded.acc_rate, trips = excluded.trips WHERE excluded.event_ts > raw.event_ts OR (excluded.event_ts = raw.event_ts AND coalesce(excluded.created_ts, -1) > coalesce(raw.created_ts, -1))',
        )
        const t0 = performance.now()
        for (let start = 0; start < n; start += 10_000) {
          raw.exec('BEGIN')
          const end = Math.min(n, start + 10_000)
          for (let i = start; i < end; i++)
            upsert.run(
              keys[i]!,
              1767225600000000 + (i % 86400) * 1_000_000,
              null,
              (i % 1000) / 1000,
              (i % 997) / 1000,
              BigInt(i % 500),
            )
          raw.exec('COMMIT')
        }
        rawTimes.push(performance.now() - t0)
        ctx.log(`raw upsert run ${r + 1}: ${rawTimes.at(-1)!.toFixed(0)} ms`)
      }
      results.push({
        case: caseName,
        subject: 'raw node:sqlite batched upsert (rows in memory)',
        baseline: true,
        timesMs: rawTimes,
        peakRssMb: process.memoryUsage.rss() / 2 ** 20,
        rows: n,
        extra: { rowsPerS: Math.round(n / (Math.min(...rawTimes) / 1000)) },
      })
      raw.close()

      // 2. Online reads: 1 x 50 and 100 x 50.
      await store.materialize('2025-12-31T00:00:00Z', '2026-01-02T00:00:00Z', { views: ['wide'] })
      const refs = Array.from({ length: 50 }, (_, j) => `wide:f${j}`)
      const db = new DatabaseSync(join(dir, 'online.db'), { readOnly: true })
      const select = db.prepare(
        `SELECT event_ts, ${Array.from({ length: 50 }, (_, j) => `"${columnName(`f${j}`, 'float64')}"`).join(', ')} FROM "${tableName('bench', 'wide')}" WHERE entity_key = ?`,
      )
      const wideKeys = Array.from({ length: wide }, (_, i) =>
        serializeEntityKey([{ name: 'driver_id', valueType: 'int64', value: BigInt(i) }]),
      )
      for (const rowsPerRead of [1, 100]) {
        const iterations = rowsPerRead === 1 ? 5000 : 500
        const name = `online read ${rowsPerRead} entit${rowsPerRead === 1 ? 'y' : 'ies'} x 50 features`
        const sdk: number[] = []
        const rawLat: number[] = []
        for (let it = 0; it < iterations + 50; it++) {
          const ids = Array.from({ length: rowsPerRead }, (_, k) => (it * 37 + k * 101) % wide)
          const t0 = performance.now()
          const res = await store.getOnlineFeatures({
            entities: { driver_id: ids },
            features: refs,
          })
          res.toJSON()
          const t1 = performance.now()
          const out = ids.map((id) => select.get(wideKeys[id]!))
          JSON.stringify(out)
          const t2 = performance.now()
          if (it >= 50) {
            sdk.push(t1 - t0)
            rawLat.push(t2 - t1)
          }
        }
        const summary = (lat: number[]) => {
          const s = [...lat].sort((a, b) => a - b)
          return { p50Ms: quantile(s, 0.5), p99Ms: quantile(s, 0.99) }
        }
        const a = summary(sdk)
        const b = summary(rawLat)
        ctx.log(
          `${name}: SDK p50 ${a.p50Ms.toFixed(3)} p99 ${a.p99Ms.toFixed(3)} ms; raw p50 ${b.p50Ms.toFixed(3)} p99 ${b.p99Ms.toFixed(3)} ms`,
        )
        results.push({
          case: name,
          subject: 'larder getOnlineFeatures (SDK, JSON out)',
          baseline: false,
          timesMs: sdk,
          peakRssMb: process.memoryUsage.rss() / 2 ** 20,
          rows: rowsPerRead,
          extra: { ...a, p99RatioToRaw: a.p99Ms / b.p99Ms },
        })
        results.push({
          case: name,
          subject: 'raw prepared SELECT per entity (JSON out)',
          baseline: true,
          timesMs: rawLat,
          peakRssMb: process.memoryUsage.rss() / 2 ** 20,
          rows: rowsPerRead,
          extra: b,
        })
      }
      db.close()
      await store.close()
      return results
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  },
}

export default bench
