/**
 * The backend contracts. Each is an interface plus, where useful, a base class with safe
 * defaults, so that adding a method later breaks no backend (Kysely's `DialectAdapterBase`).
 */
import type * as arrow from 'apache-arrow'
import type { EpochMicros } from './duration.js'
import { LarderError } from './errors.js'
import type { Logger } from './logger.js'
import type { EntityTable, RetrievalPlan, RunOptions } from './retrieval.js'
import type { EntitySpec, SourceSpec, StoredViewSpec, StreamFeatureViewSpec } from './spec.js'
import type { ValueTypeName } from './types.js'

/** What a backend is told about the repo it serves. */
export interface StoreContext {
  /** The project name (namespaces keys and tables). */
  project: string
  /** Absolute path of the feature repo; relative paths in sources resolve against it. */
  repoPath: string
  logger: Logger
}

/** The result of a historical retrieval, in the form the caller wants. */
export interface RetrievalJob {
  /** The joined table (entity columns, then features). */
  toArrow(): Promise<arrow.Table>
  /** The joined rows as objects (int64 as bigint, timestamps as Date). */
  toRows(): Promise<Record<string, unknown>[]>
  /**
   * The joined table as record batches, in row order, in bounded memory where the store can
   * stream. Optional for stores; callers use `retrievalJobStream(job)`, whose default is
   * the batches of `toArrow()`.
   */
  toArrowStream?(): AsyncIterable<arrow.RecordBatch>
  /**
   * Leaves the result where it was computed, as a table `name` of the store's database
   * (multi-part names as `project.dataset.table`), replacing one of that name; returns the
   * table's name parts. Stores that run SQL in a warehouse have it.
   */
  toTable?(name: string): Promise<string[]>
  /** Writes the result to a Parquet file. */
  toParquet?(path: string): Promise<void>
  /** The SQL that computes the result, for stores that run SQL. */
  toSql?(): string
}

/**
 * The result of a job as record batches: its `toArrowStream()` when it has one, else the
 * batches of `toArrow()`.
 */
export async function* retrievalJobStream(job: RetrievalJob): AsyncIterable<arrow.RecordBatch> {
  if (job.toArrowStream) {
    yield* job.toArrowStream()
    return
  }
  const table = await job.toArrow()
  yield* table.batches
}

/** Columns of `pullLatest` / `pullAll` batches beyond join keys and features. */
export const EVENT_TS_COLUMN = '__event_ts'
export const CREATED_TS_COLUMN = '__created_ts'

/**
 * The hidden column in which an offline store keeps each appended row's write id (see
 * {@link OfflineWriteOptions}). Stores leave it out of `sourceSchema`, so it is never taken
 * for a feature.
 */
export const WRITE_ID_COLUMN = '__larder_write_id'

/** Write ids are filename-safe: letters, digits, `_` and `-`, 1 to 64 characters. */
export const WRITE_ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/

/** Options of an offline store's `writeBatch`. */
export interface OfflineWriteOptions extends RunOptions {
  /**
   * Identifies this write (see {@link WRITE_ID_PATTERN}). Every appended row carries it, and
   * a store that already holds a write with this id appends nothing: a retried push never
   * adds its rows twice. Without it the store makes a fresh id.
   */
  writeId?: string
}

/** A read of a view's source for materialization. */
export interface PullRequest {
  /** The view, its source already replaced by its batch source. */
  view: StoredViewSpec
  /** Join keys (larder names). */
  joinKeys: string[]
  /** Features (larder names). */
  features: string[]
  /** Inclusive bounds on the event timestamp, epoch micros. */
  start: EpochMicros
  end: EpochMicros
  /** Cancels the read (the iterator rejects with `signal.reason`). */
  signal?: AbortSignal
}

/**
 * Declared abilities of an offline store. Core refuses what a store does not declare (an
 * entity table of a kind it does not take, an offline push) with an error naming the store,
 * and the offline conformance suite runs the cases of what it declares.
 */
export interface OfflineStoreCapabilities {
  /** Accepts entity tables as SQL queries (`{ sql }`). */
  sqlEntityTable?: boolean
  /** Accepts entity tables as names of tables of its database (`{ table }`). */
  tableEntityTable?: boolean
  /** Supports `writeBatch` (offline push). */
  offlineWrite?: boolean
  /** Accepts entity tables as Parquet/CSV paths. */
  fileEntityTable?: boolean
}

/** Column names and value types of a source, as a store reads them. */
export type SourceSchema = Array<{
  name: string
  valueType: ValueTypeName | undefined
  rawType: string
}>

