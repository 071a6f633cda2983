/**
 * Historical retrieval in the facade: entity input normalization, planning, running the
 * offline store's join, then on-demand views over the joined result.
 */
import { extname } from 'node:path'
import * as arrow from 'apache-arrow'
import { type OfflineStore, type RetrievalJob, retrievalJobStream } from './contracts.js'
import { retrievalChannel, traced } from './diagnostics.js'
import { LarderError } from './errors.js'
import {
  applyOnDemand,
  type OnDemandInput,
  type OnDemandTransforms,
  onDemandTransform,
} from './on-demand.js'
import { planHistoricalRetrieval } from './pit/plan.js'
import { type RegistryIndex, resolveRefs } from './refs.js'
import type { EntityTable, RetrievalPlan } from './retrieval.js'
import { batchSourceOf, type ProjectionSpec } from './spec.js'
import { parseRelationName } from './sql/dialect.js'
import { fromArrowType, type ValueTypeName } from './types.js'
import { coerceValue, readColumn, tableToRows, toArrowVector } from './values.js'

/**
 * An entity table as users give it: row objects, an Arrow table, a Parquet/CSV file, a SQL
 * query or a table of the offline store's database (`'dataset.labels'` or its parts), the
 * last three for stores that declare it (`fileEntityTable`, `sqlEntityTable`,
 * `tableEntityTable`).
 */
export type EntityInput =
  | arrow.Table
  | ReadonlyArray<Record<string, unknown>>
  | { path: string; format?: 'parquet' | 'csv' }
  | { sql: string }
  | { table: string | readonly string[] }

/** Input of `getHistoricalFeatures`. */
export interface HistoricalFeaturesRequest {
  /** Label rows: row objects, an Arrow table, a Parquet/CSV file, or SQL (warehouse stores). */
  entityDf: EntityInput
  features?: readonly string[]
  featureService?: string
  fullFeatureNames?: boolean
  /** The entity timestamp column when it is neither `event_timestamp` nor the only timestamp column. */
  entityTimestampColumn?: string
  /** Cancels the retrieval (see `RunOptions.signal`). */
  signal?: AbortSignal
}

function inferType(name: string, values: readonly unknown[]): ValueTypeName {
  let type: ValueTypeName | undefined
  const widen = (t: ValueTypeName) => {
    if (type === undefined || type === t) type = t
    else if ((type === 'int64' && t === 'float64') || (type === 'float64' && t === 'int64'))
      type = 'float64'
    else
      throw new LarderError(
        'INVALID_INPUT',
        `entity column '${name}' mixes ${type} and ${t} values`,
      )
  }
  for (const v of values) {
    if (v === null || v === undefined) continue
    if (typeof v === 'bigint') widen('int64')
    else if (typeof v === 'number') widen(Number.isInteger(v) ? 'int64' : 'float64')
    else if (typeof v === 'boolean') widen('bool')
    else if (v instanceof Date) widen('timestamp')
    else if (v instanceof Uint8Array) widen('bytes')
    else if (typeof v === 'string') widen(name === 'event_timestamp' ? 'timestamp' : 'string')
    else
      throw new LarderError(
        'INVALID_INPUT',
        `entity column '${name}' has a value of unsupported type ${typeof v}`,
      )
  }
  return type ?? 'string'
}

/**
 * Converts row objects to an Arrow table. A column with a declared type (request data of an
 * on-demand view) gets that type; the others are inferred from their values (int64 for whole
 * numbers, float64 otherwise, timestamps for Dates).
 */
export function rowsToTable(
  rows: ReadonlyArray<Record<string, unknown>>,
  declared: ReadonlyMap<string, ValueTypeName> = new Map(),
): arrow.Table {
  const names: string[] = []
  for (const r of rows) for (const k of Object.keys(r)) if (!names.includes(k)) names.push(k)
  const vectors: Record<string, arrow.Vector> = {}
  for (const name of names) {
    const raw = rows.map((r) => r[name])
    const type = declared.get(name) ?? inferType(name, raw)
    vectors[name] = toArrowVector(
      raw.map((v, i) => coerceValue(v, type, `entity column '${name}', row ${i}`)),
      type,
    )
  }
  return new arrow.Table(vectors)
}

