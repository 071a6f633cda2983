import { type FormatSpec, LarderError, type StreamFormat } from '@larder/core'
import { avroFormat } from './avro-format.js'
import { jsonFormat } from './json-format.js'
import { protobufFormat } from './protobuf-format.js'

/**
 * Rebuilds a format from the spec the registry stored (a stream source's `format`). Every
 * kind needs no code: JSON, Avro with an inline schema or a Schema Registry, Protobuf with a
 * .proto file or a Schema Registry. Registry credentials are not in the spec: pass them to the
 * decoder at run time (`createDecoder({ schemaRegistry: { auth } })`).
 * @throws LarderError INVALID_DEFINITION when the spec is not a format this version knows.
 *
 * @example
 * const format = formatFromSpec(registry.source('trips').format)
 * const decoder = format.createDecoder({ baseDir: repoDir, timestampFields: ['event_timestamp'] })
 */
export function formatFromSpec(spec: FormatSpec): StreamFormat {
  const kind = (spec as { kind?: unknown } | null)?.kind
  switch (spec?.kind) {
    case 'json':
      return jsonFormat(
        spec.timestampUnit !== undefined ? { timestampUnit: spec.timestampUnit } : {},
      )
    case 'avro':
      return spec.schemaRegistry
        ? avroFormat({ schemaRegistry: spec.schemaRegistry })
        : avroFormat({ schema: spec.schema })
    case 'protobuf':
      if (spec.schemaRegistry) {
        return protobufFormat({
          schemaRegistry: spec.schemaRegistry,
          ...(spec.messageType !== undefined ? { messageType: spec.messageType } : {}),
        })
      }
      return protobufFormat({
        protoFile: spec.protoFile as string,
        messageType: spec.messageType as string,
      })
    default:
      throw new LarderError(
        'INVALID_DEFINITION',
        `unknown stream format kind ${JSON.stringify(kind)} (known: json, avro, protobuf)`,
        { component: 'formats' },
      )
  }
}
