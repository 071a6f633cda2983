/**
 * Planning of a historical retrieval: resolves feature references against the registered
 * views, picks the entity timestamp column, names the outputs and checks everything that
 * can be checked before any data is read (SEMANTICS.md, "Point-in-time join").
 */
import { LarderError } from '../errors.js'
import type { PlannedFeature, PlannedView, RetrievalPlan } from '../retrieval.js'
import {
  createdName,
  type EntitySpec,
  type ProjectionSpec,
  type StoredViewSpec,
  timestampName,
  viewJoinKeys,
} from '../spec.js'
import type { ValueTypeName } from '../types.js'

/** The entity timestamp column used when present (SEMANTICS.md). */
export const DEFAULT_ENTITY_TIMESTAMP = 'event_timestamp'

/** Input of {@link planHistoricalRetrieval}. */
export interface PlanHistoricalRetrievalOptions {
  /** Feature references `view:feature`, or projections (all features when `features` is absent). */
  features: Array<string | ProjectionSpec>
  /** Registered feature views by name. */
  views: ReadonlyMap<string, StoredViewSpec>
  /** Registered entities by name. */
  entities: ReadonlyMap<string, EntitySpec>
  /** Entity-table columns in order; `valueType` undefined when Larder has no type for it. */
  entityColumns: Array<{ name: string; valueType: ValueTypeName | undefined }>
  /**
   * The entity timestamp column. When given it is used (it must exist and hold timestamps);
   * otherwise `event_timestamp` if present, else the only timestamp-typed column.
   */
  entityTimestampColumn?: string
  /** Name outputs `projection__feature` instead of `feature`. @default false */
  fullFeatureNames?: boolean
}

const COMPONENT = { component: 'retrieval' }

/**
 * Splits a feature reference `view:feature`.
 * @throws LarderError INVALID_INPUT when it is not of that form.
 */
export function parseRef(ref: string): { view: string; feature: string } {
  const i = typeof ref === 'string' ? ref.indexOf(':') : -1
  if (i <= 0 || i === ref.length - 1 || ref.indexOf(':', i + 1) >= 0) {
    throw new LarderError(
      'INVALID_INPUT',
      `feature reference '${ref}' is not of the form 'view:feature'`,
      COMPONENT,
    )
  }
  return { view: ref.slice(0, i), feature: ref.slice(i + 1) }
}

function list(names: Iterable<string>): string {
  const all = [...names]
  return all.length === 0 ? '(none)' : all.map((n) => `'${n}'`).join(', ')
}

function pickEntityTimestamp(options: PlanHistoricalRetrievalOptions): string {
  const cols = options.entityColumns
  const explicit = options.entityTimestampColumn
  if (explicit !== undefined) {
    const col = cols.find((c) => c.name === explicit)
    if (!col) {
      throw new LarderError(
        'INVALID_INPUT',
        `entity table has no timestamp column '${explicit}' (columns: ${list(cols.map((c) => c.name))})`,
        COMPONENT,
      )
    }
    if (col.valueType !== 'timestamp') {
      throw new LarderError(
        'INVALID_INPUT',
        `entity timestamp column '${explicit}' holds ${col.valueType ?? 'an unsupported type'}, not timestamps`,
        COMPONENT,
      )
    }
    return explicit
  }
  const byName = cols.find((c) => c.name === DEFAULT_ENTITY_TIMESTAMP)
  if (byName) {
    if (byName.valueType !== 'timestamp') {
      throw new LarderError(
        'INVALID_INPUT',
        `entity column '${DEFAULT_ENTITY_TIMESTAMP}' holds ${byName.valueType ?? 'an unsupported type'}, not timestamps`,
        {
          ...COMPONENT,
          hint: 'convert it to a timestamp or name another column as the entity timestamp',
        },
      )
    }
    return byName.name
  }
  const candidates = cols.filter((c) => c.valueType === 'timestamp').map((c) => c.name)
  if (candidates.length === 1) return candidates[0] as string
  if (candidates.length === 0) {
    throw new LarderError(
      'INVALID_INPUT',
      `entity table has no timestamp column (columns: ${list(cols.map((c) => c.name))})`,
      { ...COMPONENT, hint: `add an '${DEFAULT_ENTITY_TIMESTAMP}' column` },
    )
  }
  throw new LarderError(
    'INVALID_INPUT',
    `entity table has several timestamp columns (${list(candidates)}) and none is '${DEFAULT_ENTITY_TIMESTAMP}'`,
    {
      ...COMPONENT,
      hint: 'name the entity timestamp column explicitly (entityTimestampColumn in the SDK, --entity-timestamp-column in the CLI)',
    },
  )
}

interface Requested {
  projection: ProjectionSpec
  feature: string
  ref: string
}

/**
 * Resolves feature references into a {@link RetrievalPlan}: views, join keys (after join-key
 * maps), timestamp and created columns, TTLs and output names. Checks references, the entity
 * table's columns and output-name collisions before any data is read. On-demand views are
 * not planned here (`onDemandViews` is empty).
 *
 * @throws LarderError NOT_FOUND (unknown view or feature), INVALID_INPUT (bad reference,
 * missing entity column, ambiguous timestamp, colliding output names), INVALID_DEFINITION
 * (a view without a timestamp field).
 *
 * @example
 * const plan = planHistoricalRetrieval({
 *   features: ['driver_stats:conv_rate', { view: 'driver_stats', name: 'ds2', features: ['trips'] }],
 *   views, entities,
 *   entityColumns: [{ name: 'driver_id', valueType: 'int64' }, { name: 'event_timestamp', valueType: 'timestamp' }],
 * })
 */
