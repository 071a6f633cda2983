/**
 * The in-memory offline store: Arrow tables registered by name, joined by the reference
 * engine. Every other offline store is compared with it by the conformance suite.
 */
import * as arrow from 'apache-arrow'
import {
  CREATED_TS_COLUMN,
  EVENT_TS_COLUMN,
  OfflineStoreBase,
  type OfflineStoreCapabilities,
  type PullRequest,
  type RetrievalJob,
  type SourceKind,
  type SourceSchema,
} from './contracts.js'
import { LarderError } from './errors.js'
import { gatherColumn, gatherMicros, KeyEncoder, readMicros } from './pit/columns.js'
import { pointInTimeJoin } from './pit/engine.js'
import type { EntityTable, RetrievalPlan } from './retrieval.js'
import { createdName, type SourceSpec, sourceColumn, timestampName } from './spec.js'
import { fromArrowType, type ValueTypeName } from './types.js'
import { tableToRows } from './values.js'

const COMPONENT = { component: 'memory' }

/** A source read from a table registered in a {@link MemoryOfflineStore}. */
export interface MemorySourceSpec extends SourceSpec {
  kind: 'memory'
  /** The registered table's name. @default the source's name */
  table?: string
}

/** The `memory` source kind: a source names a table registered in the store (or is named after one). */
export const memorySourceKind: SourceKind<MemorySourceSpec> = {
  kind: 'memory',
  validate(spec: MemorySourceSpec): void {
    if (spec.table !== undefined && (typeof spec.table !== 'string' || spec.table === '')) {
      throw new LarderError(
        'INVALID_DEFINITION',
        `memory source '${spec.name}' has no table (the name a table was registered under)`,
        { ...COMPONENT, hint: "set table: 'driver_stats'" },
      )
    }
  },
}

function singleBatch(fields: arrow.Field[], vectors: arrow.Vector[], n: number): arrow.RecordBatch {
  const schema = new arrow.Schema(fields)
  const children = vectors.map((v) =>
    v.data.length === 1 ? (v.data[0] as arrow.Data) : arrow.vectorFromArray([...v], v.type).data[0],
  ) as arrow.Data[]
  return new arrow.RecordBatch(
    schema,
    arrow.makeData({ type: new arrow.Struct(fields), length: n, nullCount: 0, children }),
  )
}

/**
 * An {@link OfflineStore} over Arrow tables held in memory, running the reference
 * point-in-time engine. Sources are `{ kind: 'memory', name, table, timestampField, ... }`.
 *
 * @example
 * const store = memoryOfflineStore().register('driver_stats', table)
 * const source = { kind: 'memory', name: 'driver_stats', table: 'driver_stats', timestampField: 'event_timestamp' }
 */
export class MemoryOfflineStore extends OfflineStoreBase {
  readonly name = 'memory'
  override readonly capabilities: OfflineStoreCapabilities = {}
  readonly sourceKinds = [memorySourceKind]
  private readonly tables = new Map<string, arrow.Table>()

  /** Registers (or replaces) a table under `name`. Returns the store. */
  register(name: string, table: arrow.Table): this {
    this.tables.set(name, table)
    return this
  }

  private table(source: SourceSpec): arrow.Table {
    if (source.kind !== 'memory') {
      throw new LarderError(
        'UNSUPPORTED',
        `source '${source.name}' is of kind '${source.kind}'; the memory store reads 'memory' sources`,
        COMPONENT,
      )
    }
    const name = typeof source.table === 'string' ? source.table : source.name
    const table = this.tables.get(name)
    if (!table) {
      throw new LarderError(
        'NOT_FOUND',
        `no table '${name}' is registered (source '${source.name}')`,
        { ...COMPONENT, hint: 'call store.register(name, table) first' },
      )
    }
    return table
  }

  /** The source's columns `larderNames`, renamed from their source columns. */
  private columns(source: SourceSpec, larderNames: string[]): arrow.Table {
    const table = this.table(source)
    const record: Record<string, arrow.Vector> = {}
    for (const name of larderNames) {
      const col = sourceColumn(source, name)
      const vec = table.getChild(col)
      if (!vec) {
        throw new LarderError(
          'SCHEMA_MISMATCH',
          `source '${source.name}' has no column '${col}'${col === name ? '' : ` (mapped to '${name}')`}`,
          COMPONENT,
        )
      }
      record[name] = vec
    }
    return new arrow.Table(record)
  }

  async getHistoricalFeatures(
    entityTable: EntityTable,
    plan: RetrievalPlan,
  ): Promise<RetrievalJob> {
    if (entityTable.kind !== 'arrow') {
      throw new LarderError(
        'UNSUPPORTED',
        `the memory store takes entity tables as Arrow tables, got '${entityTable.kind}'`,
        COMPONENT,
      )
    }
    const viewTables = new Map<string, arrow.Table>()
    for (const pv of plan.views) {
      const names = [
        ...pv.joinKeys.map((k) => k.name),
        ...pv.features.map((f) => f.feature),
        pv.timestampColumn,
        ...(pv.createdTimestampColumn === undefined ? [] : [pv.createdTimestampColumn]),
      ]
      viewTables.set(pv.projectionName, this.columns(pv.view.source, [...new Set(names)]))
    }
    const result = pointInTimeJoin(entityTable.table, plan, viewTables)
    return {
      toArrow: async () => result,
      toRows: async () => tableToRows(result),
    }
  }

