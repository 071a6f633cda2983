// Measures node:sqlite against better-sqlite3 on the statements SqliteOnlineStore runs:
// the batched conditional upsert (one transaction per batch) and the point read by key.
// Run from packages/sqlite: `pnpm exec node scripts/measure-drivers.mjs [rows] [reads]`.

import { mkdtempSync, rmSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { DatabaseSync } from 'node:sqlite'

const require = createRequire(import.meta.url)
const BetterSqlite = require('better-sqlite3')

const ROWS = Number(process.argv[2] ?? 200_000)
const READS = Number(process.argv[3] ?? 20_000)
const BATCH = 10_000
const FEATURES = ['conv_rate:float32', 'acc_rate:float32', 'avg_daily_trips:int64']
const READ_FEATURES = Array.from({ length: 50 }, (_, i) => `f${i}:float64`)

const q = (id) => `"${id.replaceAll('"', '""')}"`
const MIN = '-9223372036854775808'

function upsertSql(table, cols) {
  const names = ['entity_key', 'event_ts', 'created_ts', ...cols].map(q).join(', ')
  const marks = ['?', '?', '?', ...cols.map(() => '?')].join(', ')
  const sets = ['event_ts', 'created_ts', ...cols].map((c) => `${q(c)} = excluded.${q(c)}`)
  return (
    `INSERT INTO ${q(table)} (${names}) VALUES (${marks}) ON CONFLICT (entity_key) DO UPDATE SET ${sets.join(', ')} ` +
    `WHERE excluded.event_ts > ${q(table)}.event_ts OR (excluded.event_ts = ${q(table)}.event_ts ` +
    `AND ifnull(excluded.created_ts, ${MIN}) > ifnull(${q(table)}.created_ts, ${MIN}))`
  )
}
const createSql = (table, cols) =>
  `CREATE TABLE ${q(table)} (entity_key BLOB PRIMARY KEY NOT NULL, event_ts INTEGER NOT NULL, created_ts INTEGER${cols.map((c) => `, ${q(c)}`).join('')}) WITHOUT ROWID`

function key(i) {
  const b = new Uint8Array(37)
  const v = new DataView(b.buffer)
  v.setUint32(0, 1, true)
  v.setUint32(4, 2, true)
  v.setUint32(8, 9, true)
  b.set(new TextEncoder().encode('driver_id'), 12)
  v.setUint32(21, 4, true)
  v.setUint32(25, 8, true)
  v.setBigInt64(29, BigInt(i), true)
  return b
}

const keys = Array.from({ length: ROWS }, (_, i) => key(i))

function drivers(path) {
  return {
    'node:sqlite': () => {
      const db = new DatabaseSync(path)
      return {
        exec: (s) => db.exec(s),
        prepareWrite: (s) => {
          const st = db.prepare(s)
          return (args) => st.run(...args).changes
        },
        prepareRead: (s) => {
          const st = db.prepare(s)
          st.setReadBigInts(true)
          st.setReturnArrays(true)
          return (k) => st.get(k)
        },
        close: () => db.close(),
      }
    },
    'better-sqlite3': () => {
      const db = new BetterSqlite(path)
      return {
        exec: (s) => db.exec(s),
        prepareWrite: (s) => {
          const st = db.prepare(s)
          return (args) => st.run(...args).changes
        },
        prepareRead: (s) => {
          const st = db.prepare(s).safeIntegers(true).raw(true)
          return (k) => st.get(k)
        },
        close: () => db.close(),
      }
    },
  }
}

function pct(sorted, p) {
  return sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))]
}

const dir = mkdtempSync(join(tmpdir(), 'larder-sqlite-measure-'))
const results = []
for (const name of ['node:sqlite', 'better-sqlite3', 'node:sqlite', 'better-sqlite3']) {
  const path = join(dir, `${name.replace(':', '_')}-${results.length}.db`)
  const d = drivers(path)[name]()
  d.exec(
    'PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA busy_timeout = 5000; PRAGMA cache_size = -65536',
  )
  d.exec(createSql('w', FEATURES))
  d.exec(createSql('r', READ_FEATURES))
  const write = d.prepareWrite(upsertSql('w', FEATURES))
  // Upserts: first load (inserts), then a newer re-write (updates).
  const upsert = (ts) => {
    const t0 = performance.now()
    for (let s = 0; s < ROWS; s += BATCH) {
      d.exec('BEGIN')
      for (let i = s; i < Math.min(ROWS, s + BATCH); i++)
        write([keys[i], ts, null, i * 0.5, i * 0.25, BigInt(i)])
      d.exec('COMMIT')
    }
    return ROWS / ((performance.now() - t0) / 1000)
  }
  const insertRate = upsert(1_700_000_000_000_000n)
  const updateRate = upsert(1_700_000_000_000_001n)
  // Point reads of 1 entity x 50 features.
  const writeR = d.prepareWrite(upsertSql('r', READ_FEATURES))
  d.exec('BEGIN')
  for (let i = 0; i < 10_000; i++)
    writeR([keys[i], 1n, null, ...READ_FEATURES.map((_, j) => i + j / 7)])
  d.exec('COMMIT')
  const read = d.prepareRead(
    `SELECT event_ts, ${READ_FEATURES.map(q).join(', ')} FROM ${q('r')} WHERE entity_key = ?`,
  )
  const times = []
  for (let i = 0; i < READS; i++) {
    const t0 = performance.now()
    read(keys[(i * 7919) % 10_000])
    times.push((performance.now() - t0) * 1000)
  }
  times.sort((a, b) => a - b)
  d.close()
  results.push({
    driver: name,
    insertRowsPerSec: Math.round(insertRate),
    updateRowsPerSec: Math.round(updateRate),
    readP50us: pct(times, 50).toFixed(1),
    readP99us: pct(times, 99).toFixed(1),
  })
}
rmSync(dir, { recursive: true, force: true })
console.log(`rows=${ROWS} batch=${BATCH} reads=${READS} node=${process.version}`)
console.table(results)
