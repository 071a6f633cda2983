/**
 * The definition functions users call in their feature repo: `entity`, `featureView`,
 * `onDemandFeatureView`, `streamFeatureView`, `featureService`, `pushSource`,
 * `requestSource`, `aggregation`. Each returns an object carrying its serializable `spec`
 * (what the registry stores) and, where types can flow, its schema as a type parameter.
 */

import type { StreamConnector } from './contracts.js'
import { type Duration, durationToSeconds } from './duration.js'
import { LarderError } from './errors.js'
import type {
  AggregationSpec,
  EntitySpec,
  FeatureServiceSpec,
  FeatureSpec,
  FeatureViewSpec,
  Metadata,
  OnDemandFeatureViewSpec,
  ProjectionSpec,
  PushSourceSpec,
  RequestSourceSpec,
  SourceSpec,
  StreamFeatureViewSpec,
  StreamWriteTo,
} from './spec.js'
import { isValueTypeName, type TsValueOf, type ValueTypeName } from './types.js'

/** Brand carried by every definition object, so the loader can find them among exports. */
export const DEFINITION = Symbol.for('larder.definition')

/** A schema as users write it: feature name -> value type. */
export type Schema = Record<string, ValueTypeName>

const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/

function checkName(what: string, name: unknown): asserts name is string {
  if (typeof name !== 'string' || !NAME.test(name)) {
    throw new LarderError(
      'INVALID_DEFINITION',
      `${what} name ${JSON.stringify(name)} is invalid: use letters, digits and underscores, not starting with a digit`,
    )
  }
}

function metadata(m: Metadata): Metadata {
  const out: Metadata = {}
  if (m.description !== undefined) out.description = m.description
  if (m.tags !== undefined) out.tags = { ...m.tags }
  if (m.owner !== undefined) out.owner = m.owner
  return out
}

function schemaToFeatures(owner: string, schema: Schema): FeatureSpec[] {
  const features: FeatureSpec[] = []
  for (const [name, valueType] of Object.entries(schema)) {
    checkName(`${owner}: feature`, name)
    if (!isValueTypeName(valueType)) {
      throw new LarderError(
        'INVALID_DEFINITION',
        `${owner}: feature '${name}' has unknown type ${JSON.stringify(valueType)}`,
        {
          hint: 'use t.int32, t.int64, t.float32, t.float64, t.string, t.bytes, t.bool, t.timestamp or t.array(...)',
        },
      )
    }
    features.push({ name, valueType })
  }
  return features
}

// ---------------------------------------------------------------------------------------
// Entities

/** An entity definition. */
export interface Entity<N extends string = string> {
  readonly [DEFINITION]: 'entity'
  readonly name: N
  readonly spec: EntitySpec
}

/** Options of {@link entity}. */
export interface EntityOptions<N extends string> extends Metadata {
  name: N
  /** The key columns; usually one. @default [name] */
  joinKeys?: string[]
  /** Type of the key values. @default t.int64 */
  valueType?: ValueTypeName
}

/**
 * Defines an entity: what features describe, identified by its join keys.
 * @example
 * export const driver = entity({ name: 'driver', joinKeys: ['driver_id'], valueType: t.int64 })
 */
export function entity<const N extends string>(options: EntityOptions<N>): Entity<N> {
  checkName('entity', options.name)
  const joinKeys = options.joinKeys ?? [options.name]
  if (joinKeys.length === 0) {
    throw new LarderError(
      'INVALID_DEFINITION',
      `entity '${options.name}': joinKeys must name at least one column`,
    )
  }
  for (const k of joinKeys) checkName(`entity '${options.name}': join key`, k)
  if (new Set(joinKeys).size !== joinKeys.length) {
    throw new LarderError(
      'INVALID_DEFINITION',
      `entity '${options.name}': duplicate join key in ${JSON.stringify(joinKeys)}`,
    )
  }
  const valueType = options.valueType ?? 'int64'
  if (
    !isValueTypeName(valueType) ||
    !['int32', 'int64', 'string', 'bytes', 'timestamp'].includes(valueType)
  ) {
    throw new LarderError(
      'INVALID_DEFINITION',
      `entity '${options.name}': valueType ${JSON.stringify(valueType)} cannot be a key`,
      { hint: 'use t.int32, t.int64, t.string, t.bytes or t.timestamp' },
    )
  }
  return {
    [DEFINITION]: 'entity',
    name: options.name,
    spec: {
      kind: 'entity',
      name: options.name,
      joinKeys: [...joinKeys],
      valueType,
      ...metadata(options),
    },
  }
}

