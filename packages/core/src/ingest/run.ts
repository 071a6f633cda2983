/**
 * Runs ingestion for a repo's stream feature views: one consumer and one pipeline per view,
 * until the signal aborts; then every consumer stops fetching, finishes and commits its
 * in-flight batch, and the per-view counts are returned.
 */
import { configuredConnector, type LarderConfig } from '../config.js'
import type { StoreContext, StreamConnector, StreamConsumer } from '../contracts.js'
import type { EpochMicros } from '../duration.js'
import { LarderError } from '../errors.js'
import type { RegistryIndex } from '../refs.js'
import type { DeclaredRepo } from '../repo.js'
import type { StreamSourceSpec } from '../spec.js'
import { decoderFor } from './decode.js'
import { type IngestBatchEvent, type IngestCounts, ViewPipeline } from './pipeline.js'

/** Options of `store.ingest(...)`. */
export interface IngestOptions {
  /** Stream feature views to ingest; every registered one when absent. */
  views?: readonly string[]
  /** Ingestion runs until this aborts, then stops cleanly. Without one it runs forever. */
  signal?: AbortSignal
  /** Called every `progressIntervalMs` with each view's counts, rate and lag. */
  onProgress?: (progress: IngestProgress[]) => void
  /** @default 1000 */
  progressIntervalMs?: number
  /** Called after each committed batch. */
  onBatch?: (event: IngestBatchEvent) => void
  /**
   * Re-read from a time: once a consumer is given its partitions, it seeks each to the first
   * record whose broker timestamp is at or after this (epoch micros). A replay changes nothing
   * online; the offline log gets the replayed rows again with their positions (one event each).
   */
  from?: EpochMicros
  /** Called when a view's consumer is given partitions (or shards) or loses some. */
  onPartitions?: (event: IngestPartitionsEvent) => void
}

/** A change of the partitions (or shards) a view's consumer reads. */
export interface IngestPartitionsEvent {
  view: string
  /** What it reads now (after an assignment); absent for a revocation. */
  assigned?: readonly string[]
  /** What it lost (its in-flight batches were committed first). */
  revoked?: readonly string[]
}

/** Per-view counts of an ingestion run. */
export interface IngestViewSummary extends IngestCounts {
  view: string
}

/** A progress tick of one view. */
export interface IngestProgress extends IngestViewSummary {
  /** Records read per second since the previous tick. */
  recordsPerSecond: number
  /** Records not yet read, summed over the partitions the consumer reported. */
  lag: number | undefined
  /** Lag per partition. */
  partitionLag: ReadonlyMap<string, number>
}

/** What ingestion reads from the feature store. */
export interface IngestContext {
  index: RegistryIndex
  declared: DeclaredRepo
  config: LarderConfig
  context: StoreContext
}

const STREAM_KINDS_HINT = 'define the source with kafkaSource() (@larder/kafka) or kinesisSource()'

/** The registered stream views to ingest, checked. */
function selectViews(index: RegistryIndex, names: readonly string[] | undefined) {
  const all = index.data.streamFeatureViews
  if (names === undefined) {
    if (all.length === 0) {
      throw new LarderError(
        'NOT_FOUND',
        'no stream feature views are registered: nothing to ingest',
        {
          hint: `${STREAM_KINDS_HINT}, a streamFeatureView over it, then run \`larder apply\``,
        },
      )
    }
    return all
  }
  return names.map((name) => {
    const v = all.find((s) => s.name === name)
    if (!v) {
      const plain = index.views.has(name)
      throw new LarderError(
        'NOT_FOUND',
        plain
          ? `feature view '${name}' is not a stream feature view: nothing to ingest`
          : `stream feature view '${name}' is not registered`,
        {
          hint: all.length
            ? `stream views: ${all.map((s) => s.name).join(', ')}`
            : 'run `larder apply` first',
        },
      )
    }
    return v
  })
}

/**
 * Ingests the stream views of a repo until `options.signal` aborts.
 * @returns the counts of each view, once every consumer has committed and closed.
 */
