// Behaviour of the SQLite store beyond the shared conformance suite: files, errors,
// migrations, exact floats, the stored layout.
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { DatabaseSync } from 'node:sqlite'
import { isLarderError, type LarderError, noopLogger, type OnlineRow } from '@larder/core'
import { driverKey, testView } from '@larder/testing'
import { afterEach, beforeEach, describe, expect, test } from 'vitest'
import {
  decodeArray,
  encodeArray,
  type SqliteOnlineStore,
  sqliteOnlineStore,
} from '../src/index.js'

const T0 = 1_700_000_000_000_000n
const stats = testView('driver_stats', ['driver'], { conv_rate: 'float64', trips: 'int64' })
const row = (id: number, values: unknown[], eventTs = T0): OnlineRow => ({
  key: driverKey(id),
  values,
  eventTs,
  createdTs: null,
})

let dir: string
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'larder-sqlite-'))
})
afterEach(() => rmSync(dir, { recursive: true, force: true }))

function open(
  options: Parameters<typeof sqliteOnlineStore>[0] = {},
  project = 'p',
): SqliteOnlineStore {
  const store = sqliteOnlineStore(options)
  store.configure({ project, repoPath: dir, logger: noopLogger })
  return store
}

async function caught(promise: Promise<unknown>): Promise<LarderError> {
  try {
    await promise
  } catch (err) {
    if (isLarderError(err)) return err
    throw err
  }
  throw new Error('expected a LarderError')
}

describe('files', () => {
  test('opens lazily at data/online.db under the repo and keeps data across reopen', async () => {
    const path = join(dir, 'data', 'online.db')
    {
      await using store = open()
      expect(store.path).toBe(path)
      expect(existsSync(path)).toBe(false)
      await store.update({ keep: [stats], drop: [], entities: [] })
      expect(existsSync(path)).toBe(true)
      await store.writeBatch(stats, ['conv_rate', 'trips'], [row(1, [0.5, 5n])])
    }
    await using again = open()
    expect(await again.read(stats, [driverKey(1)], ['trips'])).toEqual([
      { values: [5n], eventTs: T0 },
    ])
  })

  test('uses WAL mode, a table per project and view, a BLOB primary key', async () => {
    await using store = open({ path: 'online.db' }, 'my "project"')
    await store.update({ keep: [stats], drop: [], entities: [] })
    await store.writeBatch(stats, ['conv_rate', 'trips'], [row(1, [0.5, 5n])])
    await store.close()
    const db = new DatabaseSync(join(dir, 'online.db'))
    try {
      expect(db.prepare('PRAGMA journal_mode').get()).toEqual({ journal_mode: 'wal' })
      const tables = db.prepare("SELECT name FROM sqlite_schema WHERE type = 'table'").all()
      expect(tables.map((t) => t.name)).toEqual(['my "project"__driver_stats'])
      const columns = db
        .prepare(`SELECT name, type, pk FROM pragma_table_info(?)`)
        .all('my "project"__driver_stats')
      expect(columns.map((c) => [c.name, c.type, c.pk])).toEqual([
        ['entity_key', 'BLOB', 1],
        ['event_ts', 'INTEGER', 0],
        ['created_ts', 'INTEGER', 0],
        ['conv_rate:float64', '', 0],
        ['trips:int64', '', 0],
      ])
    } finally {
      db.close()
    }
  })

  test('a file that cannot be opened is a LarderError naming the path', async () => {
    writeFileSync(join(dir, 'not-a-folder'), 'x')
    const path = join(dir, 'not-a-folder', 'online.db')
    const store = open({ path })
    const err = await caught(store.update({ keep: [stats], drop: [], entities: [] }))
    expect(err.code).toBe('BACKEND_UNAVAILABLE')
    expect(err.message).toMatch(/^\[larder\] \[sqlite\] cannot open/)
    expect(err.message).toContain(path)
    expect(err.message).toContain('sqliteOnlineStore({ path })')

    writeFileSync(join(dir, 'garbage.db'), 'this is not a database, just some text '.repeat(50))
    const garbage = await caught(
      open({ path: 'garbage.db' }).read(stats, [driverKey(1)], ['trips']),
    )
    expect(garbage.message).toContain(join(dir, 'garbage.db'))
  })

  test('teardown without a database file creates none', async () => {
    await using store = open()
    await store.teardown([stats])
    expect(existsSync(join(dir, 'data'))).toBe(false)
  })

  test(':memory: keeps data in the store only', async () => {
    await using store = open({ path: ':memory:' })
    await store.update({ keep: [stats], drop: [], entities: [] })
    await store.writeBatch(stats, ['trips'], [row(1, [1n])])
    expect((await store.read(stats, [driverKey(1)], ['trips']))[0]?.values).toEqual([1n])
    expect(existsSync(join(dir, 'data'))).toBe(false)
  })
})