/**
 * Where historical feature data lives and is joined. Implemented by `@larder/file`,
 * `@larder/bigquery`...
 */
export interface OfflineStore {
  /** Backend name for messages, e.g. `file`. */
  readonly name: string
  readonly capabilities: OfflineStoreCapabilities
  /**
   * Source kinds this store reads (`fileSourceKind`, `bigquerySourceKind`...): core checks
   * every source of these kinds with them on plan, apply and registry load.
   */
  readonly sourceKinds: readonly SourceKind[]
  /** Called once by the feature store before any other call. */
  configure(context: StoreContext): void
  /**
   * Builds a training set; the plan is already validated against the entity table, and
   * the entity table's kind against `capabilities`.
   */
  getHistoricalFeatures(
    entityTable: EntityTable,
    plan: RetrievalPlan,
    options?: RunOptions,
  ): Promise<RetrievalJob>
  /**
   * Latest row per entity key with `start <= event_ts <= end` (winner rule), as record
   * batches of join keys, features, `__event_ts` and `__created_ts` (epoch-micro timestamps).
   */
  pullLatest(request: PullRequest): AsyncIterable<arrow.RecordBatch>
  /** Every row with `start <= event_ts <= end`, same columns as `pullLatest`. */
  pullAll(request: PullRequest): AsyncIterable<arrow.RecordBatch>
  /** Appends rows (larder names) to a view's source. Capability `offlineWrite`. */
  writeBatch?(source: SourceSpec, table: arrow.Table, options?: OfflineWriteOptions): Promise<void>
  /** Columns and types of a source, for apply-time validation and schema inference. */
  sourceSchema(source: SourceSpec): Promise<SourceSchema>
  /** Checks that a source exists and is readable; throws a LarderError naming it otherwise. */
  validateSource(source: SourceSpec): Promise<void>
  /** Column names and types of an entity table given as a file, SQL or a table name. */
  entityTableSchema?(entityTable: EntityTable, options?: RunOptions): Promise<SourceSchema>
  close(): Promise<void>
}

/** One row to write online. */
export interface OnlineRow {
  /** Serialized entity key (Feast v3, see `serializeEntityKey`). */
  key: Uint8Array
  /** Values aligned with the `features` of the write (int64 bigint, timestamps epoch-micro bigint). */
  values: unknown[]
  eventTs: EpochMicros
  createdTs: EpochMicros | null
}

/**
 * The online write rule (SEMANTICS.md), the one home of it: an incoming row replaces the
 * stored one when its event timestamp is greater, or equal with a greater created timestamp
 * (a null created timestamp sorts first, so it never wins a tie). No stored row: it wins.
 * Stores that enforce the rule inside their server (SQL, Lua) must agree with it; the online
 * conformance suite checks that they do.
 */
export function winsAgainst(
  incoming: { eventTs: EpochMicros; createdTs: EpochMicros | null },
  stored: { eventTs: EpochMicros; createdTs: EpochMicros | null } | undefined,
): boolean {
  if (!stored) return true
  if (incoming.eventTs !== stored.eventTs) return incoming.eventTs > stored.eventTs
  if (incoming.createdTs === null) return false
  return stored.createdTs === null || incoming.createdTs > stored.createdTs
}

/** A stored row as read back. */
export interface OnlineValue {
  /** Values aligned with the requested features. */
  values: unknown[]
  eventTs: EpochMicros
}

/** Declared abilities of an online store. */
export interface OnlineStoreCapabilities {
  /** Expires keys on its own (beyond the OUTSIDE_MAX_AGE check core always does). */
  keyTtl?: boolean
  /** Safe to write from several processes at once. */
  concurrentWriters?: boolean
}

/** What `apply` asks of an online store (see {@link OnlineStore.update}). */
export interface OnlineStoreUpdate {
  /** Online views of the new registry: create what they need (idempotent). */
  keep: StoredViewSpec[]
  /** Online views no longer registered (or no longer online): remove their data. */
  drop: StoredViewSpec[]
  /** Entities of the new registry. */
  entities: EntitySpec[]
}

