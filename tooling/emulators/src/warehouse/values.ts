/** Helpers that render DuckDB temporal/numeric values the way the warehouses' wire formats do. */

const MICROS_PER_DAY = 86_400_000_000n

function pad(n: number | bigint, width: number): string {
  return String(n).padStart(width, '0')
}

/** `YYYY-MM-DD` for a day count since 1970-01-01. */
export function daysToDate(days: number): string {
  const d = new Date(days * 86_400_000)
  return `${pad(d.getUTCFullYear(), 4)}-${pad(d.getUTCMonth() + 1, 2)}-${pad(d.getUTCDate(), 2)}`
}

/** `HH:MM:SS[.ffffff]` for microseconds since midnight (trailing fraction only when non-zero). */
export function microsToTime(micros: bigint): string {
  const s = micros / 1_000_000n
  const frac = micros % 1_000_000n
  const base = `${pad(s / 3600n, 2)}:${pad((s / 60n) % 60n, 2)}:${pad(s % 60n, 2)}`
  return frac === 0n ? base : `${base}.${pad(frac, 6)}`
}

/** `YYYY-MM-DD<sep>HH:MM:SS[.ffffff]` for microseconds since the epoch (UTC). */
export function microsToDateTime(micros: bigint, sep = 'T'): string {
  let days = micros / MICROS_PER_DAY
  let rest = micros % MICROS_PER_DAY
  if (rest < 0n) {
    rest += MICROS_PER_DAY
    days -= 1n
  }
  return `${daysToDate(Number(days))}${sep}${microsToTime(rest)}`
}

/** Exact decimal text of `value / 10^scale` with exactly `scale` fraction digits. */
export function scaledDecimal(value: bigint, scale: number): string {
  const negative = value < 0n
  const abs = negative ? -value : value
  const digits = abs.toString().padStart(scale + 1, '0')
  const int = digits.slice(0, digits.length - scale)
  const frac = digits.slice(digits.length - scale)
  return `${negative ? '-' : ''}${int}${scale > 0 ? `.${frac}` : ''}`
}

/** Microseconds since the epoch parsed from an ISO-like timestamp string (UTC unless an offset is given). */
export function parseTimestampMicros(text: string): bigint {
  const m =
    /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?)?\s*(Z|UTC|[+-]\d{2}(?::?\d{2})?)?$/i.exec(
      text.trim(),
    )
  if (!m) throw new Error(`invalid timestamp: ${text}`)
  const [, y, mo, d, h = '0', mi = '0', s = '0', f = '', tz] = m
  const ms = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s))
  let micros = BigInt(ms) * 1000n + BigInt((f + '000000').slice(0, 6))
  if (tz && !/^(Z|UTC)$/i.test(tz)) {
    const sign = tz.startsWith('-') ? -1n : 1n
    const digits = tz.slice(1).replace(':', '')
    const offsetMin = BigInt(Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2) || '0'))
    micros -= sign * offsetMin * 60_000_000n
  }
  return micros
}
