/**
 * The in-memory point-in-time join engine: the reference every offline store is compared
 * with (SEMANTICS.md, "Point-in-time join").
 *
 * Per view: join keys become dense ids (a hash table over 64-bit integers or strings);
 * feature rows are bucketed by key id (counting sort) and each bucket sorted by
 * `(event_ts, created_ts, row)`; each entity row then binary-searches its bucket for the last
 * row with `event_ts <= T` and checks the TTL lower bound. Everything is typed arrays; no
 * object is allocated per row on the hot path.
 */
import * as arrow from 'apache-arrow'
import { LarderError } from '../errors.js'
import type { PlannedView, RetrievalPlan } from '../retrieval.js'
import {
  checkFeatureType,
  gatherColumn,
  isTimeType,
  KeyEncoder,
  keyKind,
  readMicros,
  toMicrosColumn,
} from './columns.js'

const COMPONENT = { component: 'pit' }

/** Sorts `ts`, `cr`, `idx` together on `[lo, hi)` by (ts, cr, idx) ascending. */
function sortRun(
  ts: Float64Array,
  cr: Float64Array | undefined,
  idx: Int32Array,
  lo: number,
  hi: number,
): void {
  const less = (a: number, b: number): boolean => {
    const ta = ts[a] as number
    const tb = ts[b] as number
    if (ta !== tb) return ta < tb
    if (cr) {
      const ca = cr[a] as number
      const cb = cr[b] as number
      if (ca !== cb) return ca < cb
    }
    return (idx[a] as number) < (idx[b] as number)
  }
  const swap = (a: number, b: number): void => {
    const t = ts[a] as number
    ts[a] = ts[b] as number
    ts[b] = t
    if (cr) {
      const c = cr[a] as number
      cr[a] = cr[b] as number
      cr[b] = c
    }
    const x = idx[a] as number
    idx[a] = idx[b] as number
    idx[b] = x
  }
  // Iterative quicksort (median of three) with insertion sort for short runs.
  const stack: number[] = [lo, hi]
  while (stack.length > 0) {
    const h = stack.pop() as number
    const l = stack.pop() as number
    if (h - l <= 16) {
      for (let i = l + 1; i < h; i++) {
        for (let j = i; j > l && less(j, j - 1); j--) swap(j, j - 1)
      }
      continue
    }
    const mid = (l + h) >> 1
    if (less(mid, l)) swap(mid, l)
    if (less(h - 1, l)) swap(h - 1, l)
    if (less(h - 1, mid)) swap(h - 1, mid)
    // pivot at h - 1 (the median of three goes there)
    swap(mid, h - 1)
    const p = h - 1
    let i = l
    for (let j = l; j < p; j++) {
      if (less(j, p)) {
        swap(i, j)
        i++
      }
    }
    swap(i, p)
    if (i - l < h - i - 1) {
      stack.push(i + 1, h, l, i)
    } else {
      stack.push(l, i, i + 1, h)
    }
  }
}

function column(table: arrow.Table, name: string, what: string): arrow.Vector {
  const vec = table.getChild(name)
  if (!vec) {
    throw new LarderError(
      'SCHEMA_MISMATCH',
      `${what} has no column '${name}' (columns: ${table.schema.fields.map((f) => `'${f.name}'`).join(', ')})`,
      COMPONENT,
    )
  }
  return vec
}

/** Checks a view table against its planned view before any work. */
function checkView(
  pv: PlannedView,
  table: arrow.Table | undefined,
  entity: arrow.Table,
): arrow.Table {
  if (!table) {
    throw new LarderError(
      'INTERNAL',
      `no table was given for feature view '${pv.projectionName}'`,
      COMPONENT,
    )
  }
  const what = `feature view '${pv.view.name}'`
  const ts = column(table, pv.timestampColumn, what)
  if (!isTimeType(ts.type)) {
    throw new LarderError(
      'SCHEMA_MISMATCH',
      `timestamp column '${pv.timestampColumn}' of ${what} has Arrow type ${String(ts.type)}, not a timestamp`,
      COMPONENT,
    )
  }
  if (pv.createdTimestampColumn !== undefined) {
    const cr = column(table, pv.createdTimestampColumn, what)
    if (!isTimeType(cr.type)) {
      throw new LarderError(
        'SCHEMA_MISMATCH',
        `created timestamp column '${pv.createdTimestampColumn}' of ${what} has Arrow type ${String(cr.type)}, not a timestamp`,
        COMPONENT,
      )
    }
  }
  for (const k of pv.joinKeys) {
    const fk = column(table, k.name, what)
    const ek = column(entity, k.entityColumn, 'the entity table')
    const a = keyKind(fk.type)
    const b = keyKind(ek.type)
    if (a === undefined || b === undefined || a !== b) {
      throw new LarderError(
        'SCHEMA_MISMATCH',
        `join key '${k.name}' of ${what} (${String(fk.type)}) cannot be compared with entity column '${k.entityColumn}' (${String(ek.type)})`,
        { ...COMPONENT, hint: 'give both the same type (integers or strings)' },
      )
    }
  }
  for (const f of pv.features) {
    checkFeatureType(
      column(table, f.feature, what).type,
      f.valueType,
      `feature '${f.feature}' of ${what}`,
    )
  }
  return table
}

