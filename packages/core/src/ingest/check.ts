/**
 * Apply-time checks of stream feature views: the format's schema (when the format knows it)
 * covers the view's join keys, timestamps and features with compatible types, and the stream
 * exists with its brokers answering.
 */
import { configuredConnector, type LarderConfig } from '../config.js'
import { isLarderError, LarderError } from '../errors.js'
import type { DeclaredRepo } from '../repo.js'
import {
  type EntitySpec,
  type StreamFeatureViewSpec,
  type StreamSourceSpec,
  sourceColumn,
} from '../spec.js'
import { isStreamFormat } from '../stream-format.js'
import { isCompatibleType, type ValueTypeName } from '../types.js'

/** Options of {@link checkStreamViews}. */
export interface StreamCheckOptions {
  /** The repo folder (formats resolve `.proto` files against it). */
  repoPath: string
  /** Broker problems become warnings and format checks are skipped. */
  skipSourceValidation?: boolean
}

/**
 * Checks each stream view against its format and its stream.
 * @returns warnings (with `skipSourceValidation`: streams that could not be checked).
 * @throws LarderError SCHEMA_MISMATCH naming view, field and types; the connector's error
 *   (BACKEND_UNAVAILABLE, NOT_FOUND) for an unreachable broker or a missing stream.
 */
export async function checkStreamViews(
  views: readonly StreamFeatureViewSpec[],
  entities: ReadonlyMap<string, EntitySpec>,
  declared: DeclaredRepo,
  config: Pick<LarderConfig, 'streams' | 'project'>,
  options: StreamCheckOptions,
): Promise<string[]> {
  const warnings: string[] = []
  const checked = new Set<string>()
  for (const view of views) {
    const source = view.source as StreamSourceSpec
    const runtime = declared.streamRuntimes.get(source.name)
    if (!options.skipSourceValidation && !declared.streamTransforms.has(view.name))
      await checkFormat(view, source, entities, runtime?.format, options.repoPath)
    const connector = configuredConnector(config, source.kind) ?? runtime?.connector
    if (!connector?.checkSource || checked.has(source.name)) continue
    checked.add(source.name)
    try {
      await connector.checkSource(source)
    } catch (err) {
      if (!options.skipSourceValidation) throw err
      const message = isLarderError(err) ? err.message : String(err)
      warnings.push(`stream of source '${source.name}' not checked: ${message}`)
    }
  }
  return warnings
}

/** The format's known columns must hold what the view reads (a transform may change them). */
async function checkFormat(
  view: StreamFeatureViewSpec,
  source: StreamSourceSpec,
  entities: ReadonlyMap<string, EntitySpec>,
  format: unknown,
  repoPath: string,
): Promise<void> {
  if (!isStreamFormat(format)) return
  const schema = await format.describe({ baseDir: repoPath })
  if (!schema) return
  const fields = new Map(schema.fields.map((f) => [f.name, f]))
  const need = (larderName: string, role: string, declaredType: ValueTypeName) => {
    const name = sourceColumn(source, larderName)
    const field = fields.get(name)
    const where = `stream feature view '${view.name}': ${role} '${larderName}'`
    if (!field) {
      throw new LarderError(
        'SCHEMA_MISMATCH',
        `${where} is not a field of the ${source.format.kind} records of source '${source.name}'`,
        { hint: `the records have ${[...fields.keys()].join(', ')}` },
      )
    }
    if (!field.type || !isCompatibleType(field.type, declaredType)) {
      throw new LarderError(
        'SCHEMA_MISMATCH',
        `${where} is ${declaredType} in the view but ${field.sourceType} in the ${source.format.kind} records of source '${source.name}'`,
        { hint: 'declare a type the field can be read as (same type or a safe widening)' },
      )
    }
  }
  for (const e of view.entities)
    for (const k of entities.get(e)?.joinKeys ?? []) need(k, 'join key', entities.get(e)!.valueType)
  if (source.timestampField)
    need(
      source.fieldMapping?.[source.timestampField] ?? source.timestampField,
      'event timestamp',
      'timestamp',
    )
  if (source.createdTimestampColumn)
    need(
      source.fieldMapping?.[source.createdTimestampColumn] ?? source.createdTimestampColumn,
      'created timestamp',
      'timestamp',
    )
  for (const f of view.features) need(f.name, 'feature', f.valueType)
}
