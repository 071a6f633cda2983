/**
 * The serializable specs of every definition. The registry stores these (never code), the
 * planner and the backends consume them. Definitions built with `entity()`, `featureView()`...
 * carry their spec in `.spec`.
 */
import type { FormatSpec } from './stream-format.js'
import type { ValueTypeName } from './types.js'

/** Metadata every definition may carry. */
export interface Metadata {
  description?: string
  tags?: Record<string, string>
  owner?: string
}

/** An entity: the thing features describe, identified by its join keys. */
export interface EntitySpec extends Metadata {
  kind: 'entity'
  name: string
  /** The entity's key columns (usually one). */
  joinKeys: string[]
  /** The type of the join key values. */
  valueType: ValueTypeName
}

/** Fields every source has (SEMANTICS.md). */
export interface CommonSourceFields extends Metadata {
  name: string
  /** The event-timestamp column (source name, before field mapping). */
  timestampField?: string
  /** Column used to break ties between rows with equal event timestamps. */
  createdTimestampColumn?: string
  /** `source column -> larder name`, applied to features, join keys and timestamps. */
  fieldMapping?: Record<string, string>
  /** Column partitioning the data by date (lets a backend prune reads). */
  datePartitionColumn?: string
}

/**
 * A source: where raw feature data lives. `kind` names the backend that understands it
 * (`file`, `bigquery`, `kafka`, `push`, `request`...); other fields belong to that backend.
 */
export interface SourceSpec extends CommonSourceFields {
  kind: string
  [backendField: string]: unknown
}

/** A push source: rows pushed through the API, kept offline in its batch source. */
export interface PushSourceSpec extends SourceSpec {
  kind: 'push'
  batchSource: SourceSpec
}

/**
 * A stream source (`kafka`, `kinesis`): records arrive on a stream, are decoded by `format`,
 * and are appended to `batchSource` (the offline log historical retrieval reads).
 */
export interface StreamSourceSpec extends SourceSpec {
  batchSource: SourceSpec
  /** How record values are encoded (`@larder/formats`), as data: `{ kind: 'json' }`... */
  format: FormatSpec
  /** Events more than this many seconds behind the newest of their partition are late. */
  watermarkDelaySeconds?: number
}

/**
 * The hidden column of offline-log rows written by stream ingestion: the record's stream
 * position (`<topic>/<partition>/<offset>`, `<stream>/<shard>/<sequence>`). Rows with equal
 * positions are one event written twice (a replay after a crash); readers count one.
 */
export const STREAM_POSITION_COLUMN = '__stream_position'

/** Where stream ingestion writes a stream feature view's rows. */
export type StreamWriteTo = 'online' | 'offline' | 'online_and_offline'

/** A request source: values that only exist at request time, for on-demand views. */
export interface RequestSourceSpec extends SourceSpec {
  kind: 'request'
  schema: FeatureSpec[]
}

/** One feature (or field) of a schema. */
export interface FeatureSpec extends Metadata {
  name: string
  valueType: ValueTypeName
}

/** A feature view: features of some entities, read from one source. */
export interface FeatureViewSpec extends Metadata {
  kind: 'featureView'
  name: string
  /** Entity names, in order. No entities = an entity-less view (joined on time only). */
  entities: string[]
  /** Features in declared order (larder names). */
  features: FeatureSpec[]
  source: SourceSpec
  /** Max age of a value in seconds; 0 = unbounded. */
  ttlSeconds: number
  /** Served from the online store (materialized). */
  online: boolean
  /** Available for historical retrieval. */
  offline: boolean
  /** True when `features` was inferred from the source at apply time. */
  schemaInferred?: boolean
}

/** An aggregation of a stream feature view. */
export interface AggregationSpec {
  function: 'sum' | 'min' | 'max' | 'count' | 'mean' | 'count_distinct' | 'last'
  column: string
  /** Window length in seconds. */
  windowSeconds: number
  /** Slide interval in seconds (defaults to the window: tumbling). */
  slideSeconds?: number
  /** Output feature name; default `${function}_${column}_${window}`. */
  name?: string
}

