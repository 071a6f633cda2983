import { parseTime } from '@larder/core'
import { describe, expect, it } from 'vitest'
import { epochToMicros, parseRfc3339Micros } from '../src/timestamps.js'

/** A deterministic pseudo-random sequence (mulberry32), so failures reproduce. */
function random(seed: number): () => number {
  let a = seed
  return () => {
    a = (a + 0x6d2b79f5) | 0
    let x = Math.imul(a ^ (a >>> 15), 1 | a)
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296
  }
}

const pad = (n: number, w: number) => String(n).padStart(w, '0')

describe('RFC 3339 fast path', () => {
  it("agrees with core's parseTime on 20,000 random times, fractions and offsets", () => {
    const next = random(42)
    const int = (lo: number, hi: number) => lo + Math.floor(next() * (hi - lo + 1))
    for (let i = 0; i < 20_000; i++) {
      const year = int(1, 9999)
      const month = int(1, 12)
      const day = int(1, 28 + (month === 2 ? 1 : 3))
      const digits = int(0, 9)
      const frac = digits ? `.${Array.from({ length: digits }, () => int(0, 9)).join('')}` : ''
      const zone =
        next() < 0.5
          ? 'Z'
          : `${next() < 0.5 ? '+' : '-'}${pad(int(0, 23), 2)}:${pad(int(0, 59), 2)}`
      const text = `${pad(year, 4)}-${pad(month, 2)}-${pad(day, 2)}T${pad(int(0, 23), 2)}:${pad(int(0, 59), 2)}:${pad(int(0, 59), 2)}${frac}${zone}`
      let expected: bigint | undefined
      try {
        expected = parseTime(text)
      } catch {
        expected = undefined // e.g. Feb 30: the fast path must refuse too
      }
      expect([text, parseRfc3339Micros(text)]).toEqual([text, expected])
    }
  })

  it('refuses other shapes, leaving them to the general parser', () => {
    for (const text of [
      '2026-01-31',
      '2026-01-31T12:00Z',
      '2026-01-31T12:00:00',
      '2026-02-29T00:00:00Z',
      '2026-01-31T24:00:00Z',
      '2026-01-31T12:00:60Z',
      '2026-01-31T12:00:00.Z',
      '2026-01-31T12:00:00+0100',
      '2026-01-31T12:00:00Zjunk',
      'yesterday at noon, UTC!',
    ]) {
      expect(parseRfc3339Micros(text)).toBeUndefined()
    }
    expect(parseRfc3339Micros('2024-02-29T00:00:00z')).toBe(1709164800000000n)
    expect(parseRfc3339Micros('1969-12-31 23:59:59.999999Z')).toBe(-1n)
  })

  it('scales epoch numbers exactly, flooring below a microsecond', () => {
    expect(epochToMicros('-0.0000015', 'seconds')).toBe(-2n)
    expect(epochToMicros(1.5e3, 'milliseconds')).toBe(1_500_000n)
    expect(epochToMicros(1769860800123456789n, 'auto')).toBe(1769860800123456n)
    expect(epochToMicros('12abc', 'seconds')).toBeUndefined()
  })
})
