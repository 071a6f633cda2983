/**
 * Durations (TTL, windows, watermark delay) and times, per SEMANTICS.md: a number of seconds,
 * an ISO-8601 duration (`PT1H`, `P1D`, `P1DT2H30M`) or `{ days, hours, minutes, seconds }`.
 */
import { LarderError } from './errors.js'

/** A duration as users write it. */
export type Duration =
  | number
  | string
  | { days?: number; hours?: number; minutes?: number; seconds?: number }

/**
 * Normalizes a duration to seconds (fractional seconds allowed, microsecond precision).
 * @throws LarderError INVALID_DEFINITION naming `what` when malformed or negative.
 */
export function durationToSeconds(value: Duration, what = 'duration'): number {
  let seconds: number
  if (typeof value === 'number') {
    seconds = value
  } else if (typeof value === 'string') {
    const m =
      /^P(?:(\d+(?:\.\d+)?)W)?(?:(\d+(?:\.\d+)?)D)?(?:T(?:(\d+(?:\.\d+)?)H)?(?:(\d+(?:\.\d+)?)M)?(?:(\d+(?:\.\d+)?)S)?)?$/.exec(
        value,
      )
    if (!m || value === 'P' || value.endsWith('T')) {
      throw new LarderError(
        'INVALID_DEFINITION',
        `${what} '${value}' is not an ISO-8601 duration (e.g. PT1H, P1D, P1DT12H)`,
      )
    }
    const [, w, d, h, min, s] = m
    seconds =
      Number(w ?? 0) * 604800 +
      Number(d ?? 0) * 86400 +
      Number(h ?? 0) * 3600 +
      Number(min ?? 0) * 60 +
      Number(s ?? 0)
  } else if (value && typeof value === 'object') {
    const known = new Set(['days', 'hours', 'minutes', 'seconds'])
    for (const key of Object.keys(value)) {
      if (!known.has(key)) {
        throw new LarderError(
          'INVALID_DEFINITION',
          `${what} has unknown field '${key}' (use days, hours, minutes, seconds)`,
        )
      }
    }
    seconds =
      (value.days ?? 0) * 86400 +
      (value.hours ?? 0) * 3600 +
      (value.minutes ?? 0) * 60 +
      (value.seconds ?? 0)
  } else {
    throw new LarderError(
      'INVALID_DEFINITION',
      `${what} must be seconds, an ISO-8601 duration or { days, hours, minutes, seconds }`,
    )
  }
  if (!Number.isFinite(seconds) || seconds < 0) {
    throw new LarderError(
      'INVALID_DEFINITION',
      `${what} must be a finite duration >= 0, got ${JSON.stringify(value)}`,
    )
  }
  return Math.round(seconds * 1e6) / 1e6
}

/** Microseconds since the Unix epoch, the exact internal representation of an instant. */
export type EpochMicros = bigint

/**
 * Parses a time as users write it on the command line or in JSON: ISO-8601 (a string without
 * zone is UTC), `now`, a Date, or epoch microseconds as bigint. Microseconds are kept.
 * @throws LarderError INVALID_INPUT naming `what`.
 */
export function parseTime(
  value: string | Date | bigint,
  what = 'time',
  now: () => Date = () => new Date(),
): EpochMicros {
  if (typeof value === 'bigint') return value
  if (value instanceof Date) {
    if (Number.isNaN(value.getTime()))
      throw new LarderError('INVALID_INPUT', `${what} is an invalid Date`)
    return BigInt(value.getTime()) * 1000n
  }
  const text = value.trim()
  if (text === 'now') return BigInt(now().getTime()) * 1000n
  const m =
    /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?)?\s*(Z|[+-]\d{2}:?\d{2})?$/i.exec(
      text,
    )
  if (!m) {
    throw new LarderError(
      'INVALID_INPUT',
      `${what} '${value}' is not an ISO-8601 time (e.g. 2026-01-31T12:00:00Z) or 'now'`,
    )
  }
  const [, y, mo, d, h, mi, s, frac, zone] = m
  // setUTCFullYear, not Date.UTC: Date.UTC maps the years 0..99 to 1900..1999.
  const check = new Date(0)
  check.setUTCFullYear(Number(y), Number(mo) - 1, Number(d))
  check.setUTCHours(Number(h ?? 0), Number(mi ?? 0), Number(s ?? 0), 0)
  const ms = check.getTime()
  if (
    Number.isNaN(ms) ||
    check.getUTCDate() !== Number(d) ||
    check.getUTCMonth() !== Number(mo) - 1 ||
    Number(h ?? 0) > 23 ||
    Number(mi ?? 0) > 59 ||
    Number(s ?? 0) > 59
  ) {
    throw new LarderError('INVALID_INPUT', `${what} '${value}' is not a valid date and time`)
  }
  let micros = BigInt(ms) * 1000n + BigInt((frac ?? '').padEnd(6, '0').slice(0, 6) || '0')
  if (zone && zone.toUpperCase() !== 'Z') {
    const zm = /^([+-])(\d{2}):?(\d{2})$/.exec(zone)!
    const minutes = Number(zm[2]) * 60 + Number(zm[3])
    if (Number(zm[3]) > 59 || minutes > 18 * 60) {
      throw new LarderError(
        'INVALID_INPUT',
        `${what} '${value}' has the UTC offset ${zone}, beyond ±18:00 (the widest offset RFC 3339 and ISO-8601 allow)`,
      )
    }
    const offset = minutes * 60_000_000
    micros -= BigInt(zm[1] === '-' ? -offset : offset)
  }
  return micros
}

// The ISO prefix (to the second) of the last second formatted: result columns repeat
// timestamps, and Date#toISOString is the expensive part.
let lastSecond = Number.NaN
let lastPrefix = ''

/** Formats epoch microseconds as RFC 3339 UTC with `Z` (microseconds shown when non-zero). */
export function formatTime(micros: EpochMicros): string {
  const m = Number(micros)
  let second: number
  let frac: number
  if (Number.isSafeInteger(m)) {
    second = Math.floor(m / 1e6)
    frac = m - second * 1e6
  } else {
    const s = micros / 1_000_000n - (micros < 0n && micros % 1_000_000n !== 0n ? 1n : 0n)
    second = Number(s)
    frac = Number(micros - s * 1_000_000n)
  }
  if (second !== lastSecond) {
    lastPrefix = new Date(second * 1000).toISOString().slice(0, 19)
    lastSecond = second
  }
  return frac === 0 ? `${lastPrefix}Z` : `${lastPrefix}.${String(frac).padStart(6, '0')}Z`
}
