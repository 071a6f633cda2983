/**
 * Online reads (`getOnlineFeatures`): statuses, timestamps, duplicate rows read once,
 * on-demand views applied, results column-major (Feast's shape) or as row objects.
 */
import type { OnlineStore, OnlineValue } from './contracts.js'
import type { Columns } from './definitions.js'
import { formatTime } from './duration.js'
import { serializeEntityKey } from './entity-key.js'
import { LarderError } from './errors.js'
import { type RegistryIndex, resolveRefs } from './refs.js'
import type { FeatureSpec, FeatureViewSpec, ProjectionSpec } from './spec.js'
import type { ValueTypeName } from './types.js'
import { coerceValue, toUserValue } from './values.js'

/** Status of one returned value (Feast's names). */
export type FeatureStatus = 'PRESENT' | 'NULL_VALUE' | 'NOT_FOUND' | 'OUTSIDE_MAX_AGE'

/** Feast's numbers for the statuses. */
export const FEATURE_STATUS_NUMBER: Readonly<Record<FeatureStatus | 'INVALID', number>> = {
  INVALID: 0,
  PRESENT: 1,
  NULL_VALUE: 2,
  NOT_FOUND: 3,
  OUTSIDE_MAX_AGE: 4,
}

/** Input of `getOnlineFeatures`. */
export interface OnlineFeaturesRequest {
  /** Entity rows column-major, e.g. `{ driver_id: [1001, 1002] }`; may hold request data too. */
  entities?: Record<string, readonly unknown[]>
  /** Entity rows as objects (alternative to `entities`). */
  entityRows?: ReadonlyArray<Record<string, unknown>>
  /** `view:feature` references (or give `featureService`). */
  features?: readonly string[]
  featureService?: string
  /** Request data for on-demand views, column-major (may also be given in `entities`). */
  requestData?: Record<string, readonly unknown[]>
  /** Name outputs `view__feature`. @default false */
  fullFeatureNames?: boolean
}

/** One output column. */
export interface OnlineColumn {
  name: string
  valueType: ValueTypeName
  /** Canonical values (int64 bigint, timestamps epoch-micro bigint). */
  values: unknown[]
  statuses: FeatureStatus[]
  /** Event timestamps, epoch micros (0 when not found). */
  eventTimestamps: bigint[]
}

/** The Feast JSON shape of an online response. */
export interface FeastOnlineJson {
  metadata: { feature_names: string[] }
  results: Array<{ values: unknown[]; statuses: string[]; event_timestamps: string[] }>
}

const MIN_SAFE = BigInt(Number.MIN_SAFE_INTEGER)
const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER)

/** Encodes a canonical value for JSON: int64 as a number when exact, else a string; bytes base64; timestamps RFC 3339. */
export function jsonValue(value: unknown, type: ValueTypeName): unknown {
  if (value === null || value === undefined) return null
  if (Array.isArray(value)) {
    const element = type.startsWith('array<') ? (type.slice(6, -1) as ValueTypeName) : type
    return value.map((v) => jsonValue(v, element))
  }
  if (type === 'timestamp') return formatTime(value as bigint)
  if (typeof value === 'bigint') {
    return value >= MIN_SAFE && value <= MAX_SAFE ? Number(value) : value.toString()
  }
  if (value instanceof Uint8Array)
    return Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('base64')
  if (typeof value === 'number' && !Number.isFinite(value)) return String(value)
  return value
}

/** The result of `getOnlineFeatures`. */
export class OnlineFeaturesResponse<Row = Record<string, unknown>> {
  readonly columns: OnlineColumn[]
  readonly rowCount: number

  constructor(columns: OnlineColumn[], rowCount: number) {
    this.columns = columns
    this.rowCount = rowCount
  }

  /** Output names: join keys, then features in request order, then on-demand outputs. */
  get featureNames(): string[] {
    return this.columns.map((c) => c.name)
  }

  /** One object per entity row (int64 as bigint, timestamps as Date, missing values null). */
  toRows(): Row[] {
    const rows: Record<string, unknown>[] = []
    for (let i = 0; i < this.rowCount; i++) {
      const row: Record<string, unknown> = {}
      for (const c of this.columns) row[c.name] = toUserValue(c.values[i], c.valueType)
      rows.push(row)
    }
    return rows as Row[]
  }

