// The SQL compiler of the point-in-time join, its dialect contract and the PostgreSQL dialect.
export {
  type CompiledSql,
  compilePointInTimeSql,
  compilePullSql,
  type PointInTimeSqlInputs,
  type PullSqlInputs,
  type SqlRelation,
} from './compile.js'
export {
  type AsofJoinSpec,
  ansiStringLiteral,
  checkIdentifier,
  isoMicros,
  quoteAnsiIdentifier,
  type SqlDialect,
} from './dialect.js'
export { postgresDialect } from './postgres-dialect.js'
