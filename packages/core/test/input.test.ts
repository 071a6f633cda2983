/** Input checks of issue #20 at the core level: values and times that must never throw raw. */
import { describe, expect, test } from 'vitest'
import { coerceValue, formatTime, isLarderError, parseTime, previewValue } from '../src/index.js'

function nest(depth: number): unknown {
  let v: unknown = 1
  for (let i = 0; i < depth; i++) v = [v]
  return v
}

describe('value checks never throw their own errors', () => {
  test('a value nested 100,000 deep is INVALID_INPUT, not a RangeError', () => {
    for (const type of ['int64', 'float32', 'string', 'array<int64>'] as const) {
      let err: unknown
      try {
        coerceValue(nest(100_000), type, 'column x, row 0')
      } catch (e) {
        err = e
      }
      expect(isLarderError(err, 'INVALID_INPUT')).toBe(true)
      expect((err as Error).message).toMatch(/column x, row 0.*expected/)
    }
  })

  test('previewValue survives cycles, deep nesting and hostile toString', () => {
    const cyclic: Record<string, unknown> = {}
    cyclic.self = cyclic
    expect(previewValue(cyclic)).toBe('an object')
    expect(previewValue(nest(100_000))).toBe('a list of 1 value(s)')
    const hostile = {
      toJSON() {
        throw new Error('no')
      },
    }
    expect(previewValue(hostile)).toBe('an object')
    expect(previewValue('x'.repeat(100))).toHaveLength(60)
  })

  test('float32 beyond ±3.4e38 is refused; the largest float32 and Infinity are kept', () => {
    expect(() => coerceValue(1e300, 'float32', 'c')).toThrow(/beyond the float32 range/)
    expect(() => coerceValue(-3.5e38, 'float32', 'c')).toThrow(/beyond the float32 range/)
    expect(coerceValue(3.4028234663852886e38, 'float32', 'c')).toBe(3.4028234663852886e38)
    expect(coerceValue('Infinity', 'float32', 'c')).toBe(Number.POSITIVE_INFINITY)
    expect(coerceValue(1e300, 'float64', 'c')).toBe(1e300)
  })

  test('timestamps outside 0001..9999 are refused whatever their form', () => {
    for (const v of [-1e12, 1e300, 253402300800, -62135596801n * 1_000_000n]) {
      expect(() => coerceValue(v, 'timestamp', 'ts')).toThrow(/years 0001 to 9999/)
    }
    expect(formatTime(coerceValue('0001-01-01T00:00:00Z', 'timestamp', 'ts') as bigint)).toBe(
      '0001-01-01T00:00:00Z',
    )
  })
})

describe('times', () => {
  test('UTC offsets beyond ±18:00 or with minutes over 59 are refused', () => {
    expect(() => parseTime('2026-11-30T12:00:00+99:00', 'start')).toThrow(
      /start '2026-11-30T12:00:00\+99:00' has the UTC offset \+99:00, beyond ±18:00/,
    )
    expect(() => parseTime('2026-11-30T12:00:00-18:01')).toThrow(/beyond ±18:00/)
    expect(() => parseTime('2026-11-30T12:00:00+05:60')).toThrow(/beyond ±18:00/)
    expect(formatTime(parseTime('2026-11-30T12:00:00+18:00'))).toBe('2026-11-29T18:00:00Z')
    expect(formatTime(parseTime('2026-11-30T12:00:00-1800'))).toBe('2026-12-01T06:00:00Z')
  })

  test('years 0000..0099 are those years, not 1900..1999', () => {
    expect(formatTime(parseTime('0050-03-01T00:00:00Z'))).toBe('0050-03-01T00:00:00Z')
    expect(() => parseTime('0050-02-29')).toThrow(/not a valid date/)
  })
})