// ---------------------------------------------------------------------------------------
// Sources

/**
 * Checks the fields every source shares (SEMANTICS.md): name, timestamp field, created
 * timestamp column, field mapping and date partition column. The one place they are checked:
 * backends check only their own fields (their {@link SourceKind}); {@link checkSource} runs
 * both.
 * @throws LarderError INVALID_DEFINITION naming the source and field.
 */
export function validateCommonSourceFields(spec: SourceSpec, requireTimestamp = true): void {
  if (!spec || typeof spec !== 'object') {
    throw new LarderError('INVALID_DEFINITION', 'a source must be an object with kind and name')
  }
  checkName('source', spec.name)
  const where = `${typeof spec.kind === 'string' ? `${spec.kind} ` : ''}source '${spec.name}'`
  const optionalColumn = (field: 'createdTimestampColumn' | 'datePartitionColumn') => {
    const v = spec[field]
    if (v !== undefined && (typeof v !== 'string' || v.trim() === '')) {
      throw new LarderError('INVALID_DEFINITION', `${where}: ${field} must be a column name`, {
        hint: `name a column or leave ${field} out`,
      })
    }
  }
  if (
    requireTimestamp &&
    (typeof spec.timestampField !== 'string' || spec.timestampField.trim() === '')
  ) {
    throw new LarderError(
      'INVALID_DEFINITION',
      `${where}: timestampField is required (the event-timestamp column)`,
      { hint: 'name the event-timestamp column, e.g. timestampField: "event_timestamp"' },
    )
  }
  optionalColumn('createdTimestampColumn')
  optionalColumn('datePartitionColumn')
  if (
    spec.createdTimestampColumn !== undefined &&
    spec.createdTimestampColumn === spec.timestampField
  ) {
    throw new LarderError(
      'INVALID_DEFINITION',
      `${where}: createdTimestampColumn '${spec.createdTimestampColumn}' is the same column as timestampField`,
      {
        hint: 'the created timestamp breaks ties between equal event timestamps; name a different column or omit it',
      },
    )
  }
  const mapping = spec.fieldMapping ?? {}
  if (typeof mapping !== 'object' || mapping === null || Array.isArray(mapping)) {
    throw new LarderError(
      'INVALID_DEFINITION',
      `${where}: fieldMapping must be an object { sourceColumn: larderName }`,
    )
  }
  const targets = new Map<string, string>()
  for (const [from, to] of Object.entries(mapping)) {
    if (typeof to !== 'string' || to === '') {
      throw new LarderError(
        'INVALID_DEFINITION',
        `${where}: fieldMapping['${from}'] must be a column name`,
      )
    }
    const other = targets.get(to)
    if (other !== undefined) {
      throw new LarderError(
        'INVALID_DEFINITION',
        `${where}: fieldMapping maps both '${other}' and '${from}' to '${to}'`,
      )
    }
    targets.set(to, from)
  }
}

/** A push source: rows pushed through the API land in its views (and its batch source). */
export interface PushSource<N extends string = string> extends PushSourceSpec {
  readonly [DEFINITION]: 'pushSource'
  name: N
}

/** Options of {@link pushSource}. */
export interface PushSourceOptions<N extends string> extends Metadata {
  name: N
  /** Where pushed rows are kept offline and historical retrieval reads from. */
  batchSource: SourceSpec
}

/**
 * Defines a push source over a batch source.
 * @example
 * export const driverPush = pushSource({ name: 'driver_stats_push', batchSource: driverSource })
 */
