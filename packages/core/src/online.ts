/**
 * Online reads (`getOnlineFeatures`): statuses, timestamps, duplicate rows read once,
 * on-demand views applied, results column-major (Feast's shape) or as row objects.
 */
import type { OnlineStore } from './contracts.js'
import { onlineReadChannel, traced } from './diagnostics.js'
import { formatTime } from './duration.js'
import { entityKeyId, serializeEntityKey } from './entity-key.js'
import { LarderError } from './errors.js'
import { applyOnDemand, type OnDemandInput, type OnDemandTransforms } from './on-demand.js'
import { type RegistryIndex, type ResolvedRefs, resolveRefs } from './refs.js'
import type { FeatureSpec, ProjectionSpec, StoredViewSpec } from './spec.js'
import type { ValueTypeName } from './types.js'
import { coerceValue, columnsOf, rowCount, toUserValue } from './values.js'

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
  /** Statuses (columns of one view may share one array: treat it as read-only). */
  statuses: FeatureStatus[]
  /** Event timestamps, epoch micros (0 when not found); shared by the columns of one view. */
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

  /**
   * Feast's JSON shape (see SEMANTICS.md); int64 beyond 2^53 as strings. Each distinct event
   * timestamp is formatted once (all features of one view row share one): formatting
   * dominated the cost of wide responses.
   */
  toJSON(): FeastOnlineJson {
    const formatted = new Map<bigint, string>()
    const format = (ts: bigint) => {
      let text = formatted.get(ts)
      if (text === undefined) {
        text = formatTime(ts)
        formatted.set(ts, text)
      }
      return text
    }
    // Columns of one view share their event-time array: format it once.
    const times = new Map<readonly bigint[], string[]>()
    return {
      metadata: { feature_names: this.featureNames },
      results: this.columns.map((c) => {
        let event_timestamps = times.get(c.eventTimestamps)
        if (!event_timestamps) {
          event_timestamps = c.eventTimestamps.map(format)
          times.set(c.eventTimestamps, event_timestamps)
        }
        return { values: jsonValues(c.values, c.valueType), statuses: c.statuses, event_timestamps }
      }),
    }
  }
}

/** Scalar types whose JSON form is the value itself (non-finite numbers aside). */
const PLAIN_JSON = new Set<ValueTypeName>(['float64', 'float32', 'int32', 'string', 'bool'])

/** A column's values for JSON ({@link jsonValue}), with a fast path for plain scalar types. */
function jsonValues(values: readonly unknown[], type: ValueTypeName): unknown[] {
  const n = values.length
  const out = new Array<unknown>(n)
  if (!PLAIN_JSON.has(type)) {
    for (let i = 0; i < n; i++) out[i] = jsonValue(values[i], type)
    return out
  }
  for (let i = 0; i < n; i++) {
    const v = values[i]
    out[i] = v === undefined ? null : typeof v === 'number' && !Number.isFinite(v) ? String(v) : v
  }
  return out
}

/** What `getOnlineFeatures` needs from the store. */
export interface OnlineContext {
  index: RegistryIndex
  onlineStore: OnlineStore
  onDemandTransforms: OnDemandTransforms
  /** Current time, epoch micros (for OUTSIDE_MAX_AGE). */
  now: bigint
}

function toColumns(request: OnlineFeaturesRequest): {
  columns: Map<string, readonly unknown[]>
  n: number
} {
  if (request.entities && request.entityRows) {
    throw new LarderError(
      'INVALID_INPUT',
      'give entity rows either column-major (entities) or as objects (entityRows), not both',
    )
  }
  const rows = request.entityRows ?? request.entities
  if (!rows) {
    throw new LarderError(
      'INVALID_INPUT',
      'entity rows are required (entities: { join_key: [values...] })',
    )
  }
  const columns = columnsOf(rows, 'entity rows')
  if (request.requestData) {
    for (const [k, v] of columnsOf(request.requestData, 'request data')) columns.set(k, v)
  }
  return { columns, n: rowCount(columns, 'entity rows') }
}

/** One store read of a retrieval: a view (or projection of one) and the features it needs. */
interface PlannedRead {
  view: StoredViewSpec
  projectionName: string
  /** view join key -> entity column, with the entity's value type. */
  keys: Array<{ name: string; column: string; type: ValueTypeName }>
  features: string[]
  specs: FeatureSpec[]
  /** Max age in microseconds; 0 = none. */
  ttl: bigint
}

/** An output column after the join keys. */
type PlannedOutput =
  | { kind: 'view'; name: string; read: number; index: number; valueType: ValueTypeName }
  | { kind: 'odfv'; name: string; od: number; feature: string; valueType: ValueTypeName }