/** First position in `et[lo, hi)` with `et >= t` (hi when none). */
function lowerBound(et: Float64Array, lo: number, hi: number, t: number): number {
  while (lo < hi) {
    const mid = (lo + hi) >>> 1
    if ((et[mid] as number) < t) lo = mid + 1
    else hi = mid
  }
  return lo
}

/**
 * Places each feature row (in table order) at the first entity position of its key with
 * `T >= event_ts`, keeping the greatest event_ts per position (the later row on equal ones).
 * Returns how many equal event_ts were met (ties the created timestamp must break).
 */
function placeRows(
  pRow: Int32Array,
  pTs: Float64Array,
  groups: Int32Array,
  starts: Int32Array,
  et: Float64Array,
  bestTs: Float64Array,
  bestRow: Int32Array,
): number {
  let ties = 0
  const placed = pRow.length
  for (let q = 0; q < placed; q++) {
    const t = pTs[q] as number
    if (Number.isNaN(t)) continue // null event_ts
    const r = pRow[q] as number
    const g = groups[q] as number
    const end = starts[g + 1] as number
    const p = lowerBound(et, starts[g] as number, end, t)
    if (p === end) continue
    const bt = bestTs[p] as number
    if (t < bt) continue
    if (t === bt) ties++
    bestTs[p] = t
    bestRow[p] = r
  }
  return ties
}

/** {@link placeRows} with the created-timestamp tie-break. */
function placeRowsCreated(
  pRow: Int32Array,
  pTs: Float64Array,
  groups: Int32Array,
  starts: Int32Array,
  et: Float64Array,
  bestTs: Float64Array,
  bestRow: Int32Array,
  cr: Float64Array,
): void {
  const placed = pRow.length
  for (let q = 0; q < placed; q++) {
    const t = pTs[q] as number
    if (Number.isNaN(t)) continue
    const r = pRow[q] as number
    const g = groups[q] as number
    const end = starts[g + 1] as number
    const p = lowerBound(et, starts[g] as number, end, t)
    if (p === end) continue
    const bt = bestTs[p] as number
    if (t < bt) continue
    if (t === bt && (cr[r] as number) < (cr[bestRow[p] as number] as number)) continue
    bestTs[p] = t
    bestRow[p] = r
  }
}

/**
 * For each entity row, the row of `table` that wins for view `pv` (-1 when none).
 * Ties: greatest event_ts, then greatest created_ts (null created is lowest), then the row
 * that comes last in the view table (a full tie yields that one row).
 *
 * Entity rows are sorted by (key, T); each feature row is dropped at the first entity row
 * of its key with `T >= event_ts` (binary search), keeping the best row per position; a
 * running maximum along each key's entity rows then gives every row its winner.
 */