export function pushSource<const N extends string>(options: PushSourceOptions<N>): PushSource<N> {
  checkName('push source', options.name)
  if (!options.batchSource || typeof options.batchSource.kind !== 'string') {
    throw new LarderError(
      'INVALID_DEFINITION',
      `push source '${options.name}': batchSource is required (e.g. a fileSource)`,
    )
  }
  const batch = options.batchSource
  const spec = {
    [DEFINITION]: 'pushSource' as const,
    kind: 'push' as const,
    name: options.name,
    batchSource: stripBrand(batch),
    ...metadata(options),
  }
  if (batch.timestampField !== undefined) (spec as SourceSpec).timestampField = batch.timestampField
  if (batch.createdTimestampColumn !== undefined)
    (spec as SourceSpec).createdTimestampColumn = batch.createdTimestampColumn
  if (batch.fieldMapping !== undefined)
    (spec as SourceSpec).fieldMapping = { ...batch.fieldMapping }
  return spec as PushSource<N>
}

/** A request source: values known only at request time, read by on-demand views. */
export interface RequestSource<N extends string = string, S extends Schema = Schema>
  extends RequestSourceSpec {
  readonly [DEFINITION]: 'requestSource'
  name: N
  readonly schemaTypes?: S
}

/**
 * Defines a request source.
 * @example
 * export const tripInput = requestSource({ name: 'trip_input', schema: { distance_km: t.float64 } })
 */
export function requestSource<const N extends string, const S extends Schema>(
  options: { name: N; schema: S } & Metadata,
): RequestSource<N, S> {
  checkName('request source', options.name)
  return {
    [DEFINITION]: 'requestSource',
    kind: 'request',
    name: options.name,
    schema: schemaToFeatures(`request source '${options.name}'`, options.schema),
    ...metadata(options),
  } as RequestSource<N, S>
}

function stripBrand<T extends object>(value: T): T {
  const out = { ...value } as Record<string | symbol, unknown>
  delete out[DEFINITION]
  return out as T
}

// ---------------------------------------------------------------------------------------
// Feature views and projections

/** A view (or projection of one) as a feature service or on-demand view refers to it. */
export interface Projection<N extends string = string, S extends Schema = Schema> {
  readonly name: N
  readonly schema: S
  readonly projection: ProjectionSpec
}

interface ProjectionMethods<N extends string, S extends Schema> {
  /** The same view under another name (outputs become `name__feature` with full names). */
  withName<M extends string>(name: M): Projection<M, S> & ProjectionMethods<M, S>
  /** Maps the view's join keys to other entity-table columns, e.g. `{ driver_id: 'rider_id' }`. */
  withJoinKeyMap(map: Record<string, string>): Projection<N, S> & ProjectionMethods<N, S>
  /** A subset of the view's features. */
  select<F extends keyof S & string>(
    ...features: F[]
  ): Projection<N, Pick<S, F>> & ProjectionMethods<N, Pick<S, F>>
}

function projectionOf<N extends string, S extends Schema>(
  view: string,
  schema: S,
  spec: ProjectionSpec,
): Projection<N, S> & ProjectionMethods<N, S> {
  const name = (spec.name ?? view) as N
  return {
    name,
    schema,
    projection: spec,
    withName<M extends string>(newName: M) {
      checkName(`projection of '${view}'`, newName)
      return projectionOf<M, S>(view, schema, { ...spec, name: newName })
    },
    withJoinKeyMap(map: Record<string, string>) {
      return projectionOf<N, S>(view, schema, {
        ...spec,
        joinKeyMap: { ...spec.joinKeyMap, ...map },
      })
    },
    select<F extends keyof S & string>(...features: F[]) {
      for (const f of features) {
        if (!(f in schema) && Object.keys(schema).length > 0) {
          throw new LarderError(
            'INVALID_DEFINITION',
            `view '${view}' has no feature '${f}' (it has ${Object.keys(schema).join(', ')})`,
          )
        }
      }
      const picked = Object.fromEntries(features.map((f) => [f, schema[f]])) as Pick<S, F>
      return projectionOf<N, Pick<S, F>>(view, picked, { ...spec, features })
    },
  }
}

