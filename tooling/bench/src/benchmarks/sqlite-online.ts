/**
 * `@larder/sqlite` against the same driver (`node:sqlite`) driven by hand, on the same file
 * settings (WAL, synchronous FULL, 64 MiB page cache) and the same statements:
 * (a) `writeBatch` of 1M rows (scale 1) of a 3-feature view vs a raw loop of the same
 *     conditional upsert in one transaction (target: the store at >= 50% of raw throughput);
 * (b) 10k point reads of 1 entity x 50 features via `store.read` vs the raw prepared SELECT
 *     with arrays and big integers as the store's (target: p99 within 2x of raw). `timesMs`
 *     of the read cases holds every read's latency.
 * Every subject runs in its own process (harness.ts), alternating, each write on a fresh file
 * whose table the store created (untimed). Check: the table read back in key order after a
 * write; every value of every read.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { DatabaseSync } from 'node:sqlite'
import { type FeatureViewSpec, noopLogger } from '@larder/core'
import { columnName, quoteIdentifier, sqliteOnlineStore, tableName } from '@larder/sqlite'

import { Digest } from '../digest.js'
import {
  key,
  STATS_FEATURES,
  stats,
  statsRows,
  WIDE_FEATURES,
  wide,
  wideRows,
} from '../fixtures.js'
import {
  compare,
  latencyExtra,
  rateExtra,
  type SubjectFactory,
  type SubjectRunner,
} from '../harness.js'
import type { BenchContext, Benchmark, BenchResult } from '../types.js'

const PROJECT = 'bench'
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

/** Opens a raw connection the way the store does. */
function rawDb(path: string): DatabaseSync {
  const db = new DatabaseSync(path, { timeout: 5000 })
  db.exec('PRAGMA journal_mode = WAL')
  db.exec('PRAGMA synchronous = FULL')
  db.exec('PRAGMA cache_size = -65536')
  return db
}

const FEATURES = STATS_FEATURES
const READ_ENTITIES = 10_000

/** A fresh file at `path` with the view's table, created by the store (untimed). */
async function freshTable(dir: string, path: string, v: FeatureViewSpec): Promise<void> {
  for (const suffix of ['', '-wal', '-shm']) rmSync(`${path}${suffix}`, { force: true })
  const setup = sqliteOnlineStore({ path })
  setup.configure({ project: PROJECT, repoPath: dir, logger: noopLogger })
  await setup.update({ keep: [v], drop: [], entities: [] })
  await setup.close()
}

