/**
 * Parsing of command-line option values shared by several commands.
 */
import { LarderError } from '@larder/core'

/** `'a, b,,c'` -> `['a', 'b', 'c']`; `undefined` for an absent or empty list. */
export function splitList(value: string | undefined): string[] | undefined {
  if (value === undefined) return undefined
  const items = value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
  return items.length ? items : undefined
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