/** A feature view definition. */
export type FeatureView<N extends string = string, S extends Schema = Schema> = Projection<N, S> &
  ProjectionMethods<N, S> & {
    readonly [DEFINITION]: 'featureView'
    readonly spec: FeatureViewSpec
    /** The source as given (a push source keeps its identity here). */
    readonly source: SourceSpec
  }

/** Options of {@link featureView}. */
export interface FeatureViewOptions<N extends string, S extends Schema> extends Metadata {
  name: N
  /** Entities the features describe; none for an entity-less view. @default [] */
  entities?: Entity[]
  /** Features and their types. Omit to infer from the source at apply time. */
  schema?: S
  source: SourceSpec
  /** Max age of values; 0 or absent = unbounded. @default 0 */
  ttl?: Duration
  /** Materialized and served online. @default true */
  online?: boolean
  /** Available for historical retrieval. @default true */
  offline?: boolean
}

/**
 * Defines a feature view: features of some entities read from one source.
 * @example
 * export const driverStats = featureView({
 *   name: 'driver_hourly_stats', entities: [driver], ttl: { days: 1 },
 *   schema: { conv_rate: t.float32, acc_rate: t.float32, avg_daily_trips: t.int64 },
 *   source: fileSource({ name: 'driver_stats', path: 'data/driver_stats.parquet', timestampField: 'event_timestamp' }),
 * })
 */
export function featureView<const N extends string, const S extends Schema = Schema>(
  options: FeatureViewOptions<N, S>,
): FeatureView<N, S> {
  const spec = buildViewSpec('featureView', options)
  const schema = (options.schema ?? {}) as S
  return Object.assign(projectionOf<N, S>(options.name, schema, { view: options.name }), {
    [DEFINITION]: 'featureView' as const,
    spec,
    source: options.source,
  })
}

function buildViewSpec<K extends 'featureView' | 'streamFeatureView'>(
  kind: K,
  options: FeatureViewOptions<string, Schema>,
): K extends 'featureView' ? FeatureViewSpec : Omit<FeatureViewSpec, 'kind'> & { kind: K } {
  const label = kind === 'featureView' ? 'feature view' : 'stream feature view'
  checkName(label, options.name)
  const where = `${label} '${options.name}'`
  if (!options.source || typeof options.source.kind !== 'string') {
    throw new LarderError(
      'INVALID_DEFINITION',
      `${where}: source is required (e.g. fileSource({...}) or pushSource({...}))`,
    )
  }
  const source = stripBrand(options.source)
  if (source.kind !== 'request')
    validateCommonSourceFields(
      source.kind === 'push' ? (source as PushSourceSpec).batchSource : source,
    )
  const entities = options.entities ?? []
  for (const e of entities) {
    if (e?.[DEFINITION] !== 'entity') {
      throw new LarderError(
        'INVALID_DEFINITION',
        `${where}: entities must be entity(...) definitions`,
      )
    }
  }
  const features = options.schema ? schemaToFeatures(where, options.schema) : []
  // A schema entry for a join key is a declaration of the key's type: it must match the entity.
  const joinKeyTypes = new Map<string, { entity: string; type: ValueTypeName }>()
  for (const e of entities)
    for (const k of e.spec.joinKeys) joinKeyTypes.set(k, { entity: e.name, type: e.spec.valueType })
  const kept: FeatureSpec[] = []
  for (const f of features) {
    const key = joinKeyTypes.get(f.name)
    if (key) {
      if (key.type !== f.valueType) {
        throw new LarderError(
          'INVALID_DEFINITION',
          `${where}: schema declares join key '${f.name}' as ${f.valueType} but entity '${key.entity}' has valueType ${key.type}`,
        )
      }
      continue
    }
    kept.push(f)
  }
  const mappingKeys = Object.keys(source.fieldMapping ?? {})
  for (const f of kept) {
    if (mappingKeys.includes(f.name) && source.fieldMapping?.[f.name] !== f.name) {
      throw new LarderError(
        'INVALID_DEFINITION',
        `${where}: feature '${f.name}' is also a fieldMapping key (source column '${f.name}' is renamed to '${source.fieldMapping?.[f.name]}')`,
        { hint: 'views refer to larder names, the right side of fieldMapping' },
      )
    }
  }
  const ttlSeconds = options.ttl === undefined ? 0 : durationToSeconds(options.ttl, `${where}: ttl`)
  return {
    kind,
    name: options.name,
    entities: entities.map((e) => e.name),
    features: kept,
    source,
    ttlSeconds,
    online: options.online ?? true,
    offline: options.offline ?? true,
    ...metadata(options),
    ...(options.schema ? {} : { schemaInferred: true }),
  } as never
}

