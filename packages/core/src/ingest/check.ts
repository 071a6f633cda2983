/**
 * Apply-time check of stream feature views' streams: each exists and its brokers answer (the
 * connector's `checkSource`). The record format is checked by `checkStreamFormats`.
 */
import { configuredConnector, type LarderConfig } from '../config.js'
import { isLarderError } from '../errors.js'
import type { DeclaredRepo } from '../repo.js'
import type { StreamFeatureViewSpec, StreamSourceSpec } from '../spec.js'

/** Options of {@link checkStreamViews}. */
export interface StreamCheckOptions {
  /** Broker problems become warnings. */
  skipSourceValidation?: boolean
}

/**
 * Checks the stream of each stream view's source, once per source.
 * @returns warnings (with `skipSourceValidation`: streams that could not be checked).
 * @throws the connector's LarderError (BACKEND_UNAVAILABLE, NOT_FOUND) for an unreachable
 *   broker or a missing stream.
 */
export async function checkStreamViews(
  views: readonly StreamFeatureViewSpec[],
  declared: DeclaredRepo,
  config: Pick<LarderConfig, 'streams' | 'project'>,
  options: StreamCheckOptions,
): Promise<string[]> {
  const warnings: string[] = []
  const checked = new Set<string>()
  for (const view of views) {
    const source = view.source as StreamSourceSpec
    const runtime = declared.streamRuntimes.get(source.name)
    const connector = configuredConnector(config, source.kind) ?? runtime?.connector
    if (!connector?.checkSource || checked.has(source.name)) continue
    checked.add(source.name)
    try {
      await connector.checkSource(source)
    } catch (err) {
      if (!options.skipSourceValidation) throw err
      const message = isLarderError(err) ? err.message : String(err)
      warnings.push(`stream of source '${source.name}' not checked: ${message}`)
    }
  }
  return warnings
}
