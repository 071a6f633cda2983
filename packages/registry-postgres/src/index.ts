/**
 * @larder/registry-postgres: a Larder registry kept in a PostgreSQL table, shared by every
 * machine that applies, materializes, ingests or serves.
 * @packageDocumentation
 */
export {
  maskPostgresUrl,
  type PgQueryable,
  type PostgresRegistryOptions,
  PostgresRegistryStore,
  postgresRegistry,
  registryStore,
} from './postgres-registry.js'
