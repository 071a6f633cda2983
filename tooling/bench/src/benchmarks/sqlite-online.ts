/**
 * `@larder/sqlite` against the same driver (`node:sqlite`) driven by hand, on the same file
 * settings (WAL, synchronous FULL, 64 MiB page cache) and the same statements:
 * (a) `writeBatch` of 1M rows (scale 1) of a 3-feature view vs a raw loop of the same
 *     conditional upsert in one transaction (target: the store at >= 50% of raw throughput);
 * (b) 10k point reads of 1 entity x 50 features via `store.read` vs the raw prepared SELECT
 *     (target: p99 within 2x of raw). `timesMs` of the read cases holds every read's latency.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { DatabaseSync } from 'node:sqlite'
import { type FeatureViewSpec, noopLogger, type OnlineRow, type ValueTypeName } from '@larder/core'
import { columnName, quoteIdentifier, sqliteOnlineStore, tableName } from '@larder/sqlite'
import { alternate, key, peakRssMb, view } from '../fixtures.js'
import type { BenchContext, Benchmark, BenchResult } from '../types.js'

const PROJECT = 'bench'
const T0 = 1_700_000_000_000_000n
const INT64_MIN = '-9223372036854775808'

/** The statement the store prepares for a write of `features` (kept identical on purpose). */
function upsertSql(v: FeatureViewSpec, features: string[]): string {
  const t = quoteIdentifier(tableName(PROJECT, v.name))
  const cols = features.map((f) => {
    const type = v.features.find((x) => x.name === f)?.valueType ?? 'float64'
    return quoteIdentifier(columnName(f, type))
  })
  const names = ['entity_key', 'event_ts', 'created_ts', ...cols]
  const sets = ['event_ts', 'created_ts', ...cols].map((c) => `${c} = excluded.${c}`).join(', ')
  return (
    `INSERT INTO ${t} (${names.join(', ')}) VALUES (${names.map(() => '?').join(', ')}) ` +
    `ON CONFLICT (entity_key) DO UPDATE SET ${sets} ` +
    `WHERE excluded.event_ts > ${t}.event_ts OR (excluded.event_ts = ${t}.event_ts ` +
    `AND ifnull(excluded.created_ts, ${INT64_MIN}) > ifnull(${t}.created_ts, ${INT64_MIN}))`
  )
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))] ?? Number.NaN
}

/** Opens a raw connection the way the store does. */
function rawDb(path: string): DatabaseSync {
  const db = new DatabaseSync(path, { timeout: 5000 })
  db.exec('PRAGMA journal_mode = WAL')
  db.exec('PRAGMA synchronous = FULL')
  db.exec('PRAGMA cache_size = -65536')
  return db
}

async function writeCase(
  dir: string,
  ctx: BenchContext,
): Promise<{ store: BenchResult; raw: BenchResult }> {
  const n = Math.round(1_000_000 * ctx.scale)
  const stats = view('driver_stats', { conv_rate: 'float32', acc_rate: 'float32', trips: 'int64' })
  const features = ['conv_rate', 'acc_rate', 'trips']
  ctx.log(`sqlite-online: generating ${n} rows`)
  const rows: OnlineRow[] = Array.from({ length: n }, (_, i) => ({
    key: key(i),
    values: [Math.fround((i % 1000) / 1000), Math.fround((i % 997) / 997), BigInt(i)],
    eventTs: T0 + BigInt(i % 3600) * 1_000_000n,
    createdTs: null,
  }))
  const storeTimes: number[] = []
  const rawTimes: number[] = []
  for (let run = 0; run < ctx.runs; run++) {
    // Store: a fresh file, tables created by update(), one writeBatch of every row.
    {
      const path = join(dir, `write-store-${run}.db`)
      const store = sqliteOnlineStore({ path })
      store.configure({ project: PROJECT, repoPath: dir, logger: noopLogger })
      await store.update({ keep: [stats], drop: [], entities: [] })
      const t0 = performance.now()
      const written = await store.writeBatch(stats, features, rows)
      storeTimes.push(performance.now() - t0)
      await store.close()
      if (written !== n) throw new Error(`store wrote ${written} of ${n} rows`)
    }
    // Raw: the same table (created by the store), statement and transaction, by hand.
    {
      const path = join(dir, `write-raw-${run}.db`)
      const setup = sqliteOnlineStore({ path })
      setup.configure({ project: PROJECT, repoPath: dir, logger: noopLogger })
      await setup.update({ keep: [stats], drop: [], entities: [] })
      await setup.close()
      const db = rawDb(path)
      const stmt = db.prepare(upsertSql(stats, features))
      const t0 = performance.now()
      let written = 0
      db.exec('BEGIN IMMEDIATE')
      for (const r of rows) {
        const v = r.values
        written += Number(
          stmt.run(r.key, r.eventTs, r.createdTs, v[0] as number, v[1] as number, v[2] as bigint)
            .changes,
        )
      }
      db.exec('COMMIT')
      rawTimes.push(performance.now() - t0)
      db.close()
      if (written !== n) throw new Error(`raw loop wrote ${written} of ${n} rows`)
    }
    ctx.log(
      `sqlite-online: write run ${run + 1}: store ${storeTimes.at(-1)?.toFixed(0)} ms, raw ${rawTimes.at(-1)?.toFixed(0)} ms`,
    )
  }
  const rss = peakRssMb()
  return {
    store: {
      case: `writeBatch ${n} rows x 3 features`,
      subject: 'SqliteOnlineStore.writeBatch',
      baseline: false,
      timesMs: storeTimes,
      peakRssMb: rss,
      rows: n,
    },
    raw: {
      case: `writeBatch ${n} rows x 3 features`,
      subject: 'node:sqlite upsert loop',
      baseline: true,
      timesMs: rawTimes,
      peakRssMb: rss,
      rows: n,
    },
  }
}

