/**
 * `FeatureStore`: the facade over a repo's config, definitions, registry and stores.
 */
import { createHash } from 'node:crypto'
import { resolve } from 'node:path'
import * as arrow from 'apache-arrow'
import { checkViewsAgainstSources } from './apply.js'
import type { LarderConfig } from './config.js'
import type { AnyDefinition } from './definitions.js'
import { diffRegistry, formatDiff, type RegistryDiff } from './diff.js'
import { type EpochMicros, parseTime } from './duration.js'
import { isLarderError, LarderError } from './errors.js'
import { checkStreamFormats } from './format-check.js'
import {
  getHistoricalFeatures,
  type HistoricalFeaturesRequest,
  type HistoricalRetrievalJob,
} from './historical.js'
import { checkStreamViews } from './ingest/check.js'
import { type IngestOptions, type IngestViewSummary, runIngest } from './ingest/run.js'
import { loadRepo } from './loader.js'
import { type Logger, noopLogger } from './logger.js'
import {
  getOnlineFeatures,
  type OnlineFeaturesRequest,
  type OnlineFeaturesResponse,
} from './online.js'
import { RegistryIndex } from './refs.js'
import { FileRegistryStore, mergeInterval, Registry, type RegistryData } from './registry.js'
import { registryLocation, resolveRegistryStore } from './registry-store.js'
import { collectRepo, type DeclaredRepo, type Located, validateReferences } from './repo.js'
import { checkViewSources } from './sources.js'
import { batchSourceOf, type EntitySpec, type StoredViewSpec } from './spec.js'
import type { TypedFeatureStore } from './typed.js'
import type { InputRows } from './values.js'
import {
  checkRows,
  intervalRecord,
  type MaterializeProgress,
  type MaterializeViewResult,
  materializeView,
  type PushMode,
  toArrowTable,
  toOnlineRows,
  writeOnline,
} from './writes.js'

/** Options of {@link createFeatureStore}. */
export interface FeatureStoreOptions {
  /** The repo folder (relative paths in sources and the registry resolve against it). */
  repoPath: string
  config: LarderConfig
  /** The repo's definitions; `[]` when only reading the registry. */
  definitions?: Array<Located<AnyDefinition>>
  /**
   * How long a registry snapshot serves reads before it is reloaded (in the background, so
   * requests never wait). `apply` in this process refreshes it at once. @default 60
   */
  registryTtlSeconds?: number
  /** The clock (tests). @default () => new Date() */
  now?: () => Date
}

/** Options of materialization. */
export interface MaterializeOptions {
  /** Views to materialize; all online views when absent. */
  views?: readonly string[]
  /** Called after every written batch and when each view is done. */
  onProgress?: (progress: MaterializeProgress) => void
  /**
   * Cancels the materialization: it rejects with `signal.reason` and records no interval for
   * a view it did not finish (rows already written stay: re-running is a no-op for them).
   */
  signal?: AbortSignal
}

/** What `push` wrote. */
export interface PushResult {
  views: string[]
  rows: number
  onlineRowsWritten: number
  offlineRowsWritten: number
}

/** Options of {@link FeatureStore.push}. */
export interface PushOptions {
  /** Where the rows go. @default 'online' */
  to?: PushMode
  /**
   * Makes a retry exact: pushes to one push source with the same key append their offline
   * rows once (the HTTP server takes it from the `Idempotency-Key` header). Any string of 1
   * to 255 characters; send the same rows with the same key.
   * @default undefined (every push is a new write)
   */
  idempotencyKey?: string
}

/**
 * The offline write id of a push: derived from the push source and the idempotency key (so
 * the same key on two push sources names two writes), or undefined for a fresh write.
 */