/**
 * Normalizes user input to the offline store's entity table form.
 * @param declared types of row-object columns that must not be inferred (request data)
 */
export function toEntityTable(
  input: EntityInput,
  declared?: ReadonlyMap<string, ValueTypeName>,
): EntityTable {
  if (input instanceof arrow.Table) return { kind: 'arrow', table: input }
  if (Array.isArray(input)) {
    if (input.length === 0) throw new LarderError('INVALID_INPUT', 'the entity table has no rows')
    return { kind: 'arrow', table: rowsToTable(input, declared) }
  }
  if ('path' in input && typeof input.path === 'string') {
    const ext = extname(input.path).toLowerCase()
    const format =
      input.format ??
      (ext === '.csv' ? 'csv' : ext === '.parquet' || ext === '.pq' ? 'parquet' : undefined)
    if (!format) {
      throw new LarderError(
        'INVALID_INPUT',
        `entity file ${input.path}: cannot tell its format from the extension`,
        {
          hint: 'use a .parquet or .csv file',
        },
      )
    }
    return { kind: 'file', path: input.path, format }
  }
  if ('sql' in input && typeof input.sql === 'string') {
    if (input.sql.trim() === '') throw new LarderError('INVALID_INPUT', 'the entity SQL is empty')
    return { kind: 'sql', sql: input.sql }
  }
  if ('table' in input && (typeof input.table === 'string' || Array.isArray(input.table))) {
    const parts =
      typeof input.table === 'string' ? parseRelationName(input.table) : [...input.table]
    if (parts.length === 0 || parts.some((p) => typeof p !== 'string' || p === '')) {
      throw new LarderError('INVALID_INPUT', 'the entity table name has an empty part')
    }
    return { kind: 'table', table: parts }
  }
  throw new LarderError(
    'INVALID_INPUT',
    'entityDf must be rows, an Arrow table, { path }, { sql } or { table }',
  )
}

const ENTITY_KINDS = {
  arrow: { label: 'rows or Arrow tables', capability: undefined },
  file: { label: 'Parquet/CSV files', capability: 'fileEntityTable' },
  sql: { label: 'SQL', capability: 'sqlEntityTable' },
  table: { label: 'table names', capability: 'tableEntityTable' },
} as const

/**
 * Checks that an offline store declares the capability an entity table's kind needs.
 * @throws LarderError UNSUPPORTED naming the store, the kind and what it accepts.
 */
export function checkEntityTableKind(store: OfflineStore, entityTable: EntityTable): void {
  const need = ENTITY_KINDS[entityTable.kind].capability
  if (need === undefined || store.capabilities[need] === true) return
  const accepted = Object.values(ENTITY_KINDS)
    .filter((k) => k.capability === undefined || store.capabilities[k.capability] === true)
    .map((k) => k.label)
  throw new LarderError(
    'UNSUPPORTED',
    `offline store '${store.name}' does not accept entity tables given as ${ENTITY_KINDS[entityTable.kind].label}; it accepts ${accepted.join(', ')}`,
    { hint: `pass the entity table as ${accepted.join(' or ')}` },
  )
}

/** The result of `getHistoricalFeatures`: the offline join, then on-demand views. */
/**
 * A running or finished historical retrieval. `Row` is the row type of `toRows()`: typed by
 * the references on a typed store (`store.typed<typeof defs>()`), loose otherwise.
 */
