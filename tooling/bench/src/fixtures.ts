/**
 * Helpers shared by the online-store benchmarks: a one-entity view spec, entity keys, the
 * 3-feature view written by the write cases and the 50-feature view read by the read cases.
 */
import {
  type FeatureViewSpec,
  type OnlineRow,
  serializeEntityKey,
  type ValueTypeName,
} from '@larder/core'

/** An online view of entity `driver` with the given features (no offline source). */
export function view(name: string, features: Record<string, ValueTypeName>): FeatureViewSpec {
  return {
    kind: 'featureView',
    name,
    entities: ['driver'],
    features: Object.entries(features).map(([f, valueType]) => ({ name: f, valueType })),
    source: { kind: 'push', name: `${name}_source` },
    ttlSeconds: 0,
    online: true,
    offline: false,
  }
}

/** The serialized entity key of driver `id`. */
export function key(id: number): Uint8Array {
  return serializeEntityKey([{ name: 'driver_id', valueType: 'int64', value: BigInt(id) }])
}

/** The event time of the generated rows (epoch micros). */
export const T0 = 1_700_000_000_000_000n

/** The view of the write cases: 3 features. */
export const stats = view('driver_stats', {
  conv_rate: 'float32',
  acc_rate: 'float32',
  trips: 'int64',
})
export const STATS_FEATURES = stats.features.map((f) => f.name)

/** The rows of the write cases: one per driver 0..n-1. */
export function statsRows(n: number): OnlineRow[] {
  return Array.from({ length: n }, (_, i) => ({
    key: key(i),
    values: [Math.fround((i % 1000) / 1000), Math.fround((i % 997) / 997), BigInt(i)],
    eventTs: T0 + BigInt(i % 3600) * 1_000_000n,
    createdTs: null,
  }))
}

/** The view of the read cases: 50 float64 features. */
export const WIDE_FEATURES = Array.from({ length: 50 }, (_, i) => `f${i}`)
export const wide = view(
  'wide',
  Object.fromEntries(WIDE_FEATURES.map((f) => [f, 'float64' as ValueTypeName])),
)

/** The rows of the read cases: one per driver 0..n-1. */
export function wideRows(n: number): OnlineRow[] {
  return Array.from({ length: n }, (_, i) => ({
    key: key(i),
    values: WIDE_FEATURES.map((_, j) => i + j / 64),
    eventTs: T0,
    createdTs: null,
  }))
}