/** A stream feature view: a feature view fed by a stream source. */
export interface StreamFeatureViewSpec extends Omit<FeatureViewSpec, 'kind'> {
  kind: 'streamFeatureView'
  aggregations: AggregationSpec[]
  /** Name of the exported transform function, when one is given (the code stays in the repo). */
  transform?: string
  /** Where ingestion writes. Absent in registries written before it existed: both. */
  writeTo?: StreamWriteTo
}

/**
 * A view whose rows are stored: what the online and offline stores receive (`kind` tells a
 * stream view from a batch one; both have entities, features, a source and a ttl).
 */
export type StoredViewSpec = FeatureViewSpec | StreamFeatureViewSpec

/** A reference to a view from an on-demand view or a feature service, maybe projected. */
export interface ProjectionSpec {
  /** The referenced view's name. */
  view: string
  /** The projection name (`view.withName(...)`); defaults to the view name. */
  name?: string
  /** Features selected; all when absent. */
  features?: string[]
  /** `view join key -> entity table column` (`view.withJoinKeyMap(...)`). */
  joinKeyMap?: Record<string, string>
}

/** An on-demand feature view: a transform over other views' features and request data. */
export interface OnDemandFeatureViewSpec extends Metadata {
  kind: 'onDemandFeatureView'
  name: string
  /** Feature views it reads. */
  sources: ProjectionSpec[]
  /** Request sources it reads. */
  requestSources: RequestSourceSpec[]
  /** Declared outputs. */
  features: FeatureSpec[]
  /** Name of the exported definition holding the transform (the code stays in the repo). */
  transform: string
}

/** A feature service: a named set of features for one model. */
export interface FeatureServiceSpec extends Metadata {
  kind: 'featureService'
  name: string
  features: ProjectionSpec[]
}

/** Any view a feature reference can point at. */
export type AnyViewSpec = FeatureViewSpec | StreamFeatureViewSpec | OnDemandFeatureViewSpec

/** Any registered object. */
export type AnySpec =
  | EntitySpec
  | FeatureViewSpec
  | StreamFeatureViewSpec
  | OnDemandFeatureViewSpec
  | FeatureServiceSpec
  | SourceSpec

/** Join keys of a view, in order: its entities' join keys. */
export function viewJoinKeys(
  view: Pick<FeatureViewSpec, 'entities'>,
  entities: ReadonlyMap<string, EntitySpec>,
): string[] {
  const keys: string[] = []
  for (const name of view.entities) {
    const entity = entities.get(name)
    if (entity) keys.push(...entity.joinKeys)
  }
  return keys
}

/**
 * The source column of a larder name under a source's field mapping (the reverse of
 * `fieldMapping`): `sourceColumn(source, 'trips')` is `'trip_count'` when the mapping says
 * `{ trip_count: 'trips' }`.
 */
export function sourceColumn(source: CommonSourceFields, larderName: string): string {
  for (const [from, to] of Object.entries(source.fieldMapping ?? {}))
    if (to === larderName) return from
  return larderName
}

/** The event-timestamp column of a source in larder names (after field mapping). */
export function timestampName(source: CommonSourceFields): string | undefined {
  const f = source.timestampField
  return f === undefined ? undefined : (source.fieldMapping?.[f] ?? f)
}

/** The created-timestamp column of a source in larder names (after field mapping). */
export function createdName(source: CommonSourceFields): string | undefined {
  const f = source.createdTimestampColumn
  return f === undefined ? undefined : (source.fieldMapping?.[f] ?? f)
}

/**
 * The source historical retrieval and materialization read for a view's source: a push or
 * stream source's `batchSource`, else the source itself.
 */
export function batchSourceOf(source: SourceSpec): SourceSpec {
  const batch = (source as { batchSource?: unknown }).batchSource
  return batch && typeof batch === 'object' && typeof (batch as SourceSpec).kind === 'string'
    ? (batch as SourceSpec)
    : source
}
