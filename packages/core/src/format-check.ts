/**
 * Apply-time check of stream feature views against their record format: when the format's
 * schema is known (`StreamFormat.describe`: an inline Avro schema, a .proto file, the latest
 * version of a Schema Registry subject), every field the pipeline reads from a record must be
 * in it with a type the view can take. JSON formats have no schema: nothing to check.
 */
import { aggregationName, type StreamSourceRuntime } from './definitions.js'
import { LarderError } from './errors.js'
import {
  type EntitySpec,
  type StreamFeatureViewSpec,
  type StreamSourceSpec,
  sourceColumn,
} from './spec.js'
import {
  type FormatContext,
  type FormatField,
  type FormatSchema,
  isStreamFormat,
} from './stream-format.js'
import { isCompatibleType, type ValueTypeName } from './types.js'

/** What {@link checkStreamFormats} needs besides the views. */
export interface StreamFormatCheckOptions {
  entities: ReadonlyMap<string, EntitySpec>
  /** Runtimes of the declared stream sources, by source name (they carry the format objects). */
  runtimes: ReadonlyMap<string, StreamSourceRuntime>
  /** Repo folder (relative .proto paths) and run-time Schema Registry settings. */
  context: Pick<FormatContext, 'baseDir' | 'schemaRegistry'>
}

function describeField(f: FormatField): string {
  return f.type && f.type !== f.sourceType ? `${f.type} (${f.sourceType})` : f.sourceType
}

/**
 * Checks each stream feature view's event timestamp, created timestamp, join keys, features
 * and aggregated columns against the columns its source's format yields. Views with a
 * transform are not checked (the transform may add or rename fields), nor formats without a
 * known schema.
 * @throws LarderError SCHEMA_MISMATCH naming the view, the field, the source and both types;
 *   the format's own errors when its schema cannot be read (registry unreachable, .proto missing).
 */
export async function checkStreamFormats(
  views: readonly StreamFeatureViewSpec[],
  options: StreamFormatCheckOptions,
): Promise<void> {
  const described = new Map<string, Promise<FormatSchema | undefined>>()
  for (const view of views) {
    if (view.transform !== undefined) continue
    const source = view.source as StreamSourceSpec
    const format = options.runtimes.get(source.name)?.format
    if (!isStreamFormat(format)) continue
    const stream = typeof source.topic === 'string' ? source.topic : source.name
    let pending = described.get(source.name)
    if (!pending) {
      pending = format.describe({ ...options.context, stream })
      described.set(source.name, pending)
    }
    const schema = await pending
    if (!schema) continue
    const fields = new Map(schema.fields.map((f) => [f.name, f]))
    const kind = typeof source.format?.kind === 'string' ? source.format.kind : 'stream'
    const where = `stream feature view '${view.name}'`
    const of = `the ${kind} format of source '${source.name}'`
    const need = (
      column: string,
      role: string,
      check: (f: FormatField) => boolean,
      want: string,
    ) => {
      const field = fields.get(column)
      if (!field) {
        throw new LarderError(
          'SCHEMA_MISMATCH',
          `${where}: field '${column}' (${role}) is not in ${of}`,
          { hint: `its records have ${[...fields.keys()].join(', ') || 'no fields'}` },
        )
      }
      if (!check(field)) {
        throw new LarderError(
          'SCHEMA_MISMATCH',
          `${where}: field '${column}' (${role}) is ${describeField(field)} in ${of}, but the view needs ${want}`,
          {
            hint: 'declare a type the field can be read as (same type or a safe widening such as int32 -> int64), or fix the schema',
          },
        )
      }
    }
    const isTimestamp = (f: FormatField) => f.type === 'timestamp'
    const timestampWant = 'a timestamp (Avro timestamp-millis/micros, google.protobuf.Timestamp)'
    if (source.timestampField) {
      need(source.timestampField, 'event timestamp', isTimestamp, timestampWant)
    }
    if (source.createdTimestampColumn) {
      need(source.createdTimestampColumn, 'created timestamp', isTimestamp, timestampWant)
    }
    const fits = (declared: ValueTypeName) => (f: FormatField) =>
      f.type !== undefined && isCompatibleType(f.type, declared)
    for (const name of view.entities) {
      const entity = options.entities.get(name)
      if (!entity) continue
      for (const key of entity.joinKeys) {
        need(
          sourceColumn(source, key),
          `join key of entity '${name}'`,
          fits(entity.valueType),
          entity.valueType,
        )
      }
    }
    const aggregated = new Set(view.aggregations.map(aggregationName))
    for (const feature of view.features) {
      if (aggregated.has(feature.name)) continue
      need(
        sourceColumn(source, feature.name),
        `feature '${feature.name}'`,
        fits(feature.valueType),
        feature.valueType,
      )
    }
    for (const a of view.aggregations) {
      if (a.function === 'count') continue
      need(
        sourceColumn(source, a.column),
        `column of aggregation '${aggregationName(a)}'`,
        (f) => f.type !== undefined,
        'a scalar value',
      )
    }
  }
}