export async function runIngest(
  ctx: IngestContext,
  options: IngestOptions = {},
): Promise<IngestViewSummary[]> {
  const { index, declared, config } = ctx
  const views = selectViews(index, options.views)
  let stopping = false
  const consumers: StreamConsumer[] = []
  const pipelines: ViewPipeline[] = []
  const fatal: { err?: unknown; wake?: () => void } = {}
  const sought = new Set<number>()
  const onFatal = (err: unknown) => {
    fatal.err ??= err
    fatal.wake?.()
  }
  const closeAll = async () => {
    stopping = true
    const results = await Promise.allSettled(consumers.map((c) => c.close()))
    const failed = results.find((r) => r.status === 'rejected')
    if (failed) ctx.context.logger.warn({ err: failed.reason }, 'a stream consumer failed to close')
  }
  try {
    for (const view of views) {
      const source = view.source as StreamSourceSpec
      if (view.aggregations.length > 0) {
        throw new LarderError(
          'UNSUPPORTED',
          `stream feature view '${view.name}' has aggregations, which ingestion does not compute yet`,
          { hint: `ingest the other views with --views` },
        )
      }
      const writeTo = view.writeTo ?? 'online_and_offline'
      if (writeTo !== 'online') {
        const offline = config.offlineStore
        if (!offline.writeBatch || !offline.capabilities.offlineWrite) {
          throw new LarderError(
            'UNSUPPORTED',
            `stream feature view '${view.name}' writes to the offline log, but offline store '${offline.name}' cannot append rows`,
            {
              hint: "set writeTo: 'online' on the view, or use an offline store with offlineWrite",
            },
          )
        }
      }
      const runtime = declared.streamRuntimes.get(source.name)
      const connector: StreamConnector | undefined =
        configuredConnector(config, source.kind) ?? runtime?.connector
      if (!connector) {
        throw new LarderError(
          'INVALID_CONFIG',
          `stream feature view '${view.name}': no connector for '${source.kind}' source '${source.name}'`,
          {
            hint: `add a ${source.kind} connector to streams.connectors in larder.config.ts, or run ingest in the repo that defines the source (${STREAM_KINDS_HINT})`,
          },
        )
      }
      const consumer = connector.createConsumer({ source, view, project: config.project })
      consumer.configure(ctx.context)
      consumers.push(consumer)
      const pipeline = new ViewPipeline({
        view,
        entities: index.entities,
        decoder: decoderFor(view, runtime?.format, {
          repoPath: ctx.context.repoPath,
          streams: config.streams,
        }),
        transform: declared.streamTransforms.get(view.name),
        onlineStore: config.onlineStore,
        offlineStore: config.offlineStore,
        consumer,
        logger: ctx.context.logger,
        stopping: () => stopping,
        ...(options.onBatch ? { onBatch: options.onBatch } : {}),
      })
      pipelines.push(pipeline)
    }
    await Promise.all(
      consumers.map((consumer, i) =>
        consumer.start({
          onBatch: (batch) => pipelines[i]!.process(batch),
          onError: (err) => {
            if (!stopping) onFatal(err)
          },
          onAssigned: (partitions) => {
            if (options.from !== undefined && !sought.has(i) && partitions.length > 0) {
              sought.add(i)
              consumers[i]!.seek({ timestamp: options.from }).catch((err: unknown) => onFatal(err))
            }
            ctx.context.logger.info(
              { view: views[i]!.name, partitions },
              `ingest of '${views[i]!.name}': partitions assigned`,
            )
            options.onPartitions?.({ view: views[i]!.name, assigned: partitions })
          },
          onRevoked: (partitions) => {
            ctx.context.logger.info(
              { view: views[i]!.name, partitions },
              `ingest of '${views[i]!.name}': partitions revoked (in-flight batches committed)`,
            )
            options.onPartitions?.({ view: views[i]!.name, revoked: partitions })
          },
        }),
      ),
    )
    // Run until aborted (or a consumer fails for good), reporting progress.
    await new Promise<void>((resolve) => {
      const signal = options.signal
      let previous = pipelines.map((p) => p.counts.read)
      let last = performance.now()
      const timer = options.onProgress
        ? setInterval(() => {
            const now = performance.now()
            const dt = (now - last) / 1000
            last = now
            options.onProgress!(
              pipelines.map((p, i) => {
                const rate = (p.counts.read - previous[i]!) / dt
                const lags = [...p.lag.values()]
                return {
                  view: views[i]!.name,
                  ...p.counts,
                  recordsPerSecond: rate,
                  lag: lags.length ? lags.reduce((a, b) => a + b, 0) : undefined,
                  partitionLag: new Map(p.lag),
                }
              }),
            )
            previous = pipelines.map((p) => p.counts.read)
          }, options.progressIntervalMs ?? 1000)
        : undefined
      const done = () => {
        if (timer) clearInterval(timer)
        signal?.removeEventListener('abort', done)
        resolve()
      }
      fatal.wake = done
      if (fatal.err !== undefined || signal?.aborted) return done()
      signal?.addEventListener('abort', done, { once: true })
    })
  } catch (err) {
    await closeAll()
    throw err
  }
  await closeAll()
  if (fatal.err !== undefined) throw fatal.err
  return pipelines.map((p, i) => ({ view: views[i]!.name, ...p.counts }))
}
