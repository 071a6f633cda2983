/** Snowflake stand-in (snowflake-sdk protocol) backed by DuckDB (test-only). */

export type { SnowflakeBind, SnowflakeContext, TranslatedSnowflake } from './dialect.js'
export {
  SUPPORTED_FUNCTIONS as SNOWFLAKE_SUPPORTED_FUNCTIONS,
  translateSnowflake,
} from './dialect.js'
export type { SnowflakeEmulator, SnowflakeEmulatorOptions } from './server.js'
export { startSnowflakeEmulator } from './server.js'
