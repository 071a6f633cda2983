/**
 * Offline writes under faults and retries (issue #20): write ids make retries exact, a
 * missing single-file source is NOT_FOUND, symbolic links are followed, and the temp files of
 * a killed writer are removed by the next write.
 */
import { spawnSync } from 'node:child_process'
import { mkdir, readdir, readlink, symlink, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { WRITE_ID_COLUMN } from '@larder/core'
import * as arrow from 'apache-arrow'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { fileSource } from '../src/index.js'
import { duck, entityTable, rejection, store, tempDir } from './helpers.js'

let dir: Awaited<ReturnType<typeof tempDir>>
let s: ReturnType<typeof store>
beforeAll(async () => {
  dir = await tempDir()
  s = store(dir.path)
})
afterAll(async () => {
  await s.close()
  await dir[Symbol.asyncDispose]()
})

const rows = (ids: bigint[], trips: number[]) => {
  const ts = entityTable(
    ids,
    ids.map(() => '2024-01-02T00:00:00Z'),
  ).getChild('event_timestamp')!
  return new arrow.Table({
    driver_id: arrow.vectorFromArray(ids, new arrow.Int64()),
    event_timestamp: ts,
    trips: arrow.vectorFromArray(trips, new arrow.Int32()),
  })
}

async function singleFile(name: string): Promise<string> {
  const path = join(dir.path, name)
  await duck(
    `COPY (SELECT 1::BIGINT AS driver_id, TIMESTAMP '2024-01-01 09:00:00' AS event_timestamp, 5::INTEGER AS trips) TO '${path}' (FORMAT parquet)`,
  )
  return path
}

describe('write ids', () => {
  it('a single-file source appends a write once, however often it is retried', async () => {
    const path = await singleFile('once.parquet')
    const source = fileSource({
      name: 'once',
      path: 'once.parquet',
      timestampField: 'event_timestamp',
    })
    for (let i = 0; i < 3; i++) await s.writeBatch(source, rows([2n], [20]), { writeId: 'w-1' })
    await s.writeBatch(source, rows([3n], [30]), { writeId: 'w-2' })
    expect(
      await duck(`SELECT driver_id, trips, ${WRITE_ID_COLUMN} FROM '${path}' ORDER BY driver_id`),
    ).toEqual([
      [1n, 5, null],
      [2n, 20, 'w-1'],
      [3n, 30, 'w-2'],
    ])
    // The bookkeeping column is not part of the source's schema.
    expect((await s.sourceSchema(source)).map((c) => c.name)).toEqual([
      'driver_id',
      'event_timestamp',
      'trips',
    ])
  })

  it('folder, glob and hive sources name the part by the write id and skip a stored one', async () => {
    await mkdir(join(dir.path, 'hive', 'day=2024-01-01'), { recursive: true })
    await duck(`COPY (SELECT 1::BIGINT AS driver_id, TIMESTAMP '2024-01-01 10:00:00' AS event_timestamp, 1 AS trips)
        TO '${join(dir.path, 'hive', 'day=2024-01-01', 'data.parquet')}' (FORMAT parquet)`)
    const hiveRows = () => {
      const r = rows([7n], [70])
      return new arrow.Table({
        ...Object.fromEntries(r.schema.fields.map((f, i) => [f.name, r.getChildAt(i)!])),
        day: arrow.vectorFromArray(['2024-01-02'], new arrow.Utf8()),
      })
    }
    const cases = [
      { path: 'folder', table: rows },
      { path: 'globbed/*.parquet', table: rows },
      { path: 'hive', table: hiveRows },
    ]
    for (const c of cases) {
      const source = fileSource({ name: 'x', path: c.path, timestampField: 'event_timestamp' })
      for (let i = 0; i < 3; i++)
        await s.writeBatch(source, c.table([7n], [70]), { writeId: 'retry-1' })
      const glob = join(dir.path, c.path.replace('/*.parquet', ''), '**', '*.parquet')
      expect(
        await duck(
          `SELECT count(*) FROM read_parquet('${glob}', union_by_name = true) WHERE driver_id = 7`,
        ),
      ).toEqual([[1n]])
    }
    expect(await readdir(join(dir.path, 'folder'))).toEqual(['part-retry-1.parquet'])
  })

  it('a malformed write id is INVALID_INPUT', async () => {
    const source = fileSource({ name: 'f', path: 'folder', timestampField: 'event_timestamp' })
    const err = await rejection(s.writeBatch(source, rows([1n], [1]), { writeId: '../x' }))
    expect(err.code).toBe('INVALID_INPUT')
  })
})

describe('finding 5: offline writes never split the data', () => {
  it('a missing single-file source is NOT_FOUND and nothing is created', async () => {
    const source = fileSource({
      name: 'gone',
      path: 'gone.parquet',
      timestampField: 'event_timestamp',
    })
    const err = await rejection(s.writeBatch(source, rows([1n], [1])))
    expect(err.code).toBe('NOT_FOUND')
    expect(err.message).toMatch(/source 'gone': file '.*gone\.parquet' does not exist/)
    expect((await readdir(dir.path)).filter((f) => f.includes('gone'))).toEqual([])
  })

  it('a symbolic link is followed: the real file gets the rows and the link stays a link', async () => {
    const real = await singleFile('real.parquet')
    await symlink(real, join(dir.path, 'link.parquet'))
    const source = fileSource({
      name: 'l',
      path: 'link.parquet',
      timestampField: 'event_timestamp',
    })
    await s.writeBatch(source, rows([4n], [40]))
    expect(await readlink(join(dir.path, 'link.parquet'))).toBe(real)
    expect(await duck(`SELECT driver_id, trips, typeof(trips) FROM '${real}' ORDER BY 1`)).toEqual([
      [1n, 5, 'INTEGER'],
      [4n, 40, 'INTEGER'],
    ])
  })
})

describe('finding 9: temp files of a killed writer are removed by the next write', () => {
  it('stale temps (dead pid) go, a live writer’s temp stays', async () => {
    await singleFile('swept.parquet')
    const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'])
    const deadPid = Number(dead.stdout.toString())
    const stale = `.swept.parquet.${deadPid}.0123456789ab.tmp`
    const live = `.swept.parquet.${process.ppid}.0123456789ab.tmp`
    await writeFile(join(dir.path, stale), 'partial')
    await writeFile(join(dir.path, live), 'in progress')
    const source = fileSource({
      name: 'sw',
      path: 'swept.parquet',
      timestampField: 'event_timestamp',
    })
    await s.writeBatch(source, rows([5n], [50]))
    const left = (await readdir(dir.path)).filter((f) => f.startsWith('.swept'))
    expect(left).toEqual([live])
  })
})
