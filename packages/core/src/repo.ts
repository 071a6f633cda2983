/**
 * A repo's definitions gathered into the specs the registry stores, with the checks that
 * need the whole repo: duplicate names, unknown references, services naming missing features.
 */
import {
  type AnyDefinition,
  type Columns,
  DEFINITION,
  type StreamSourceRuntime,
  streamRuntimeOf,
} from './definitions.js'
import { LarderError } from './errors.js'
import type {
  EntitySpec,
  FeatureServiceSpec,
  FeatureViewSpec,
  OnDemandFeatureViewSpec,
  ProjectionSpec,
  PushSourceSpec,
  SourceSpec,
  StreamFeatureViewSpec,
} from './spec.js'

/** Where a definition came from, for messages. */
export interface Located<T> {
  definition: T
  /** File (relative to the repo) and export name, e.g. `features.ts#driverStats`. */
  origin: string
}

/** The specs a repo declares, plus the functions the registry cannot hold. */
export interface DeclaredRepo {
  entities: EntitySpec[]
  dataSources: SourceSpec[]
  featureViews: FeatureViewSpec[]
  streamFeatureViews: StreamFeatureViewSpec[]
  onDemandFeatureViews: OnDemandFeatureViewSpec[]
  featureServices: FeatureServiceSpec[]
  /** On-demand transforms by view name. */
  onDemandTransforms: Map<string, (inputs: Columns) => Columns>
  /** Stream transforms by view name (ingestion applies them). */
  streamTransforms: Map<string, (rows: Record<string, unknown>[]) => Record<string, unknown>[]>
  /** Stream source runtimes (connector, format object) by source name (ingestion uses them). */
  streamRuntimes: Map<string, StreamSourceRuntime>
}

function sameJson(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b)
}

/**
 * Gathers definitions (deduplicated by identity) into a validated {@link DeclaredRepo}.
 * @throws LarderError INVALID_DEFINITION naming both places for duplicates, and the
 *   referring definition for unknown references.
 */
export function collectRepo(items: ReadonlyArray<Located<AnyDefinition>>): DeclaredRepo {
  const seen = new Set<AnyDefinition>()
  const unique = items.filter((i) => {
    if (seen.has(i.definition)) return false
    seen.add(i.definition)
    return true
  })
  const byName = new Map<string, { kind: string; origin: string }>()
  const claim = (group: string, kind: string, name: string, origin: string) => {
    const key = `${group}:${name}`
    const prev = byName.get(key)
    if (prev) {
      throw new LarderError(
        'INVALID_DEFINITION',
        `duplicate name '${name}': ${prev.kind} at ${prev.origin} and ${kind} at ${origin}`,
        {
          hint: 'names must be unique among entities, among sources, among views (of every kind) and among services',
        },
      )
    }
    byName.set(key, { kind, origin })
  }

  const repo: DeclaredRepo = {
    entities: [],
    dataSources: [],
    featureViews: [],
    streamFeatureViews: [],
    onDemandFeatureViews: [],
    featureServices: [],
    onDemandTransforms: new Map(),
    streamTransforms: new Map(),
    streamRuntimes: new Map(),
  }
  const sources = new Map<string, { spec: SourceSpec; origin: string }>()
  const addSource = (spec: SourceSpec, origin: string) => {
    const prev = sources.get(spec.name)
    if (prev) {
      if (!sameJson(prev.spec, spec)) {
        throw new LarderError(
          'INVALID_DEFINITION',
          `two different sources are named '${spec.name}' (at ${prev.origin} and ${origin})`,
          { hint: 'give each source its own name, or define it once and import it' },
        )
      }
      return
    }
    sources.set(spec.name, { spec, origin })
    // Push and stream sources keep their offline data in a batch source: register it too.
    const batch = (spec as Partial<PushSourceSpec>).batchSource
    if (batch && typeof batch === 'object' && typeof batch.kind === 'string')
      addSource(batch, origin)
  }

  for (const { definition: d, origin } of unique) {
    switch (d[DEFINITION]) {
      case 'entity':
        claim('entity', 'entity', d.name, origin)
        repo.entities.push(d.spec)
        break
      case 'featureView':
        claim('view', 'feature view', d.name, origin)
        repo.featureViews.push(d.spec)
        addSource(d.spec.source, origin)
        break
      case 'streamFeatureView':
        claim('view', 'stream feature view', d.name, origin)
        repo.streamFeatureViews.push(d.spec)
        addSource(d.spec.source, origin)
        if (d.transform) repo.streamTransforms.set(d.name, d.transform)
        {
          const runtime = streamRuntimeOf(d.source)
          if (runtime) repo.streamRuntimes.set(d.spec.source.name, runtime)
        }
        break
      case 'onDemandFeatureView':
        claim('view', 'on-demand feature view', d.name, origin)
        repo.onDemandFeatureViews.push(d.spec)
        repo.onDemandTransforms.set(d.name, d.transform)
        for (const r of d.spec.requestSources) addSource(r, origin)
        break
      case 'featureService':
        claim('service', 'feature service', d.name, origin)
        repo.featureServices.push(d.spec)
        break
      case 'pushSource':
      case 'requestSource': {
        const { [DEFINITION]: _brand, ...spec } = d
        addSource(spec as SourceSpec, origin)
        break
      }
    }
  }
  repo.dataSources = [...sources.values()].map((s) => s.spec)
  validateReferences(repo)
  return repo
}

