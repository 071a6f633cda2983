/**
 * The embedded default through the SDK (`FeatureStore`, file offline store + SQLite online
 * store), against what a user would otherwise write with the same tools, doing the same work:
 *
 * - materialize N rows (N entities, 3 features) from Parquet into SQLite. Raw: DuckDB reads
 *   the same Parquet file with the same time range and keeps the latest row per key, the rows
 *   stream into a prepared node:sqlite upsert with the write rule, in transactions of 65,536
 *   rows (the store's record batch), on the store's file settings (WAL, synchronous FULL,
 *   64 MiB cache). Check: the whole table read back in key order.
 * - getOnlineFeatures for 1 entity x 50 features and 100 entities x 50 features, serialized
 *   to Feast's JSON on both sides. Raw: a prepared SELECT returning arrays (as the store's),
 *   statuses and timestamps built by hand, `JSON.stringify`. Check: the JSON texts, byte for
 *   byte.
 *
 * Every subject runs in its own process (harness.ts). Scale 1 = 1M rows; `--scale 10` = 10M
 * rows (flat memory check).
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
  formatTime,
  serializeEntityKey,
  t,
} from '@larder/core'
import { fileOfflineStore, fileSource } from '@larder/file'
import { columnName, quoteIdentifier, sqliteOnlineStore, tableName } from '@larder/sqlite'
import { Digest } from '../digest.js'
import { compare, latencyExtra, rateExtra, type SubjectFactory } from '../harness.js'
import type { Benchmark, BenchResult } from '../types.js'

const PROJECT = 'bench'
const WIDE = 10_000
const START = '2025-12-31T00:00:00Z'
const END = '2026-01-02T00:00:00Z'
const STATS_FEATURES = [
  ['conv_rate', 'float32'],
  ['acc_rate', 'float32'],
  ['trips', 'int64'],
] as const
const WIDE_FEATURES = Array.from({ length: 50 }, (_, j) => `f${j}`)

function openStore(dir: string): FeatureStore {
  const driver = entity({ name: 'driver', joinKeys: ['driver_id'], valueType: t.int64 })
  const stats = featureView({
    name: 'stats',
    entities: [driver],
    schema: { conv_rate: t.float32, acc_rate: t.float32, trips: t.int64 },
    source: fileSource({ name: 'stats', path: 'stats.parquet', timestampField: 'event_timestamp' }),
  })
  const wide = featureView({
    name: 'wide',
    entities: [driver],
    schema: Object.fromEntries(WIDE_FEATURES.map((f) => [f, t.float64])),
    source: fileSource({ name: 'wide', path: 'wide.parquet', timestampField: 'event_timestamp' }),
  })
  return new FeatureStore({
    repoPath: dir,
    config: {
      project: PROJECT,
      offlineStore: fileOfflineStore(),
      onlineStore: sqliteOnlineStore({ path: 'online.db' }),
    },
    definitions: ([driver, stats, wide] as AnyDefinition[]).map((definition) => ({
      definition,
      origin: 'bench',
    })),
  })
}

/** The check of a materialized table: every row in key order (key, event ts, features). */
function tableCheck(path: string, table: string, columns: string[]) {
  const db = new DatabaseSync(path, { readOnly: true })
  try {
    const stmt = db.prepare(
      `SELECT entity_key, event_ts, created_ts, ${columns.join(', ')} FROM ${table} ORDER BY entity_key`,
    )
    stmt.setReadBigInts(true)
    stmt.setReturnArrays(true)
    const d = new Digest()
    for (const row of stmt.iterate()) d.row(row as unknown as unknown[])
    return d.result()
  } finally {
    db.close()
  }
}

const storeColumns = STATS_FEATURES.map(([f, type]) => quoteIdentifier(columnName(f, type)))

/** The ids read by read `it` of `rowsPerRead` entities. */
function idsOf(it: number, rowsPerRead: number): number[] {
  return Array.from({ length: rowsPerRead }, (_, k) => (it * 37 + k * 101) % WIDE)
}