function writeIdOf(pushSourceName: string, key: string | undefined): string | undefined {
  if (key === undefined) return undefined
  if (typeof key !== 'string' || key.length === 0 || key.length > 255) {
    throw new LarderError(
      'INVALID_INPUT',
      `idempotency key must be a string of 1 to 255 characters, got ${typeof key === 'string' ? `${key.length} characters` : typeof key}`,
    )
  }
  return `k${createHash('sha256').update(`${pushSourceName}\u0000${key}`).digest('hex').slice(0, 40)}`
}

/** The lower bound of "the earliest source row" (0001-01-01T00:00:00Z in epoch micros). */
const EARLIEST: EpochMicros = -62135596800000000n

/** Options of {@link FeatureStore.apply}. */
export interface ApplyOptions {
  /** Skip checking views against their sources' schemas (and schema inference). */
  skipSourceValidation?: boolean
  /** A plan computed earlier: apply fails with REGISTRY_CONFLICT if the registry moved since. */
  plan?: PlanResult
}

/** What `plan` computes. */
export interface PlanResult extends RegistryDiff {
  /** The declared repo after source checks and inference. */
  declared: DeclaredRepo
  /** Printable form (`Created feature view x` ...). */
  text: string
  /** What could not be checked (with `skipSourceValidation`: unreachable streams). */
  warnings: string[]
}

/** Counts of what a definition set holds. */
export interface ApplyResult extends PlanResult {
  /** Registry version written (unchanged when there was nothing to do). */
  version: number
}

/** What {@link FeatureStore.registryStatus} reports. */
export interface RegistryStatus {
  /** Version of the snapshot being served; absent before the first successful load. */
  version?: number
  /** When that snapshot was loaded. */
  loadedAt?: Date
  /** True when the last reload failed: reads go on from the last good snapshot. */
  stale: boolean
  /** Why the last reload failed. */
  lastError?: string
  lastErrorAt?: Date
}

/**
 * The entry point to a feature repo.
 * @example
 * const store = await FeatureStore.open('path/to/repo')
 * console.log((await store.plan()).text)
 * await store.apply()
 */
export class FeatureStore {
  readonly repoPath: string
  readonly config: LarderConfig
  readonly registry: Registry
  readonly logger: Logger
  protected readonly definitions: Array<Located<AnyDefinition>>
  private declaredCache: DeclaredRepo | undefined
  private readonly registryTtlMs: number
  private readonly clock: () => Date
  private snapshot: { index: RegistryIndex; at: number } | undefined
  private refreshing: Promise<RegistryIndex> | undefined
  private refreshFailure: { error: unknown; at: number } | undefined

  constructor(options: FeatureStoreOptions) {
    this.repoPath = resolve(options.repoPath)
    this.config = options.config
    this.definitions = options.definitions ?? []
    this.logger = options.config.logger ?? noopLogger
    this.registryTtlMs = (options.registryTtlSeconds ?? 60) * 1000
    this.clock = options.now ?? (() => new Date())
    const setting = options.config.registry
    this.registry = new Registry(
      resolveRegistryStore(setting, this.repoPath, (path) => new FileRegistryStore(path)),
      options.config.project,
      registryLocation(setting, this.repoPath),
    )
    const context = {
      project: options.config.project,
      repoPath: this.repoPath,
      logger: this.logger,
    }
    options.config.offlineStore.configure(context)
    options.config.onlineStore.configure(context)
  }

  /** Loads the repo at `repoPath` (config and definitions) and opens a store on it. */
  static async open(repoPath: string): Promise<FeatureStore> {
    const repo = await loadRepo(repoPath)
    return new FeatureStore({
      repoPath: repo.repoPath,
      config: repo.config,
      definitions: repo.definitions,
    })
  }

  /** The project name. */
  get project(): string {
    return this.config.project
  }

  /** The declared definitions, validated (no source access). */
  declared(): DeclaredRepo {
    this.declaredCache ??= collectRepo(this.definitions)
    return this.declaredCache
  }

