/** Snowflake stand-in (snowflake-sdk protocol) backed by DuckDB (test-only). */
export { startSnowflakeEmulator } from './server.js'
export type { SnowflakeEmulator, SnowflakeEmulatorOptions } from './server.js'
export {
  SUPPORTED_FUNCTIONS as SNOWFLAKE_SUPPORTED_FUNCTIONS,
  translateSnowflake,
} from './dialect.js'
export type { SnowflakeBind, SnowflakeContext, TranslatedSnowflake } from './dialect.js'