/** Subjects, each built in its own process. */
export const subjects: Record<string, SubjectFactory> = {
  materializeLarder: ({ dir }) => {
    const store = openStore(dir as string)
    const online = store.config.onlineStore
    let stats: Parameters<typeof online.update>[0]['keep'][number] | undefined
    return {
      async before() {
        stats ??= (await store.registryIndex()).view('stats')
        await online.update({ keep: [], drop: [stats], entities: [] })
        await online.update({ keep: [stats], drop: [], entities: [] })
      },
      async run() {
        await store.materialize(START, END, { views: ['stats'] })
      },
      check: () =>
        tableCheck(
          join(dir as string, 'online.db'),
          quoteIdentifier(tableName(PROJECT, 'stats')),
          storeColumns,
        ),
      close: () => store.close(),
    }
  },

  materializeRaw: async ({ dir }) => {
    const path = join(dir as string, 'raw.db')
    const duck = await DuckDBInstance.create(':memory:')
    const conn = await duck.connect()
    await conn.run("SET TimeZone = 'UTC'")
    let db: DatabaseSync | undefined
    return {
      before() {
        db?.close()
        rmSync(path, { force: true })
        rmSync(`${path}-wal`, { force: true })
        rmSync(`${path}-shm`, { force: true })
        db = new DatabaseSync(path)
        db.exec('PRAGMA journal_mode = WAL')
        db.exec('PRAGMA synchronous = FULL')
        db.exec('PRAGMA cache_size = -65536')
        db.exec(
          'CREATE TABLE raw (entity_key BLOB PRIMARY KEY NOT NULL, event_ts INTEGER NOT NULL, created_ts INTEGER, conv_rate REAL, acc_rate REAL, trips INTEGER) WITHOUT ROWID',
        )
      },
      async run() {
        const sqlite = db!
        const upsert = sqlite.prepare(
          'INSERT INTO raw (entity_key, event_ts, created_ts, conv_rate, acc_rate, trips) VALUES (?, ?, ?, ?, ?, ?) ' +
            'ON CONFLICT (entity_key) DO UPDATE SET event_ts = excluded.event_ts, created_ts = excluded.created_ts, conv_rate = excluded.conv_rate, acc_rate = excluded.acc_rate, trips = excluded.trips ' +
            'WHERE excluded.event_ts > raw.event_ts OR (excluded.event_ts = raw.event_ts AND ifnull(excluded.created_ts, -9223372036854775808) > ifnull(raw.created_ts, -9223372036854775808))',
        )
        const result = await conn.stream(
          `SELECT driver_id, epoch_us(event_timestamp) AS ts, conv_rate, acc_rate, trips
           FROM read_parquet('${join(dir as string, 'stats.parquet')}')
           WHERE event_timestamp BETWEEN TIMESTAMPTZ '${START}' AND TIMESTAMPTZ '${END}'
           QUALIFY row_number() OVER (PARTITION BY driver_id ORDER BY event_timestamp DESC) = 1`,
        )
        let inTx = 0
        sqlite.exec('BEGIN IMMEDIATE')
        for (;;) {
          const chunk = await result.fetchChunk()
          if (!chunk || chunk.rowCount === 0) break
          const [ids, ts, conv, acc, trips] = chunk.getColumns() as [
            bigint[],
            bigint[],
            number[],
            number[],
            bigint[],
          ]
          for (let i = 0; i < ids.length; i++) {
            const key = serializeEntityKey([
              { name: 'driver_id', valueType: 'int64', value: ids[i]! },
            ])
            upsert.run(key, ts[i]!, null, conv[i]!, acc[i]!, trips[i]!)
            if (++inTx === 65_536) {
              sqlite.exec('COMMIT')
              sqlite.exec('BEGIN IMMEDIATE')
              inTx = 0
            }
          }
        }
        sqlite.exec('COMMIT')
      },
      check: () => tableCheck(path, 'raw', ['conv_rate', 'acc_rate', 'trips']),
      close() {
        db?.close()
        conn.closeSync()
        duck.closeSync()
      },
    }
  },

  readLarder: ({ dir, rowsPerRead, iterations }) => {
    const store = openStore(dir as string)
    const refs = WIDE_FEATURES.map((f) => `wide:${f}`)
    let d = new Digest()
    return {
      async run() {
        d = new Digest()
        const samplesMs: number[] = []
        for (let it = 0; it < (iterations as number); it++) {
          const ids = idsOf(it, rowsPerRead as number)
          const t0 = performance.now()
          const res = await store.getOnlineFeatures({
            entities: { driver_id: ids },
            features: refs,
          })
          const json = JSON.stringify(res.toJSON())
          samplesMs.push(performance.now() - t0)
          d.text(json, ids.length)
        }
        return { samplesMs }
      },
      check: () => d.result(),
      close: () => store.close(),
    }
  },

  readRaw: ({ dir, rowsPerRead, iterations }) => {
    const db = new DatabaseSync(join(dir as string, 'online.db'), { readOnly: true })
    const select = db.prepare(
      `SELECT event_ts, ${WIDE_FEATURES.map((f) => quoteIdentifier(columnName(f, 'float64'))).join(', ')} FROM ${quoteIdentifier(tableName(PROJECT, 'wide'))} WHERE entity_key = ?`,
    )
    select.setReturnArrays(true)
    select.setReadBigInts(true)
    const names = ['driver_id', ...WIDE_FEATURES]
    const zero = formatTime(0n)
    let d = new Digest()
    /** What a user writes: one SELECT per entity, then Feast's JSON by hand. */
    const read = (ids: number[]): string => {
      const n = ids.length
      const rows = new Array<unknown[] | undefined>(n)
      const times = new Array<string>(n)
      for (let i = 0; i < n; i++) {
        const key = serializeEntityKey([
          { name: 'driver_id', valueType: 'int64', value: BigInt(ids[i]!) },
        ])
        const r = select.get(key) as unknown as unknown[] | undefined
        rows[i] = r
        times[i] = r ? formatTime(r[0] as bigint) : zero
      }
      const results = [
        {
          values: ids,
          statuses: new Array(n).fill('PRESENT'),
          event_timestamps: new Array(n).fill(zero),
        },
      ]
      for (let j = 1; j <= WIDE_FEATURES.length; j++) {
        const values = new Array(n)
        const statuses = new Array(n)
        for (let i = 0; i < n; i++) {
          const r = rows[i]
          const v = r ? (r[j] ?? null) : null
          values[i] = v
          statuses[i] = r ? (v === null ? 'NULL_VALUE' : 'PRESENT') : 'NOT_FOUND'
        }
        results.push({ values, statuses, event_timestamps: times })
      }
      return JSON.stringify({ metadata: { feature_names: names }, results })
    }
    return {
      async run() {
        d = new Digest()
        const samplesMs: number[] = []
        for (let it = 0; it < (iterations as number); it++) {
          const ids = idsOf(it, rowsPerRead as number)
          const t0 = performance.now()
          const json = read(ids)
          samplesMs.push(performance.now() - t0)
          d.text(json, ids.length)
        }
        return { samplesMs }
      },
      check: () => d.result(),
      close: () => db.close(),
    }
  },
}