  /**
   * Computes what `apply` would change, checking views against their sources first (unless
   * skipped) so that a plan that prints is a plan that applies.
   */
  async plan(options: Pick<ApplyOptions, 'skipSourceValidation'> = {}): Promise<PlanResult> {
    const current = await this.registry.read()
    let declared = this.declared()
    // Source specs are checked with the offline store's kinds even when their data is not.
    checkViewSources(
      [...declared.featureViews, ...declared.streamFeatureViews],
      this.config.offlineStore,
      'plan',
    )
    if (!options.skipSourceValidation) {
      const entities = new Map(declared.entities.map((e) => [e.name, e]))
      declared = {
        ...declared,
        featureViews: await checkViewsAgainstSources(
          declared.featureViews,
          entities,
          this.config.offlineStore,
        ),
        streamFeatureViews: await checkViewsAgainstSources(
          declared.streamFeatureViews,
          entities,
          this.config.offlineStore,
        ),
      }
      // Stream views: the record format's schema, when known, covers what the view reads.
      const registry = this.config.streams?.schemaRegistry
      await checkStreamFormats(declared.streamFeatureViews, {
        entities,
        runtimes: declared.streamRuntimes,
        context: { baseDir: this.repoPath, ...(registry ? { schemaRegistry: registry } : {}) },
      })
      // Inferred schemas are known only now: re-check references to their features.
      validateReferences(declared)
    }
    // Stream views: the stream exists and its brokers answer (warnings when skipping).
    const warnings = await checkStreamViews(
      declared.streamFeatureViews,
      this.declared(),
      this.config,
      options.skipSourceValidation ? { skipSourceValidation: true } : {},
    )
    const diff = diffRegistry(current, declared)
    return { ...diff, declared, text: formatDiff(diff), warnings }
  }

  /**
   * Registers the repo's definitions: checks them against their sources, tells the online
   * store to create and drop what changed, then writes the registry (atomically, failing
   * with REGISTRY_CONFLICT if another apply changed it meanwhile).
   */
  async apply(options: ApplyOptions = {}): Promise<ApplyResult> {
    const plan = options.plan ?? (await this.plan(options))
    const current = await this.registry.read()
    if (current.version !== plan.baseVersion) {
      throw new LarderError(
        'REGISTRY_CONFLICT',
        `registry ${this.registry.path} changed since the plan was made (version ${plan.baseVersion} -> ${current.version})`,
        { component: 'registry', hint: 'plan again' },
      )
    }
    if (plan.changes.length === 0) return { ...plan, version: current.version }
    const { declared } = plan
    const onlineViews = (vs: StoredViewSpec[]) => vs.filter((v) => v.online)
    const keep = onlineViews([...declared.featureViews, ...declared.streamFeatureViews])
    const keepNames = new Set(keep.map((v) => v.name))
    const drop = onlineViews([...current.featureViews, ...current.streamFeatureViews]).filter(
      (v) => !keepNames.has(v.name),
    )
    await this.config.onlineStore.update({ keep, drop, entities: declared.entities })
    const written = await this.registry.update(
      (data) => {
        const viewNames = new Set([
          ...declared.featureViews.map((v) => v.name),
          ...declared.streamFeatureViews.map((v) => v.name),
        ])
        const materializations = Object.fromEntries(
          Object.entries(data.materializations).filter(([name]) => viewNames.has(name)),
        )
        return {
          ...data,
          entities: declared.entities,
          dataSources: declared.dataSources,
          featureViews: declared.featureViews,
          streamFeatureViews: declared.streamFeatureViews,
          onDemandFeatureViews: declared.onDemandFeatureViews,
          featureServices: declared.featureServices,
          materializations,
        }
      },
      { expectedVersion: plan.baseVersion },
    )
    this.snapshot = { index: new RegistryIndex(written), at: Date.now() }
    this.logger.info({ version: written.version, changes: plan.changes.length }, 'registry applied')
    return { ...plan, version: written.version }
  }

