import { LarderError } from '@larder/core'
import { describe, expect, it } from 'vitest'
import { type FileSourceOptions, fileSource } from '../src/index.js'

const base = { name: 'stats', path: 'data/stats.parquet', timestampField: 'event_timestamp' }

function errorOf(fn: () => unknown): LarderError {
  try {
    fn()
  } catch (err) {
    if (err instanceof LarderError) return err
    throw err
  }
  throw new Error('did not throw')
}

describe('fileSource', () => {
  it('returns a plain serializable spec with kind file', () => {
    const spec = fileSource({
      ...base,
      createdTimestampColumn: 'created',
      fieldMapping: { trips: 'avg_daily_trips' },
      tags: { team: 'ml' },
      owner: 'a@b.c',
    })
    expect(spec).toEqual({
      kind: 'file',
      name: 'stats',
      path: 'data/stats.parquet',
      format: 'parquet',
      timestampField: 'event_timestamp',
      createdTimestampColumn: 'created',
      fieldMapping: { trips: 'avg_daily_trips' },
      tags: { team: 'ml' },
      owner: 'a@b.c',
    })
    expect(JSON.parse(JSON.stringify(spec))).toEqual(spec)
  })

  it('picks the format from the extension, parquet otherwise', () => {
    expect(fileSource({ ...base, path: 'a/b.csv' }).format).toBe('csv')
    expect(fileSource({ ...base, path: 'a/b.CSV.gz' }).format).toBe('csv')
    expect(fileSource({ ...base, path: 'a/folder' }).format).toBe('parquet')
    expect(fileSource({ ...base, path: 'a/folder', format: 'csv' }).format).toBe('csv')
  })

  it.each([
    [{ name: '' }, /source name "" is invalid/],
    [{ path: undefined }, /file source 'stats' has no path/],
    [{ timestampField: '' }, /file source 'stats': timestampField is required/],
    [{ datePartitionColumn: ' ' }, /datePartitionColumn must be a column name/],
    [
      { createdTimestampColumn: 'event_timestamp' },
      /createdTimestampColumn 'event_timestamp' is the same column as timestampField/,
    ],
    [{ format: 'orc' }, /unknown format 'orc'.*parquet, csv/],
    [{ fieldMapping: { a: 'x', b: 'x' } }, /maps both 'a' and 'b' to 'x'/],
  ])('rejects %o', (patch, message) => {
    const err = errorOf(() => fileSource({ ...base, ...patch } as unknown as FileSourceOptions))
    expect(err.code).toBe('INVALID_DEFINITION')
    expect(err.message).toMatch(/^\[larder\] \[file\] /)
    expect(err.message).toMatch(message)
  })
})
