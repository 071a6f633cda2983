/**
 * Helpers shared by the online-store benchmarks: a one-entity view spec and entity keys.
 */
import { type FeatureViewSpec, serializeEntityKey, type ValueTypeName } from '@larder/core'

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