  /**
   * Removes everything the repo created: online tables and the registry file.
   * @returns the views whose online data was removed, and whether there was a registry to
   *   delete (false when nothing was applied, or a previous teardown removed it)
   */
  async teardown(): Promise<{ views: string[]; registryRemoved: boolean }> {
    const current = await this.registry.read()
    const views: StoredViewSpec[] = [...current.featureViews, ...current.streamFeatureViews]
    await this.config.onlineStore.teardown(views)
    await this.registry.remove()
    this.snapshot = undefined
    return { views: views.map((v) => v.name), registryRemoved: current.version > 0 }
  }

  /** The registry's content. */
  async registryDump(): Promise<RegistryData> {
    return this.registry.read()
  }

  /** Registered entities. */
  async listEntities(): Promise<EntitySpec[]> {
    return (await this.registry.read()).entities
  }

  /** Registered feature views of every kind. */
  async listFeatureViews(): Promise<StoredViewSpec[]> {
    const r = await this.registry.read()
    return [...r.featureViews, ...r.streamFeatureViews]
  }

  /** Registered feature services. */
  async listFeatureServices(): Promise<RegistryData['featureServices']> {
    return (await this.registry.read()).featureServices
  }

  /** Registered on-demand feature views. */
  async listOnDemandFeatureViews(): Promise<RegistryData['onDemandFeatureViews']> {
    return (await this.registry.read()).onDemandFeatureViews
  }

  /** Registered data sources. */
  async listDataSources(): Promise<RegistryData['dataSources']> {
    return (await this.registry.read()).dataSources
  }

  /** A registered feature view by name. */
  async getFeatureView(name: string): Promise<StoredViewSpec> {
    const views = await this.listFeatureViews()
    const view = views.find((v) => v.name === name)
    if (!view) {
      throw new LarderError('NOT_FOUND', `feature view '${name}' is not registered`, {
        component: 'registry',
        hint: views.length
          ? `registered: ${views.map((v) => v.name).join(', ')}`
          : 'run `larder apply` first',
      })
    }
    return view
  }

  /**
   * The registry snapshot reads use. Loaded on first use; when older than the registry TTL
   * it is reloaded in the background while the stale one keeps serving.
   */
  async registryIndex(): Promise<RegistryIndex> {
    if (!this.snapshot) return this.refreshRegistry()
    if (Date.now() - this.snapshot.at > this.registryTtlMs && !this.refreshing) {
      this.refreshRegistry().catch((err: unknown) => {
        this.logger.warn({ err }, 'registry refresh failed; serving the previous snapshot')
      })
    }
    return this.snapshot.index
  }

  /** Reloads the registry snapshot now. */
  async refreshRegistry(): Promise<RegistryIndex> {
    this.refreshing ??= (async () => {
      try {
        const data = await this.registry.read()
        checkViewSources(
          [...data.featureViews, ...data.streamFeatureViews],
          this.config.offlineStore,
          `registry ${this.registry.path}`,
        )
        const index = new RegistryIndex(data)
        this.snapshot = { index, at: Date.now() }
        this.refreshFailure = undefined
        return index
      } catch (error) {
        this.refreshFailure = { error, at: Date.now() }
        throw error
      } finally {
        this.refreshing = undefined
      }
    })()
    return this.refreshing
  }

  /**
   * The state of the registry snapshot reads use: its version and when it was loaded, and
   * whether the last reload failed (`stale`: reads go on from the last good copy).
   * @example
   * const { stale, lastError } = store.registryStatus()
   */
  registryStatus(): RegistryStatus {
    const failure = this.refreshFailure
    return {
      ...(this.snapshot
        ? { version: this.snapshot.index.data.version, loadedAt: new Date(this.snapshot.at) }
        : {}),
      stale: failure !== undefined,
      ...(failure
        ? {
            lastError:
              failure.error instanceof Error ? failure.error.message : String(failure.error),
            lastErrorAt: new Date(failure.at),
          }
        : {}),
    }
  }

  private get onDemandTransforms() {
    return this.declared().onDemandTransforms
  }

