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
