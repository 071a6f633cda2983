/**
 * Definitions and helpers shared by the online conformance cases: two entities (an int64
 * and a string join key), views built from a `{ feature: type }` map, entity keys.
 */
import {
  type EntitySpec,
  type OnlineRow,
  type StoredViewSpec,
  serializeEntityKey,
  type ValueTypeName,
} from '@larder/core'

/** An int64-keyed entity (`driver_id`). */
export const driverEntity: EntitySpec = {
  kind: 'entity',
  name: 'driver',
  joinKeys: ['driver_id'],
  valueType: 'int64',
}

/** A string-keyed entity (`customer_id`). */
export const customerEntity: EntitySpec = {
  kind: 'entity',
  name: 'customer',
  joinKeys: ['customer_id'],
  valueType: 'string',
}

/**
 * A push-sourced online view over the given entities.
 * @example
 * testView('driver_stats', ['driver'], { conv_rate: 'float32', trips: 'int64' })
 */
export function testView(
  name: string,
  entities: string[],
  features: Record<string, ValueTypeName>,
): StoredViewSpec {
  return {
    kind: 'featureView',
    name,
    entities,
    features: Object.entries(features).map(([feature, valueType]) => ({
      name: feature,
      valueType,
    })),
    source: { kind: 'push', name: `${name}_source` },
    ttlSeconds: 0,
    online: true,
    offline: false,
  }
}

/** The serialized key of driver `id`. */
export function driverKey(id: bigint | number): Uint8Array {
  return serializeEntityKey([{ name: 'driver_id', valueType: 'int64', value: BigInt(id) }])
}

/** The serialized key of the (driver, customer) pair. */
export function pairKey(driverId: bigint | number, customerId: string): Uint8Array {
  return serializeEntityKey([
    { name: 'driver_id', valueType: 'int64', value: BigInt(driverId) },
    { name: 'customer_id', valueType: 'string', value: customerId },
  ])
}

/** An online row. */
export function row(
  key: Uint8Array,
  values: unknown[],
  eventTs: bigint,
  createdTs: bigint | null = null,
): OnlineRow {
  return { key, values, eventTs, createdTs }
}

/**
 * A value made comparable with `toEqual` whatever the store returns for bytes (a Buffer
 * and a Uint8Array with the same bytes compare equal; -0 and NaN are left as they are).
 */
export function comparable(value: unknown): unknown {
  if (value instanceof Uint8Array) return { bytes: Array.from(value) }
  if (Array.isArray(value)) return value.map(comparable)
  return value
}