  /**
   * Reads the latest feature values for entity rows from the online store.
   * @example
   * const res = await store.getOnlineFeatures({
   *   entities: { driver_id: [1001, 1002] },
   *   features: ['driver_hourly_stats:conv_rate', 'driver_hourly_stats:acc_rate'],
   * })
   * res.toRows() // [{ driver_id: 1001n, conv_rate: 0.52, acc_rate: 0.71 }, ...]
   */
  async getOnlineFeatures(request: OnlineFeaturesRequest): Promise<OnlineFeaturesResponse> {
    return getOnlineFeatures(
      {
        index: await this.registryIndex(),
        onlineStore: this.config.onlineStore,
        onDemandTransforms: this.onDemandTransforms,
        now: BigInt(this.clock().getTime()) * 1000n,
      },
      request,
    )
  }

  /**
   * Builds a training set: each entity row gets the feature values as of its timestamp.
   * @example
   * const job = await store.getHistoricalFeatures({
   *   entityDf: [{ driver_id: 1001, event_timestamp: new Date('2026-01-01T10:00:00Z') }],
   *   features: ['driver_hourly_stats:conv_rate'],
   * })
   * console.table(await job.toRows())
   */
  async getHistoricalFeatures(request: HistoricalFeaturesRequest): Promise<HistoricalRetrievalJob> {
    return getHistoricalFeatures(
      {
        index: await this.registryIndex(),
        offlineStore: this.config.offlineStore,
        onDemandTransforms: this.onDemandTransforms,
      },
      request,
    )
  }

  private onlineViews(index: RegistryIndex, names: readonly string[] | undefined) {
    if (names === undefined) return [...index.views.values()].filter((v) => v.online)
    return names.map((name) => {
      const v = index.view(name)
      if (!v.online) {
        throw new LarderError(
          'INVALID_INPUT',
          `feature view '${name}' is not online (online: false): nothing to materialize`,
        )
      }
      return v
    })
  }

  private async materializeViews(
    jobs: Array<{ view: StoredViewSpec; start: EpochMicros; end: EpochMicros }>,
    index: RegistryIndex,
    options: MaterializeOptions,
  ): Promise<MaterializeViewResult[]> {
    const stores = { offline: this.config.offlineStore, online: this.config.onlineStore }
    const signal = options.signal
    signal?.throwIfAborted()
    const settled = await Promise.allSettled(
      jobs.map(async ({ view, start, end }) => {
        const result = await materializeView(
          index,
          view,
          start,
          end,
          stores,
          options.onProgress,
          signal,
        )
        signal?.throwIfAborted()
        // Recorded only once every row of the view is written.
        await this.registry.update((data) => {
          data.materializations[view.name] = mergeInterval(
            data.materializations[view.name] ?? [],
            intervalRecord(start, end),
          )
          return data
        })
        return result
      }),
    )
    await this.refreshRegistry()
    const failed = settled.flatMap((s, i) =>
      s.status === 'rejected' ? [{ view: jobs[i]!.view.name, err: s.reason as unknown }] : [],
    )
    if (failed.length > 0) {
      // Cancelled: the caller gets its own reason, as from fetch.
      if (signal?.aborted) throw signal.reason
      const first = failed[0]!
      const done = jobs.length - failed.length
      throw new LarderError(
        isLarderError(first.err) ? first.err.code : 'BACKEND_ERROR',
        `materialization of ${failed.map((f) => `'${f.view}'`).join(', ')} failed (${done} other view(s) done and recorded): ${first.err instanceof Error ? first.err.message : String(first.err)}`,
        {
          cause: first.err,
          hint: 'no interval was recorded for the failed view(s); run the command again',
        },
      )
    }
    return settled.map((s) => (s as PromiseFulfilledResult<MaterializeViewResult>).value)
  }