// ---------------------------------------------------------------------------------------
// Stream feature views and aggregations

/** Options of {@link aggregation}. */
export interface AggregationOptions {
  function: AggregationSpec['function']
  column: string
  window: Duration
  slide?: Duration
  name?: string
}

/**
 * An aggregation of a stream feature view over a time window.
 * @example
 * aggregation({ function: 'sum', column: 'trips', window: { hours: 1 }, slide: { minutes: 10 } })
 */
export function aggregation(options: AggregationOptions): AggregationSpec {
  const fns: AggregationSpec['function'][] = [
    'sum',
    'min',
    'max',
    'count',
    'mean',
    'count_distinct',
    'last',
  ]
  if (!fns.includes(options.function)) {
    throw new LarderError(
      'INVALID_DEFINITION',
      `aggregation function ${JSON.stringify(options.function)} is unknown (use ${fns.join(', ')})`,
    )
  }
  checkName('aggregation column', options.column)
  const windowSeconds = durationToSeconds(
    options.window,
    `aggregation ${options.function}(${options.column}): window`,
  )
  if (windowSeconds <= 0)
    throw new LarderError(
      'INVALID_DEFINITION',
      `aggregation ${options.function}(${options.column}): window must be > 0`,
    )
  const spec: AggregationSpec = {
    function: options.function,
    column: options.column,
    windowSeconds,
  }
  if (options.slide !== undefined) {
    const slide = durationToSeconds(
      options.slide,
      `aggregation ${options.function}(${options.column}): slide`,
    )
    if (slide <= 0 || slide > windowSeconds) {
      throw new LarderError(
        'INVALID_DEFINITION',
        `aggregation ${options.function}(${options.column}): slide must be > 0 and <= window`,
      )
    }
    spec.slideSeconds = slide
  }
  if (options.name !== undefined) {
    checkName('aggregation output', options.name)
    spec.name = options.name
  }
  return spec
}

/** The output feature name of an aggregation. */
export function aggregationName(a: AggregationSpec): string {
  return a.name ?? `${a.function}_${a.column}_${a.windowSeconds}s`
}

/**
 * Code a stream source definition carries beside its spec (never stored in the registry):
 * the connector that makes its consumers and the format object that decodes its records.
 * Attached with {@link attachStreamRuntime} by `kafkaSource()`, `kinesisSource()`...
 */
export interface StreamSourceRuntime {
  /** Used when the config's `streams` section has no connector for the source's kind. */
  connector: StreamConnector
  /** The format object given to the source (`jsonFormat()`...); decodes record values. */
  format?: unknown
}

/** Key of {@link StreamSourceRuntime} on a stream source definition. */
export const STREAM_RUNTIME = Symbol.for('larder.streamRuntime')

/**
 * Attaches a stream source's runtime to its definition object, non-enumerable so that specs
 * copied from it (and the registry) never hold code.
 */
export function attachStreamRuntime<T extends SourceSpec>(
  source: T,
  runtime: StreamSourceRuntime,
): T {
  Object.defineProperty(source, STREAM_RUNTIME, { value: runtime, enumerable: false })
  return source
}