describe('errors', () => {
  test('reading a view whose table does not exist says to run larder apply', async () => {
    await using store = open()
    const err = await caught(store.read(stats, [driverKey(1)], ['trips']))
    expect(err.code).toBe('NOT_FOUND')
    expect(err.message).toContain("feature view 'driver_stats'")
    expect(err.message).toContain('larder apply')
  })

  test('an unknown feature is NOT_FOUND naming it', async () => {
    await using store = open()
    await store.update({ keep: [stats], drop: [], entities: [] })
    const err = await caught(store.read(stats, [driverKey(1)], ['nope']))
    expect(err.code).toBe('NOT_FOUND')
    expect(err.message).toContain("'nope'")
  })

  test('a mistyped value names feature, view and row, and writes nothing', async () => {
    await using store = open()
    await store.update({ keep: [stats], drop: [], entities: [] })
    const err = await caught(
      store.writeBatch(
        stats,
        ['conv_rate', 'trips'],
        [row(1, [0.1, 1n]), row(2, [0.2, 'two']), row(3, [0.3, 3n])],
      ),
    )
    expect(err.code).toBe('INVALID_INPUT')
    expect(err.message).toContain("feature 'trips' of view 'driver_stats', row 1")
    expect(await store.read(stats, [driverKey(1)], ['trips'])).toEqual([undefined])
    // The store still works after the rolled-back batch.
    expect(await store.writeBatch(stats, ['trips'], [row(1, [1n])])).toBe(1)
  })

  test('writing creates a missing table (push before apply)', async () => {
    await using store = open()
    expect(await store.writeBatch(stats, ['trips'], [row(1, [7n])])).toBe(1)
    expect(await store.read(stats, [driverKey(1)], ['trips', 'conv_rate'])).toEqual([
      { values: [7n, null], eventTs: T0 },
    ])
  })
})

describe('values', () => {
  test('floats are exact: NaN, -0, infinities, float32 arrays of any number', async () => {
    const view = testView('floats', ['driver'], {
      f64: 'float64',
      f32: 'float32',
      a32: 'array<float32>',
      a64: 'array<float64>',
    })
    await using store = open()
    await store.update({ keep: [view], drop: [], entities: [] })
    const values = [Number.NaN, -0, [0.1, Number.NaN, -0], [Number.NEGATIVE_INFINITY, -0]]
    const infinity = [Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, [1.5], [Number.NaN]]
    await store.writeBatch(view, ['f64', 'f32', 'a32', 'a64'], [row(1, values), row(2, infinity)])
    const got = await store.read(view, [driverKey(1), driverKey(2)], ['f64', 'f32', 'a32', 'a64'])
    expect(got[0]?.values).toEqual(values)
    expect(Object.is(got[0]?.values[1], -0)).toBe(true)
    expect(got[1]?.values).toEqual(infinity)
  })

  test('bool, int32 and int64 given as numbers or bigints come back typed', async () => {
    const view = testView('ints', ['driver'], {
      b: 'bool',
      i: 'int32',
      l: 'int64',
      ts: 'timestamp',
    })
    await using store = open()
    await store.writeBatch(view, ['b', 'i', 'l', 'ts'], [row(1, [false, 7n, 8, new Date(1000)])])
    expect((await store.read(view, [driverKey(1)], ['b', 'i', 'l', 'ts']))[0]?.values).toEqual([
      false,
      7,
      8n,
      1_000_000n,
    ])
  })

  test('the array layout is compact and round-trips', () => {
    const ints = Array.from({ length: 100 }, (_, i) => i)
    expect(encodeArray('int32', ints).length).toBe(2 + 1 + 400)
    expect(encodeArray('float32', [1.5, 2.5]).length).toBe(2 + 1 + 8)
    expect(encodeArray('float32', [0.1]).length).toBe(2 + 1 + 8) // not a float32: kept as f64
    const cases: Array<[Parameters<typeof encodeArray>[0], unknown[]]> = [
      ['int32', [1, null, -2147483648]],
      ['int64', [2n ** 63n - 1n, null, -(2n ** 63n)]],
      ['string', ['', 'ü', null, 'x'.repeat(300)]],
      ['bool', [true, false, null]],
      ['timestamp', [0n, -1n]],
      ['bytes', [new Uint8Array([0, 255]), null]],
      ['float64', []],
      ['string', Array.from({ length: 20 }, (_, i) => (i % 3 ? null : String(i)))],
    ]
    for (const [type, values] of cases)
      expect(decodeArray(type, encodeArray(type, values))).toEqual(values)
  })
})

