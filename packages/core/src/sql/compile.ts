/**
 * The SQL compiler: turns a point-in-time plan into one query per dialect, so that
 * warehouse backends run the join where the data lives, with the answer of the in-memory
 * engine (SEMANTICS.md, "Point-in-time join").
 *
 * Portable strategy, per view: a range join of the entity rows with the source rows of the
 * same keys and `T - ttl <= event_ts <= T`, ranked by `ROW_NUMBER() OVER (PARTITION BY
 * entity row ORDER BY event_ts DESC, created_ts DESC NULLS LAST)`, rank 1 kept. A dialect
 * with a native ASOF join (DuckDB) gets the views chained as `entity ASOF LEFT JOIN source`
 * in one FROM clause instead (a source with a created column first deduplicated to one row
 * per (keys, event_ts) by it), with the TTL checked on the matched row. Entity rows are numbered first and the result is ordered by
 * that number. Every identifier is quoted and checked; user names never appear unquoted.
 */
import type { EpochMicros } from '../duration.js'
import { LarderError } from '../errors.js'
import type { PlannedView, RetrievalPlan } from '../retrieval.js'
import { createdName, type SourceSpec, sourceColumn, timestampName } from '../spec.js'
import type { ValueTypeName } from '../types.js'
import { isoDate, isoMicros, quoteRelationName, type SqlDialect } from './dialect.js'

/**
 * A relation: a table name, or a SQL query. `table` is one identifier (dots are not split)
 * or its parts (`['project', 'dataset', 'table']`, `['db', 'schema', 'table']`), quoted
 * part by part by the dialect; `schema` is a shorthand for `[schema, table]`.
 */
export type SqlRelation = { table: string | readonly string[]; schema?: string } | { sql: string }

/** The parts of a table relation (`schema` first when given). */
export function relationParts(rel: {
  table: string | readonly string[]
  schema?: string
}): string[] {
  const parts = typeof rel.table === 'string' ? [rel.table] : [...rel.table]
  return rel.schema === undefined ? parts : [rel.schema, ...parts]
}

/** Collects the parameters of a query: placeholders when the dialect has them, else literals. */
class Params {
  readonly values: unknown[] = []
  constructor(private readonly dialect: SqlDialect) {}
  /** A timestamp bound: `CAST(<placeholder> AS <timestamp type>)` or a literal. */
  timestamp(micros: EpochMicros): string {
    const d = this.dialect
    if (!d.placeholder) return d.timestampLiteral(micros)
    this.values.push(isoMicros(micros))
    return `CAST(${d.placeholder(this.values.length)} AS ${d.typeName('timestamp')})`
  }
  /** A date bound for a partition column (always a literal: warehouses prune on constants). */
  date(micros: EpochMicros): string {
    const text = isoDate(micros)
    return this.dialect.dateLiteral
      ? this.dialect.dateLiteral(text)
      : this.dialect.stringLiteral(text)
  }
}

/**
 * The filters that keep a source's reads within `[start, end]` (inclusive; `start`
 * undefined: no lower bound): on the event timestamp, and on the `datePartitionColumn` when
 * the source has one, so that warehouses prune partitions.
 */
function timeFilters(
  source: SourceSpec,
  tsExpr: string,
  start: EpochMicros | undefined,
  end: EpochMicros,
  params: Params,
  dialect: SqlDialect,
): string[] {
  const out: string[] = []
  if (start !== undefined) out.push(`${tsExpr} >= ${params.timestamp(start)}`)
  out.push(`${tsExpr} <= ${params.timestamp(end)}`)
  const part = source.datePartitionColumn
  if (part !== undefined) {
    const col = dialect.quoteIdentifier(part)
    if (start !== undefined) out.push(`${col} >= ${params.date(start)}`)
    out.push(`${col} <= ${params.date(end)}`)
  }
  return out
}

