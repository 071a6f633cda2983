/**
 * Record decoding for ingestion: once per record, in core, whatever the consumer. The format
 * object a stream source carries (`jsonFormat()`...) supplies the decoder; a registry-only
 * `{ kind: 'json' }` format decodes with the built-in JSON reader.
 */
import { LarderError } from '../errors.js'
import type { StreamSourceSpec } from '../spec.js'

/** Decodes one record value into a row (source field names). */
export type RecordDecoder = (value: Uint8Array) => Promise<Record<string, unknown>>

const utf8 = new TextDecoder('utf-8', { fatal: true })

/** Decodes a JSON object (UTF-8). Errors name what was wrong. */
export async function decodeJsonObject(value: Uint8Array): Promise<Record<string, unknown>> {
  let parsed: unknown
  try {
    parsed = JSON.parse(utf8.decode(value))
  } catch (err) {
    throw new LarderError(
      'INVALID_INPUT',
      `not a JSON document: ${err instanceof Error ? err.message : String(err)}`,
    )
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed))
    throw new LarderError('INVALID_INPUT', 'JSON value is not an object')
  return parsed as Record<string, unknown>
}

interface FormatLike {
  decoder?: () => RecordDecoder | Promise<RecordDecoder>
  createDecoder?: () => RecordDecoder | Promise<RecordDecoder>
  decode?: RecordDecoder
}

/**
 * The decoder of a stream source: from its format object when the definition carries one,
 * else from its stored format spec (JSON needs no code).
 * @throws LarderError UNSUPPORTED when the format needs code the repo did not supply.
 */
export async function decoderFor(
  source: StreamSourceSpec,
  format: unknown,
): Promise<RecordDecoder> {
  const f = (format ?? undefined) as FormatLike | undefined
  if (f) {
    if (typeof f.createDecoder === 'function') return await f.createDecoder()
    if (typeof f.decoder === 'function') return await f.decoder()
    if (typeof f.decode === 'function') return f.decode.bind(f)
  }
  if (source.format?.kind === 'json') return decodeJsonObject
  throw new LarderError(
    'UNSUPPORTED',
    `source '${source.name}': format '${source.format?.kind}' needs its format object; load the repo that defines the source`,
    { hint: 'run `larder ingest` in the feature repo (its definitions carry the format)' },
  )
}
