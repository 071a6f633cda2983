/**
 * @larder/redshift: a Redshift source and offline store over the Redshift Data API; the
 * point-in-time join, pulls and offline writes run in Redshift.
 * @packageDocumentation
 */
export {
  createRedshiftDataClient,
  DataApi,
  fieldValue,
  type PollOptions,
  type RedshiftDataClientLike,
  type RedshiftDataClientOptions,
  type RedshiftTarget,
} from './data-api.js'
export {
  REDSHIFT_MAX_IDENTIFIER,
  redshiftDialect,
  redshiftStringLiteral,
} from './redshift-dialect.js'
export {
  RedshiftOfflineStore,
  type RedshiftOfflineStoreOptions,
  redshiftMicros,
  redshiftOfflineStore,
} from './redshift-offline-store.js'
export {
  type RedshiftSourceOptions,
  type RedshiftSourceSpec,
  redshiftSource,
  redshiftSourceKind,
  sourceTableParts,
} from './redshift-source.js'
