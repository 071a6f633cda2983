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
import { LarderError } from '@larder/core'

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
 * @throws LarderError INVALID_INPUT for malformed JSON, an inexact integer literal or a
 *   `__proto__` key.
 * @example
 * parseRequestJson('{"driver_id": ["12345678901234567890"]}') // ok: strings stay exact
 * parseRequestJson('{"driver_id": [12345678901234567890]}') // throws: send it as a string
 */
export function parseRequestJson(text: string): unknown {
  try {
    return LONG_DIGITS.test(text) || PROTO_KEY.test(text)
      ? JSON.parse(text, guardedReviver as (key: string, value: unknown) => unknown)
      : JSON.parse(text)
  } catch (err) {
    if (err instanceof LarderError) throw err
    throw new LarderError('INVALID_INPUT', `malformed JSON body: ${(err as Error).message}`, {
      hint: 'send a JSON object with Content-Type: application/json',
    })
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
