/**
 * Request-body JSON parsing that never loses an integer silently. `JSON.parse` rounds an
 * integer literal beyond ±(2^53 − 1) to the nearest double before anyone can see it; a
 * feature server that accepted such a join key would read the wrong entity. Bodies are
 * parsed with a reviver that sees each number's source text (`context.source`, Node 22+) and
 * refuses integer literals that are not exact, asking for a decimal string instead. The
 * reviver also refuses `__proto__` keys (and `constructor.prototype`), as Fastify's own
 * parser does. It only runs when the body holds a run of 16 or more digits or such a key, so
 * ordinary requests pay nothing for it.
 */
import { isLarderError, LarderError } from '@larder/core'

/** Deepest nesting of objects and lists a request body may have (real bodies need 4). */
export const MAX_JSON_DEPTH = 32

/** A run of digits long enough to possibly be beyond 2^53 (9007199254740991 has 16). */
const LONG_DIGITS = /\d{16}/
/** Keys that could reach an object's prototype when bodies are merged or copied later. */
const PROTO_KEY = /"(?:__proto__|constructor)"\s*:/
/** An integer literal (no fraction, no exponent). */
const INTEGER_LITERAL = /^-?\d+$/

interface ReviverContext {
  source?: string
}

function guardedReviver(this: unknown, key: string, value: unknown, context?: unknown) {
  if (key === '__proto__' || (key === 'constructor' && isObjectWithPrototype(value))) {
    throw new LarderError('INVALID_INPUT', `JSON key '${key}' is not allowed in a request body`)
  }
  if (typeof value === 'number' && !Number.isSafeInteger(value)) {
    const source = (context as ReviverContext | undefined)?.source
    if (source !== undefined && INTEGER_LITERAL.test(source)) {
      const where = key === '' || /^\d+$/.test(key) ? '' : ` (field '${key}')`
      throw new LarderError(
        'INVALID_INPUT',
        `JSON number ${source}${where} is beyond 2^53 and would lose precision`,
        { hint: `send int64 values beyond 2^53 as decimal strings, e.g. "${source}"` },
      )
    }
  }
  return value
}

function isObjectWithPrototype(value: unknown): boolean {
  return typeof value === 'object' && value !== null && Object.hasOwn(value, 'prototype')
}

/**
 * Parses a request body. Integer literals beyond ±(2^53 − 1) are refused (they cannot be
 * represented exactly as JSON numbers in JavaScript); malformed JSON is refused with the
 * parser's reason.
 * Objects and lists may nest at most `maxDepth` deep, and an object may not name a key twice
 * (`JSON.parse` would keep the last silently).
 * @throws LarderError INVALID_INPUT for malformed JSON, an inexact integer literal, a
 *   `__proto__` key, a duplicate key or nesting deeper than `maxDepth`.
 * @example
 * parseRequestJson('{"driver_id": ["12345678901234567890"]}') // ok: strings stay exact
 * parseRequestJson('{"driver_id": [12345678901234567890]}') // throws: send it as a string
 */
export function parseRequestJson(text: string, maxDepth = MAX_JSON_DEPTH): unknown {
  checkStructure(text, maxDepth)
  try {
    return LONG_DIGITS.test(text) || PROTO_KEY.test(text)
      ? JSON.parse(text, guardedReviver as (key: string, value: unknown) => unknown)
      : JSON.parse(text)
  } catch (err) {
    if (isLarderError(err)) throw err
    throw new LarderError('INVALID_INPUT', `malformed JSON body: ${(err as Error).message}`, {
      hint: 'send one JSON object (any Content-Type is read as JSON)',
    })
  }
}

const QUOTE = 0x22
const BACKSLASH = 0x5c
const OPEN_OBJECT = 0x7b
const CLOSE_OBJECT = 0x7d
const OPEN_LIST = 0x5b
const CLOSE_LIST = 0x5d
const COLON = 0x3a

/**
 * One pass over the text, before `JSON.parse`: refuses nesting deeper than `maxDepth` (deep
 * input would otherwise overflow the stack of whatever walks the parsed value later) and
 * duplicate keys in one object. Malformed text is left for `JSON.parse` to report.
 */
function checkStructure(text: string, maxDepth: number): void {
  // Per open container: the keys seen so far (objects), or null (lists).
  const stack: Array<Set<string> | null> = []
  const n = text.length
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i)
    if (c === QUOTE) {
      const start = i + 1
      let escaped = false
      i++
      while (i < n) {
        const d = text.charCodeAt(i)
        if (d === BACKSLASH) {
          escaped = true
          i += 2
          continue
        }
        if (d === QUOTE) break
        i++
      }
      const keys = stack.at(-1)
      if (!keys) continue
      let j = i + 1
      while (j < n && text.charCodeAt(j) <= 0x20) j++
      if (text.charCodeAt(j) !== COLON) continue
      let key = text.slice(start, i)
      if (escaped) {
        try {
          key = JSON.parse(`"${key}"`) as string
        } catch {
          continue
        }
      }
      if (keys.has(key)) {
        throw new LarderError(
          'INVALID_INPUT',
          `JSON key '${key.length > 60 ? `${key.slice(0, 57)}...` : key}' appears twice in one object`,
          { hint: 'give each field once (JSON parsers would silently keep only the last)' },
        )
      }
      keys.add(key)
    } else if (c === OPEN_OBJECT || c === OPEN_LIST) {
      if (stack.length >= maxDepth) {
        throw new LarderError(
          'INVALID_INPUT',
          `request body nests objects and lists more than ${maxDepth} deep`,
          { hint: 'entities and df are { column: [values] }; list values nest one level more' },
        )
      }
      stack.push(c === OPEN_OBJECT ? new Set() : null)
    } else if (c === CLOSE_OBJECT || c === CLOSE_LIST) {
      stack.pop()
    }
  }
}

/**
 * JSON.stringify replacer for request bodies sent by Node callers: bigint as a number when
 * exact, else a decimal string; Uint8Array as base64; Date as RFC 3339.
 * @example
 * JSON.stringify({ driver_id: [2n ** 60n] }, jsonReplacer) // '{"driver_id":["1152921504606846976"]}'
 */
export function jsonReplacer(_key: string, value: unknown): unknown {
  if (typeof value === 'bigint') {
    return value >= BigInt(Number.MIN_SAFE_INTEGER) && value <= BigInt(Number.MAX_SAFE_INTEGER)
      ? Number(value)
      : value.toString()
  }
  if (value instanceof Uint8Array) {
    return Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('base64')
  }
  return value
}