  /**
   * Copies the latest values with `start <= event_ts <= end` of each online view to the
   * online store and records the interval. Times: ISO-8601, \`now\`, Date or epoch micros.
   */
  async materialize(
    start: string | Date | bigint,
    end: string | Date | bigint,
    options: MaterializeOptions = {},
  ): Promise<MaterializeViewResult[]> {
    const s = parseTime(start, 'start', this.clock)
    const e = parseTime(end, 'end', this.clock)
    if (s > e)
      throw new LarderError('INVALID_INPUT', `start ${String(start)} is after end ${String(end)}`)
    const index = await this.refreshRegistry()
    const views = this.onlineViews(index, options.views)
    return this.materializeViews(
      views.map((view) => ({ view, start: s, end: e })),
      index,
      options,
    )
  }

  /**
   * Materializes each online view from where the last materialization ended (or, the first
   * time, from \`now - ttl\`, or from the earliest source row when the view has no ttl) to \`end\`.
   */
  async materializeIncremental(
    end: string | Date | bigint,
    options: MaterializeOptions = {},
  ): Promise<MaterializeViewResult[]> {
    const e = parseTime(end, 'end', this.clock)
    const index = await this.refreshRegistry()
    const now = BigInt(this.clock().getTime()) * 1000n
    const jobs = this.onlineViews(index, options.views).map((view) => {
      const intervals = index.data.materializations[view.name] ?? []
      let start: EpochMicros =
        view.ttlSeconds > 0 ? now - BigInt(Math.round(view.ttlSeconds * 1e6)) : EARLIEST
      if (intervals.length > 0) {
        // The latest recorded end (bigints: no Math.max).
        start = parseTime(intervals[0]!.end, 'recorded end')
        for (const i of intervals) {
          const end = parseTime(i.end, 'recorded end')
          if (end > start) start = end
        }
      }
      if (start > e) {
        throw new LarderError(
          'INVALID_INPUT',
          `feature view '${view.name}' is already materialized up to ${intervals.at(-1)?.end}, after the requested end ${String(end)}`,
        )
      }
      return { view, start, end: e }
    })
    return this.materializeViews(jobs, index, options)
  }

  /**
   * Pushes rows to every view fed by a push source: online (newer rows win), offline
   * (appended to the push source's batch source), or both. Every row is checked against
   * every target view before anything is written.
   *
   * Whole or absent, and exact on retry: the online write comes first (a replay of it is a
   * no-op by the write rule), then the offline append as one atomic part that carries a
   * write id. With `idempotencyKey`, a retry of a push that failed half-way (or succeeded
   * without its caller knowing) appends nothing twice: the store finds the write id and
   * skips the append.
   * @example
   * await store.push('driver_stats_push_source', rows, {
   *   to: 'online_and_offline',
   *   idempotencyKey: 'batch-2026-11-30T12:00',
   * })
   */
  async push(
    pushSourceName: string,
    rows: InputRows,
    options: PushOptions = {},
  ): Promise<PushResult> {
    const to = options.to ?? 'online'
    if (!['online', 'offline', 'online_and_offline'].includes(to)) {
      throw new LarderError(
        'INVALID_INPUT',
        `push destination '${to}' is not one of online, offline, online_and_offline`,
      )
    }
    const writeId = writeIdOf(pushSourceName, options.idempotencyKey)
    const index = await this.registryIndex()
    const views = index.pushTargets.get(pushSourceName)
    if (!views || views.length === 0) {
      const known = [...index.pushTargets.keys()]
      throw new LarderError(
        'NOT_FOUND',
        `push source '${pushSourceName}' is not registered or feeds no feature view`,
        {
          hint: known.length
            ? `push sources: ${known.join(', ')}`
            : 'define a pushSource and a featureView over it, then apply',
        },
      )
    }
    const checked = views.map((v) => checkRows(index, v, rows, `push to '${pushSourceName}'`))
    const n = checked[0]?.n ?? 0
    const offline = this.config.offlineStore
    if (to !== 'online' && (!offline.writeBatch || !offline.capabilities.offlineWrite)) {
      throw new LarderError(
        'UNSUPPORTED',
        `offline store '${offline.name}' cannot append pushed rows`,
        { hint: "push with to: 'online'" },
      )
    }
    // Online first: if it fails, nothing was appended offline; if the offline append fails
    // after it, a retry rewrites the same online rows (a no-op) and appends once.
    let onlineRowsWritten = 0
    if (to !== 'offline') {
      for (const c of checked.filter((c) => c.view.online)) {
        onlineRowsWritten += await writeOnline(
          this.config.onlineStore,
          c.view,
          c.features.map((f) => f.name),
          toOnlineRows(c),
          'push',
        )
      }
    }
    let offlineRowsWritten = 0
    if (to !== 'online' && offline.writeBatch) {
      // One table holding every column any target view needs, written once.
      const vectors: Record<string, arrow.Vector> = {}
      for (const c of checked) {
        const table = toArrowTable(c)
        for (const f of table.schema.fields) vectors[f.name] ??= table.getChild(f.name)!
      }
      await offline.writeBatch(batchSourceOf(views[0]!.source), new arrow.Table(vectors), {
        ...(writeId !== undefined && { writeId }),
      })
      offlineRowsWritten = n
    }
    return { views: views.map((v) => v.name), rows: n, onlineRowsWritten, offlineRowsWritten }
  }

