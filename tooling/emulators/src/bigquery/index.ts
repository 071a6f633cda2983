/** BigQuery REST API stand-in backed by DuckDB (test-only). */

export type {
  BigQueryParameter,
  TranslatedBigQuery,
  TranslateOptions as BigQueryTranslateOptions,
} from './dialect.js'
export {
  SUPPORTED_FUNCTIONS as BIGQUERY_SUPPORTED_FUNCTIONS,
  translateBigQuery,
} from './dialect.js'
export type { BigQueryEmulator, BigQueryEmulatorOptions } from './server.js'
export { startBigQueryEmulator } from './server.js'