/** Everything of an online read that depends only on the registry and what is asked. */
interface OnlinePlan {
  reads: PlannedRead[]
  outputs: PlannedOutput[]
  onDemand: Array<{
    spec: ResolvedRefs['onDemand'][number]['spec']
    /** Requested outputs. */
    features: FeatureSpec[]
    inputs: Array<{ name: string; read: number; index: number; valueType: ValueTypeName }>
  }>
  /** Join-key columns of the requested views with their types. */
  keyColumns: Map<string, ValueTypeName>
  /** Every entity-row column the request can use: join keys of every read, request data. */
  knownColumns: Set<string>
}

const planCache = new WeakMap<RegistryIndex, Map<string, OnlinePlan>>()
const PLAN_CACHE_SIZE = 256

function planOnline(index: RegistryIndex, request: OnlineFeaturesRequest): OnlinePlan {
  const refs = resolveRefs(index, request)
  const full = request.fullFeatureNames ?? false
  const reads: PlannedRead[] = []
  const readOf = new Map<string, number>()
  const addRead = (p: ProjectionSpec, features: readonly string[]): number => {
    const id = `${p.view}|${p.name ?? ''}|${JSON.stringify(p.joinKeyMap ?? {})}`
    let at = readOf.get(id)
    if (at === undefined) {
      const view = index.view(p.view)
      const keys: PlannedRead['keys'] = index.joinKeys(view).map((k) => ({
        name: k.name,
        column: p.joinKeyMap?.[k.name] ?? k.name,
        type: k.type,
      }))
      at = reads.length
      readOf.set(id, at)
      reads.push({
        view,
        projectionName: p.name ?? p.view,
        keys,
        features: [],
        specs: [],
        ttl: BigInt(Math.round(view.ttlSeconds * 1e6)),
      })
    }
    const r = reads[at]!
    for (const f of features) {
      if (r.features.includes(f)) continue
      const spec = r.view.features.find((x) => x.name === f)
      if (!spec) throw new LarderError('NOT_FOUND', `feature '${r.view.name}:${f}' does not exist`)
      r.features.push(f)
      r.specs.push(spec)
    }
    return at
  }
  const projectionReads = refs.projections.map((p) => addRead(p, p.features ?? []))
  for (const h of refs.hidden) addRead(h, h.features ?? [])

  const keyColumns = new Map<string, ValueTypeName>()
  for (const at of projectionReads.length ? projectionReads : reads.map((_, i) => i)) {
    for (const k of reads[at]!.keys) if (!keyColumns.has(k.column)) keyColumns.set(k.column, k.type)
  }

  const onDemand = refs.onDemand.map((od) => {
    const inputs: OnlinePlan['onDemand'][number]['inputs'] = []
    for (const src of od.spec.sources) {
      // The view under its own name, else any projection of it.
      const own = reads.findIndex((x) => x.view.name === src.view && x.projectionName === src.view)
      const at = own >= 0 ? own : reads.findIndex((x) => x.view.name === src.view)
      const r = reads[at]!
      for (const f of src.features ?? r.view.features.map((x) => x.name)) {
        const i = r.features.indexOf(f)
        inputs.push({ name: f, read: at, index: i, valueType: r.specs[i]!.valueType })
      }
    }
    return { spec: od.spec, features: od.features, inputs }
  })

  const names = new Map<string, string>()
  const claim = (name: string, ref: string) => {
    const prev = names.get(name)
    if (prev) {
      throw new LarderError(
        'INVALID_INPUT',
        `features '${prev}' and '${ref}' would both be returned as '${name}'`,
        { hint: 'set fullFeatureNames (full_feature_names) to name outputs view__feature' },
      )
    }
    names.set(name, ref)
  }
  const outputs: PlannedOutput[] = refs.order.map((o) => {
    if (o.kind === 'view') {
      const at = projectionReads[o.index]!
      const r = reads[at]!
      const name = full ? `${r.projectionName}__${o.feature}` : o.feature
      claim(name, `${r.projectionName}:${o.feature}`)
      const index = r.features.indexOf(o.feature)
      return { kind: 'view', name, read: at, index, valueType: r.specs[index]!.valueType }
    }
    const od = refs.onDemand[o.index]!
    const name = full ? `${od.projectionName}__${o.feature}` : o.feature
    claim(name, `${od.projectionName}:${o.feature}`)
    const spec = od.features.find((f) => f.name === o.feature)!
    return { kind: 'odfv', name, od: o.index, feature: o.feature, valueType: spec.valueType }
  })
  const knownColumns = new Set<string>()
  for (const r of reads) for (const k of r.keys) knownColumns.add(k.column)
  for (const od of onDemand)
    for (const rs of od.spec.requestSources) for (const f of rs.schema) knownColumns.add(f.name)
  return { reads, outputs, onDemand, keyColumns, knownColumns }
}

