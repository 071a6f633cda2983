import { describe, expect, it } from 'vitest'
import {
  type DecodedRow,
  isRecordError,
  isStreamFormat,
  LarderError,
  recordError,
  StreamDecoderBase,
  type StreamFormat,
} from '../src/index.js'

/** A decoder over UTF-8 JSON objects whose `fault` field simulates a backend failure. */
class Utf8JsonDecoder extends StreamDecoderBase {
  async decode(value: Uint8Array): Promise<DecodedRow> {
    let parsed: unknown
    try {
      parsed = JSON.parse(new TextDecoder().decode(value))
    } catch (err) {
      throw recordError('json', 'not JSON', err)
    }
    if ((parsed as { fault?: boolean }).fault) {
      throw new LarderError('BACKEND_UNAVAILABLE', 'schema store down')
    }
    return parsed as DecodedRow
  }
}

const bytes = (s: string) => new TextEncoder().encode(s)

describe('stream format contract', () => {
  it('decodeBatch keeps going past bad records, in order', async () => {
    const results = await new Utf8JsonDecoder().decodeBatch([
      bytes('{"a":1}'),
      bytes('{oops'),
      bytes('{"a":2}'),
    ])
    expect(results.map((r) => r.row ?? null)).toEqual([{ a: 1 }, null, { a: 2 }])
    const bad = results[1]?.error
    expect(isRecordError(bad)).toBe(true)
    expect(bad?.message).toBe('[larder] [json] not JSON')
  })

  it('decodeBatch rethrows faults: the pipeline must not commit past them', async () => {
    await expect(
      new Utf8JsonDecoder().decodeBatch([bytes('{"a":1}'), bytes('{"fault":true}')]),
    ).rejects.toThrow('schema store down')
  })

  it('recognises formats structurally', () => {
    const format: StreamFormat = {
      spec: { kind: 'json' },
      createDecoder: () => new Utf8JsonDecoder(),
      describe: async () => undefined,
    }
    expect(isStreamFormat(format)).toBe(true)
    expect(isStreamFormat({ spec: { kind: 'json' } })).toBe(false)
    expect(isStreamFormat(null)).toBe(false)
    expect(isRecordError(new LarderError('INVALID_INPUT', 'x'))).toBe(false)
  })
})
