/**
 * Timestamps in decoded rows are `bigint` epoch microseconds (UTC), the form core's write path
 * takes exactly. Sub-microsecond digits are dropped (rounded toward negative infinity).
 */
import type { EpochUnit } from '@larder/core'

/** Powers of ten from each unit to microseconds: micros = value * 10^exp. */
const EXPONENT: Record<EpochUnit, number> = {
  seconds: 6,
  milliseconds: 3,
  microseconds: 0,
  nanoseconds: -3,
}

/** `a / b` rounded toward negative infinity (bigint division truncates toward zero). */
export function floorDiv(a: bigint, b: bigint): bigint {
  const q = a / b
  return (a % b !== 0n && a < 0n) !== b < 0n ? q - 1n : q
}

/**
 * Scales a decimal number written as text (`-12.345`, `1.5e3`) by 10^exp, exactly, flooring
 * what is left below one. Returns undefined when the text is not a decimal number.
 */
export function scaleDecimal(text: string, exp: number): bigint | undefined {
  const m = /^(-?)(\d+)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/.exec(text)
  if (!m) return undefined
  const [, sign, int, frac = '', e] = m
  const digits = BigInt(`${int}${frac}`)
  const shift = exp + Number(e ?? 0) - frac.length
  let value: bigint
  if (shift >= 0) value = digits * 10n ** BigInt(shift)
  else {
    const div = 10n ** BigInt(-shift)
    value = sign === '-' ? -digits : digits
    return floorDiv(value, div)
  }
  return sign === '-' ? -value : value
}

/**
 * The unit of an epoch number when the unit is `auto`, by magnitude: below 10^11 seconds,
 * below 10^14 milliseconds, below 10^17 microseconds, else nanoseconds. Each unit thus covers
 * 1973-03-03 to 5138-11-16; outside that range say the unit explicitly.
 */
export function guessEpochUnit(magnitude: number): EpochUnit {
  if (magnitude < 1e11) return 'seconds'
  if (magnitude < 1e14) return 'milliseconds'
  if (magnitude < 1e17) return 'microseconds'
  return 'nanoseconds'
}

/**
 * Epoch number in `unit` -> epoch microseconds, exactly: numbers are scaled from their shortest
 * decimal text (the number the producer wrote), bigints and numeric strings digit by digit.
 * Returns undefined when `value` is a string that is not a decimal number.
 */
export function epochToMicros(
  value: number | bigint | string,
  unit: EpochUnit | 'auto',
): bigint | undefined {
  const text = typeof value === 'string' ? value : String(value)
  const u = unit === 'auto' ? guessEpochUnit(Math.abs(Number(text))) : unit
  return scaleDecimal(text, EXPONENT[u])
}

const DIGIT_0 = 48

/** Two digits at `i`, or -1. */
function two(s: string, i: number): number {
  const a = s.charCodeAt(i) - DIGIT_0
  const b = s.charCodeAt(i + 1) - DIGIT_0
  return a >= 0 && a <= 9 && b >= 0 && b <= 9 ? a * 10 + b : -1
}

/** Days from 1970-01-01 to a proleptic Gregorian date (H. Hinnant's days_from_civil). */
function daysFromCivil(y: number, m: number, d: number): number {
  const yy = m <= 2 ? y - 1 : y
  const era = Math.floor(yy / 400)
  const yoe = yy - era * 400
  const doy = Math.floor((153 * (m + (m > 2 ? -3 : 9)) + 2) / 5) + d - 1
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy
  return era * 146097 + doe - 719468
}

const MONTH_DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]

/**
 * Epoch microseconds of an RFC 3339 time with seconds and a zone
 * (`2026-01-31T12:00:00.123456Z`, `...+01:00`), digits below a microsecond dropped; undefined
 * for any other shape (the caller then uses core's general `parseTime`). Ingestion reads one
 * per record, so this avoids regular expressions and Date.
 */
export function parseRfc3339Micros(s: string): bigint | undefined {
  const n = s.length
  if (n < 20 || s.charCodeAt(4) !== 45 || s.charCodeAt(7) !== 45) return undefined
  const sep = s.charCodeAt(10)
  if (sep !== 84 && sep !== 116 && sep !== 32) return undefined // T, t, space
  if (s.charCodeAt(13) !== 58 || s.charCodeAt(16) !== 58) return undefined
  const hi = two(s, 0)
  const lo = two(s, 2)
  const month = two(s, 5)
  const day = two(s, 8)
  const hour = two(s, 11)
  const minute = two(s, 14)
  const second = two(s, 17)
  if (hi < 0 || lo < 0 || month < 1 || month > 12 || day < 1 || hour < 0 || hour > 23) {
    return undefined
  }
  if (minute < 0 || minute > 59 || second < 0 || second > 59) return undefined
  const year = hi * 100 + lo
  const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0
  if (day > (month === 2 && leap ? 29 : (MONTH_DAYS[month - 1] as number))) return undefined
  let i = 19
  let frac = 0
  if (s.charCodeAt(i) === 46) {
    i++
    let digits = 0
    while (i < n) {
      const c = s.charCodeAt(i) - DIGIT_0
      if (c < 0 || c > 9) break
      if (digits < 6) frac = frac * 10 + c
      digits++
      i++
    }
    if (digits === 0) return undefined
    for (let k = digits; k < 6; k++) frac *= 10
  }
  let offset = 0
  const z = s.charCodeAt(i)
  if ((z === 90 || z === 122) && i + 1 === n)
    offset = 0 // Z, z
  else if ((z === 43 || z === 45) && i + 6 === n && s.charCodeAt(i + 3) === 58) {
    const oh = two(s, i + 1)
    const om = two(s, i + 4)
    // RFC 3339 and ISO-8601 offsets reach ±18:00 at most (core's parseTime says so too).
    if (oh < 0 || om < 0 || om > 59 || oh * 60 + om > 18 * 60) return undefined
    offset = (z === 45 ? -1 : 1) * (oh * 3600 + om * 60)
  } else return undefined
  const seconds =
    daysFromCivil(year, month, day) * 86400 + hour * 3600 + minute * 60 + second - offset
  // Exact in a double up to year ~2255; beyond, in bigints.
  return Math.abs(seconds) < 9e9
    ? BigInt(seconds * 1e6 + frac)
    : BigInt(seconds) * 1_000_000n + BigInt(frac)
}
