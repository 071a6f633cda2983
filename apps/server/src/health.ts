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

/** What readiness found. */
export interface Readiness {
  /** The registry version serving. */
  version: number
  /** True when the registry could not be read and the last good snapshot serves. */
  stale: boolean
  /** Why the registry could not be read (when stale). */
  error?: string
}

/**
 * Checks that the registry reads and the online store answers (one read of a key that does
 * not exist, on the first online view), each within `timeoutMs`. A registry that cannot be
 * read does not fail readiness while a good snapshot serves: the answer says it is stale.
 * @throws the first failure (a LarderError; BACKEND_UNAVAILABLE when a check timed out).
 */
export async function checkReadiness(store: FeatureStore, timeoutMs: number): Promise<Readiness> {
  let ready: Readiness
  try {
    const data = await withDeadline(store.registry.read(), timeoutMs, 'reading the registry')
    ready = { version: data.version, stale: false }
  } catch (err) {
    const status = store.registryStatus()
    if (status.version === undefined) throw err
    ready = {
      version: status.version,
      stale: true,
      error: err instanceof Error ? err.message : String(err),
    }
  }
  const index = await store.registryIndex()
  const view = [...index.views.values()].find((v) => v.online && v.features.length > 0)
  if (view) {
    await withDeadline(
      store.config.onlineStore.read(view, [PROBE_KEY], [view.features[0]!.name]),
      timeoutMs,
      `the online store '${store.config.onlineStore.name}' probe`,
    )
  }
  return ready
}
