/**
 * Instrumentation through `node:diagnostics_channel`: core publishes what it does (online reads
 * and writes, historical retrievals, materialization, stream ingestion) on tracing channels, and
 * whoever wants metrics or traces subscribes (the feature server's Prometheus metrics, an
 * OpenTelemetry bridge, a test). Nothing is published while nobody subscribes, so the cost of
 * an unobserved call is one boolean check. Channel names are global to the process: a
 * subscriber sees the calls of every copy of core, and can tell stores apart by `context.store`.
 *
 * Each channel is a `TracingChannel`: subscribe to `start` (context as below), `asyncEnd`
 * (`context.result` set) and `error` (`context.error` set).
 *
 * @example
 * import { tracingChannel } from 'node:diagnostics_channel'
 * import { LARDER_CHANNELS, type OnlineReadContext } from '@larder/core'
 * const began = new WeakMap<object, number>()
 * tracingChannel<OnlineReadContext>(LARDER_CHANNELS.onlineRead).subscribe({
 *   start: (ctx) => began.set(ctx, performance.now()),
 *   end: () => {},
 *   asyncStart: () => {},
 *   asyncEnd: (ctx) => console.log(ctx.view.name, ctx.keys, performance.now() - began.get(ctx)!),
 *   error: (ctx) => console.error(ctx.view.name, ctx.error),
 * })
 */
import { type TracingChannel, tracingChannel } from 'node:diagnostics_channel'
import type { OfflineStore, OnlineStore, OnlineValue, RetrievalJob } from './contracts.js'
import type { EpochMicros } from './duration.js'
import type { StoredViewSpec } from './spec.js'

/** Names of the tracing channels core publishes on (`tracing:<name>:start` and so on). */
export const LARDER_CHANNELS = {
  /** One online store read: one view, a batch of entity keys. {@link OnlineReadContext} */
  onlineRead: 'larder:online:read',
  /** One online store write batch. {@link OnlineWriteContext} */
  onlineWrite: 'larder:online:write',
  /** One historical retrieval handed to the offline store. {@link RetrievalContext} */
  retrieval: 'larder:offline:retrieval',
  /** The materialization of one view over one interval. {@link MaterializeContext} */
  materialize: 'larder:materialize',
  /** One batch of stream records ingested (decoded, written, committed). {@link IngestBatchContext} */
  ingest: 'larder:ingest',
} as const

/** Context of {@link LARDER_CHANNELS.onlineRead}. */
export interface OnlineReadContext {
  store: OnlineStore
  view: StoredViewSpec
  /** Number of distinct entity keys read. */
  keys: number
  features: readonly string[]
  /** Set on `asyncEnd`: aligned with the keys. */
  result?: Array<OnlineValue | undefined>
  /** Set on `error`. */
  error?: unknown
}

/** What wrote rows online. */
export type OnlineWriteOperation = 'push' | 'write' | 'materialize' | 'ingest'

/** Context of {@link LARDER_CHANNELS.onlineWrite}. */
export interface OnlineWriteContext {
  store: OnlineStore
  view: StoredViewSpec
  operation: OnlineWriteOperation
  /** Rows handed to the store. */
  rows: number
  /** Set on `asyncEnd`: rows written (rows that lost against stored ones are not counted). */
  result?: number
  error?: unknown
}

/** Context of {@link LARDER_CHANNELS.retrieval}. */
export interface RetrievalContext {
  store: OfflineStore
  /** Views the retrieval joins. */
  views: string[]
  /** Entity rows, when known before the join (rows or an Arrow table). */
  entityRows: number | undefined
  result?: RetrievalJob
  error?: unknown
}

/** Context of {@link LARDER_CHANNELS.materialize}. */
export interface MaterializeContext {
  offlineStore: OfflineStore
  onlineStore: OnlineStore
  view: StoredViewSpec
  start: EpochMicros
  end: EpochMicros
  result?: { rowsRead: number; rowsWritten: number; seconds: number }
  error?: unknown
}

/** Context of {@link LARDER_CHANNELS.ingest}. */
export interface IngestBatchContext {
  /** The stream source's name. */
  source: string
  /** The stream feature view ingested. */
  view?: string
  /** The partition (or shard) of the batch. */
  partition?: string
  /** Records in the batch. */
  records: number
  /**
   * Set on `asyncEnd`: rows written online, dead letters, and the rest of the batch's
   * figures (`IngestBatchEvent`: written offline, late, lag, freshness, seconds).
   */
  result?: { rowsWritten: number; deadLettered: number } & Record<string, unknown>
  error?: unknown
}

/** The tracing channel of online reads. */
export const onlineReadChannel: TracingChannel<OnlineReadContext> = tracingChannel(
  LARDER_CHANNELS.onlineRead,
)
/** The tracing channel of online writes. */
export const onlineWriteChannel: TracingChannel<OnlineWriteContext> = tracingChannel(
  LARDER_CHANNELS.onlineWrite,
)
/** The tracing channel of historical retrievals. */
export const retrievalChannel: TracingChannel<RetrievalContext> = tracingChannel(
  LARDER_CHANNELS.retrieval,
)
/** The tracing channel of materialization. */
export const materializeChannel: TracingChannel<MaterializeContext> = tracingChannel(
  LARDER_CHANNELS.materialize,
)
/** The tracing channel of stream ingestion. */
export const ingestChannel: TracingChannel<IngestBatchContext> = tracingChannel(
  LARDER_CHANNELS.ingest,
)

/**
 * Runs `fn` traced on `channel` with `context` when anyone subscribes, else just runs it.
 * @example
 * const rows = await traced(onlineReadChannel, { store, view, keys: 2, features }, () =>
 *   store.read(view, keys, features),
 * )
 */
export function traced<T, C extends object>(
  channel: TracingChannel<C>,
  context: C,
  fn: () => Promise<T>,
): Promise<T> {
  return channel.hasSubscribers ? channel.tracePromise(fn, context) : fn()
}