export function planHistoricalRetrieval(options: PlanHistoricalRetrievalOptions): RetrievalPlan {
  const fullFeatureNames = options.fullFeatureNames ?? false
  const entityColumns = options.entityColumns.map((c) => c.name)
  const entityTimestampColumn = pickEntityTimestamp(options)

  // 1. Every requested feature, in request order.
  const requested: Requested[] = []
  for (const item of options.features) {
    const projection: ProjectionSpec =
      typeof item === 'string' ? { view: parseRef(item).view } : item
    const view = options.views.get(projection.view)
    if (!view) {
      throw new LarderError(
        'NOT_FOUND',
        `feature view '${projection.view}' is not registered (views: ${list([...options.views.keys()].sort())})`,
        COMPONENT,
      )
    }
    const names =
      typeof item === 'string'
        ? [parseRef(item).feature]
        : (item.features ?? view.features.map((f) => f.name))
    for (const feature of names) {
      if (!view.features.some((f) => f.name === feature)) {
        throw new LarderError(
          'NOT_FOUND',
          `feature view '${view.name}' has no feature '${feature}' (features: ${list(view.features.map((f) => f.name))})`,
          COMPONENT,
        )
      }
      const pname = projection.name ?? projection.view
      requested.push({ projection, feature, ref: `${pname}:${feature}` })
    }
  }

  // 2. One planned view per projection name.
  const planned = new Map<string, PlannedView>()
  const projections = new Map<string, ProjectionSpec>()
  const outputs = new Map<string, string>()
  for (const name of entityColumns) outputs.set(name, `entity column '${name}'`)
  const outputColumns = [...entityColumns]
  for (const req of requested) {
    const { projection } = req
    const view = options.views.get(projection.view)!
    const pname = projection.name ?? projection.view
    let pv = planned.get(pname)
    if (!pv) {
      pv = planView(view, pname, projection, options, entityColumns)
      planned.set(pname, pv)
      projections.set(pname, projection)
    } else {
      const first = projections.get(pname) as ProjectionSpec
      if (
        first.view !== projection.view ||
        JSON.stringify(first.joinKeyMap ?? {}) !== JSON.stringify(projection.joinKeyMap ?? {})
      ) {
        throw new LarderError(
          'INVALID_INPUT',
          `projection name '${pname}' is used for two different projections (of views '${first.view}' and '${projection.view}')`,
          { ...COMPONENT, hint: 'give each projection its own name' },
        )
      }
    }
    const outputName = fullFeatureNames ? `${pname}__${req.feature}` : req.feature
    const previous = outputs.get(outputName)
    if (previous !== undefined) {
      throw new LarderError(
        'INVALID_INPUT',
        `output column '${outputName}' would come from both ${previous} and '${req.ref}'`,
        {
          ...COMPONENT,
          hint: fullFeatureNames
            ? 'request each feature once, or rename a projection'
            : 'use full feature names, rename a projection or request each feature once',
        },
      )
    }
    outputs.set(outputName, `'${req.ref}'`)
    const fspec = view.features.find((f) => f.name === req.feature)
    const feature: PlannedFeature = {
      ref: req.ref,
      feature: req.feature,
      outputName,
      valueType: (fspec as { valueType: ValueTypeName }).valueType,
    }
    pv.features.push(feature)
    outputColumns.push(outputName)
  }

  return {
    entityColumns,
    entityTimestampColumn,
    views: [...planned.values()],
    onDemandViews: [],
    fullFeatureNames,
    outputColumns,
  }
}

function planView(
  view: StoredViewSpec,
  projectionName: string,
  projection: ProjectionSpec,
  options: PlanHistoricalRetrievalOptions,
  entityColumns: string[],
): PlannedView {
  for (const e of view.entities) {
    if (!options.entities.has(e)) {
      throw new LarderError(
        'NOT_FOUND',
        `feature view '${view.name}' uses entity '${e}', which is not registered (entities: ${list([...options.entities.keys()].sort())})`,
        COMPONENT,
      )
    }
  }
  const keys = viewJoinKeys(view, options.entities)
  const map = projection.joinKeyMap ?? {}
  for (const from of Object.keys(map)) {
    if (!keys.includes(from)) {
      throw new LarderError(
        'INVALID_INPUT',
        `join-key map of '${projectionName}' maps '${from}', which is not a join key of view '${view.name}' (join keys: ${list(keys)})`,
        COMPONENT,
      )
    }
  }
  const joinKeys = keys.map((name) => ({ name, entityColumn: map[name] ?? name }))
  for (const k of joinKeys) {
    if (!entityColumns.includes(k.entityColumn)) {
      throw new LarderError(
        'INVALID_INPUT',
        `entity table has no column '${k.entityColumn}', the join key of feature view '${view.name}'` +
          ` (columns: ${list(entityColumns)})`,
        COMPONENT,
      )
    }
  }
  const timestampColumn = timestampName(view.source)
  if (timestampColumn === undefined) {
    throw new LarderError(
      'INVALID_DEFINITION',
      `source '${view.source.name}' of feature view '${view.name}' has no timestampField`,
      COMPONENT,
    )
  }
  const created = createdName(view.source)
  const pv: PlannedView = {
    view,
    projectionName,
    joinKeys,
    timestampColumn,
    ttlSeconds: Math.max(view.ttlSeconds, 0),
    features: [],
  }
  if (created !== undefined) pv.createdTimestampColumn = created
  return pv
}
