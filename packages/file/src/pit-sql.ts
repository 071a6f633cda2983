/**
 * The point-in-time join of a retrieval plan as one DuckDB query: the entity relation
 * ASOF-LEFT-JOINed to each view's source (greatest event_ts <= entity ts, same join keys),
 * ties on event_ts broken by the greatest created_ts, features nulled outside the TTL.
 */
import { type PlannedView, type RetrievalPlan, sourceColumn } from '@larder/core'
import { sqlTypeOf } from './duck-types.js'
import { ident } from './sql.js'

/** Name of the row-order column the entity relation must carry. */
export const ROW_COLUMN = '__larder_row'
const ENTITY_TS = '__larder_ts'
const ENTITY_ORD = '__larder_ord'

/** 2^64: event_ts and created_ts pack into one HUGEINT ordering key (ts * 2^64 + created). */
const TWO_64 = '18446744073709551616::HUGEINT'
const TWO_63 = '9223372036854775808::HUGEINT'

/** Everything the query needs besides the plan. */
export interface PitSqlInput {
  /** A relation with the entity columns and {@link ROW_COLUMN} (input order). */
  entityRelation: string
  /** The relation reading a view's source (source column names). */
  sourceRelation(view: PlannedView): string
}

/** The output columns of the query besides {@link ROW_COLUMN}: entity columns, then features. */
export interface PitSqlOutput {
  sql: string
  /** Output feature columns in order, with their Larder value types. */
  features: Array<{ name: string; valueType: PlannedView['features'][number]['valueType'] }>
}

function viewSource(view: PlannedView, alias: string, sourceRelation: string): string {
  const source = view.view.source
  const ts = ident(sourceColumn(source, view.timestampColumn))
  const cols: string[] = view.joinKeys.map(
    (k, j) => `${ident(sourceColumn(source, k.name))} AS ${ident(`__k${j}`)}`,
  )
  cols.push(`CAST(${ts} AS TIMESTAMPTZ) AS "__ts"`)
  if (view.createdTimestampColumn !== undefined) {
    const created = ident(sourceColumn(source, view.createdTimestampColumn))
    cols.push(
      `epoch_us(CAST(${ts} AS TIMESTAMPTZ))::HUGEINT * ${TWO_64} + ` +
        `COALESCE(epoch_us(CAST(${created} AS TIMESTAMPTZ))::HUGEINT + ${TWO_63}, 0::HUGEINT) AS "__ord"`,
    )
  }
  view.features.forEach((f, k) => {
    cols.push(
      `CAST(${ident(sourceColumn(source, f.feature))} AS ${sqlTypeOf(f.valueType)}) AS ${ident(`__f${k}`)}`,
    )
  })
  return `(SELECT ${cols.join(', ')} FROM ${sourceRelation} WHERE ${ts} IS NOT NULL) AS ${alias}`
}

/**
 * Compiles a plan to DuckDB SQL over the given relations. The result has {@link ROW_COLUMN},
 * the entity columns and the features (view schema types), unordered: callers add
 * `ORDER BY "__larder_row"`.
 */
export function pointInTimeSql(plan: RetrievalPlan, input: PitSqlInput): PitSqlOutput {
  const entityTs = `CAST(${ident(plan.entityTimestampColumn)} AS TIMESTAMPTZ)`
  const needsOrd = plan.views.some((v) => v.createdTimestampColumn !== undefined)
  const entityCols = [`*`, `${entityTs} AS ${ident(ENTITY_TS)}`]
  if (needsOrd) {
    entityCols.push(
      `epoch_us(${entityTs})::HUGEINT * ${TWO_64} + (${TWO_64} - 1) AS ${ident(ENTITY_ORD)}`,
    )
  }
  let from = `(SELECT ${entityCols.join(', ')} FROM ${input.entityRelation}) AS e`
  const featureExpr = new Map<
    string,
    { expr: string; valueType: PlannedView['features'][number]['valueType'] }
  >()
  plan.views.forEach((view, i) => {
    const alias = `v${i}`
    const on: string[] = view.joinKeys.map(
      (k, j) => `e.${ident(k.entityColumn)} = ${alias}.${ident(`__k${j}`)}`,
    )
    on.push(
      view.createdTimestampColumn !== undefined
        ? `e.${ident(ENTITY_ORD)} >= ${alias}."__ord"`
        : `e.${ident(ENTITY_TS)} >= ${alias}."__ts"`,
    )
    from += ` ASOF LEFT JOIN ${viewSource(view, alias, input.sourceRelation(view))} ON ${on.join(' AND ')}`
    const ttlMicros = Math.round(view.ttlSeconds * 1e6)
    view.features.forEach((f, k) => {
      const value = `${alias}.${ident(`__f${k}`)}`
      const expr =
        ttlMicros > 0
          ? `CASE WHEN ${alias}."__ts" >= e.${ident(ENTITY_TS)} - to_microseconds(${ttlMicros}::BIGINT) THEN ${value} END`
          : value
      featureExpr.set(f.outputName, { expr, valueType: f.valueType })
    })
  })
  const select = [`e.${ident(ROW_COLUMN)}`]
  for (const c of plan.entityColumns) select.push(`e.${ident(c)}`)
  const features: PitSqlOutput['features'] = []
  for (const name of plan.outputColumns) {
    const f = featureExpr.get(name)
    if (!f) continue
    select.push(`${f.expr} AS ${ident(name)}`)
    features.push({ name, valueType: f.valueType })
  }
  return { sql: `SELECT ${select.join(', ')} FROM ${from}`, features }
}