const bench: Benchmark = {
  name: 'sdk-embedded',
  description:
    'FeatureStore on the embedded default: materialize Parquet -> SQLite and online reads to JSON, vs the same work written by hand (DuckDB + node:sqlite)',
  defaultScale: 1,
  async run(ctx) {
    const n = Math.max(1000, Math.round(1_000_000 * ctx.scale))
    const dir = mkdtempSync(join(tmpdir(), 'larder-bench-sdk-'))
    const results: BenchResult[] = []
    try {
      ctx.log(`writing ${n.toLocaleString('en-US')} rows of Parquet`)
      const duck = await DuckDBInstance.create(':memory:')
      const c = await duck.connect()
      await c.run("SET TimeZone = 'UTC'")
      await c.run(
        `COPY (SELECT i::BIGINT AS driver_id, TIMESTAMPTZ '2026-01-01 00:00:00+00' + to_seconds(i % 86400) AS event_timestamp,
           (hash(i) % 1000) / 1000.0::FLOAT AS conv_rate, (hash(i + 1) % 1000) / 1000.0::FLOAT AS acc_rate, (hash(i + 2) % 500)::BIGINT AS trips
           FROM range(${n}) r(i)) TO '${join(dir, 'stats.parquet')}' (FORMAT parquet)`,
      )
      const cols = WIDE_FEATURES.map(
        (f, j) => `(hash(i * 50 + ${j}) % 10000) / 100.0::DOUBLE AS ${f}`,
      ).join(', ')
      await c.run(
        `COPY (SELECT i::BIGINT AS driver_id, TIMESTAMPTZ '2026-01-01 00:00:00+00' AS event_timestamp, ${cols} FROM range(${WIDE}) r(i)) TO '${join(dir, 'wide.parquet')}' (FORMAT parquet)`,
      )
      c.closeSync()
      duck.closeSync()
      const store = openStore(dir)
      await store.apply()
      await store.materialize(START, END, { views: ['wide'] })
      await store.close()

      results.push(
        ...(await compare(ctx, {
          caseName: `materialize ${n.toLocaleString('en-US')} rows Parquet -> SQLite`,
          module: import.meta.url,
          rows: n,
          extra: rateExtra(n),
          subjects: [
            {
              name: 'larder FeatureStore.materialize',
              factory: 'materializeLarder',
              args: { dir },
            },
            {
              name: 'raw DuckDB latest-per-key -> node:sqlite upsert',
              baseline: true,
              factory: 'materializeRaw',
              args: { dir },
            },
          ],
        })),
      )
      for (const rowsPerRead of [1, 100]) {
        // 20 short rounds or more (load from other processes falls on both sides alike).
        const rounds = Math.max(20, ctx.runs)
        const iterations = Math.ceil((rowsPerRead === 1 ? 20_000 : 2_000) / rounds)
        const args = { dir, rowsPerRead, iterations }
        results.push(
          ...(await compare(ctx, {
            caseName: `online read ${rowsPerRead} x 50 features to JSON (${rounds} rounds of ${iterations} reads, timesMs per read)`,
            module: import.meta.url,
            rows: iterations,
            unit: 'op',
            minRuns: rounds,
            extra: latencyExtra,
            subjects: [
              {
                name: 'larder getOnlineFeatures + JSON.stringify(toJSON())',
                factory: 'readLarder',
                args,
              },
              {
                name: 'raw prepared SELECT (arrays) + Feast JSON by hand',
                baseline: true,
                factory: 'readRaw',
                args,
              },
            ],
          })),
        )
      }
      return results
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  },
}

export default bench