/** Inputs of {@link compilePointInTimeSql}. */
export interface PointInTimeSqlInputs {
  /**
   * The entity table. `rowNumberColumn` names a column holding the input order (it is not
   * returned); without it rows are numbered with `ROW_NUMBER() OVER ()`, which keeps the
   * scan order on single-node engines but is not guaranteed by SQL.
   */
  entity: SqlRelation & { rowNumberColumn?: string }
  /** The relation holding a view's source rows (source column names). */
  sources: (view: PlannedView) => SqlRelation
  /**
   * The least and greatest entity timestamp, when known: each source read is then limited
   * to `[min - ttl, max]` (no lower bound when the TTL is 0), on the event timestamp and on
   * the source's `datePartitionColumn` (partition pruning).
   */
  entityTimeRange?: { min: EpochMicros; max: EpochMicros }
}

/** A compiled query and its parameters (bound with the dialect's placeholders). */
export interface CompiledSql {
  sql: string
  params: unknown[]
}

/** The FROM text of a relation: a parenthesized query or a quoted (multi-part) name. */
export function relationSql(rel: SqlRelation, d: SqlDialect): string {
  if ('sql' in rel) return `(${rel.sql})`
  return quoteRelationName(d, relationParts(rel))
}

function ttlMicros(pv: PlannedView): bigint {
  const ttl = pv.ttlSeconds
  if (!Number.isFinite(ttl) || ttl < 0) {
    throw new LarderError(
      'INVALID_DEFINITION',
      `feature view '${pv.view.name}' has an invalid TTL ${ttl}`,
      {
        component: 'sql',
      },
    )
  }
  return BigInt(Math.round(ttl * 1e6))
}

/**
 * Compiles a point-in-time plan to one query. Output columns: `plan.outputColumns`, entity
 * columns as they are, features cast to the dialect type of their value type, in entity-row
 * order.
 *
 * @example
 * const { sql, params } = compilePointInTimeSql(plan, {
 *   entity: { table: 'entity_rows' },
 *   sources: (pv) => ({ table: pv.view.source.table as string }),
 * }, postgresDialect)
 */
