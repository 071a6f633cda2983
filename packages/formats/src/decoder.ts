/**
 * The decoders' common base: decoding that needs no I/O once schemas are loaded runs
 * synchronously, so a batch is one loop rather than one promise per record.
 */
import { type DecodedRow, type DecodeResult, isRecordError, StreamDecoderBase } from '@larder/core'

/** A decoder whose `decodeNow` answers at once when it can, with a promise when it must wait. */
export abstract class SyncFirstDecoder extends StreamDecoderBase {
  /** Decodes one value: a row, or a promise of one while a schema is still loading. */
  abstract decodeNow(value: Uint8Array): DecodedRow | Promise<DecodedRow>

  async decode(value: Uint8Array): Promise<DecodedRow> {
    return this.decodeNow(value)
  }

  override async decodeBatch(values: readonly Uint8Array[]): Promise<DecodeResult[]> {
    const out: DecodeResult[] = new Array(values.length)
    for (let i = 0; i < values.length; i++) {
      try {
        const row = this.decodeNow(values[i] as Uint8Array)
        out[i] = { row: row instanceof Promise ? await row : row }
      } catch (err) {
        if (isRecordError(err)) out[i] = { error: err }
        else throw err
      }
    }
    return out
  }
}
