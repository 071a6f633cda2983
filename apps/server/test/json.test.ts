import { isLarderError } from '@larder/core'
import { describe, expect, test } from 'vitest'
import { jsonReplacer, parseRequestJson } from '../src/json.js'

describe('parseRequestJson', () => {
  test('keeps exact numbers, refuses integer literals beyond 2^53 naming the field', () => {
    expect(parseRequestJson('{"a": [9007199254740991, -9007199254740991, 1.5e300, 0.1]}')).toEqual({
      a: [9007199254740991, -9007199254740991, 1.5e300, 0.1],
    })
    expect(() => parseRequestJson('{"big": 9007199254740993}')).toThrow(
      /JSON number 9007199254740993 \(field 'big'\) is beyond 2\^53.*"9007199254740993"/,
    )
    expect(() => parseRequestJson('[-12345678901234567890]')).toThrow(/-12345678901234567890/)
    // Not integers: a float written with many digits is a float, not refused.
    expect(parseRequestJson('[12345678901234567890.5]')).toEqual([Number('12345678901234567890.5')])
    // Digits inside strings are not numbers.
    expect(parseRequestJson('["12345678901234567890"]')).toEqual(['12345678901234567890'])
  })

  test('malformed JSON is INVALID_INPUT with the parser reason', () => {
    let err: unknown
    try {
      parseRequestJson('{"a": ')
    } catch (e) {
      err = e
    }
    expect(isLarderError(err, 'INVALID_INPUT')).toBe(true)
    expect((err as Error).message).toMatch(/malformed JSON body/)
  })

  test('__proto__ and constructor.prototype are refused; a plain constructor key is fine', () => {
    expect(() => parseRequestJson('{"__proto__": {"polluted": true}}')).toThrow(/__proto__/)
    expect(() => parseRequestJson('{"constructor": {"prototype": {}}}')).toThrow(/constructor/)
    expect(parseRequestJson('{"constructor": [1]}')).toEqual({ constructor: [1] })
  })
})

describe('jsonReplacer', () => {
  test('bigint exact as a number or a string, bytes base64, dates RFC 3339', () => {
    expect(
      JSON.stringify(
        { a: [1n, 2n ** 60n, -(2n ** 60n)], b: new Uint8Array([1, 2, 255]), c: new Date(0) },
        jsonReplacer,
      ),
    ).toBe(
      '{"a":[1,"1152921504606846976","-1152921504606846976"],"b":"AQL/","c":"1970-01-01T00:00:00.000Z"}',
    )
  })
})