/**
 * Entity-row columns that no requested feature uses are refused: a misspelt join key
 * (`driver`) or request field would otherwise be ignored silently.
 */
function checkKnownColumns(plan: OnlinePlan, columns: Map<string, readonly unknown[]>): void {
  const unknown = [...columns.keys()].filter((c) => !plan.knownColumns.has(c))
  if (unknown.length === 0) return
  const known = [...plan.knownColumns]
  throw new LarderError(
    'INVALID_INPUT',
    `entity rows have column(s) ${unknown
      .slice(0, 5)
      .map((c) => `'${c.length > 40 ? `${c.slice(0, 37)}...` : c}'`)
      .join(
        ', ',
      )}${unknown.length > 5 ? ` and ${unknown.length - 5} more` : ''} that no requested feature uses`,
    {
      hint: known.length
        ? `the requested features use ${known.map((c) => `'${c}'`).join(', ')}`
        : 'the requested features need no entity columns',
    },
  )
}

/**
 * The last plan per feature-list array: callers that reuse their list skip building the key
 * string (its contents are still compared, in case the array was changed in place).
 */
const lastPlan = new WeakMap<
  readonly string[],
  {
    index: RegistryIndex
    full: boolean
    service: string | undefined
    copy: string[]
    plan: OnlinePlan
  }
>()

function sameList(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false
  return true
}

function cachedPlan(index: RegistryIndex, request: OnlineFeaturesRequest): OnlinePlan {
  const features = request.features
  const full = request.fullFeatureNames ?? false
  const last = features ? lastPlan.get(features) : undefined
  if (
    last &&
    last.index === index &&
    last.full === full &&
    last.service === request.featureService &&
    sameList(last.copy, features!)
  )
    return last.plan
  const plan = keyedPlan(index, request)
  if (features) {
    const entry = { index, full, service: request.featureService, copy: [...features], plan }
    lastPlan.set(features, entry)
  }
  return plan
}

function keyedPlan(index: RegistryIndex, request: OnlineFeaturesRequest): OnlinePlan {
  let cache = planCache.get(index)
  if (!cache) {
    cache = new Map()
    planCache.set(index, cache)
  }
  const key = `${request.fullFeatureNames ? 1 : 0}\u0001${request.featureService ?? ''}\u0001${request.features?.join('\u0000') ?? ''}`
  let plan = cache.get(key)
  if (!plan) {
    plan = planOnline(index, request)
    if (cache.size >= PLAN_CACHE_SIZE) cache.clear()
    cache.set(key, plan)
  }
  return plan
}

/** Entity keys of one read: the distinct serialized keys and, per row, which one. */
function entityKeys(
  r: PlannedRead,
  columns: Map<string, readonly unknown[]>,
  n: number,
): { rowToKey: Int32Array; uniqueKeys: Uint8Array[] } {
  const keyCols = r.keys.map((k) => {
    const col = columns.get(k.column)
    if (!col) {
      throw new LarderError(
        'INVALID_INPUT',
        `entity rows miss join key '${k.column}' needed by feature view '${r.view.name}'`,
        { hint: `give it in entities, e.g. { "${k.column}": [...] }` },
      )
    }
    return col
  })
  const rowToKey = new Int32Array(n)
  const uniqueKeys: Uint8Array[] = []
  const seen = n > 1 ? new Map<string, number>() : undefined
  for (let i = 0; i < n; i++) {
    const parts = r.keys.map((k, j) => {
      const value = coerceValue(keyCols[j]![i], k.type, `join key '${k.column}', row ${i}`)
      if (value === null)
        throw new LarderError('INVALID_INPUT', `join key '${k.column}' is null in row ${i}`)
      return { name: k.name, valueType: k.type, value }
    })
    const key = serializeEntityKey(parts)
    if (!seen) {
      uniqueKeys.push(key)
      continue
    }
    const s = entityKeyId(key)
    let idx = seen.get(s)
    if (idx === undefined) {
      idx = uniqueKeys.length
      seen.set(s, idx)
      uniqueKeys.push(key)
    }
    rowToKey[i] = idx
  }
  return { rowToKey, uniqueKeys }
}

/**
 * Reads online features for entity rows. What depends only on the registry and the list of
 * features (reference resolution, name checks) is planned once per registry snapshot.
 * @throws LarderError NOT_FOUND / INVALID_INPUT for unknown references, missing join keys,
 *   mistyped values, missing request data, colliding output names.
 */
