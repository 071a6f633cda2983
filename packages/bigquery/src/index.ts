/**
 * @larder/bigquery: `bigquerySource` (a table or a query) and `bigqueryOfflineStore`
 * (historical retrieval, materialization reads and offline writes run inside BigQuery).
 * @packageDocumentation
 */

export {
  BigQueryOfflineStore,
  type BigQueryOfflineStoreOptions,
  bigqueryOfflineStore,
} from './bigquery-offline-store.js'
export {
  type BigQuerySourceOptions,
  type BigQuerySourceSpec,
  bigquerySource,
  bigquerySourceKind,
  isBigQuerySource,
} from './bigquery-source.js'
export {
  BIGQUERY_MAX_COLUMN_NAME,
  bigqueryDialect,
  bigqueryStringLiteral,
  quoteBigQueryIdentifier,
} from './dialect.js'
export { BigQueryCallError } from './runner.js'
