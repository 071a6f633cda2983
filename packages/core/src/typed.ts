/**
 * Types that flow from definitions to results: a store typed with a repo's definitions
 * checks `view:feature` references at compile time and types the values it returns.
 *
 * @example
 * import type * as defs from './features.ts'
 * const store = (await FeatureStore.open('repo')).typed<typeof defs>()
 * const res = await store.getOnlineFeatures({ entities: { driver_id: [1001] }, features: ['driver_hourly_stats:conv_rate'] })
 * res.toRows()[0]?.conv_rate // number | null
 * // store.getOnlineFeatures({ ..., features: ['driver_hourly_stats:nope'] })  <- compile error
 */
import type { DEFINITION, Schema } from './definitions.js'
import type { HistoricalFeaturesRequest, HistoricalRetrievalJob } from './historical.js'
import type { OnlineFeaturesRequest, OnlineFeaturesResponse } from './online.js'
import type { TsValueOf, ValueTypeName } from './types.js'

type ViewKinds = 'featureView' | 'streamFeatureView' | 'onDemandFeatureView'

/** The views of a definitions module: view name -> schema. */
export type ViewSchemas<Defs> = {
  [K in keyof Defs as Defs[K] extends {
    readonly [DEFINITION]: ViewKinds
    readonly name: infer N extends string
  }
    ? N
    : never]: Defs[K] extends { readonly schema: infer S extends Schema } ? S : never
}

/** Every valid `view:feature` reference of a definitions module. */
export type FeatureRef<Defs> = {
  [V in keyof ViewSchemas<Defs> & string]: `${V}:${keyof ViewSchemas<Defs>[V] & string}`
}[keyof ViewSchemas<Defs> & string]

/** Feature service names of a definitions module. */
export type ServiceName<Defs> = {
  [K in keyof Defs]: Defs[K] extends {
    readonly [DEFINITION]: 'featureService'
    readonly name: infer N extends string
  }
    ? N
    : never
}[keyof Defs]

type ViewOf<R> = R extends `${infer V}:${string}` ? V : never
type FeatureOf<R> = R extends `${string}:${infer F}` ? F : never
type TypeOf<Defs, R> = ViewSchemas<Defs>[ViewOf<R> & keyof ViewSchemas<Defs>] extends infer S
  ? S extends Schema
    ? S[FeatureOf<R> & keyof S] extends infer T extends ValueTypeName
      ? T
      : never
    : never
  : never

/** The row type of a result for references `R`. */
export type ResultRow<Defs, R extends string, Full extends boolean = false> = {
  [K in R as Full extends true ? `${ViewOf<K>}__${FeatureOf<K>}` : FeatureOf<K>]: TsValueOf<
    TypeOf<Defs, K>
  > | null
} & Record<string, unknown>

/** The projections of the feature service named `N` in a definitions module. */
type ServiceProjections<Defs, N extends string> = {
  [K in keyof Defs]: Defs[K] extends {
    readonly [DEFINITION]: 'featureService'
    readonly name: N
    readonly projections: infer P extends readonly unknown[]
  }
    ? P[number]
    : never
}[keyof Defs]

/** `name:feature` for each feature of each projection (the name is the projection's alias). */
type ProjectionRefs<P> = P extends {
  readonly name: infer V extends string
  readonly schema: infer S
}
  ? `${V}:${keyof S & string}`
  : never

type ProjectionType<P, R> = P extends {
  readonly name: ViewOf<R>
  readonly schema: infer S extends Schema
}
  ? S[FeatureOf<R> & keyof S] extends infer T extends ValueTypeName
    ? T
    : never
  : never

/** The row type of a result for feature service `N`: its features, typed by their views. */
export type ServiceRow<Defs, N extends string, Full extends boolean = false> = {
  [K in ProjectionRefs<ServiceProjections<Defs, N>> as Full extends true
    ? `${ViewOf<K>}__${FeatureOf<K>}`
    : FeatureOf<K>]: TsValueOf<ProjectionType<ServiceProjections<Defs, N>, K>> | null
} & Record<string, unknown>

/**
 * `getOnlineFeatures` and `getHistoricalFeatures` with checked references and typed rows,
 * by feature references or by feature service.
 */
export interface TypedFeatureStore<Defs> {
  getOnlineFeatures<const R extends FeatureRef<Defs>, Full extends boolean = false>(
    request: Omit<OnlineFeaturesRequest, 'features' | 'featureService' | 'fullFeatureNames'> & {
      features: readonly R[]
      fullFeatureNames?: Full
    },
  ): Promise<OnlineFeaturesResponse<ResultRow<Defs, R, Full>>>
  getOnlineFeatures<const N extends ServiceName<Defs>, Full extends boolean = false>(
    request: Omit<OnlineFeaturesRequest, 'features' | 'featureService' | 'fullFeatureNames'> & {
      featureService: N
      fullFeatureNames?: Full
    },
  ): Promise<OnlineFeaturesResponse<ServiceRow<Defs, N, Full>>>
  getHistoricalFeatures<const R extends FeatureRef<Defs>, Full extends boolean = false>(
    request: Omit<HistoricalFeaturesRequest, 'features' | 'featureService' | 'fullFeatureNames'> & {
      features: readonly R[]
      fullFeatureNames?: Full
    },
  ): Promise<HistoricalRetrievalJob<ResultRow<Defs, R, Full>>>
  getHistoricalFeatures<const N extends ServiceName<Defs>, Full extends boolean = false>(
    request: Omit<HistoricalFeaturesRequest, 'features' | 'featureService' | 'fullFeatureNames'> & {
      featureService: N
      fullFeatureNames?: Full
    },
  ): Promise<HistoricalRetrievalJob<ServiceRow<Defs, N, Full>>>
}