export class HistoricalRetrievalJob<Row extends Record<string, unknown> = Record<string, unknown>>
  implements RetrievalJob
{
  readonly plan: RetrievalPlan
  private readonly inner: RetrievalJob
  private readonly finish: (table: arrow.Table) => arrow.Table
  private readonly hasOnDemand: boolean
  private readonly finishIsIdentity: boolean

  constructor(
    plan: RetrievalPlan,
    inner: RetrievalJob,
    finish: ((table: arrow.Table) => arrow.Table) | undefined,
    hasOnDemand: boolean,
  ) {
    this.plan = plan
    this.inner = inner
    this.finish = finish ?? ((table) => table)
    this.finishIsIdentity = finish === undefined
    this.hasOnDemand = hasOnDemand
  }

  /** The training set as an Arrow table. */
  async toArrow(): Promise<arrow.Table> {
    return this.finish(await this.inner.toArrow())
  }

  /** The training set as row objects (int64 as bigint, timestamps as Date). */
  async toRows(): Promise<Row[]> {
    return tableToRows(await this.toArrow()) as Row[]
  }

  /**
   * The training set as record batches: streamed from the store when no on-demand view
   * applies (and the store streams), else the batches of `toArrow()`.
   */
  async *toArrowStream(): AsyncIterable<arrow.RecordBatch> {
    if (this.finishIsIdentity) {
      yield* retrievalJobStream(this.inner)
      return
    }
    yield* (await this.toArrow()).batches
  }

  /**
   * Leaves the training set where the store computed it, as table `name` (stores that run
   * SQL in a warehouse; not after on-demand views, which run in this process).
   * @returns the table's name parts.
   */
  async toTable(name: string): Promise<string[]> {
    if (this.hasOnDemand || !this.finishIsIdentity) {
      throw new LarderError(
        'UNSUPPORTED',
        'toTable cannot keep the result in the store when on-demand views apply (they run in this process)',
        { hint: 'use toArrow() or toArrowStream() and write the result yourself' },
      )
    }
    if (!this.inner.toTable) {
      throw new LarderError('UNSUPPORTED', 'this offline store cannot leave results in a table', {
        hint: 'use toArrow(), toArrowStream() or toParquet(path)',
      })
    }
    return this.inner.toTable(name)
  }

  /** Writes the training set to Parquet (directly from the store when no on-demand view applies). */
  async toParquet(path: string): Promise<void> {
    if (!this.hasOnDemand && this.inner.toParquet) return this.inner.toParquet(path)
    throw new LarderError(
      'UNSUPPORTED',
      'writing Parquet after on-demand views is done by the CLI (toArrow + a Parquet writer)',
      {
        hint: 'use toArrow() and write it with your Parquet library, or `larder get-historical-features --output file.parquet`',
      },
    )
  }

  /** The SQL of the offline join, when the store runs SQL. */
  toSql(): string {
    if (!this.inner.toSql)
      throw new LarderError('UNSUPPORTED', 'this offline store does not run SQL')
    return this.inner.toSql()
  }
}

/**
 * Plans and runs a historical retrieval.
 */