export function compilePointInTimeSql(
  plan: RetrievalPlan,
  inputs: PointInTimeSqlInputs,
  dialect: SqlDialect,
): CompiledSql {
  const q = (name: string) => dialect.quoteIdentifier(name)
  const entityCols = plan.entityColumns
  const entityIndex = new Map(entityCols.map((c, i) => [c, i]))
  const ecol = (name: string): string => {
    const i = entityIndex.get(name)
    if (i === undefined) {
      throw new LarderError('INVALID_INPUT', `entity table has no column '${name}'`, {
        component: 'sql',
      })
    }
    return q(`__e${i}`)
  }
  for (const c of entityCols) q(c) // check every name early
  const ROW = q('__larder_row')
  const T = ecol(plan.entityTimestampColumn)
  const ctes: string[] = []
  const params = new Params(dialect)
  const range = inputs.entityTimeRange

  const rowExpr =
    inputs.entity.rowNumberColumn !== undefined
      ? q(inputs.entity.rowNumberColumn)
      : 'ROW_NUMBER() OVER ()'
  ctes.push(
    `${q('__larder_entity')} AS (SELECT ${entityCols.map((c, i) => `${q(c)} AS ${q(`__e${i}`)}`).join(', ')}, ${rowExpr} AS ${ROW} FROM ${relationSql(inputs.entity, dialect)} AS ${q('__larder_entity_input')})`,
  )

  const finalCols: string[] = entityCols.map((c, i) => `e.${q(`__e${i}`)} AS ${q(c)}`)
  const joins: string[] = []
  const outputs = new Map<string, string>()
  // With a native ASOF join, every view is chained onto the entity rows in one FROM clause.
  let asofFrom: string | undefined = dialect.asofJoin ? `${q('__larder_entity')} AS e` : undefined

  plan.views.forEach((pv, v) => {
    const source = pv.view.source
    const srcName = q(`__larder_src${v}`)
    const viewName = q(`__larder_v${v}`)
    const alias = q(`v${v}`)
    const ts = pv.timestampColumn
    const cr = pv.createdTimestampColumn
    const col = (larderName: string) => q(sourceColumn(source as SourceSpec, larderName))
    const srcCols: string[] = [
      ...pv.joinKeys.map((k, i) => `${col(k.name)} AS ${q(`__k${i}`)}`),
      `${col(ts)} AS ${q('__ts')}`,
      ...(cr === undefined ? [] : [`${col(cr)} AS ${q('__cr')}`]),
      ...pv.features.map((f, i) => `${col(f.feature)} AS ${q(`__f${i}`)}`),
    ]
    const ttl = ttlMicros(pv)
    const where = [`${col(ts)} IS NOT NULL`]
    if (range !== undefined) {
      const lower = ttl > 0n ? range.min - ttl : undefined
      where.push(...timeFilters(source as SourceSpec, col(ts), lower, range.max, params, dialect))
    }
    ctes.push(
      `${srcName} AS (SELECT ${srcCols.join(', ')} FROM ${relationSql(inputs.sources(pv), dialect)} AS ${q('__larder_source')} WHERE ${where.join(' AND ')})`,
    )
    const keyEq = (s: string) =>
      pv.joinKeys.map((k, i): [string, string] => [
        `e.${ecol(k.entityColumn)}`,
        `${s}.${q(`__k${i}`)}`,
      ])
    const cast = (expr: string, f: PlannedView['features'][number]) =>
      `CAST(${expr} AS ${dialect.typeName(f.valueType as ValueTypeName)}) AS ${q(f.outputName)}`
    if (asofFrom !== undefined) {
      // ASOF picks, per entity row, the source row with the greatest event_ts <= T. With a
      // created column, the source is first cut to one row per (keys, event_ts): the greatest
      // created timestamp. Without one, equal event timestamps are a full tie: any row is right.
      let right = srcName
      if (cr !== undefined) {
        const part = [...pv.joinKeys.map((_, i) => q(`__k${i}`)), q('__ts')].join(', ')
        right = q(`__larder_dedup${v}`)
        ctes.push(
          `${right} AS (SELECT * FROM (SELECT *, ROW_NUMBER() OVER (PARTITION BY ${part} ORDER BY ${q('__cr')} DESC NULLS LAST) AS ${q('__larder_rn')} FROM ${srcName}) AS ${q('__larder_d')} WHERE ${q('__larder_rn')} = 1)`,
        )
      }
      const s = q(`s${v}`)
      const joined = dialect.asofJoin?.({
        left: asofFrom,
        right: `${right} AS ${s}`,
        equalities: keyEq(s),
        leftTime: `e.${T}`,
        rightTime: `${s}.${q('__ts')}`,
      })
      if (joined === undefined) {
        throw new LarderError('INTERNAL', `dialect '${dialect.name}' declined an ASOF join`, {
          component: 'sql',
        })
      }
      asofFrom = joined
      const within =
        ttl > 0n ? ` AND ${s}.${q('__ts')} >= ${dialect.subtractMicroseconds(`e.${T}`, ttl)}` : ''
      pv.features.forEach((f, i) => {
        outputs.set(
          f.outputName,
          cast(`CASE WHEN ${s}.${q('__ts')} IS NOT NULL${within} THEN ${s}.${q(`__f${i}`)} END`, f),
        )
      })
      return
    }
    const on = [
      ...keyEq('s').map(([l, r]) => `${l} = ${r}`),
      `s.${q('__ts')} <= e.${T}`,
      ...(ttl > 0n ? [`s.${q('__ts')} >= ${dialect.subtractMicroseconds(`e.${T}`, ttl)}`] : []),
    ]
    const order = `s.${q('__ts')} DESC${cr === undefined ? '' : `, s.${q('__cr')} DESC NULLS LAST`}`
    ctes.push(
      `${viewName} AS (SELECT ${ROW}, ${pv.features.map((_, i) => q(`__f${i}`)).join(', ')} FROM (SELECT e.${ROW} AS ${ROW}, ${pv.features
        .map((_, i) => `s.${q(`__f${i}`)} AS ${q(`__f${i}`)}`)
        .join(
          ', ',
        )}, ROW_NUMBER() OVER (PARTITION BY e.${ROW} ORDER BY ${order}) AS ${q('__larder_rn')} FROM ${q('__larder_entity')} AS e JOIN ${srcName} AS s ON ${on.join(' AND ')}) AS ${q('__larder_ranked')} WHERE ${q('__larder_rn')} = 1)`,
    )
    joins.push(`LEFT JOIN ${viewName} AS ${alias} ON ${alias}.${ROW} = e.${ROW}`)
    pv.features.forEach((f, i) => {
      outputs.set(f.outputName, cast(`${alias}.${q(`__f${i}`)}`, f))
    })
  })
  for (const name of plan.outputColumns.slice(entityCols.length)) {
    const expr = outputs.get(name)
    if (!expr)
      throw new LarderError('INTERNAL', `output column '${name}' is not planned`, {
        component: 'sql',
      })
    finalCols.push(expr)
  }
  const from = asofFrom ?? [`${q('__larder_entity')} AS e`, ...joins].join('\n')
  const sql = `WITH ${ctes.join(',\n')}\nSELECT ${finalCols.join(', ')}\nFROM ${from}\nORDER BY e.${ROW}`
  return { sql, params: params.values }
}

