export * from './bigquery/index.js'
export * from './gcs/index.js'
export * from './kafka/index.js'
export * from './kinesis/index.js'
export {
  type RedshiftEmulator,
  type RedshiftEmulatorOptions,
  startRedshiftEmulator,
} from './redshift/index.js'
export * from './s3/index.js'
export * from './schema-registry/index.js'
export * from './snowflake/index.js'
export { recordOutboundConnections } from './warehouse/loopback-guard.js'