  /** Feast's JSON shape (see SEMANTICS.md); int64 beyond 2^53 as strings. */
  toJSON(): FeastOnlineJson {
    return {
      metadata: { feature_names: this.featureNames },
      results: this.columns.map((c) => ({
        values: c.values.map((v) => jsonValue(v, c.valueType)),
        statuses: c.statuses,
        event_timestamps: c.eventTimestamps.map(formatTime),
      })),
    }
  }
}

/** What `getOnlineFeatures` needs from the store. */
export interface OnlineContext {
  index: RegistryIndex
  onlineStore: OnlineStore
  onDemandTransforms: ReadonlyMap<string, (inputs: Columns) => Columns>
  /** Current time, epoch micros (for OUTSIDE_MAX_AGE). */
  now: bigint
}

function toColumns(request: OnlineFeaturesRequest): {
  columns: Map<string, readonly unknown[]>
  n: number
} {
  const columns = new Map<string, readonly unknown[]>()
  if (request.entities && request.entityRows) {
    throw new LarderError(
      'INVALID_INPUT',
      'give entity rows either column-major (entities) or as objects (entityRows), not both',
    )
  }
  if (request.entityRows) {
    const names = new Set<string>()
    for (const r of request.entityRows) for (const k of Object.keys(r)) names.add(k)
    for (const k of names)
      columns.set(
        k,
        request.entityRows.map((r) => r[k]),
      )
  } else if (request.entities) {
    for (const [k, v] of Object.entries(request.entities)) {
      if (!Array.isArray(v))
        throw new LarderError('INVALID_INPUT', `entities['${k}'] must be a list of values`)
      columns.set(k, v)
    }
  } else {
    throw new LarderError(
      'INVALID_INPUT',
      'entity rows are required (entities: { join_key: [values...] })',
    )
  }
  for (const [k, v] of Object.entries(request.requestData ?? {})) {
    if (!Array.isArray(v))
      throw new LarderError('INVALID_INPUT', `requestData['${k}'] must be a list of values`)
    columns.set(k, v)
  }
  const lengths = new Set([...columns.values()].map((c) => c.length))
  if (lengths.size > 1) {
    const detail = [...columns].map(([k, v]) => `${k}: ${v.length}`).join(', ')
    throw new LarderError('INVALID_INPUT', `entity columns have different lengths (${detail})`)
  }
  return { columns, n: lengths.size ? [...lengths][0]! : 0 }
}

interface ViewRead {
  view: FeatureViewSpec
  projectionName: string
  /** view join key -> entity column. */
  keys: Array<{ name: string; column: string; type: ValueTypeName }>
  features: string[]
  /** Row -> unique key index. */
  rowToKey: Int32Array
  uniqueKeys: Uint8Array[]
  result?: Array<OnlineValue | undefined>
  /** feature -> position in `features` and its spec (built once, not searched per feature). */
  lookup?: Map<string, { index: number; spec: FeatureSpec }>
}

function planRead(
  ctx: OnlineContext,
  projection: ProjectionSpec,
  features: string[],
  columns: Map<string, readonly unknown[]>,
  n: number,
): ViewRead {
  const view = ctx.index.view(projection.view)
  const keys: ViewRead['keys'] = []
  for (const e of view.entities) {
    const entity = ctx.index.entities.get(e)
    if (!entity)
      throw new LarderError('NOT_FOUND', `entity '${e}' of view '${view.name}' is not registered`)
    for (const k of entity.joinKeys)
      keys.push({ name: k, column: projection.joinKeyMap?.[k] ?? k, type: entity.valueType })
  }
  for (const k of keys) {
    if (!columns.has(k.column)) {
      throw new LarderError(
        'INVALID_INPUT',
        `entity rows miss join key '${k.column}' needed by feature view '${view.name}'`,
        { hint: `give it in entities, e.g. { "${k.column}": [...] }` },
      )
    }
  }
  const rowToKey = new Int32Array(n)
  const uniqueKeys: Uint8Array[] = []
  const seen = new Map<string, number>()
  for (let i = 0; i < n; i++) {
    const parts = keys.map((k) => ({
      name: k.name,
      valueType: k.type,
      value: coerceValue(columns.get(k.column)![i], k.type, `join key '${k.column}', row ${i}`),
    }))
    for (const p of parts) {
      if (p.value === null)
        throw new LarderError('INVALID_INPUT', `join key '${p.name}' is null in row ${i}`)
    }
    const key = serializeEntityKey(parts)
    const s = Buffer.from(key.buffer, key.byteOffset, key.byteLength).toString('latin1')
    let idx = seen.get(s)
    if (idx === undefined) {
      idx = uniqueKeys.length
      seen.set(s, idx)
      uniqueKeys.push(key)
    }
    rowToKey[i] = idx
  }
  return {
    view,
    projectionName: projection.name ?? projection.view,
    keys,
    features,
    rowToKey,
    uniqueKeys,
  }
}