async function readCase(
  dir: string,
  ctx: BenchContext,
): Promise<{ store: BenchResult; raw: BenchResult }> {
  const entities = 10_000
  const reads = Math.max(1_000, Math.round(10_000 * ctx.scale))
  const features = Array.from({ length: 50 }, (_, i) => `f${i}`)
  const wide = view(
    'wide',
    Object.fromEntries(features.map((f) => [f, 'float64' as ValueTypeName])),
  )
  const path = join(dir, 'read.db')
  const store = sqliteOnlineStore({ path })
  store.configure({ project: PROJECT, repoPath: dir, logger: noopLogger })
  await store.update({ keep: [wide], drop: [], entities: [] })
  const keys = Array.from({ length: entities }, (_, i) => key(i))
  await store.writeBatch(
    wide,
    features,
    keys.map((k, i) => ({
      key: k,
      values: features.map((_, j) => i + j / 64),
      eventTs: T0,
      createdTs: null,
    })),
  )
  const db = rawDb(path)
  const select = ['event_ts', ...features.map((f) => quoteIdentifier(columnName(f, 'float64')))]
  const stmt = db.prepare(
    `SELECT ${select.join(', ')} FROM ${quoteIdentifier(tableName(PROJECT, wide.name))} WHERE entity_key = ?`,
  )
  stmt.setReadBigInts(true)
  stmt.setReturnArrays(true)
  const order = Array.from({ length: reads }, (_, i) => keys[(i * 7919) % entities]!)
  const storeTimes: number[] = []
  const rawTimes: number[] = []
  const runStore = async (out: number[] | undefined) => {
    for (const k of order) {
      const t0 = performance.now()
      const [value] = await store.read(wide, [k], features)
      const dt = performance.now() - t0
      if (value === undefined) throw new Error('store read found nothing')
      out?.push(dt)
    }
  }
  const runRaw = async (out: number[] | undefined) => {
    for (const k of order) {
      const t0 = performance.now()
      const value = stmt.get(k)
      const dt = performance.now() - t0
      if (value === undefined) throw new Error('raw read found nothing')
      out?.push(dt)
    }
  }
  await alternate(ctx.runs, runStore, storeTimes, runRaw, rawTimes)
  db.close()
  await store.close()
  const s = [...storeTimes].sort((a, b) => a - b)
  const r = [...rawTimes].sort((a, b) => a - b)
  ctx.log(
    `sqlite-online: read 1 x 50: store p50 ${(percentile(s, 50) * 1000).toFixed(1)} us p99 ${(percentile(s, 99) * 1000).toFixed(1)} us; raw p50 ${(percentile(r, 50) * 1000).toFixed(1)} us p99 ${(percentile(r, 99) * 1000).toFixed(1)} us`,
  )
  const rss = peakRssMb()
  const name = `read 1 entity x 50 features (${reads} reads per run, timesMs per read)`
  return {
    store: {
      case: name,
      subject: 'SqliteOnlineStore.read',
      baseline: false,
      timesMs: storeTimes,
      peakRssMb: rss,
      rows: storeTimes.length,
    },
    raw: {
      case: name,
      subject: 'node:sqlite prepared SELECT',
      baseline: true,
      timesMs: rawTimes,
      peakRssMb: rss,
      rows: rawTimes.length,
    },
  }
}

export default {
  name: 'sqlite-online',
  description:
    'SQLite online store: writeBatch of 1M rows x 3 features and 1 x 50-feature point reads, each against the same node:sqlite statements run by hand',
  defaultScale: 1,
  async run(ctx: BenchContext): Promise<BenchResult[]> {
    const dir = mkdtempSync(join(tmpdir(), 'larder-bench-sqlite-'))
    try {
      const write = await writeCase(dir, ctx)
      const read = await readCase(dir, ctx)
      return [write.store, write.raw, read.store, read.raw]
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  },
} satisfies Benchmark