  private pull(request: PullRequest, latest: boolean): arrow.RecordBatch {
    const source = request.view.source
    const ts = timestampName(source)
    if (ts === undefined) {
      throw new LarderError(
        'INVALID_DEFINITION',
        `source '${source.name}' of feature view '${request.view.name}' has no timestampField`,
        COMPONENT,
      )
    }
    const cr = createdName(source)
    const names = [...new Set([...request.joinKeys, ...request.features, ts, ...(cr ? [cr] : [])])]
    const table = this.columns(source, names)
    const n = table.numRows
    const times = readMicros(table.getChild(ts) as arrow.Vector, `timestamp of '${source.name}'`)
    const created = cr
      ? readMicros(table.getChild(cr) as arrow.Vector, `created of '${source.name}'`)
      : undefined
    const start = Number(request.start)
    const end = Number(request.end)
    let rows: Int32Array
    if (!latest) {
      const keep: number[] = []
      for (let i = 0; i < n; i++) {
        const t = times[i] as number
        if (t >= start && t <= end) keep.push(i)
      }
      rows = Int32Array.from(keep)
    } else {
      const groups =
        request.joinKeys.length === 0
          ? new Int32Array(n)
          : new KeyEncoder(request.joinKeys.length).encode(
              request.joinKeys.map((k) => table.getChild(k) as arrow.Vector),
              true,
            )
      const best = new Map<number, number>()
      for (let i = 0; i < n; i++) {
        const t = times[i] as number
        const g = groups[i] as number
        if (!(t >= start && t <= end) || g < 0) continue
        const b = best.get(g)
        if (b === undefined) {
          best.set(g, i)
          continue
        }
        const bt = times[b] as number
        const c = created ? nz(created[i] as number) : 0
        const bc = created ? nz(created[b] as number) : 0
        if (t > bt || (t === bt && c >= bc)) best.set(g, i)
      }
      rows = Int32Array.from([...best.values()].sort((a, b) => a - b))
    }
    const fields: arrow.Field[] = []
    const vectors: arrow.Vector[] = []
    for (const k of request.joinKeys) {
      const vec = table.getChild(k) as arrow.Vector
      const vt = fromArrowType(vec.type)
      if (vt === undefined) {
        throw new LarderError(
          'SCHEMA_MISMATCH',
          `join key '${k}' has unsupported type ${String(vec.type)}`,
          COMPONENT,
        )
      }
      const out = gatherColumn(vec, rows, vt)
      fields.push(new arrow.Field(k, out.type, true))
      vectors.push(out)
    }
    for (const f of request.features) {
      const spec = request.view.features.find((x) => x.name === f)
      const vt: ValueTypeName | undefined =
        spec?.valueType ?? fromArrowType((table.getChild(f) as arrow.Vector).type)
      if (vt === undefined) {
        throw new LarderError(
          'NOT_FOUND',
          `feature view '${request.view.name}' has no feature '${f}'`,
          COMPONENT,
        )
      }
      const out = gatherColumn(table.getChild(f) as arrow.Vector, rows, vt)
      fields.push(new arrow.Field(f, out.type, true))
      vectors.push(out)
    }
    const ev = gatherColumn(table.getChild(ts) as arrow.Vector, rows, 'timestamp')
    fields.push(new arrow.Field(EVENT_TS_COLUMN, ev.type, true))
    vectors.push(ev)
    const crv = cr
      ? gatherColumn(table.getChild(cr) as arrow.Vector, rows, 'timestamp')
      : gatherMicros(new Float64Array(n).fill(Number.NaN), rows)
    fields.push(new arrow.Field(CREATED_TS_COLUMN, crv.type, true))
    vectors.push(crv)
    return singleBatch(fields, vectors, rows.length)
  }

  async *pullLatest(request: PullRequest): AsyncIterable<arrow.RecordBatch> {
    yield this.pull(request, true)
  }

  async *pullAll(request: PullRequest): AsyncIterable<arrow.RecordBatch> {
    yield this.pull(request, false)
  }

  async sourceSchema(source: SourceSpec): Promise<SourceSchema> {
    return this.table(source).schema.fields.map((f) => ({
      name: f.name,
      valueType: fromArrowType(f.type),
      rawType: String(f.type),
    }))
  }

  async close(): Promise<void> {
    this.tables.clear()
  }
}

function nz(v: number): number {
  return Number.isNaN(v) ? Number.NEGATIVE_INFINITY : v
}

/**
 * Creates an in-memory offline store, optionally with tables already registered.
 *
 * @example
 * const store = memoryOfflineStore({ driver_stats: table })
 */
export function memoryOfflineStore(tables: Record<string, arrow.Table> = {}): MemoryOfflineStore {
  const store = new MemoryOfflineStore()
  for (const [name, table] of Object.entries(tables)) store.register(name, table)
  return store
}