/** Inputs of {@link compilePullSql}. */
export interface PullSqlInputs {
  source: SourceSpec
  relation: SqlRelation
  /** Join keys (larder names). */
  joinKeys: string[]
  /** Features with their value types (output casts). */
  features: Array<{ name: string; valueType: ValueTypeName }>
  start: EpochMicros
  end: EpochMicros
  /** `latest`: one row per key (winner rule); `all`: every row. */
  mode: 'latest' | 'all'
}

/**
 * Compiles a materialization read (`pullLatest` / `pullAll`): join keys, features,
 * `__event_ts`, `__created_ts` (as the dialect's timestamp type) of rows with
 * `start <= event_ts <= end` (bounds inclusive, bound as parameters when the dialect has
 * placeholders), partitions pruned by `datePartitionColumn` when the source has one. With `latest`, the
 * winner per key (greatest event_ts, then created_ts, nulls lowest).
 *
 * @example
 * const { sql, params } = compilePullSql({ source, relation: { table: 'driver_stats' }, joinKeys: ['driver_id'],
 *   features: [{ name: 'trips', valueType: 'int64' }], start, end, mode: 'latest' }, postgresDialect)
 */
export function compilePullSql(inputs: PullSqlInputs, dialect: SqlDialect): CompiledSql {
  const q = (name: string) => dialect.quoteIdentifier(name)
  const { source } = inputs
  const ts = timestampName(source)
  if (ts === undefined) {
    throw new LarderError('INVALID_DEFINITION', `source '${source.name}' has no timestampField`, {
      component: 'sql',
    })
  }
  const cr = createdName(source)
  const col = (name: string) => q(sourceColumn(source, name))
  const cols = [
    ...inputs.joinKeys.map((k) => `${col(k)} AS ${q(k)}`),
    ...inputs.features.map(
      (f) => `CAST(${col(f.name)} AS ${dialect.typeName(f.valueType)}) AS ${q(f.name)}`,
    ),
    `CAST(${col(ts)} AS ${dialect.typeName('timestamp')}) AS ${q('__event_ts')}`,
    `${cr === undefined ? 'CAST(NULL' : `CAST(${col(cr)}`} AS ${dialect.typeName('timestamp')}) AS ${q('__created_ts')}`,
  ]
  const params = new Params(dialect)
  const where = timeFilters(source, col(ts), inputs.start, inputs.end, params, dialect)
  const base = `SELECT ${cols.join(', ')} FROM ${relationSql(inputs.relation, dialect)} AS ${q('__larder_source')} WHERE ${where.join(' AND ')}`
  if (inputs.mode === 'all') return { sql: base, params: params.values }
  const part =
    inputs.joinKeys.length === 0 ? '' : `PARTITION BY ${inputs.joinKeys.map(q).join(', ')} `
  const names = [
    ...inputs.joinKeys,
    ...inputs.features.map((f) => f.name),
    '__event_ts',
    '__created_ts',
  ].map(q)
  const sql = `SELECT ${names.join(', ')} FROM (SELECT *, ROW_NUMBER() OVER (${part}ORDER BY ${q('__event_ts')} DESC, ${q('__created_ts')} DESC NULLS LAST) AS ${q('__larder_rn')} FROM (${base}) AS ${q('__larder_rows')}) AS ${q('__larder_ranked')} WHERE ${q('__larder_rn')} = 1`
  return { sql, params: params.values }
}
