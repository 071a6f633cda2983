/**
 * `defineConfig` and the shape of `larder.config.ts`.
 */

import type { OfflineStore, OnlineStore, StreamConnector } from './contracts.js'
import { LarderError } from './errors.js'
import type { Logger } from './logger.js'

/** The configuration of a feature repo (`larder.config.ts`). */
export interface LarderConfig {
  /** Project name: namespaces online keys and tables. Letters, digits, underscores. */
  project: string
  /** Registry file path, relative to the repo. @default 'data/registry.json' */
  registry?: string
  offlineStore: OfflineStore
  onlineStore: OnlineStore
  /**
   * Stream connectors by source kind, for settings that must not go into the registry
   * (credentials, SASL/TLS, a client instance), e.g. `{ kafka: kafkaConnector({ sasl }) }`.
   * Kinds without an entry use the connector their source definitions carry.
   */
  streams?: Record<string, StreamConnector>
  /** Where libraries log. @default no logging */
  logger?: Logger
}

/**
 * Declares a repo's configuration, checked at once so mistakes surface with the config's name.
 * @example
 * export default defineConfig({
 *   project: 'quickstart', registry: 'data/registry.json',
 *   offlineStore: fileOfflineStore(), onlineStore: sqliteOnlineStore({ path: 'data/online.db' }),
 * })
 */
export function defineConfig(config: LarderConfig): LarderConfig {
  validateConfig(config, 'larder.config.ts')
  return config
}

/** Checks a loaded config; `where` names the file in messages. */
export function validateConfig(config: unknown, where: string): asserts config is LarderConfig {
  const fail = (why: string, hint?: string) =>
    new LarderError(
      'INVALID_CONFIG',
      `${where}: ${why}`,
      hint ? { component: 'config', hint } : { component: 'config' },
    )
  if (!config || typeof config !== 'object')
    throw fail('the default export must be defineConfig({...})')
  const c = config as Record<string, unknown>
  if (typeof c.project !== 'string' || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(c.project)) {
    throw fail(
      `project must be a name of letters, digits and underscores, got ${JSON.stringify(c.project)}`,
    )
  }
  if (c.registry !== undefined && (typeof c.registry !== 'string' || c.registry === '')) {
    throw fail('registry must be a file path')
  }
  const offline = c.offlineStore as Partial<OfflineStore> | undefined
  if (!offline || typeof offline.getHistoricalFeatures !== 'function') {
    throw fail(
      'offlineStore is missing or not an offline store',
      'e.g. offlineStore: fileOfflineStore() from @larder/file',
    )
  }
  if (c.streams !== undefined) {
    if (!c.streams || typeof c.streams !== 'object' || Array.isArray(c.streams))
      throw fail(
        'streams must be an object of connectors by source kind, e.g. { kafka: kafkaConnector() }',
      )
    for (const [kind, connector] of Object.entries(c.streams as Record<string, unknown>)) {
      const k = connector as Partial<StreamConnector> | undefined
      if (!k || typeof k.createConsumer !== 'function')
        throw fail(
          `streams.${kind} is not a stream connector`,
          'e.g. streams: { kafka: kafkaConnector({ ... }) } from @larder/kafka',
        )
      if (k.kind !== kind)
        throw fail(
          `streams.${kind} holds a connector for '${k.kind}' sources`,
          `put it under streams.${k.kind}`,
        )
    }
  }
  const online = c.onlineStore as Partial<OnlineStore> | undefined
  if (!online || typeof online.read !== 'function') {
    throw fail(
      'onlineStore is missing or not an online store',
      "e.g. onlineStore: sqliteOnlineStore({ path: 'data/online.db' }) from @larder/sqlite",
    )
  }
}
