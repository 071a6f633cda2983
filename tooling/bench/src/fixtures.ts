/**
 * Helpers shared by the online-store benchmarks: a one-entity view spec, entity keys and the
 * process's peak memory.
 */
import { type FeatureViewSpec, serializeEntityKey, type ValueTypeName } from '@larder/core'

/** Peak resident set size of this process so far, MB. */
export function peakRssMb(): number {
  return Math.round(process.resourceUsage().maxRSS / 1024)
}

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

/** One timed pass of a subject; samples go to `out`, none on a warm-up pass. */
export type Pass = (out: number[] | undefined) => Promise<void>

/**
 * Warms both subjects once, then runs `runs` passes of each, alternating which goes first
 * so that neither always runs on the warmer cache.
 */
export async function alternate(
  runs: number,
  store: Pass,
  storeOut: number[],
  raw: Pass,
  rawOut: number[],
): Promise<void> {
  await store(undefined)
  await raw(undefined)
  for (let run = 0; run < runs; run++) {
    if (run % 2 === 0) {
      await store(storeOut)
      await raw(rawOut)
    } else {
      await raw(rawOut)
      await store(storeOut)
    }
  }
}
