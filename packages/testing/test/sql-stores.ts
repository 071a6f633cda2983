/**
 * Test-only offline stores that run core's compiled SQL on DuckDB (in-process) and on
 * PostgreSQL, so that the SQL compiler goes through the offline conformance suite.
 * Tables are loaded with literal INSERTs (the cases are small).
 */
import {
  compilePointInTimeSql,
  compilePullSql,
  type EntityTable,
  fromArrowType,
  LarderError,
  OfflineStoreBase,
  type PullRequest,
  parseTime,
  type RetrievalJob,
  type RetrievalPlan,
  type SourceSchema,
  type SourceSpec,
  type SqlDialect,
  tableToRows,
  type ValueTypeName,
} from '@larder/core'
import * as arrow from 'apache-arrow'
import { literalVector, tableCells } from '../src/index.js'

/** Runs SQL; `query` returns rows of plain values (int64 bigint, instants as micros bigint). */
export interface SqlRunner {
  exec(sql: string): Promise<void>
  query(sql: string, timestampColumns: ReadonlySet<number>): Promise<unknown[][]>
}

function sqlType(type: arrow.DataType, dialect: SqlDialect): string {
  const vt = fromArrowType(type)
  if (vt === undefined) throw new Error(`no SQL type for ${String(type)}`)
  return dialect.typeName(vt)
}

function literal(value: unknown, type: ValueTypeName, dialect: SqlDialect): string {
  const t = dialect.typeName(type)
  if (value === null || value === undefined) return `CAST(NULL AS ${t})`
  if (type === 'timestamp') return dialect.timestampLiteral(BigInt(value as bigint))
  if (type === 'bool') return value ? 'TRUE' : 'FALSE'
  if (type === 'string') return dialect.stringLiteral(value as string)
  if (type === 'int32' || type === 'int64' || type === 'float32' || type === 'float64') {
    return `CAST(${dialect.stringLiteral(String(value))} AS ${t})`
  }
  throw new Error(`no literal for ${type}`)
}

/** The values of a table's column as plain values, instants as epoch micros. */
function columnValues(table: arrow.Table, c: number): unknown[] {
  const field = table.schema.fields[c] as arrow.Field
  const cells = tableCells(new arrow.Table({ [field.name]: table.getChildAt(c) as arrow.Vector }))
  return cells.map(([v]) => {
    if (v === null || v === undefined) return null
    if (fromArrowType(field.type) === 'timestamp') {
      return parseTime(v as string)
    }
    return v
  })
}

/** A store whose sources are tables of one SQL database, joined by the compiled SQL. */
export class SqlTestStore extends OfflineStoreBase {
  readonly sourceKinds = ['sqltest']
  private tableCount = 0

  constructor(
    readonly name: string,
    private readonly runner: SqlRunner,
    private readonly dialect: SqlDialect,
  ) {
    super()
  }

  /** Creates `name` with the table's columns and rows; `rowColumn` adds the row number. */
  async loadTable(name: string, table: arrow.Table, rowColumn?: string): Promise<void> {
    const d = this.dialect
    const fields = table.schema.fields
    const cols = fields.map((f) => `${d.quoteIdentifier(f.name)} ${sqlType(f.type, d)}`)
    if (rowColumn) cols.push(`${d.quoteIdentifier(rowColumn)} BIGINT`)
    await this.runner.exec(`CREATE TABLE ${d.quoteIdentifier(name)} (${cols.join(', ')})`)
    if (table.numRows === 0) return
    const values = fields.map((_, c) => columnValues(table, c))
    const rows: string[] = []
    for (let r = 0; r < table.numRows; r++) {
      const cells = fields.map((f, c) =>
        literal(values[c]?.[r], fromArrowType(f.type) as ValueTypeName, d),
      )
      if (rowColumn) cells.push(String(r + 1))
      rows.push(`(${cells.join(', ')})`)
    }
    await this.runner.exec(`INSERT INTO ${d.quoteIdentifier(name)} VALUES ${rows.join(', ')}`)
  }

  private async toTable(
    sql: string,
    columns: Array<{ name: string; valueType: ValueTypeName }>,
  ): Promise<arrow.Table> {
    const ts = new Set(columns.flatMap((c, i) => (c.valueType === 'timestamp' ? [i] : [])))
    const rows = await this.runner.query(sql, ts)
    const record: Record<string, arrow.Vector> = {}
    columns.forEach((c, i) => {
      record[c.name] = literalVector(
        c.valueType,
        rows.map((r) => r[i]),
      )
    })
    return new arrow.Table(record)
  }

  async getHistoricalFeatures(entity: EntityTable, plan: RetrievalPlan): Promise<RetrievalJob> {
    if (entity.kind !== 'arrow') throw new LarderError('UNSUPPORTED', 'arrow entity tables only')
    const entityName = `entity_${this.name}_${++this.tableCount}`
    await this.loadTable(entityName, entity.table, '__rowid')
    const { sql } = compilePointInTimeSql(
      plan,
      {
        entity: { table: entityName, rowNumberColumn: '__rowid' },
        sources: (pv) => ({ table: pv.view.source.table as string }),
      },
      this.dialect,
    )
    const types = new Map<string, ValueTypeName>()
    for (const f of entity.table.schema.fields)
      types.set(f.name, fromArrowType(f.type) as ValueTypeName)
    for (const pv of plan.views) for (const f of pv.features) types.set(f.outputName, f.valueType)
    const table = await this.toTable(
      sql,
      plan.outputColumns.map((name) => ({ name, valueType: types.get(name) as ValueTypeName })),
    )
    return { toArrow: async () => table, toRows: async () => tableToRows(table), toSql: () => sql }
  }

  private async *pull(
    request: PullRequest,
    mode: 'latest' | 'all',
  ): AsyncIterable<arrow.RecordBatch> {
    const source = request.view.source
    const features = request.features.map((name) => ({
      name,
      valueType: request.view.features.find((f) => f.name === name)?.valueType as ValueTypeName,
    }))
    const { sql } = compilePullSql(
      {
        source,
        relation: { table: source.table as string },
        joinKeys: request.joinKeys,
        features,
        start: request.start,
        end: request.end,
        mode,
      },
      this.dialect,
    )
    const keyTypes = (source.keyTypes ?? {}) as Record<string, ValueTypeName>
    const table = await this.toTable(sql, [
      ...request.joinKeys.map((k) => ({ name: k, valueType: keyTypes[k] ?? 'int64' })),
      ...features,
      { name: '__event_ts', valueType: 'timestamp' },
      { name: '__created_ts', valueType: 'timestamp' },
    ])
    yield* table.batches
  }

  pullLatest(request: PullRequest): AsyncIterable<arrow.RecordBatch> {
    return this.pull(request, 'latest')
  }

  pullAll(request: PullRequest): AsyncIterable<arrow.RecordBatch> {
    return this.pull(request, 'all')
  }

  async sourceSchema(_source: SourceSpec): Promise<SourceSchema> {
    throw new LarderError('UNSUPPORTED', 'not needed by the tests')
  }

  async close(): Promise<void> {}
}