export async function getOnlineFeatures(
  ctx: OnlineContext,
  request: OnlineFeaturesRequest,
): Promise<OnlineFeaturesResponse> {
  const plan = cachedPlan(ctx.index, request)
  const { columns, n } = toColumns(request)
  const keyed = plan.reads.map((r) => entityKeys(r, columns, n))
  checkKnownColumns(plan, columns)
  const results = await Promise.all(
    plan.reads.map((r, i) => {
      const keys = keyed[i]!.uniqueKeys
      const store = ctx.onlineStore
      if (!onlineReadChannel.hasSubscribers) return store.read(r.view, keys, r.features)
      const context = { store, view: r.view, keys: keys.length, features: r.features }
      return traced(onlineReadChannel, context, () => store.read(r.view, keys, r.features))
    }),
  )

  // Join-key columns first, in the order the entity input gives them.
  const out: OnlineColumn[] = []
  const zeroTs = () => new Array<bigint>(n).fill(0n)
  for (const name of columns.keys()) {
    const type = plan.keyColumns.get(name)
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

  // Per read, the event times and the statuses every feature of the read shares (a wide view
  // then allocates one of each, not one per feature); a feature with null values gets its own
  // copy of the statuses.
  const shared: Array<{ ts: bigint[]; statuses: FeatureStatus[]; live: Uint8Array }> = []
  const sharedOf = (at: number) => {
    let s = shared[at]
    if (s) return s
    const r = plan.reads[at]!
    const result = results[at]!
    const rowToKey = keyed[at]!.rowToKey
    const ts = new Array<bigint>(n)
    const statuses = new Array<FeatureStatus>(n)
    const live = new Uint8Array(n)
    for (let i = 0; i < n; i++) {
      const hit = result[rowToKey[i]!]
      if (!hit) {
        ts[i] = 0n
        statuses[i] = 'NOT_FOUND'
      } else {
        ts[i] = hit.eventTs
        if (r.ttl > 0n && ctx.now - hit.eventTs > r.ttl) statuses[i] = 'OUTSIDE_MAX_AGE'
        else {
          statuses[i] = 'PRESENT'
          live[i] = 1
        }
      }
    }
    s = { ts, statuses, live }
    shared[at] = s
    return s
  }

  const featureColumn = (
    at: number,
    fi: number,
    outputName: string,
    valueType: ValueTypeName,
  ): OnlineColumn => {
    const result = results[at]!
    const rowToKey = keyed[at]!.rowToKey
    const { ts, statuses: base, live } = sharedOf(at)
    const values = new Array<unknown>(n)
    let statuses = base
    for (let i = 0; i < n; i++) {
      if (live[i] === 0) {
        values[i] = null
        continue
      }
      const v = result[rowToKey[i]!]!.values[fi] ?? null
      values[i] = v
      if (v === null) {
        if (statuses === base) statuses = base.slice()
        statuses[i] = 'NULL_VALUE'
      }
    }
    return { name: outputName, valueType, values, statuses, eventTimestamps: ts }
  }

  // On-demand views: computed over the columns of their inputs and request data.
  const odfvResults = plan.onDemand.map(({ spec, inputs: planned, features }) => {
    const inputs: OnDemandInput[] = planned.map((input) => ({
      name: input.name,
      valueType: input.valueType,
      values: featureColumn(input.read, input.index, input.name, input.valueType).values,
    }))
    for (const rs of spec.requestSources) {
      for (const field of rs.schema) {
        const col = columns.get(field.name)
        if (!col) {
          throw new LarderError(
            'INVALID_INPUT',
            `request data '${field.name}' is required by on-demand feature view '${spec.name}'`,
            {
              hint: `add it to entities or requestData, e.g. { "${field.name}": [...] } with one value per entity row`,
            },
          )
        }
        inputs.push({
          name: field.name,
          valueType: field.valueType,
          values: col.map((v, i) =>
            coerceValue(v, field.valueType, `request data '${field.name}', row ${i}`),
          ),
        })
      }
    }
    return applyOnDemand(ctx.onDemandTransforms, spec, inputs, features, n)
  })

  for (const o of plan.outputs) {
    if (o.kind === 'view') {
      out.push(featureColumn(o.read, o.index, o.name, o.valueType))
      continue
    }
    const values = odfvResults[o.od]!.get(o.feature)!
    out.push({
      name: o.name,
      valueType: o.valueType,
      values,
      statuses: values.map((v) => (v === null ? 'NULL_VALUE' : 'PRESENT')),
      eventTimestamps: zeroTs(),
    })
  }
  return new OnlineFeaturesResponse(out, n)
}