/** Checks every reference in a declared repo resolves. */
export function validateReferences(
  repo: Omit<DeclaredRepo, 'onDemandTransforms' | 'streamTransforms' | 'streamRuntimes'>,
): void {
  const entities = new Map(repo.entities.map((e) => [e.name, e]))
  const views = new Map<string, { features: string[]; kind: string }>()
  for (const v of [...repo.featureViews, ...repo.streamFeatureViews]) {
    for (const e of v.entities) {
      if (!entities.has(e)) {
        throw new LarderError(
          'INVALID_DEFINITION',
          `feature view '${v.name}' refers to unknown entity '${e}'`,
          {
            hint: `define it with entity({ name: '${e}', ... }) and export it`,
          },
        )
      }
    }
    views.set(v.name, { features: v.features.map((f) => f.name), kind: v.kind })
  }
  for (const v of repo.onDemandFeatureViews)
    views.set(v.name, { features: v.features.map((f) => f.name), kind: v.kind })
  const checkProjection = (owner: string, p: ProjectionSpec) => {
    const target = views.get(p.view)
    if (!target) {
      throw new LarderError(
        'INVALID_DEFINITION',
        `${owner} refers to unknown feature view '${p.view}'`,
        {
          hint: views.size
            ? `known views: ${[...views.keys()].join(', ')}`
            : 'no views are defined',
        },
      )
    }
    // A view whose schema is inferred at apply time has no features yet: checked after inference.
    if (target.features.length === 0) return
    for (const f of p.features ?? []) {
      if (!target.features.includes(f)) {
        throw new LarderError(
          'INVALID_DEFINITION',
          `${owner} refers to feature '${p.view}:${f}', which does not exist`,
          {
            hint: `'${p.view}' has ${target.features.join(', ')}`,
          },
        )
      }
    }
  }
  for (const v of repo.onDemandFeatureViews) {
    for (const p of v.sources) {
      checkProjection(`on-demand feature view '${v.name}'`, p)
      if (views.get(p.view)?.kind === 'onDemandFeatureView') {
        throw new LarderError(
          'INVALID_DEFINITION',
          `on-demand feature view '${v.name}' reads on-demand view '${p.view}'; only feature views and request sources can be inputs`,
        )
      }
    }
  }
  for (const s of repo.featureServices)
    for (const p of s.features) checkProjection(`feature service '${s.name}'`, p)
}
