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

/** `getOnlineFeatures` with checked references and typed rows. */
export interface TypedFeatureStore<Defs> {
  getOnlineFeatures<const R extends FeatureRef<Defs>, Full extends boolean = false>(
    request: Omit<OnlineFeaturesRequest, 'features' | 'featureService' | 'fullFeatureNames'> & {
      features: readonly R[]
      fullFeatureNames?: Full
    },
  ): Promise<OnlineFeaturesResponse<ResultRow<Defs, R, Full>>>
  getOnlineFeatures(
    request: Omit<OnlineFeaturesRequest, 'features' | 'featureService'> & {
      featureService: ServiceName<Defs>
    },
  ): Promise<OnlineFeaturesResponse>
  getHistoricalFeatures<const R extends FeatureRef<Defs>>(
    request: Omit<HistoricalFeaturesRequest, 'features' | 'featureService'> & {
      features: readonly R[]
    },
  ): Promise<HistoricalRetrievalJob>
}
