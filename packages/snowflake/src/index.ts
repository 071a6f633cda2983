/**
 * @larder/snowflake: a Snowflake source and offline store; the point-in-time join, pulls and
 * offline writes run in Snowflake.
 * @packageDocumentation
 */
export {
  SNOWFLAKE_MAX_IDENTIFIER,
  snowflakeDialect,
  snowflakeStringLiteral,
} from './snowflake-dialect.js'
export {
  SnowflakeOfflineStore,
  type SnowflakeOfflineStoreOptions,
  snowflakeOfflineStore,
} from './snowflake-offline-store.js'
export {
  type SnowflakeSourceOptions,
  type SnowflakeSourceSpec,
  snowflakeSource,
  snowflakeSourceKind,
  sourceTableParts,
} from './snowflake-source.js'
