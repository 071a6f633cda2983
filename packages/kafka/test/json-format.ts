// A minimal JSON StreamFormat for these tests, written against core's format contract
// (@larder/formats' jsonFormat() is the one users take).
import { type DecodedRow, recordError, StreamDecoderBase, type StreamFormat } from '@larder/core'

class JsonDecoder extends StreamDecoderBase {
  async decode(value: Uint8Array): Promise<DecodedRow> {
    let parsed: unknown
    try {
      parsed = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(value))
    } catch (err) {
      throw recordError('json', `not JSON: ${(err as Error).message}`)
    }
    if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed))
      throw recordError('json', 'not a JSON object')
    return parsed as DecodedRow
  }
}

export const testJsonFormat: StreamFormat = {
  spec: { kind: 'json' },
  createDecoder: () => new JsonDecoder(),
  describe: async () => undefined,
}