/**
 * Reads online features for entity rows.
 * @throws LarderError NOT_FOUND / INVALID_INPUT for unknown references, missing join keys,
 *   mistyped values, missing request data, colliding output names.
 */
export async function getOnlineFeatures(
  ctx: OnlineContext,
  request: OnlineFeaturesRequest,
): Promise<OnlineFeaturesResponse> {
  const refs = resolveRefs(ctx.index, request)
  const { columns, n } = toColumns(request)
  const full = request.fullFeatureNames ?? false

  // One read per view projection (requested + hidden inputs of on-demand views merged).
  const reads: ViewRead[] = []
  const readOf = new Map<string, ViewRead>()
  const addRead = (p: ProjectionSpec, features: string[]) => {
    const id = `${p.view}|${p.name ?? ''}|${JSON.stringify(p.joinKeyMap ?? {})}`
    const existing = readOf.get(id)
    if (existing) {
      for (const f of features) if (!existing.features.includes(f)) existing.features.push(f)
      return existing
    }
    const r = planRead(ctx, p, [...features], columns, n)
    readOf.set(id, r)
    reads.push(r)
    return r
  }
  const projectionReads = refs.projections.map((p) => addRead(p, p.features ?? []))
  for (const h of refs.hidden) addRead(h, h.features ?? [])
  await Promise.all(
    reads.map(async (r) => {
      r.result = await ctx.onlineStore.read(r.view, r.uniqueKeys, r.features)
    }),
  )

  // Join-key columns first, in the order the entity input gives them.
  const keyColumns = new Map<string, ValueTypeName>()
  for (const r of projectionReads.length ? projectionReads : reads)
    for (const k of r.keys) if (!keyColumns.has(k.column)) keyColumns.set(k.column, k.type)
  const out: OnlineColumn[] = []
  const zeroTs = () => new Array<bigint>(n).fill(0n)
  for (const name of columns.keys()) {
    const type = keyColumns.get(name)
    if (!type) continue
    out.push({
      name,
      valueType: type,
      values: columns
        .get(name)!
        .map((v, i) => coerceValue(v, type, `join key '${name}', row ${i}`)),
      statuses: new Array<FeatureStatus>(n).fill('PRESENT'),
      eventTimestamps: zeroTs(),
    })
  }

  const featureColumn = (r: ViewRead, feature: string, outputName: string): OnlineColumn => {
    if (!r.lookup) {
      const specs = new Map(r.view.features.map((f) => [f.name, f]))
      r.lookup = new Map(r.features.map((f, index) => [f, { index, spec: specs.get(f)! }]))
    }
    const { index: fi, spec } = r.lookup.get(feature)!
    const ttl = BigInt(Math.round(r.view.ttlSeconds * 1e6))
    const values = new Array<unknown>(n)
    const statuses = new Array<FeatureStatus>(n)
    const ts = new Array<bigint>(n)
    for (let i = 0; i < n; i++) {
      const hit = r.result![r.rowToKey[i]!]
      if (!hit) {
        values[i] = null
        statuses[i] = 'NOT_FOUND'
        ts[i] = 0n
        continue
      }
      ts[i] = hit.eventTs
      const v = hit.values[fi] ?? null
      if (ttl > 0n && ctx.now - hit.eventTs > ttl) {
        values[i] = null
        statuses[i] = 'OUTSIDE_MAX_AGE'
      } else {
        values[i] = v
        statuses[i] = v === null ? 'NULL_VALUE' : 'PRESENT'
      }
    }
    return { name: outputName, valueType: spec.valueType, values, statuses, eventTimestamps: ts }
  }

  // On-demand views: computed over the columns of their inputs and request data.
  const odfvOutputs = refs.onDemand.map((od) => {
    const transform = ctx.onDemandTransforms.get(od.spec.name)
    if (!transform) {
      throw new LarderError(
        'NOT_FOUND',
        `on-demand feature view '${od.spec.name}' has no transform in this process`,
        {
          hint: 'open the store on the repo (FeatureStore.open / larder -c REPO) so the definition files are loaded',
        },
      )
    }
    const inputs: Columns = {}
    for (const src of od.spec.sources) {
      const r =
        reads.find((x) => x.view.name === src.view && x.projectionName === src.view) ??
        reads.find((x) => x.view.name === src.view)!
      for (const f of src.features ?? r.view.features.map((x) => x.name)) {
        const col = featureColumn(r, f, f)
        inputs[f] = col.values.map((v) => toUserValue(v, col.valueType))
      }
    }
    for (const rs of od.spec.requestSources) {
      for (const field of rs.schema) {
        const col = columns.get(field.name)
        if (!col) {
          throw new LarderError(
            'INVALID_INPUT',
            `request data '${field.name}' is required by on-demand feature view '${od.spec.name}'`,
            {
              hint: `add it to entities or requestData, e.g. { "${field.name}": [...] } with one value per entity row`,
            },
          )
        }
        inputs[field.name] = col.map((v, i) =>
          toUserValue(
            coerceValue(v, field.valueType, `request data '${field.name}', row ${i}`),
            field.valueType,
          ),
        )
      }
    }
    let result: Columns
    try {
      result = transform(inputs)
    } catch (err) {
      throw new LarderError(
        'INVALID_INPUT',
        `on-demand feature view '${od.spec.name}' failed: ${(err as Error).message}`,
        { cause: err },
      )
    }
    return { od, result }
  })

  const names = new Map<string, string>()
  const claim = (name: string, ref: string) => {
    const prev = names.get(name)
    if (prev) {
      throw new LarderError(
        'INVALID_INPUT',
        `features '${prev}' and '${ref}' would both be returned as '${name}'`,
        {
          hint: 'set fullFeatureNames (full_feature_names) to name outputs view__feature',
        },
      )
    }
    names.set(name, ref)
  }
  for (const o of refs.order) {
    if (o.kind === 'view') {
      const p = refs.projections[o.index]!
      const r = projectionReads[o.index]!
      const outputName = full ? `${r.projectionName}__${o.feature}` : o.feature
      claim(outputName, `${r.projectionName}:${o.feature}`)
      out.push(featureColumn(r, o.feature, outputName))
      void p
    } else {
      const { od, result } = odfvOutputs[o.index]!
      const spec = od.features.find((f) => f.name === o.feature)!
      const outputName = full ? `${od.projectionName}__${o.feature}` : o.feature
      claim(outputName, `${od.projectionName}:${o.feature}`)
      const raw = result[o.feature]
      if (!Array.isArray(raw) || raw.length !== n) {
        throw new LarderError(
          'INVALID_DEFINITION',
          `on-demand feature view '${od.spec.name}' returned ${Array.isArray(raw) ? `${raw.length} values` : 'no column'} for '${o.feature}', expected ${n}`,
        )
      }
      const values = raw.map((v, i) =>
        coerceValue(v, spec.valueType, `on-demand output '${od.spec.name}:${o.feature}', row ${i}`),
      )
      out.push({
        name: outputName,
        valueType: spec.valueType,
        values,
        statuses: values.map((v) => (v === null ? 'NULL_VALUE' : 'PRESENT')),
        eventTimestamps: zeroTs(),
      })
    }
  }
  return new OnlineFeaturesResponse(out, n)
}
