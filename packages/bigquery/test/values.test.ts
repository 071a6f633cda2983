/**
 * Values between BigQuery's REST shapes and Larder's: exact at the edges that the stand-in's
 * round trips do not reach (float-second timestamps, instants before 1970, NaN and
 * infinities in load jobs, DATETIME/DATE text).
 */
import { parseTime, readColumn, toArrowVector } from '@larder/core'
import * as arrow from 'apache-arrow'
import { describe, expect, test } from 'vitest'
import { rowsToBatch, tableToNdjson } from '../src/values.js'

describe('REST rows -> Arrow', () => {
  test('TIMESTAMP as int64 micros or float seconds, DATETIME and DATE text, to the microsecond', () => {
    const fields = [
      { name: 'a', type: 'TIMESTAMP' },
      { name: 'b', type: 'TIMESTAMP' },
      { name: 'c', type: 'DATETIME' },
      { name: 'd', type: 'DATE' },
    ]
    const [batch] = rowsToBatch(
      [
        {
          f: [
            { v: '-1' },
            { v: '1.7043264E9' },
            { v: '2024-01-01T10:00:00.000001' },
            { v: '1969-12-31' },
          ],
        },
      ],
      fields,
      fields.map((f) => ({ name: f.name, valueType: 'timestamp' as const })),
      'test',
    )
    const micros = (name: string) =>
      readColumn(batch?.getChild(name) as arrow.Vector, 'timestamp', name)[0]
    expect(micros('a')).toBe(-1n)
    expect(micros('b')).toBe(parseTime('2024-01-04T00:00:00Z'))
    expect(micros('c')).toBe(parseTime('2024-01-01T10:00:00.000001Z'))
    expect(micros('d')).toBe(parseTime('1969-12-31T00:00:00Z'))
  })

  test('INT64 text beyond 2^53 stays exact; a cell of the wrong shape names the column', () => {
    const fields = [{ name: 'n', type: 'INTEGER' }]
    const [batch] = rowsToBatch(
      [{ f: [{ v: '9007199254740993' }] }],
      fields,
      [{ name: 'n', valueType: 'int64' }],
      'query job j1',
    )
    expect(batch?.getChild('n')?.get(0)).toBe(9007199254740993n)
    expect(() =>
      rowsToBatch(
        [{ f: [{ v: 'x' }] }],
        fields,
        [{ name: 'n', valueType: 'int64' }],
        'query job j1',
      ),
    ).toThrow(/query job j1, column 'n'/)
  })
})

describe('Arrow -> newline-delimited JSON for load jobs', () => {
  test('instants before 1970 keep their microseconds; int64 as text; NaN and infinities as text', () => {
    const table = new arrow.Table({
      t: toArrowVector([parseTime('1969-12-31T23:59:59.999999Z'), null], 'timestamp'),
      n: toArrowVector([2n ** 60n + 1n, null], 'int64'),
      f: toArrowVector([Number.NaN, Number.NEGATIVE_INFINITY], 'float64'),
      b: toArrowVector([new Uint8Array([0, 255]), null], 'bytes'),
    })
    const { fields, body } = tableToNdjson(table, 'test')
    expect(fields.map((f) => `${f.name}:${f.type}`)).toEqual([
      't:TIMESTAMP',
      'n:INTEGER',
      'f:FLOAT',
      'b:BYTES',
    ])
    expect(
      body
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l)),
    ).toEqual([
      { t: '1969-12-31T23:59:59.999999Z', n: '1152921504606846977', f: 'NaN', b: 'AP8=' },
      { f: '-Infinity' },
    ])
  })
})