export async function getHistoricalFeatures(
  ctx: {
    index: RegistryIndex
    offlineStore: OfflineStore
    onDemandTransforms: OnDemandTransforms
  },
  request: HistoricalFeaturesRequest,
): Promise<HistoricalRetrievalJob> {
  const refs = resolveRefs(ctx.index, request)
  // Request data has a declared type: a float64 column of whole numbers stays float64.
  const requestTypes = new Map<string, ValueTypeName>()
  for (const od of refs.onDemand)
    for (const rs of od.spec.requestSources)
      for (const field of rs.schema) requestTypes.set(field.name, field.valueType)
  const entityTable = toEntityTable(request.entityDf, requestTypes)
  checkEntityTableKind(ctx.offlineStore, entityTable)
  const signal = request.signal
  signal?.throwIfAborted()
  const runOptions = signal ? { signal } : {}
  let entityColumns: Array<{ name: string; valueType: ValueTypeName | undefined }>
  if (entityTable.kind === 'arrow') {
    entityColumns = entityTable.table.schema.fields.map((f) => ({
      name: f.name,
      valueType: fromArrowType(f.type),
    }))
  } else {
    if (!ctx.offlineStore.entityTableSchema) {
      throw new LarderError(
        'INTERNAL',
        `offline store '${ctx.offlineStore.name}' declares ${ENTITY_KINDS[entityTable.kind].capability} but has no entityTableSchema`,
      )
    }
    const schema = await ctx.offlineStore.entityTableSchema(entityTable, runOptions)
    entityColumns = schema.map((c) => ({ name: c.name, valueType: c.valueType }))
  }
  // Views keyed for the planner, with their offline (batch) sources.
  const views = new Map(
    [...ctx.index.views].map(([name, v]) => [name, { ...v, source: batchSourceOf(v.source) }]),
  )
  const projections: ProjectionSpec[] = [...refs.projections, ...refs.hidden]
  const planArgs = {
    features: projections,
    views,
    entities: ctx.index.entities,
    entityColumns,
    fullFeatureNames: request.fullFeatureNames ?? false,
    ...(request.entityTimestampColumn !== undefined
      ? { entityTimestampColumn: request.entityTimestampColumn }
      : {}),
  }
  const plan = planHistoricalRetrieval(planArgs)
  // Request data of on-demand views comes from entity columns: check before the join.
  for (const od of refs.onDemand) {
    for (const rs of od.spec.requestSources) {
      for (const field of rs.schema) {
        if (!entityColumns.some((c) => c.name === field.name)) {
          throw new LarderError(
            'INVALID_INPUT',
            `the entity table has no column '${field.name}', request data of on-demand feature view '${od.spec.name}'`,
          )
        }
      }
    }
    onDemandTransform(ctx.onDemandTransforms, od.spec)
  }
  const store = ctx.offlineStore
  const retrieve = () => store.getHistoricalFeatures(entityTable, plan, runOptions)
  const job = await traced(
    retrievalChannel,
    {
      store,
      views: [...new Set(plan.views.map((v) => v.view.name))],
      entityRows: entityTable.kind === 'arrow' ? entityTable.table.numRows : undefined,
    },
    retrieve,
  )
  // Outputs by reference; those nobody asked for are on-demand inputs, dropped at the end.
  const byRef = new Map(plan.views.flatMap((v) => v.features.map((f) => [f.ref, f] as const)))
  const requestedRefs = new Set(
    refs.order
      .filter((o) => o.kind === 'view')
      .map((o) => {
        const p = refs.projections[o.index]!
        return `${p.name ?? p.view}:${o.feature}`
      }),
  )
  const hiddenOutputs = new Set(
    [...byRef].filter(([ref]) => !requestedRefs.has(ref)).map(([, f]) => f.outputName),
  )
  const full = request.fullFeatureNames ?? false
  const finish = (table: arrow.Table): arrow.Table => {
    const n = table.numRows
    const extra = new Map<string, arrow.Vector>()
    for (const od of refs.onDemand) {
      const inputs: OnDemandInput[] = []
      for (const src of od.spec.sources) {
        const pv =
          plan.views.find((v) => v.view.name === src.view && v.projectionName === src.view) ??
          plan.views.find((v) => v.view.name === src.view)
        for (const f of pv?.features ?? []) {
          const vec = table.getChild(f.outputName)
          if (vec) {
            const values = readColumn(vec, f.valueType, f.outputName)
            inputs.push({ name: f.feature, valueType: f.valueType, values })
          }
        }
      }
      for (const rs of od.spec.requestSources) {
        for (const field of rs.schema) {
          const values = readColumn(table.getChild(field.name)!, field.valueType, field.name)
          inputs.push({ name: field.name, valueType: field.valueType, values })
        }
      }
      const result = applyOnDemand(ctx.onDemandTransforms, od.spec, inputs, od.features, n)
      for (const f of od.features) {
        const name = full ? `${od.projectionName}__${f.name}` : f.name
        if (extra.has(name) || (table.getChild(name) && !hiddenOutputs.has(name))) {
          throw new LarderError('INVALID_INPUT', `two outputs would be named '${name}'`, {
            hint: 'use full feature names',
          })
        }
        extra.set(name, toArrowVector(result.get(f.name)!, f.valueType))
      }
    }
    // Final order: entity columns, then features in request order.
    const vectors: Record<string, arrow.Vector> = {}
    for (const c of plan.entityColumns) vectors[c] = table.getChild(c)!
    for (const o of refs.order) {
      if (o.kind === 'view') {
        const p = refs.projections[o.index]!
        const f = byRef.get(`${p.name ?? p.view}:${o.feature}`)!
        vectors[f.outputName] = table.getChild(f.outputName)!
      } else {
        const od = refs.onDemand[o.index]!
        const name = full ? `${od.projectionName}__${o.feature}` : o.feature
        vectors[name] = extra.get(name)!
      }
    }
    return new arrow.Table(vectors)
  }
  const identity = refs.onDemand.length === 0 && hiddenOutputs.size === 0
  return new HistoricalRetrievalJob(
    plan,
    job,
    identity ? undefined : finish,
    refs.onDemand.length > 0,
  )
}