/** The runtime a stream source definition carries, if any. */
export function streamRuntimeOf(source: unknown): StreamSourceRuntime | undefined {
  if (!source || typeof source !== 'object') return undefined
  return (source as { [STREAM_RUNTIME]?: StreamSourceRuntime })[STREAM_RUNTIME]
}

const WRITE_TO: readonly StreamWriteTo[] = ['online', 'offline', 'online_and_offline']

/** A stream feature view definition. */
export type StreamFeatureView<N extends string = string, S extends Schema = Schema> = Projection<
  N,
  S
> &
  ProjectionMethods<N, S> & {
    readonly [DEFINITION]: 'streamFeatureView'
    readonly spec: StreamFeatureViewSpec
    /** The source as given (a stream source carries its runtime here). */
    readonly source: SourceSpec
    readonly transform?: (rows: Record<string, unknown>[]) => Record<string, unknown>[]
  }

/**
 * Defines a stream feature view: a feature view fed by a stream source (Kafka, Kinesis),
 * with an optional transform of decoded records and windowed aggregations.
 */
export function streamFeatureView<const N extends string, const S extends Schema = Schema>(
  options: FeatureViewOptions<N, S> & {
    aggregations?: AggregationSpec[]
    /**
     * Applied to the decoded rows of each record (an array of one row, after field mapping);
     * may return zero, one or several rows.
     */
    transform?: (rows: Record<string, unknown>[]) => Record<string, unknown>[]
    /** Where `larder ingest` writes: online, the offline log, or both. @default 'online_and_offline' */
    writeTo?: StreamWriteTo
  },
): StreamFeatureView<N, S> {
  const base = buildViewSpec('streamFeatureView', options)
  const aggregations = options.aggregations ?? []
  const writeTo = options.writeTo ?? 'online_and_offline'
  if (!WRITE_TO.includes(writeTo)) {
    throw new LarderError(
      'INVALID_DEFINITION',
      `stream feature view '${options.name}': writeTo ${JSON.stringify(writeTo)} is not one of ${WRITE_TO.join(', ')}`,
    )
  }
  const spec: StreamFeatureViewSpec = { ...base, aggregations, writeTo }
  if (options.transform) spec.transform = options.transform.name || 'transform'
  if (aggregations.length > 0 && !options.schema) {
    spec.features = aggregations.map((a) => ({
      name: aggregationName(a),
      valueType: a.function === 'count' || a.function === 'count_distinct' ? 'int64' : 'float64',
    }))
    delete spec.schemaInferred
  }
  const schema = (options.schema ?? {}) as S
  const out = Object.assign(projectionOf<N, S>(options.name, schema, { view: options.name }), {
    [DEFINITION]: 'streamFeatureView' as const,
    spec,
    source: options.source,
  })
  return options.transform ? Object.assign(out, { transform: options.transform }) : out
}

// ---------------------------------------------------------------------------------------
// On-demand feature views

/** Columns handed to an on-demand transform: one array per input column. */
export type Columns = Record<string, unknown[]>

/** The input columns an on-demand transform receives, typed from its sources. */
export type OnDemandInputs<Src extends readonly (Projection | RequestSource)[]> =
  UnionToIntersection<
    Src[number] extends infer P
      ? P extends Projection<string, infer S>
        ? { [F in keyof S]: Array<TsValueOf<S[F]> | null> }
        : P extends RequestSource<string, infer S>
          ? { [F in keyof S]: Array<TsValueOf<S[F]> | null> }
          : never
      : never
  >

type UnionToIntersection<U> = (U extends unknown ? (x: U) => void : never) extends (
  x: infer I,
) => void
  ? I
  : never

/** An on-demand feature view definition. */
export type OnDemandFeatureView<N extends string = string, S extends Schema = Schema> = Projection<
  N,
  S
> &
  ProjectionMethods<N, S> & {
    readonly [DEFINITION]: 'onDemandFeatureView'
    readonly spec: OnDemandFeatureViewSpec
    /** Computes the outputs column by column; every output array has one value per row. */
    readonly transform: (inputs: Columns) => Columns
  }