export function winnerRows(
  entity: arrow.Table,
  entityTimes: Float64Array,
  pv: PlannedView,
  table: arrow.Table,
): Int32Array {
  const n = table.numRows
  const m = entity.numRows
  const ts = readMicros(
    column(table, pv.timestampColumn, pv.view.name),
    `timestamp of '${pv.view.name}'`,
  )
  // 1. Key ids: the entity table's keys define them; feature rows look theirs up.
  let entityGroups: Int32Array
  let groups: Int32Array
  let groupCount: number
  if (pv.joinKeys.length === 0) {
    entityGroups = new Int32Array(m)
    groups = new Int32Array(n)
    groupCount = 1
  } else {
    const encoder = new KeyEncoder(pv.joinKeys.length, Math.min(m, 1 << 20))
    entityGroups = encoder.encode(
      pv.joinKeys.map((k) => column(entity, k.entityColumn, 'the entity table')),
      true,
    )
    encoder.freeze()
    groupCount = encoder.size
    groups = encoder.encode(
      pv.joinKeys.map((k) => column(table, k.name, pv.view.name)),
      false,
    )
  }

  // 2. Entity rows sorted by (key, T): counting sort by key, then each run by T.
  const starts = new Int32Array(groupCount + 1)
  for (let i = 0; i < m; i++) {
    const g = entityGroups[i] as number
    if (g >= 0 && !Number.isNaN(entityTimes[i] as number))
      starts[g + 1] = (starts[g + 1] as number) + 1
  }
  for (let g = 0; g < groupCount; g++)
    starts[g + 1] = (starts[g + 1] as number) + (starts[g] as number)
  const total = starts[groupCount] as number
  const order = new Int32Array(total)
  const fill = starts.slice(0, groupCount)
  for (let i = 0; i < m; i++) {
    const g = entityGroups[i] as number
    if (g < 0 || Number.isNaN(entityTimes[i] as number)) continue
    const at = fill[g] as number
    order[at] = i
    fill[g] = at + 1
  }
  const et = new Float64Array(total)
  for (let p = 0; p < total; p++) et[p] = entityTimes[order[p] as number] as number
  for (let g = 0; g < groupCount; g++) {
    const lo = starts[g] as number
    const hi = starts[g + 1] as number
    for (let p = lo + 1; p < hi; p++) {
      if ((et[p - 1] as number) > (et[p] as number)) {
        sortRun(et, undefined, order, lo, hi)
        break
      }
    }
  }

  // 3. Each feature row goes to the first entity position of its key with T >= event_ts.
  // Rows are first partitioned by entity position (blocks of 2^14 positions) so that each
  // block's entity arrays stay in cache while its feature rows are placed.
  const SHIFT = 14
  const blocks = (total >> SHIFT) + 1
  const blockStarts = new Int32Array(blocks + 1)
  for (let r = 0; r < n; r++) {
    const g = groups[r] as number
    if (g >= 0) {
      const b = ((starts[g] as number) >> SHIFT) + 1
      blockStarts[b] = (blockStarts[b] as number) + 1
    }
  }
  for (let b = 0; b < blocks; b++)
    blockStarts[b + 1] = (blockStarts[b + 1] as number) + (blockStarts[b] as number)
  const placed = blockStarts[blocks] as number
  const pRow = new Int32Array(placed)
  const pGroup = new Int32Array(placed)
  const pTs = new Float64Array(placed)
  const blockFill = blockStarts.slice(0, blocks)
  for (let r = 0; r < n; r++) {
    const g = groups[r] as number
    if (g < 0) continue
    const b = (starts[g] as number) >> SHIFT
    const at = blockFill[b] as number
    pRow[at] = r
    pGroup[at] = g
    pTs[at] = ts[r] as number
    blockFill[b] = at + 1
  }
  const bestTs = new Float64Array(total).fill(Number.NEGATIVE_INFINITY)
  const bestRow = new Int32Array(total).fill(-1)
  const ties = placeRows(pRow, pTs, pGroup, starts, et, bestTs, bestRow)
  if (ties > 0 && pv.createdTimestampColumn !== undefined) {
    // Equal event_ts at one position: the greater created_ts wins, then the later row.
    const cr = readMicros(
      column(table, pv.createdTimestampColumn, pv.view.name),
      `created timestamp of '${pv.view.name}'`,
    )
    for (let i = 0; i < cr.length; i++)
      if (Number.isNaN(cr[i] as number)) cr[i] = Number.NEGATIVE_INFINITY
    bestTs.fill(Number.NEGATIVE_INFINITY)
    bestRow.fill(-1)
    placeRowsCreated(pRow, pTs, pGroup, starts, et, bestTs, bestRow, cr)
  }

  // 4. Running maximum along each key's entity rows, then the TTL lower bound.
  const ttlMicros = pv.ttlSeconds > 0 ? Math.round(pv.ttlSeconds * 1e6) : 0
  const winners = new Int32Array(m).fill(-1)
  for (let g = 0; g < groupCount; g++) {
    const lo = starts[g] as number
    const hi = starts[g + 1] as number
    let t = Number.NEGATIVE_INFINITY
    let row = -1
    for (let p = lo; p < hi; p++) {
      const br = bestRow[p] as number
      // Positions hold disjoint event-time ranges in increasing order: a later one wins.
      if (br >= 0) {
        t = bestTs[p] as number
        row = br
      }
      if (row >= 0 && (ttlMicros === 0 || t >= (et[p] as number) - ttlMicros))
        winners[order[p] as number] = row
    }
  }
  return winners
}

