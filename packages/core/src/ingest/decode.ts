/**
 * Record decoding for ingestion: once per batch, in core, whatever the consumer, with the
 * format object the stream source definition carries (`jsonFormat()`...).
 */
import type { StreamConfig } from '../config.js'
import { LarderError } from '../errors.js'
import { type StreamFeatureViewSpec, type StreamSourceSpec, sourceColumn } from '../spec.js'
import { isStreamFormat, type StreamDecoder } from '../stream-format.js'

/**
 * The decoder of a view's stream source, from the format object its definition carries.
 * @throws LarderError UNSUPPORTED when the repo did not supply the format (registry only).
 */
export function decoderFor(
  view: StreamFeatureViewSpec,
  format: unknown,
  options: { repoPath: string; streams: StreamConfig | undefined },
): StreamDecoder {
  const source = view.source as StreamSourceSpec
  if (!isStreamFormat(format)) {
    throw new LarderError(
      'UNSUPPORTED',
      `stream feature view '${view.name}': source '${source.name}' has no format object to decode its records`,
      {
        hint: 'run ingest on the feature repo that defines the source (its kafkaSource({ format }) carries the format)',
      },
    )
  }
  // Fields read as timestamps, in record (source) names.
  const timestampFields = new Set<string>()
  if (source.timestampField) timestampFields.add(source.timestampField)
  if (source.createdTimestampColumn) timestampFields.add(source.createdTimestampColumn)
  for (const f of view.features)
    if (f.valueType === 'timestamp') timestampFields.add(sourceColumn(source, f.name))
  const registry = options.streams?.schemaRegistry
  return format.createDecoder({
    baseDir: options.repoPath,
    timestampFields: [...timestampFields],
    stream: typeof source.topic === 'string' ? source.topic : source.name,
    ...(registry ? { schemaRegistry: registry } : {}),
  })
}