describe('update', () => {
  test('a changed feature type starts a new column; removed features are dropped', async () => {
    await using store = open({ path: 'online.db' })
    await store.update({ keep: [stats], drop: [], entities: [] })
    await store.writeBatch(stats, ['conv_rate', 'trips'], [row(1, [0.5, 5n])])
    const changed = testView('driver_stats', ['driver'], { trips: 'string' })
    await store.update({ keep: [changed], drop: [], entities: [] })
    expect(await store.read(changed, [driverKey(1)], ['trips'])).toEqual([
      { values: [null], eventTs: T0 },
    ])
    await store.writeBatch(changed, ['trips'], [row(1, ['five'], T0 + 1n)])
    expect(await store.read(changed, [driverKey(1)], ['trips'])).toEqual([
      { values: ['five'], eventTs: T0 + 1n },
    ])
    const db = new DatabaseSync(join(dir, 'online.db'))
    try {
      const columns = db.prepare('SELECT name FROM pragma_table_info(?)').all('p__driver_stats')
      expect(columns.map((c) => c.name)).toEqual([
        'entity_key',
        'event_ts',
        'created_ts',
        'trips:string',
      ])
    } finally {
      db.close()
    }
  })

  test('a second store on the same file sees the other one migrate the table', async () => {
    await using a = open({ path: 'online.db' })
    await using b = open({ path: 'online.db' })
    await a.update({ keep: [stats], drop: [], entities: [] })
    await a.writeBatch(stats, ['trips'], [row(1, [1n])])
    expect(await b.read(stats, [driverKey(1)], ['trips'])).toEqual([{ values: [1n], eventTs: T0 }])
    await a.teardown([stats])
    const err = await caught(b.read(stats, [driverKey(1)], ['trips']))
    expect(err.code).toBe('NOT_FOUND')
    await a.update({ keep: [stats], drop: [], entities: [] })
    expect(await b.read(stats, [driverKey(1)], ['trips'])).toEqual([undefined])
  })

  test('two projects on one file do not see each other', async () => {
    await using a = open({ path: 'online.db' }, 'a')
    await using b = open({ path: 'online.db' }, 'b')
    await a.writeBatch(stats, ['trips'], [row(1, [1n])])
    await b.writeBatch(stats, ['trips'], [row(1, [2n])])
    expect((await a.read(stats, [driverKey(1)], ['trips']))[0]?.values).toEqual([1n])
    expect((await b.read(stats, [driverKey(1)], ['trips']))[0]?.values).toEqual([2n])
  })
})

test('close is idempotent and the store reopens on the next call', async () => {
  const store = open()
  await store.writeBatch(stats, ['trips'], [row(1, [1n])])
  await store.close()
  await store.close()
  expect((await store.read(stats, [driverKey(1)], ['trips']))[0]?.values).toEqual([1n])
  await store[Symbol.asyncDispose]()
})
