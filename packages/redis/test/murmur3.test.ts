// murmur3_32 against published test vectors, and Feast's field naming (`_mmh3`: the
// little-endian bytes of the unsigned hash of 'view:feature').
import { describe, expect, test } from 'vitest'
import { featureFieldName, murmur3_32 } from '../src/index.js'
import { referenceMurmur3 } from './reference.js'

describe('murmur3_32', () => {
  test.each([
    ['', 0, 0],
    ['', 1, 0x514e28b7],
    ['', 0xffffffff, 0x81f16f39],
    ['test', 0, 0xba6bd213],
    ['hello', 0, 0x248bfa47],
    ['Hello, world!', 0, 0xc0363e43],
    ['Hello, world!', 1234, 0xfaf6cdb3],
    ['The quick brown fox jumps over the lazy dog', 0, 0x2e4ff723],
    ['aaaa', 0x9747b28c, 0x5a97808a],
    ['abc', 0x9747b28c, 0xc84a62dd],
    ['Hello, world!', 0x9747b28c, 0x24884cba],
  ])('%j with seed %d is %d', (input, seed, expected) => {
    expect(murmur3_32(input, seed)).toBe(expected)
    expect(referenceMurmur3(Buffer.from(input, 'utf8'), seed)).toBe(expected)
  })

  test('agrees with the independent reference on every tail length and on UTF-8', () => {
    const samples = ['a', 'ab', 'abc', 'abcd', 'abcde', 'ü', 'driver_hourly_stats:conv_rate']
    for (let i = 0; i < 300; i++) {
      samples.push(
        Array.from({ length: i % 37 }, (_, j) =>
          String.fromCodePoint(32 + ((i * 31 + j * 7) % 900)),
        ).join(''),
      )
    }
    for (const s of samples) expect(murmur3_32(s)).toBe(referenceMurmur3(Buffer.from(s, 'utf8'), 0))
  })

  test("field names are the hash's 4 little-endian bytes", () => {
    const h = murmur3_32('driver_hourly_stats:conv_rate')
    const field = featureFieldName('driver_hourly_stats', 'conv_rate')
    expect([...field]).toEqual([h & 0xff, (h >>> 8) & 0xff, (h >>> 16) & 0xff, h >>> 24])
  })
})