/**
 * Defines an on-demand feature view: features computed at read time from other views'
 * features and request data. The transform works on columns (one array per input).
 * @example
 * export const convPlusDistance = onDemandFeatureView({
 *   name: 'trip_features', sources: [driverStats, tripInput],
 *   schema: { conv_rate_plus_distance: t.float64 },
 *   transform: (c) => ({ conv_rate_plus_distance: c.conv_rate.map((v, i) => (v ?? 0) + (c.distance_km[i] ?? 0)) }),
 * })
 */
export function onDemandFeatureView<
  const N extends string,
  const S extends Schema,
  const Src extends readonly (Projection | RequestSource)[],
>(
  options: {
    name: N
    sources: Src
    schema: S
    transform: (inputs: OnDemandInputs<Src> & Columns) => {
      [F in keyof S]: Array<TsValueOf<S[F]> | null>
    }
  } & Metadata,
): OnDemandFeatureView<N, S> {
  checkName('on-demand feature view', options.name)
  const where = `on-demand feature view '${options.name}'`
  if (typeof options.transform !== 'function') {
    throw new LarderError(
      'INVALID_DEFINITION',
      `${where}: transform must be a function over columns`,
    )
  }
  if (!options.sources || options.sources.length === 0) {
    throw new LarderError(
      'INVALID_DEFINITION',
      `${where}: sources must list at least one feature view or request source`,
    )
  }
  const views: ProjectionSpec[] = []
  const requests: RequestSourceSpec[] = []
  for (const s of options.sources) {
    if ((s as RequestSource)[DEFINITION] === 'requestSource')
      requests.push(stripBrand(s as RequestSource))
    else if ('projection' in s) views.push((s as Projection).projection)
    else
      throw new LarderError(
        'INVALID_DEFINITION',
        `${where}: sources must be feature views, projections or request sources`,
      )
  }
  const spec: OnDemandFeatureViewSpec = {
    kind: 'onDemandFeatureView',
    name: options.name,
    sources: views,
    requestSources: requests,
    features: schemaToFeatures(where, options.schema),
    transform: options.name,
    ...metadata(options),
  }
  return Object.assign(projectionOf<N, S>(options.name, options.schema, { view: options.name }), {
    [DEFINITION]: 'onDemandFeatureView' as const,
    spec,
    transform: options.transform as unknown as (inputs: Columns) => Columns,
  })
}

// ---------------------------------------------------------------------------------------
// Feature services

/** A feature service definition: a named set of features for one model. */
export interface FeatureService<
  N extends string = string,
  P extends readonly Projection[] = readonly Projection[],
> {
  readonly [DEFINITION]: 'featureService'
  readonly name: N
  readonly spec: FeatureServiceSpec
  readonly projections: P
}

/**
 * Defines a feature service.
 * @example
 * export const driverActivity = featureService({ name: 'driver_activity', features: [driverStats.select('conv_rate')] })
 */
export function featureService<const N extends string, const P extends readonly Projection[]>(
  options: { name: N; features: P } & Metadata,
): FeatureService<N, P> {
  checkName('feature service', options.name)
  if (!options.features || options.features.length === 0) {
    throw new LarderError(
      'INVALID_DEFINITION',
      `feature service '${options.name}': features must list at least one view or projection`,
    )
  }
  return {
    [DEFINITION]: 'featureService',
    name: options.name,
    projections: options.features,
    spec: {
      kind: 'featureService',
      name: options.name,
      features: options.features.map((p) => p.projection),
      ...metadata(options),
    },
  }
}

/** Any definition object. */
export type AnyDefinition =
  | Entity
  | FeatureView
  | StreamFeatureView
  | OnDemandFeatureView
  | FeatureService
  | PushSource
  | RequestSource

/** True when `value` is a definition made by one of the functions above. */
export function isDefinition(value: unknown): value is AnyDefinition {
  return typeof value === 'object' && value !== null && DEFINITION in value
}
