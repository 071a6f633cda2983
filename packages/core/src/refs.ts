/**
 * Resolving what a retrieval asks for (`view:feature` references or a feature service) into
 * feature-view projections and on-demand views, shared by online and historical retrieval.
 */
import { LarderError } from './errors.js'
import { parseRef } from './pit/plan.js'
import type { RegistryData } from './registry.js'
import type {
  EntitySpec,
  FeatureServiceSpec,
  FeatureSpec,
  OnDemandFeatureViewSpec,
  ProjectionSpec,
  StoredViewSpec,
} from './spec.js'
import type { ValueTypeName } from './types.js'

/** A join key of a view with the value type of its entity. */
export interface JoinKey {
  name: string
  type: ValueTypeName
}

/** Lookups over one registry snapshot. */
export class RegistryIndex {
  readonly data: RegistryData
  readonly entities: Map<string, EntitySpec>
  /** Feature views and stream feature views. */
  readonly views: Map<string, StoredViewSpec>
  readonly onDemandViews: Map<string, OnDemandFeatureViewSpec>
  readonly services: Map<string, FeatureServiceSpec>
  /** Views fed by each push source. */
  readonly pushTargets: Map<string, StoredViewSpec[]>
  readonly #joinKeys = new WeakMap<StoredViewSpec, JoinKey[]>()

  constructor(data: RegistryData) {
    this.data = data
    this.entities = new Map(data.entities.map((e) => [e.name, e]))
    this.views = new Map<string, StoredViewSpec>()
    for (const v of [...data.featureViews, ...data.streamFeatureViews]) this.views.set(v.name, v)
    this.onDemandViews = new Map(data.onDemandFeatureViews.map((v) => [v.name, v]))
    this.services = new Map(data.featureServices.map((s) => [s.name, s]))
    this.pushTargets = new Map()
    for (const v of this.views.values()) {
      if (v.source.kind === 'push') {
        const list = this.pushTargets.get(v.source.name) ?? []
        list.push(v)
        this.pushTargets.set(v.source.name, list)
      }
    }
  }

  /** A feature or stream view by name, or a NOT_FOUND error listing what exists. */
  view(name: string): StoredViewSpec {
    const v = this.views.get(name)
    if (!v) {
      throw new LarderError('NOT_FOUND', `feature view '${name}' is not registered`, {
        component: 'registry',
        hint: this.views.size
          ? `registered views: ${[...this.views.keys()].join(', ')}`
          : 'run `larder apply` first',
      })
    }
    return v
  }

  /**
   * The join keys of a view, in order (its entities' join keys), with their value types: the
   * one place reads and writes resolve them.
   * @throws LarderError NOT_FOUND when an entity of the view is not registered.
   */
  joinKeys(view: StoredViewSpec): JoinKey[] {
    let keys = this.#joinKeys.get(view)
    if (!keys) {
      keys = []
      for (const e of view.entities) {
        const entity = this.entities.get(e)
        if (!entity) {
          throw new LarderError(
            'NOT_FOUND',
            `entity '${e}' of view '${view.name}' is not registered`,
            {
              component: 'registry',
              hint: 'register the entity (define it and run `larder apply`)',
            },
          )
        }
        for (const k of entity.joinKeys) keys.push({ name: k, type: entity.valueType })
      }
      this.#joinKeys.set(view, keys)
    }
    return keys
  }

  /** A feature service by name, or NOT_FOUND. */
  service(name: string): FeatureServiceSpec {
    const s = this.services.get(name)
    if (!s) {
      throw new LarderError('NOT_FOUND', `feature service '${name}' is not registered`, {
        component: 'registry',
        hint: this.services.size
          ? `registered services: ${[...this.services.keys()].join(', ')}`
          : 'run `larder apply` first',
      })
    }
    return s
  }
}

