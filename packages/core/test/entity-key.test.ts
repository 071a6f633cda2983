import { describe, expect, test } from 'vitest'
import { deserializeEntityKey, LarderError, serializeEntityKey } from '../src/index.js'

function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('hex')
}

describe('serializeEntityKey (Feast v3)', () => {
  test('one int64 key, laid out byte by byte', () => {
    const got = serializeEntityKey([{ name: 'driver_id', valueType: 'int64', value: 1001n }])
    // count=1 | STRING(2) len=9 "driver_id" | INT64(4) len=8 1001 as i64le
    const expected =
      '01000000' +
      '02000000' +
      '09000000' +
      Buffer.from('driver_id').toString('hex') +
      '04000000' +
      '08000000' +
      'e903000000000000'
    expect(hex(got)).toBe(expected)
  })

  test('keys are sorted by name and values follow that order', () => {
    const got = serializeEntityKey([
      { name: 'zip', valueType: 'string', value: 'ab' },
      { name: 'age', valueType: 'int32', value: -1 },
    ])
    const expected =
      '02000000' +
      '02000000' +
      '03000000' +
      Buffer.from('age').toString('hex') +
      '02000000' +
      '03000000' +
      Buffer.from('zip').toString('hex') +
      '03000000' +
      '04000000' +
      'ffffffff' +
      '02000000' +
      '02000000' +
      Buffer.from('ab').toString('hex')
    expect(hex(got)).toBe(expected)
    expect(deserializeEntityKey(got)).toEqual([
      { name: 'age', value: -1 },
      { name: 'zip', value: 'ab' },
    ])
  })

  test('int64 beyond 2^53 is exact', () => {
    const big = 2n ** 62n + 7n
    const got = serializeEntityKey([{ name: 'id', valueType: 'int64', value: big }])
    expect(deserializeEntityKey(got)[0]?.value).toBe(big)
  })

  test('numbers, numeric strings and bigints give the same int64 key', () => {
    const a = serializeEntityKey([{ name: 'id', valueType: 'int64', value: 5 }])
    const b = serializeEntityKey([{ name: 'id', valueType: 'int64', value: 5n }])
    const c = serializeEntityKey([{ name: 'id', valueType: 'int64', value: '5' }])
    expect(hex(a)).toBe(hex(b))
    expect(hex(a)).toBe(hex(c))
  })

  test('bad values name the key', () => {
    expect(() =>
      serializeEntityKey([{ name: 'driver_id', valueType: 'int64', value: 1.5 }]),
    ).toThrow(/driver_id/)
    expect(() =>
      serializeEntityKey([{ name: 'driver_id', valueType: 'int64', value: null }]),
    ).toThrow(LarderError)
    expect(() => serializeEntityKey([{ name: 'x', valueType: 'float64', value: 1 }])).toThrow(
      /cannot be an entity key/,
    )
  })
})
