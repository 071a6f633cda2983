import { describe, expect, test } from 'vitest'
import {
  isLarderError,
  isLarderErrorCode,
  LARDER_ERROR_BRAND,
  LARDER_ERROR_CODES,
  LarderError,
} from '../src/errors.js'

describe('LarderError across copies of core', () => {
  test('an error of a second module instance of core is recognized, with its code', async () => {
    // The query string makes the module loader evaluate errors.ts a second time: a second
    // LarderError class, as when a backend brings its own copy of @larder/core.
    const other = (await import(
      /* @vite-ignore */ `../src/errors.js?copy=${Date.now()}`
    )) as typeof import('../src/errors.js')
    expect(other.LarderError).not.toBe(LarderError)
    const err = new other.LarderError('NOT_FOUND', "view 'x' is not registered")
    expect(err instanceof LarderError).toBe(false)
    expect(isLarderError(err)).toBe(true)
    expect(isLarderError(err, 'NOT_FOUND')).toBe(true)
    expect(isLarderError(err, 'INVALID_INPUT')).toBe(false)
    // And the other way round.
    expect(other.isLarderError(new LarderError('INTERNAL', 'bug'), 'INTERNAL')).toBe(true)
  })

  test('a plain object carrying the registered brand counts; look-alikes without it do not', () => {
    const branded = { [Symbol.for('@larder/core/LarderError')]: true, code: 'UNSUPPORTED' }
    expect(isLarderError(branded, 'UNSUPPORTED')).toBe(true)
    expect(LARDER_ERROR_BRAND).toBe(Symbol.for('@larder/core/LarderError'))
    const lookAlike = Object.assign(new Error('[larder] x'), {
      name: 'LarderError',
      code: 'NOT_FOUND',
    })
    expect(isLarderError(lookAlike)).toBe(false)
    expect(isLarderError(null)).toBe(false)
    expect(isLarderError('NOT_FOUND')).toBe(false)
  })

  test('the brand is not enumerable: copies of an error by spreading do not carry it', () => {
    const err = new LarderError('INVALID_INPUT', 'bad row', { component: 'cli' })
    expect(Object.getOwnPropertyDescriptor(err, LARDER_ERROR_BRAND)?.enumerable).toBe(false)
    expect(Object.getOwnPropertySymbols({ ...err })).toEqual([])
    expect(isLarderError({ ...err })).toBe(false)
  })
})

describe('LARDER_ERROR_CODES', () => {
  test('lists every code once, and isLarderErrorCode checks against it', () => {
    expect(new Set(LARDER_ERROR_CODES).size).toBe(LARDER_ERROR_CODES.length)
    for (const code of LARDER_ERROR_CODES) expect(isLarderErrorCode(code)).toBe(true)
    expect(isLarderErrorCode('UNAUTHORIZED')).toBe(false)
    expect(isLarderErrorCode(undefined)).toBe(false)
  })
})
