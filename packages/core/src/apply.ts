/**
 * Apply-time source checks (beyond Feast, which only checks that a source exists): every
 * feature, join key and timestamp column a view needs must exist in its source with a
 * compatible type; views without a schema get it inferred from the source.
 */
import type { OfflineStore, SourceSchema } from './contracts.js'
import { isLarderError, LarderError } from './errors.js'
import { sourceKindNames, sourceKindOf } from './sources.js'
import {
  batchSourceOf,
  createdName,
  type EntitySpec,
  type FeatureViewSpec,
  type SourceSpec,
  STREAM_POSITION_COLUMN,
  type StreamFeatureViewSpec,
  timestampName,
  viewJoinKeys,
} from './spec.js'
import { isCompatibleType, type ValueTypeName } from './types.js'

/** Source kinds that hold no batch data to check. */
const UNCHECKED_KINDS = new Set(['request'])

/**
 * Checks (and, for schema-less views, infers) each view's features against its source's
 * schema as the offline store reads it. Returns the views with inferred features filled in.
 * @throws LarderError SCHEMA_MISMATCH naming view, column, source and types.
 */
export async function checkViewsAgainstSources<V extends FeatureViewSpec | StreamFeatureViewSpec>(
  views: V[],
  entities: ReadonlyMap<string, EntitySpec>,
  offlineStore: OfflineStore,
): Promise<V[]> {
  const schemas = new Map<string, Promise<SourceSchema>>()
  const schemaOf = (source: SourceSpec) => {
    const key = JSON.stringify(source)
    let p = schemas.get(key)
    if (!p) {
      p = offlineStore.sourceSchema(source)
      schemas.set(key, p)
    }
    return p
  }
  const out: V[] = []
  for (const view of views) {
    const source = batchSourceOf(view.source)
    if (UNCHECKED_KINDS.has(source.kind)) {
      out.push(view)
      continue
    }
    if (!sourceKindOf(offlineStore, source.kind)) {
      throw new LarderError(
        'SCHEMA_MISMATCH',
        `feature view '${view.name}': offline store '${offlineStore.name}' cannot read source '${source.name}' of kind '${source.kind}'`,
        {
          hint: `it reads ${sourceKindNames(offlineStore).join(', ')}; configure a matching offlineStore or pass --skip-source-validation`,
        },
      )
    }
    let schema: SourceSchema
    try {
      schema = await schemaOf(source)
    } catch (err) {
      // A stream view's offline log is created by its first ingestion: missing is fine when
      // the view declares its schema (there is nothing to infer from).
      if (
        view.kind === 'streamFeatureView' &&
        !view.schemaInferred &&
        isLarderError(err) &&
        err.code === 'NOT_FOUND'
      ) {
        out.push(view)
        continue
      }
      throw err
    }
    // Columns by larder name (field mapping applied).
    const columns = new Map<
      string,
      { source: string; type: ValueTypeName | undefined; raw: string }
    >()
    for (const c of schema)
      columns.set(source.fieldMapping?.[c.name] ?? c.name, {
        source: c.name,
        type: c.valueType,
        raw: c.rawType,
      })
    const where = (col: string) => `feature view '${view.name}': column '${col}'`
    const need = (name: string, role: string, declared?: ValueTypeName) => {
      const col = columns.get(name)
      if (!col) {
        throw new LarderError(
          'SCHEMA_MISMATCH',
          `${where(name)} (${role}) is not in source '${source.name}'`,
          { hint: `the source has ${[...columns.keys()].join(', ')}` },
        )
      }
      if (declared && (!col.type || !isCompatibleType(col.type, declared))) {
        throw new LarderError(
          'SCHEMA_MISMATCH',
          `${where(name)} is ${declared} in the view but ${col.raw} in source '${source.name}'`,
          {
            hint: 'declare a type the source column can be read as (same type or a safe widening such as int32 -> int64)',
          },
        )
      }
      return col
    }
    const ts = timestampName(source)
    if (ts) {
      const col = need(ts, 'event timestamp')
      if (col.type !== 'timestamp') {
        throw new LarderError(
          'SCHEMA_MISMATCH',
          `${where(ts)} is the event timestamp but is ${col.raw} in source '${source.name}'`,
        )
      }
    }
    const created = createdName(source)
    if (created) {
      const col = need(created, 'created timestamp')
      if (col.type !== 'timestamp') {
        throw new LarderError(
          'SCHEMA_MISMATCH',
          `${where(created)} is the created timestamp but is ${col.raw} in source '${source.name}'`,
        )
      }
    }
    const keys = viewJoinKeys(view, entities)
    for (const e of view.entities) {
      const entity = entities.get(e)
      for (const k of entity?.joinKeys ?? [])
        need(k, `join key of entity '${e}'`, entity?.valueType)
    }
    let features = view.features
    if (view.schemaInferred) {
      const skip = new Set(
        [...keys, ts, created, source.datePartitionColumn, STREAM_POSITION_COLUMN].filter(
          (x): x is string => !!x,
        ),
      )
      features = []
      for (const [name, col] of columns) {
        if (skip.has(name)) continue
        if (!col.type) {
          throw new LarderError(
            'SCHEMA_MISMATCH',
            `feature view '${view.name}': cannot infer a type for column '${name}' (${col.raw}) of source '${source.name}'`,
            { hint: 'declare the view schema explicitly' },
          )
        }
        features.push({ name, valueType: col.type })
      }
    } else {
      for (const f of view.features) need(f.name, 'feature', f.valueType)
    }
    out.push({ ...view, features })
  }
  return out
}