/**
 * Joins features onto an entity table at each row's point in time (SEMANTICS.md).
 *
 * `viewTables` holds, per projection name of `plan.views`, the view's rows with columns in
 * larder names (join keys, features, the timestamp and created columns; others are ignored).
 * The result has the entity table's rows in input order (duplicates included) and columns
 * `plan.outputColumns`: entity columns unchanged except timestamp columns, which become
 * timestamp[us, UTC]; features typed by the view schema (`toArrowType`), null where no row
 * matches. On a full tie (same key, event and created timestamps) the row that comes last
 * in the view table wins.
 *
 * @throws LarderError SCHEMA_MISMATCH when a column is missing or has a type that cannot be
 * read as declared, INVALID_INPUT when the entity timestamp column is not a timestamp.
 *
 * @example
 * const plan = planHistoricalRetrieval({ features: ['driver_stats:trips'], views, entities, entityColumns })
 * const result = pointInTimeJoin(entityTable, plan, new Map([['driver_stats', driverStatsTable]]))
 */
export function pointInTimeJoin(
  entityTable: arrow.Table,
  plan: RetrievalPlan,
  viewTables: ReadonlyMap<string, arrow.Table>,
): arrow.Table {
  // Everything is checked before any heavy work.
  for (const name of plan.entityColumns) column(entityTable, name, 'the entity table')
  const tsVector = column(entityTable, plan.entityTimestampColumn, 'the entity table')
  if (!isTimeType(tsVector.type)) {
    throw new LarderError(
      'INVALID_INPUT',
      `entity timestamp column '${plan.entityTimestampColumn}' has Arrow type ${String(tsVector.type)}, not a timestamp`,
      COMPONENT,
    )
  }
  const tables = plan.views.map((pv) =>
    checkView(pv, viewTables.get(pv.projectionName), entityTable),
  )
  const entityTimes = readMicros(
    tsVector,
    `entity timestamp column '${plan.entityTimestampColumn}'`,
  )

  const columns = new Map<string, arrow.Vector>()
  for (const name of plan.entityColumns) {
    const vec = entityTable.getChild(name) as arrow.Vector
    columns.set(
      name,
      arrow.DataType.isTimestamp(vec.type) ? toMicrosColumn(vec, `entity column '${name}'`) : vec,
    )
  }
  plan.views.forEach((pv, v) => {
    const table = tables[v] as arrow.Table
    const winners = winnerRows(entityTable, entityTimes, pv, table)
    for (const f of pv.features) {
      columns.set(
        f.outputName,
        gatherColumn(table.getChild(f.feature) as arrow.Vector, winners, f.valueType),
      )
    }
  })
  const fields: arrow.Field[] = []
  const vectors: arrow.Vector[] = []
  for (const name of plan.outputColumns) {
    const vec = columns.get(name)
    if (!vec)
      throw new LarderError('INTERNAL', `output column '${name}' was not computed`, COMPONENT)
    fields.push(new arrow.Field(name, vec.type, true))
    vectors.push(vec)
  }
  return tableOf(fields, vectors, entityTable)
}

/**
 * A table of vectors of equal length, batched like `like` (the entity table): chunks that
 * line up are reused, single-chunk vectors are sliced (zero-copy).
 */
export function tableOf(
  fields: arrow.Field[],
  vectors: arrow.Vector[],
  like: arrow.Table,
): arrow.Table {
  const schema = new arrow.Schema(fields)
  const batches: arrow.RecordBatch[] = []
  let offset = 0
  like.batches.forEach((batch, b) => {
    const len = batch.numRows
    const children = vectors.map((v) => {
      const chunk = v.data[b]
      if (
        v.data.length === like.batches.length &&
        chunk &&
        chunk.length === len &&
        chunk.offset >= 0
      )
        return chunk
      const sliced = v.slice(offset, offset + len)
      if (sliced.data.length === 1) return sliced.data[0] as arrow.Data
      return arrow.vectorFromArray([...sliced], v.type).data[0] as arrow.Data
    })
    const struct = arrow.makeData({
      type: new arrow.Struct(fields),
      length: len,
      nullCount: 0,
      children,
    })
    batches.push(new arrow.RecordBatch(schema, struct))
    offset += len
  })
  return new arrow.Table(schema, batches)
}
