/**
 * The resolved plan of a historical retrieval: which views, which join keys, which output
 * columns. Core builds it from feature references (`planHistoricalRetrieval`); the in-memory
 * engine, the SQL compiler and every offline store execute it.
 */
import type * as arrow from 'apache-arrow'
import type { OnDemandFeatureViewSpec, StoredViewSpec } from './spec.js'
import type { ValueTypeName } from './types.js'

/** One requested feature of a planned view. */
export interface PlannedFeature {
  /** The reference as it resolves: `projectionName:feature`. */
  ref: string
  /** Feature name in the view (larder name; the source column is `sourceColumn(view.source, feature)`). */
  feature: string
  /** Output column name: `feature`, or `projection__feature` with full feature names. */
  outputName: string
  valueType: ValueTypeName
}

/** One join key of a planned view. */
export interface PlannedJoinKey {
  /** The view's join key (larder name). */
  name: string
  /** The entity-table column it matches (after the projection's join-key map). */
  entityColumn: string
}

/** One feature view (or projection of one) taking part in a retrieval. */
export interface PlannedView {
  view: StoredViewSpec
  /** The name it is known by in this retrieval (`view.withName(...)`), else the view name. */
  projectionName: string
  joinKeys: PlannedJoinKey[]
  /** Event-timestamp column, larder name. */
  timestampColumn: string
  /** Created-timestamp column, larder name, when the source has one. */
  createdTimestampColumn?: string
  /** 0 = no lower bound. */
  ttlSeconds: number
  features: PlannedFeature[]
}

/** An on-demand view applied after the join. */
export interface PlannedOnDemandView {
  view: OnDemandFeatureViewSpec
  projectionName: string
  features: PlannedFeature[]
}

/** The whole plan of one `getHistoricalFeatures` call. */
export interface RetrievalPlan {
  /** Entity-table columns in their order. */
  entityColumns: string[]
  /** The entity-table column holding each row's timestamp. */
  entityTimestampColumn: string
  views: PlannedView[]
  onDemandViews: PlannedOnDemandView[]
  fullFeatureNames: boolean
  /** Output columns in order: entity columns, then features in request order. */
  outputColumns: string[]
}

/**
 * An entity table as an offline store receives it: an Arrow table (rows given by users are
 * converted by core), a Parquet/CSV file (capability `fileEntityTable`), a SQL query
 * (capability `sqlEntityTable`) or a table of the store's database, by its name parts
 * (`['project', 'dataset', 'labels']`; capability `tableEntityTable`).
 */
export type EntityTable =
  | { kind: 'arrow'; table: arrow.Table }
  | { kind: 'file'; path: string; format: 'parquet' | 'csv' }
  | { kind: 'sql'; sql: string }
  | { kind: 'table'; table: readonly string[] }

/** Options of one retrieval, pull or materialization. */
export interface RunOptions {
  /**
   * Cancels the work: pending promises and iterators reject with `signal.reason` (an
   * `AbortError` unless the caller gave another reason), as `fetch` does, and the store
   * stops the query where it runs (its runner's `cancel`) and drops what it created.
   */
  signal?: AbortSignal
}