/** Where the latest feature values live for low-latency reads. */
export interface OnlineStore {
  readonly name: string
  readonly capabilities: OnlineStoreCapabilities
  configure(context: StoreContext): void
  /** Creates what `keep` views need, drops what `drop` views had (called by apply). */
  update(change: OnlineStoreUpdate): Promise<void>
  /**
   * Writes rows for the given features of a view, each only if it wins against the stored
   * row (greater event_ts, or equal event_ts and greater created_ts). Returns rows written.
   */
  writeBatch(view: StoredViewSpec, features: string[], rows: OnlineRow[]): Promise<number>
  /** Reads keys; result aligned with `keys`, `undefined` where no row exists. */
  read(
    view: StoredViewSpec,
    keys: Uint8Array[],
    features: string[],
  ): Promise<Array<OnlineValue | undefined>>
  /** Removes everything of these views. */
  teardown(views: StoredViewSpec[]): Promise<void>
  close(): Promise<void>
}

/**
 * Defaults for online stores: no capabilities, no-op configure, `Symbol.asyncDispose` over
 * `close()`. Extend it so that methods added to the contract later get safe defaults.
 */
export abstract class OnlineStoreBase implements OnlineStore {
  abstract readonly name: string
  readonly capabilities: OnlineStoreCapabilities = {}
  protected context: StoreContext | undefined
  configure(context: StoreContext): void {
    this.context = context
  }
  abstract update(change: OnlineStoreUpdate): Promise<void>
  abstract writeBatch(view: StoredViewSpec, features: string[], rows: OnlineRow[]): Promise<number>
  abstract read(
    view: StoredViewSpec,
    keys: Uint8Array[],
    features: string[],
  ): Promise<Array<OnlineValue | undefined>>
  abstract teardown(views: StoredViewSpec[]): Promise<void>
  abstract close(): Promise<void>
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close()
  }
}

/** Defaults for offline stores (see {@link OnlineStoreBase}). */
export abstract class OfflineStoreBase implements OfflineStore {
  abstract readonly name: string
  readonly capabilities: OfflineStoreCapabilities = {}
  abstract readonly sourceKinds: readonly SourceKind[]
  protected context: StoreContext | undefined
  configure(context: StoreContext): void {
    this.context = context
  }
  abstract getHistoricalFeatures(
    entityTable: EntityTable,
    plan: RetrievalPlan,
    options?: RunOptions,
  ): Promise<RetrievalJob>
  abstract pullLatest(request: PullRequest): AsyncIterable<arrow.RecordBatch>
  abstract pullAll(request: PullRequest): AsyncIterable<arrow.RecordBatch>
  abstract sourceSchema(source: SourceSpec): Promise<SourceSchema>
  async validateSource(source: SourceSpec): Promise<void> {
    await this.sourceSchema(source)
  }
  abstract close(): Promise<void>
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close()
  }
}

/**
 * How a backend's source is described as data. The registry stores specs, never code; an
 * offline store lists the kinds it reads in `sourceKinds`, and core checks each source with
 * its kind when it is defined (`checkSource` in the backend's factory), when a plan is made
 * and when stored specs are loaded. Core checks the fields every source shares (name,
 * timestamp, created timestamp, field mapping, date partition) itself, once: `validate`
 * checks only the backend's own fields.
 * @example
 * export const mySourceKind: SourceKind<MySourceSpec> = {
 *   kind: 'mydb',
 *   validate(spec) {
 *     if (typeof spec.table !== 'string') throw new LarderError('INVALID_DEFINITION', `mydb source '${spec.name}' has no table`)
 *   },
 * }
 */
export interface SourceKind<S extends SourceSpec = SourceSpec> {
  /** The `kind` tag of the specs it describes. */
  readonly kind: string
  /** Checks the backend's own fields; throws a LarderError INVALID_DEFINITION naming the field. */
  validate(spec: S): void
}

// ---------------------------------------------------------------------------------------
// Streams (Kafka, Kinesis): consumers hand raw records to core's ingestion pipeline, which
// decodes, checks and writes them, and commits their positions only after the writes.

/** One raw stream record as the broker holds it. Decoding happens once, in core's pipeline. */
export interface StreamRecord {
  /** The record key (Kafka key, Kinesis partition key as UTF-8), or null. */
  key: Uint8Array | null
  /** The record value, or null (a Kafka tombstone). */
  value: Uint8Array | null
  /** Headers in the order the producer wrote them (Kinesis records have none). */
  headers: ReadonlyArray<readonly [name: string, value: Uint8Array]>
  /** Kafka partition number or Kinesis shard id, as a string. */
  partition: string
  /** Kafka offset or Kinesis sequence number, as a decimal string. */
  position: string
  /** The broker's timestamp (create or append time), epoch micros; null when unknown. */
  timestamp: EpochMicros | null
}

