/**
 * Parsing of command-line option values shared by several commands.
 */
import { LarderError } from '@larder/core'

/**
 * `'a, b,,c'` -> `['a', 'b', 'c']`; `undefined` when the option is absent.
 * @throws LarderError INVALID_INPUT naming `option` when it is given but names nothing
 *   (`--views ''` must not quietly mean "every view").
 */
export function splitList(value: string | undefined, option: string): string[] | undefined {
  if (value === undefined) return undefined
  const items = value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
  if (items.length === 0) {
    throw new LarderError('INVALID_INPUT', `${option} is empty`, {
      hint: `name at least one (${option} a,b), or leave ${option} out`,
    })
  }
  return items
}

/** The range of a port option (0 picks a free port). */
export const PORT = { min: 0, max: 65_535, integer: true }

/**
 * Parses a numeric option within `[min, max]` (a whole number when `integer`).
 * @throws LarderError INVALID_INPUT naming the option, the value and the accepted range.
 * @example
 * numberOption('1e99', '--body-limit', { min: 1, max: 1073741824, integer: true }) // throws
 */
export function numberOption(
  value: string,
  option: string,
  range: { min: number; max: number; integer?: boolean },
): number {
  const n = value.trim() === '' ? Number.NaN : Number(value)
  if (
    !Number.isFinite(n) ||
    n < range.min ||
    n > range.max ||
    (range.integer && !Number.isInteger(n))
  ) {
    throw new LarderError(
      'INVALID_INPUT',
      `${option} must be ${range.integer ? 'a whole number' : 'a number'} from ${range.min} to ${range.max}, got '${value}'`,
    )
  }
  return n
}

/**
 * Parses a JSON option value.
 * @throws LarderError INVALID_INPUT naming the option when `text` is not JSON.
 */
export function parseJsonOption(text: string, option: string): unknown {
  try {
    return JSON.parse(text)
  } catch {
    throw new LarderError(
      'INVALID_INPUT',
      `${option} is not valid JSON: ${text.length > 60 ? `${text.slice(0, 57)}...` : text}`,
      {
        hint: `e.g. ${option} '{"driver_id": [1001, 1002]}'`,
      },
    )
  }
}
