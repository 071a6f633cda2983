// The SQL compiler of the point-in-time join, its dialect contract and the PostgreSQL dialect.
export {
  type CompiledSql,
  compilePointInTimeSql,
  compilePullSql,
  type PointInTimeSqlInputs,
  type PullSqlInputs,
  relationParts,
  relationSql,
  type SqlRelation,
} from './compile.js'
export {
  type AsofJoinSpec,
  ansiStringLiteral,
  checkIdentifier,
  isoDate,
  isoMicros,
  parseRelationName,
  quoteAnsiIdentifier,
  quoteRelationName,
  type SqlDialect,
} from './dialect.js'
export * from './offline-store-base.js'
export { postgresDialect } from './postgres-dialect.js'
export { checkTableOrQuery, sourceSpecFrom } from './table-source.js'