/** Records of one partition (or shard) in position order, handed to the pipeline. */
export interface StreamBatch {
  /** The topic or stream name. */
  stream: string
  /** The partition (or shard) every record of the batch comes from. */
  partition: string
  records: StreamRecord[]
  /** Records left in the partition after this batch, when the broker says (consumer lag). */
  lag?: number
  /**
   * Commits the positions of every record of the batch (the next read starts after the last
   * one). Core calls it only after the batch's online and offline writes and dead letters
   * all succeeded; a batch that is never committed is read again after a restart.
   */
  commit(): Promise<void>
}

/** A record the pipeline could not ingest, with why. */
export interface DeadLetter {
  record: StreamRecord
  /** A stable code: `DECODE_ERROR`, `INVALID_RECORD`, `TRANSFORM_ERROR`. */
  code: string
  /** One line naming the field and what was wrong. */
  error: string
}

/** Where a consumer reports to core's pipeline. */
export interface StreamHandlers {
  /**
   * Processes one batch: decode, check, write, dead-letter, then `batch.commit()`. The
   * consumer fetches nothing more for that partition until it resolves (bounded memory).
   * A rejection means the batch was not written: the consumer must not commit it.
   */
  onBatch(batch: StreamBatch): Promise<void>
  /** Partitions (or shards) this consumer now reads. */
  onAssigned?(partitions: readonly string[]): void
  /**
   * Partitions taken away by a rebalance. Called after their in-flight batches finished and
   * committed, before another member may read them.
   */
  onRevoked?(partitions: readonly string[]): void
  /** The consumer stopped for good (it will not recover by itself): ingestion ends with it. */
  onError?(error: unknown): void
}

/** Where a consumer starts reading again: a position of one partition, or a time. */
export type StreamSeek =
  | { partition: string; position: string }
  /** The first record at or after this time, on every assigned partition. */
  | { timestamp: EpochMicros }

/**
 * Reads one stream source for one stream feature view (Kafka: a consumer-group member).
 * Implemented by `@larder/kafka` and `@larder/kinesis`; extend {@link StreamConsumerBase}.
 */
export interface StreamConsumer {
  /** Backend name for messages, e.g. `kafka`. */
  readonly name: string
  /** Called once before `start`. */
  configure(context: StoreContext): void
  /** Connects and subscribes; resolves once running. Batches then flow to `handlers`. */
  start(handlers: StreamHandlers): Promise<void>
  /** Moves the next read of a partition (or of every assigned partition, for a time). */
  seek(target: StreamSeek): Promise<void>
  /**
   * Sends records the pipeline could not ingest to the dead-letter destination with their
   * original key, value and headers plus headers naming the error and the position. Called
   * before the batch commits; a rejection fails the batch (it is read again).
   */
  deadLetter(letters: readonly DeadLetter[]): Promise<void>
  /**
   * Stops fetching, lets the in-flight batch finish and commit, leaves the group and
   * disconnects. Idempotent.
   */
  close(): Promise<void>
  [Symbol.asyncDispose](): Promise<void>
}

/** Defaults for stream consumers (see {@link OnlineStoreBase}). */
export abstract class StreamConsumerBase implements StreamConsumer {
  abstract readonly name: string
  protected context: StoreContext | undefined
  configure(context: StoreContext): void {
    this.context = context
  }
  abstract start(handlers: StreamHandlers): Promise<void>
  async seek(_target: StreamSeek): Promise<void> {
    throw new LarderError('UNSUPPORTED', `stream consumer '${this.name}' cannot seek`, {
      component: this.name,
    })
  }
  abstract deadLetter(letters: readonly DeadLetter[]): Promise<void>
  abstract close(): Promise<void>
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close()
  }
}

/** What core tells a connector when it needs a consumer. */
export interface StreamConsumerRequest {
  /** The stream source (its registry spec). */
  source: SourceSpec
  /** The view being ingested (one consumer group per view). */
  view: StreamFeatureViewSpec
  /** The project name (default group ids are `larder.<project>.<view>`). */
  project: string
}

/**
 * Makes consumers for one stream source kind. Settings that must not go into the registry
 * (credentials, SASL/TLS, a client instance) live here, in the `streams` section of the
 * config; a source definition carries a default connector for when the config has none.
 */
export interface StreamConnector {
  /** The source kind it serves, e.g. `kafka`. */
  readonly kind: string
  createConsumer(request: StreamConsumerRequest): StreamConsumer
  /**
   * Checks, at apply time, that a source's stream exists and its brokers answer; throws a
   * LarderError naming the source, the stream and the brokers otherwise.
   */
  checkSource?(source: SourceSpec): Promise<void>
}
