import { describe, expect, test } from 'vitest'
import { durationToSeconds, formatTime, isLarderError, parseTime } from '../src/index.js'

describe('durations', () => {
  test.each([
    [3600, 3600],
    ['PT1H', 3600],
    ['P1D', 86400],
    ['P1DT2H30M', 86400 + 2 * 3600 + 30 * 60],
    ['PT0.5S', 0.5],
    ['P2W', 14 * 86400],
    [{ days: 1, hours: 1 }, 90000],
    [{ minutes: 1, seconds: 1.25 }, 61.25],
  ] as const)('%j is %d seconds', (input, seconds) => {
    expect(durationToSeconds(input)).toBe(seconds)
  })

  test.each(['1h', 'P', 'PT', 'P1H', ''])('%j is rejected', (input) => {
    expect(() => durationToSeconds(input, 'ttl')).toThrow(/ttl .* is not an ISO-8601 duration/)
  })

  test('unknown object fields are rejected', () => {
    expect(() => durationToSeconds({ weeks: 1 } as never, 'ttl')).toThrow(
      /ttl has unknown field 'weeks'/,
    )
  })
})

describe('times', () => {
  test('ISO-8601 without zone is UTC; microseconds are kept', () => {
    expect(parseTime('2021-04-12T10:59:42.123456')).toBe(1618225182123456n)
    expect(parseTime('2021-04-12T10:59:42.123456Z')).toBe(1618225182123456n)
    expect(parseTime('2021-04-12 12:59:42.123456+02:00')).toBe(1618225182123456n)
    expect(parseTime('2021-04-12')).toBe(1618185600000000n)
  })

  test('now uses the clock', () => {
    expect(parseTime('now', 'end', () => new Date(1000))).toBe(1_000_000n)
  })

  test('malformed times are a clear INVALID_INPUT error naming the argument', () => {
    for (const bad of ['yesterday', '2021-13-01', '2021-02-30T00:00:00', '2021-01-01T25:00:00']) {
      try {
        parseTime(bad, 'START')
        throw new Error(`accepted ${bad}`)
      } catch (err) {
        expect(isLarderError(err, 'INVALID_INPUT')).toBe(true)
        expect((err as Error).message).toMatch(/START/)
      }
    }
  })

  test('formatTime prints RFC 3339 UTC with microseconds when present', () => {
    expect(formatTime(1618225182123456n)).toBe('2021-04-12T10:59:42.123456Z')
    expect(formatTime(1618225182000000n)).toBe('2021-04-12T10:59:42Z')
    expect(formatTime(0n)).toBe('1970-01-01T00:00:00Z')
    expect(formatTime(-1n)).toBe('1969-12-31T23:59:59.999999Z')
  })
})
