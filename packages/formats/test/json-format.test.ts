import { isRecordError, type LarderError } from '@larder/core'
import { describe, expect, it } from 'vitest'
import { jsonFormat } from '../src/index.js'

const utf8 = (s: string) => new TextEncoder().encode(s)
const ts = ['event_timestamp', 'created']

async function decodeError(format: ReturnType<typeof jsonFormat>, value: Uint8Array) {
  const [result] = await format.createDecoder({ timestampFields: ts }).decodeBatch([value])
  expect(result?.row).toBeUndefined()
  expect(isRecordError(result?.error)).toBe(true)
  return (result?.error as LarderError | undefined)?.message ?? ''
}

describe('jsonFormat', () => {
  it('decodes objects with field names as written and RFC 3339 times to the microsecond', async () => {
    const decoder = jsonFormat().createDecoder({ timestampFields: ts })
    const row = await decoder.decode(
      utf8(
        '{"driver_id": 1001, "Conv Rate": 0.5, "city": "Lyon", "tags": ["a"], ' +
          '"event_timestamp": "2026-01-31T12:00:00.123456Z", "created": "2026-01-31T13:00:00.000001+01:00"}',
      ),
    )
    expect(row).toEqual({
      driver_id: 1001,
      'Conv Rate': 0.5,
      city: 'Lyon',
      tags: ['a'],
      event_timestamp: 1769860800123456n,
      created: 1769860800000001n,
    })
  })

  it('reads epoch numbers by magnitude with the default unit (auto)', async () => {
    const decoder = jsonFormat().createDecoder({ timestampFields: ['event_timestamp'] })
    const at = async (v: string) =>
      (await decoder.decode(utf8(`{"event_timestamp": ${v}}`))).event_timestamp
    expect(await at('1769860800')).toBe(1769860800000000n) // seconds
    expect(await at('1769860800.123456')).toBe(1769860800123456n) // fractional seconds, exact
    expect(await at('1769860800123')).toBe(1769860800123000n) // milliseconds
    expect(await at('1769860800123456')).toBe(1769860800123456n) // microseconds
    expect(await at('1769860800123456789')).toBe(1769860800123456n) // nanoseconds, exact
    expect(await at('"1769860800123"')).toBe(1769860800123000n) // numeric string
    expect(await at('null')).toBe(null)
  })

  it('uses the unit it is given', async () => {
    const decoder = jsonFormat({ timestampUnit: 'milliseconds' }).createDecoder({
      timestampFields: ['event_timestamp'],
    })
    // 1e10 ms would be seconds under auto: 1970-04-26, not 2286.
    const row = await decoder.decode(utf8('{"event_timestamp": 10000000000}'))
    expect(row.event_timestamp).toBe(10000000000000n)
    expect(jsonFormat({ timestampUnit: 'milliseconds' }).spec).toEqual({
      kind: 'json',
      timestampUnit: 'milliseconds',
    })
    expect(() => jsonFormat({ timestampUnit: 'hours' as never })).toThrow(/timestampUnit must be/)
  })

  it('keeps integers beyond 2^53 exact as bigint', async () => {
    const row = await jsonFormat()
      .createDecoder()
      .decode(
        utf8('{"id": 9007199254740993, "small": 42, "neg": -9223372036854775808, "f": 1.5e300}'),
      )
    expect(row).toEqual({
      id: 9007199254740993n,
      small: 42,
      neg: -9223372036854775808n,
      f: 1.5e300,
    })
  })

  it('leaves fields that are not timestamps alone', async () => {
    const row = await jsonFormat()
      .createDecoder({ timestampFields: ['event_timestamp'] })
      .decode(utf8('{"when": "2026-01-31T12:00:00Z"}'))
    expect(row).toEqual({ when: '2026-01-31T12:00:00Z' })
  })

  it('gives a bad-record error for garbage, naming what was wrong', async () => {
    const f = jsonFormat()
    expect(await decodeError(f, utf8('{"driver_id": 1'))).toMatch(
      /^\[larder\] \[json\] record is not JSON .*"\{\\"driver_id\\": 1"$/,
    )
    expect(await decodeError(f, utf8('[1, 2]'))).toBe(
      '[larder] [json] record is JSON an array, expected an object',
    )
    expect(await decodeError(f, utf8('null'))).toMatch(/JSON null, expected an object/)
    expect(await decodeError(f, Uint8Array.from([0x7b, 0xff, 0xfe, 0x7d]))).toMatch(
      /not valid UTF-8/,
    )
    expect(await decodeError(f, utf8('{"event_timestamp": "yesterday"}'))).toMatch(
      /field 'event_timestamp': "yesterday" is not a timestamp \(use RFC 3339/,
    )
    expect(await decodeError(f, utf8('{"created": true}'))).toMatch(/field 'created': true/)
    expect(await f.describe()).toBeUndefined()
  })
})
