/**
 * `defineConfig` and the shape of `larder.config.ts`.
 */

import type { OfflineStore, OnlineStore, StreamConnector } from './contracts.js'
import { LarderError } from './errors.js'
import type { Logger } from './logger.js'
import { isRegistryStore, type RegistrySetting } from './registry-store.js'
import type { SchemaRegistryRuntimeOptions } from './stream-format.js'

/** The `streams` section of the config. */
export interface StreamConfig {
  /**
   * One connector per source kind, e.g. `[kafkaConnector({ ssl: true, sasl })]`. Kinds
   * without one use the default connector their source definitions carry.
   */
  connectors?: StreamConnector[]
  /** Schema Registry credentials and settings for Avro and Protobuf formats. */
  schemaRegistry?: SchemaRegistryRuntimeOptions
}

/** The connector of a source kind: the config's, else none. */
export function configuredConnector(
  config: Pick<LarderConfig, 'streams'>,
  kind: string,
): StreamConnector | undefined {
  return config.streams?.connectors?.find((c) => c.kind === kind)
}

/** The configuration of a feature repo (`larder.config.ts`). */
export interface LarderConfig {
  /** Project name: namespaces online keys and tables. Letters, digits, underscores. */
  project: string
  /**
   * Where the registry lives: a file path relative to the repo, a URL (`s3://bucket/key`,
   * `gs://bucket/key`, `postgres://user@host/db`, each needing its package:
   * @larder/registry-s3, -gcs, -postgres), or a registry store object (`s3Registry({...})`).
   * @default 'data/registry.json'
   */
  registry?: RegistrySetting
  offlineStore: OfflineStore
  onlineStore: OnlineStore
  /**
   * Stream settings that must never go into the registry: connectors with credentials,
   * SASL/TLS or a client instance, and Schema Registry credentials.
   */
  streams?: StreamConfig
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
  if (
    c.registry !== undefined &&
    !isRegistryStore(c.registry) &&
    (typeof c.registry !== 'string' || c.registry === '')
  ) {
    throw fail(
      'registry must be a file path, a registry URL or a registry store',
      "e.g. registry: 'data/registry.json', 's3://bucket/registry.json' or s3Registry({...})",
    )
  }
  const offline = c.offlineStore as Partial<OfflineStore> | undefined
  if (!offline || typeof offline.getHistoricalFeatures !== 'function') {
    throw fail(
      'offlineStore is missing or not an offline store',
      'e.g. offlineStore: fileOfflineStore() from @larder/file',
    )
  }
  if (c.streams !== undefined) {
    const streams = c.streams as Partial<StreamConfig> | null
    if (!streams || typeof streams !== 'object' || Array.isArray(streams))
      throw fail('streams must be an object, e.g. { connectors: [kafkaConnector({ ... })] }')
    if (streams.connectors !== undefined) {
      if (!Array.isArray(streams.connectors))
        throw fail('streams.connectors must be a list, e.g. [kafkaConnector({ ... })]')
      const kinds = new Set<string>()
      streams.connectors.forEach((connector, i) => {
        const k = connector as Partial<StreamConnector> | undefined
        if (!k || typeof k.kind !== 'string' || typeof k.createConsumer !== 'function')
          throw fail(
            `streams.connectors[${i}] is not a stream connector`,
            'e.g. kafkaConnector({ ... }) from @larder/kafka',
          )
        if (kinds.has(k.kind))
          throw fail(`streams.connectors has two connectors for '${k.kind}' sources`)
        kinds.add(k.kind)
      })
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