  /**
   * Writes rows straight to a view's online table (newer rows win). Rows need the view's
   * join keys, its timestamp column and every feature.
   */
  async writeToOnlineStore(
    viewName: string,
    rows: InputRows,
  ): Promise<{ rows: number; rowsWritten: number }> {
    const index = await this.registryIndex()
    const checked = checkRows(index, index.view(viewName), rows, `write to '${viewName}'`)
    const rowsWritten = await writeOnline(
      this.config.onlineStore,
      checked.view,
      checked.features.map((f) => f.name),
      toOnlineRows(checked),
      'write',
    )
    return { rows: checked.n, rowsWritten }
  }

  /**
   * Consumes the repo's stream feature views (or those named) until `options.signal`
   * aborts: decode, check, write online and to the offline log, commit positions. Then
   * stops fetching, finishes and commits what is in flight and returns per-view counts.
   * Needs the repo's definitions (transforms, formats, connectors): open the store on a repo.
   * @example
   * const ac = new AbortController()
   * process.once('SIGTERM', () => ac.abort())
   * const summary = await store.ingest({ views: ['driver_trips'], signal: ac.signal })
   */
  async ingest(options: IngestOptions = {}): Promise<IngestViewSummary[]> {
    return runIngest(
      {
        index: await this.refreshRegistry(),
        declared: this.declared(),
        config: this.config,
        context: { project: this.config.project, repoPath: this.repoPath, logger: this.logger },
      },
      options,
    )
  }

  /**
   * This store, typed with a repo's definitions: references are checked at compile time
   * and result rows are typed (see {@link TypedFeatureStore}). No runtime effect.
   * @example
   * import type * as defs from './features.ts'
   * const typed = store.typed<typeof defs>()
   */
  typed<Defs>(): Omit<this, keyof TypedFeatureStore<Defs>> & TypedFeatureStore<Defs> {
    return this as unknown as Omit<this, keyof TypedFeatureStore<Defs>> & TypedFeatureStore<Defs>
  }

  /** Closes both stores and the registry's store. */
  async close(): Promise<void> {
    await Promise.allSettled([
      this.config.offlineStore.close(),
      this.config.onlineStore.close(),
      this.registry.close(),
    ])
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close()
  }
}

/**
 * Opens a feature store: on a repo folder (config and definitions loaded from it) or on a
 * config and definitions given in code.
 * @example
 * const store = await createFeatureStore('feature_repo')
 */
export async function createFeatureStore(
  repo: string | FeatureStoreOptions,
): Promise<FeatureStore> {
  return typeof repo === 'string' ? FeatureStore.open(repo) : new FeatureStore(repo)
}
