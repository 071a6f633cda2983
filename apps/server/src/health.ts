/**
 * Health endpoints: `GET /health` is liveness (the process answers; no I/O), `GET
 * /health/ready` is readiness (the registry reads and the online store answers a probe read
 * within a deadline). Neither leaks paths or addresses: failures are scrubbed like every
 * error body.
 */
import { type FeatureStore, serializeEntityKey } from '@larder/core'
import { withDeadline } from './limits.js'

/** A key no feature row has: the probe reads it and expects "not found", quickly. */
const PROBE_KEY = serializeEntityKey([
  { name: '__larder_readiness_probe', valueType: 'string', value: 'probe' },
])

/**
 * Checks that the registry reads and the online store answers (one read of a key that does
 * not exist, on the first online view), each within `timeoutMs`.
 * @returns the registry version.
 * @throws the first failure (a LarderError; BACKEND_UNAVAILABLE when a check timed out).
 */
export async function checkReadiness(store: FeatureStore, timeoutMs: number): Promise<number> {
  const data = await withDeadline(store.registry.read(), timeoutMs, 'reading the registry')
  const index = await store.registryIndex()
  const view = [...index.views.values()].find((v) => v.online && v.features.length > 0)
  if (view) {
    await withDeadline(
      store.config.onlineStore.read(view, [PROBE_KEY], [view.features[0]!.name]),
      timeoutMs,
      `the online store '${store.config.onlineStore.name}' probe`,
    )
  }
  return data.version
}