/** An on-demand view taking part in a retrieval. */
export interface ResolvedOnDemand {
  spec: OnDemandFeatureViewSpec
  projectionName: string
  /** Output features requested, in request order. */
  features: FeatureSpec[]
}

/** What a retrieval reads. */
export interface ResolvedRefs {
  /** Requested feature-view projections, in request order (one per reference group). */
  projections: ProjectionSpec[]
  /** Requested on-demand views. */
  onDemand: ResolvedOnDemand[]
  /** Features on-demand views need that were not requested (read, then dropped). */
  hidden: ProjectionSpec[]
  /**
   * Output order of every requested feature: `{ kind: 'view', index, feature }` or
   * `{ kind: 'odfv', index, feature }`.
   */
  order: Array<{ kind: 'view' | 'odfv'; index: number; feature: string }>
}

/**
 * Resolves references or a service against a registry snapshot.
 * @throws LarderError NOT_FOUND for unknown views, features and services; INVALID_INPUT when
 *   neither or both of features and service are given.
 */
export function resolveRefs(
  index: RegistryIndex,
  request: { features?: readonly string[] | undefined; featureService?: string | undefined },
): ResolvedRefs {
  const hasFeatures = request.features !== undefined && request.features.length > 0
  if (hasFeatures === (request.featureService !== undefined)) {
    throw new LarderError(
      'INVALID_INPUT',
      'give either a list of features (view:feature) or a feature service, not both and not neither',
    )
  }
  const wanted: ProjectionSpec[] = []
  if (request.featureService !== undefined) {
    wanted.push(...index.service(request.featureService).features)
  } else {
    // Consecutive references to one view form one projection.
    for (const ref of request.features ?? []) {
      const { view, feature } = parseRef(ref)
      const last = wanted[wanted.length - 1]
      if (last && last.view === view) last.features?.push(feature)
      else wanted.push({ view, features: [feature] })
    }
  }
  const out: ResolvedRefs = { projections: [], onDemand: [], hidden: [], order: [] }
  const needed = new Map<string, Set<string>>()
  for (const p of wanted) {
    const odfv = index.onDemandViews.get(p.view)
    if (odfv) {
      const features = (p.features ?? odfv.features.map((f) => f.name)).map((name) => {
        const f = odfv.features.find((x) => x.name === name)
        if (!f) throw unknownFeature(p.view, name, odfv.features)
        return f
      })
      const i = out.onDemand.length
      out.onDemand.push({ spec: odfv, projectionName: p.name ?? p.view, features })
      for (const f of features) out.order.push({ kind: 'odfv', index: i, feature: f.name })
      for (const src of odfv.sources) {
        const set = needed.get(src.view) ?? new Set<string>()
        for (const f of src.features ?? index.view(src.view).features.map((x) => x.name)) set.add(f)
        needed.set(src.view, set)
      }
      continue
    }
    const view = index.view(p.view)
    const names = p.features ?? view.features.map((f) => f.name)
    const known = new Set(view.features.map((f) => f.name))
    for (const name of names)
      if (!known.has(name)) throw unknownFeature(p.view, name, view.features)
    const i = out.projections.length
    out.projections.push({ ...p, features: [...names] })
    for (const f of names) out.order.push({ kind: 'view', index: i, feature: f })
  }
  // On-demand inputs not already requested under the view's own name are read as hidden.
  for (const [view, features] of needed) {
    const have = new Set(
      out.projections
        .filter((p) => p.view === view && (p.name ?? p.view) === view)
        .flatMap((p) => p.features ?? []),
    )
    const missing = [...features].filter((f) => !have.has(f))
    if (missing.length > 0) out.hidden.push({ view, features: missing })
  }
  return out
}

function unknownFeature(view: string, name: string, features: FeatureSpec[]): LarderError {
  return new LarderError('NOT_FOUND', `feature '${view}:${name}' does not exist`, {
    hint: `'${view}' has ${features.map((f) => f.name).join(', ') || 'no features'}`,
  })
}