/** Every row of the stats table in key order. */
function tableCheck(path: string) {
  const db = new DatabaseSync(path, { readOnly: true })
  try {
    const cols = FEATURES.map((f, j) =>
      quoteIdentifier(columnName(f, stats.features[j]!.valueType)),
    )
    const stmt = db.prepare(
      `SELECT entity_key, event_ts, created_ts, ${cols.join(', ')} FROM ${quoteIdentifier(tableName(PROJECT, stats.name))} ORDER BY entity_key`,
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

/** Subjects, each built in its own process. */
export const subjects: Record<string, SubjectFactory> = {
  write: ({ dir, n, raw }): SubjectRunner => {
    const path = join(dir as string, raw ? 'write-raw.db' : 'write-store.db')
    const rows = statsRows(n as number)
    let written = 0
    let store: ReturnType<typeof sqliteOnlineStore> | undefined
    let db: DatabaseSync | undefined
    return {
      async before() {
        await freshTable(dir as string, path, stats)
        if (raw) db = rawDb(path)
        else {
          store = sqliteOnlineStore({ path })
          store.configure({ project: PROJECT, repoPath: dir as string, logger: noopLogger })
          await store.update({ keep: [stats], drop: [], entities: [] })
        }
      },
      async run() {
        if (!raw) {
          written = await store!.writeBatch(stats, FEATURES, rows)
          return
        }
        const stmt = db!.prepare(upsertSql(stats, FEATURES))
        written = 0
        db!.exec('BEGIN IMMEDIATE')
        for (const r of rows) {
          const v = r.values
          written += Number(
            stmt.run(r.key, r.eventTs, r.createdTs, v[0] as number, v[1] as number, v[2] as bigint)
              .changes,
          )
        }
        db!.exec('COMMIT')
      },
      async check() {
        if (written !== rows.length) throw new Error(`wrote ${written} of ${rows.length} rows`)
        await store?.close()
        db?.close()
        store = undefined
        db = undefined
        return tableCheck(path)
      },
    }
  },

  read: async ({ dir, reads, raw }): Promise<SubjectRunner> => {
    const path = join(dir as string, 'read.db')
    const store = sqliteOnlineStore({ path })
    store.configure({ project: PROJECT, repoPath: dir as string, logger: noopLogger })
    const db = rawDb(path)
    const select = [
      'event_ts',
      ...WIDE_FEATURES.map((f) => quoteIdentifier(columnName(f, 'float64'))),
    ]
    const stmt = db.prepare(
      `SELECT ${select.join(', ')} FROM ${quoteIdentifier(tableName(PROJECT, wide.name))} WHERE entity_key = ?`,
    )
    stmt.setReadBigInts(true)
    stmt.setReturnArrays(true)
    const order = Array.from({ length: reads as number }, (_, i) => key((i * 7919) % READ_ENTITIES))
    let d = new Digest()
    return {
      async run() {
        d = new Digest()
        const samplesMs: number[] = []
        for (const k of order) {
          const t0 = performance.now()
          let row: unknown[] | undefined
          if (raw) row = stmt.get(k) as unknown as unknown[] | undefined
          else {
            const [value] = await store.read(wide, [k], WIDE_FEATURES)
            row = value && [value.eventTs, ...value.values]
          }
          samplesMs.push(performance.now() - t0)
          d.row(row ?? [null])
        }
        return { samplesMs }
      },
      check: () => d.result(),
      async close() {
        db.close()
        await store.close()
      },
    }
  },
}

export default {
  name: 'sqlite-online',
  description:
    'SQLite online store: writeBatch of 1M rows x 3 features and 1 x 50-feature point reads, each against the same node:sqlite statements run by hand',
  defaultScale: 1,
  async run(ctx: BenchContext): Promise<BenchResult[]> {
    const dir = mkdtempSync(join(tmpdir(), 'larder-bench-sqlite-'))
    try {
      const n = Math.round(1_000_000 * ctx.scale)
      const write = await compare(ctx, {
        caseName: `writeBatch ${n} rows x 3 features`,
        module: import.meta.url,
        rows: n,
        extra: rateExtra(n),
        subjects: [
          { name: 'SqliteOnlineStore.writeBatch', factory: 'write', args: { dir, n, raw: false } },
          {
            name: 'node:sqlite upsert loop (same statement, one transaction)',
            baseline: true,
            factory: 'write',
            args: { dir, n, raw: true },
          },
        ],
      })
      // The read table, written once (untimed).
      const path = join(dir, 'read.db')
      await freshTable(dir, path, wide)
      const store = sqliteOnlineStore({ path })
      store.configure({ project: PROJECT, repoPath: dir, logger: noopLogger })
      await store.writeBatch(wide, WIDE_FEATURES, wideRows(READ_ENTITIES))
      await store.close()
      // 20 short rounds or more (load from other processes falls on both sides alike).
      const rounds = Math.max(20, ctx.runs)
      const reads = Math.max(100, Math.round((10_000 * ctx.scale) / rounds))
      const read = await compare(ctx, {
        caseName: `read 1 entity x 50 features (${rounds} rounds of ${reads} reads, timesMs per read)`,
        module: import.meta.url,
        rows: reads,
        unit: 'op',
        minRuns: rounds,
        extra: latencyExtra,
        subjects: [
          { name: 'SqliteOnlineStore.read', factory: 'read', args: { dir, reads, raw: false } },
          {
            name: 'node:sqlite prepared SELECT (arrays, big integers)',
            baseline: true,
            factory: 'read',
            args: { dir, reads, raw: true },
          },
        ],
      })
      return [...write, ...read]
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  },
} satisfies Benchmark
