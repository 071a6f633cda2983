/**
 * `FeatureStore`: the facade over a repo's config, definitions, registry and stores.
 */
import { resolve } from 'node:path'
import { checkViewsAgainstSources } from './apply.js'
import type { LarderConfig } from './config.js'
import type { AnyDefinition } from './definitions.js'
import { diffRegistry, formatDiff, type RegistryDiff } from './diff.js'
import { LarderError } from './errors.js'
import { loadRepo } from './loader.js'
import { noopLogger, type Logger } from './logger.js'
import { Registry, type RegistryData } from './registry.js'
import { collectRepo, validateReferences, type DeclaredRepo, type Located } from './repo.js'
import type { EntitySpec, FeatureViewSpec, StreamFeatureViewSpec } from './spec.js'

/** Options of {@link createFeatureStore}. */
export interface FeatureStoreOptions {
  /** The repo folder (relative paths in sources and the registry resolve against it). */
  repoPath: string
  config: LarderConfig
  /** The repo's definitions; `[]` when only reading the registry. */
  definitions?: Array<Located<AnyDefinition>>
}

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
}

/** Counts of what a definition set holds. */
export interface ApplyResult extends PlanResult {
  /** Registry version written (unchanged when there was nothing to do). */
  version: number
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

  constructor(options: FeatureStoreOptions) {
    this.repoPath = resolve(options.repoPath)
    this.config = options.config
    this.definitions = options.definitions ?? []
    this.logger = options.config.logger ?? noopLogger
    this.registry = new Registry(
      resolve(this.repoPath, options.config.registry ?? 'data/registry.json'),
      options.config.project,
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
      // Inferred schemas are known only now: re-check references to their features.
      validateReferences(declared)
    }
    const diff = diffRegistry(current, declared)
    return { ...diff, declared, text: formatDiff(diff) }
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
    const onlineViews = (vs: Array<FeatureViewSpec | StreamFeatureViewSpec>) =>
      vs.filter((v) => v.online)
    const keep = onlineViews([
      ...declared.featureViews,
      ...declared.streamFeatureViews,
    ]) as FeatureViewSpec[]
    const keepNames = new Set(keep.map((v) => v.name))
    const drop = onlineViews([...current.featureViews, ...current.streamFeatureViews]).filter(
      (v) => !keepNames.has(v.name),
    ) as FeatureViewSpec[]
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
    this.logger.info({ version: written.version, changes: plan.changes.length }, 'registry applied')
    return { ...plan, version: written.version }
  }

  /** Removes everything the repo created: online tables and the registry file. */
  async teardown(): Promise<{ views: string[] }> {
    const current = await this.registry.read()
    const views = [...current.featureViews, ...current.streamFeatureViews] as FeatureViewSpec[]
    await this.config.onlineStore.teardown(views)
    await this.registry.remove()
    return { views: views.map((v) => v.name) }
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
  async listFeatureViews(): Promise<Array<FeatureViewSpec | StreamFeatureViewSpec>> {
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
  async getFeatureView(name: string): Promise<FeatureViewSpec | StreamFeatureViewSpec> {
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

  /** Closes both stores. */
  async close(): Promise<void> {
    await Promise.allSettled([this.config.offlineStore.close(), this.config.onlineStore.close()])
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
