/**
 * Writes into the stores: `push`, `writeToOnlineStore` and materialization. Input is checked
 * in full before anything is written; online writes keep the newer row (the store enforces
 * the write rule); intervals are recorded only after every row of a view is written.
 */
import * as arrow from 'apache-arrow'
import {
  CREATED_TS_COLUMN,
  EVENT_TS_COLUMN,
  type OfflineStore,
  type OnlineRow,
  type OnlineStore,
} from './contracts.js'
import {
  materializeChannel,
  type OnlineWriteOperation,
  onlineWriteChannel,
  traced,
} from './diagnostics.js'
import { formatTime } from './duration.js'
import { serializeEntityKey } from './entity-key.js'
import { LarderError } from './errors.js'
import type { JoinKey, RegistryIndex } from './refs.js'
import { batchSourceOf, createdName, type StoredViewSpec, timestampName } from './spec.js'
import type { ValueTypeName } from './types.js'
import {
  coerceValue,
  columnsOf,
  type InputRows,
  readColumn,
  rowCount,
  toArrowVector,
} from './values.js'

/** Where pushed rows go. */
export type PushMode = 'online' | 'offline' | 'online_and_offline'

/** A view's rows, checked and converted to canonical values. */
export interface CheckedRows {
  view: StoredViewSpec
  joinKeys: JoinKey[]
  features: Array<{ name: string; type: ValueTypeName }>
  timestampColumn: string
  createdColumn: string | undefined
  /** Canonical columns by larder name. */
  columns: Map<string, unknown[]>
  n: number
}

/**
 * Checks rows against a view: join keys, the timestamp column and every feature must be
 * present and of the right type (nulls allowed for features only).
 * @throws LarderError INVALID_INPUT naming the column (and row) at fault.
 */
export function checkRows(
  index: RegistryIndex,
  view: StoredViewSpec,
  rows: InputRows,
  what: string,
): CheckedRows {
  const columns = columnsOf(rows, what)
  const n = rowCount(columns, what)
  const source = view.source.kind === 'push' ? view.source : batchSourceOf(view.source)
  const ts = timestampName(source)
  if (!ts)
    throw new LarderError(
      'INVALID_DEFINITION',
      `feature view '${view.name}': its source has no timestampField`,
    )
  const created = createdName(source)
  const joinKeys = index.joinKeys(view)
  const features = view.features.map((f) => ({ name: f.name, type: f.valueType }))
  const required = [...joinKeys.map((k) => k.name), ts, ...features.map((f) => f.name)]
  const missing = required.filter((c) => !columns.has(c))
  if (missing.length > 0) {
    throw new LarderError(
      'INVALID_INPUT',
      `${what}: missing column(s) ${missing.map((m) => `'${m}'`).join(', ')} required by feature view '${view.name}'`,
      {
        hint: `rows need ${required.join(', ')}`,
      },
    )
  }
  const out = new Map<string, unknown[]>()
  const convert = (name: string, type: ValueTypeName, nullable: boolean) => {
    const col = columns.get(name)!
    out.set(
      name,
      col.map((v, i) => {
        const c = coerceValue(v, type, `${what}: column '${name}', row ${i}`)
        if (c === null && !nullable)
          throw new LarderError('INVALID_INPUT', `${what}: column '${name}' is null in row ${i}`)
        return c
      }),
    )
  }
  for (const k of joinKeys) convert(k.name, k.type, false)
  convert(ts, 'timestamp', false)
  if (created && columns.has(created)) convert(created, 'timestamp', true)
  for (const f of features) convert(f.name, f.type, true)
  return {
    view,
    joinKeys,
    features,
    timestampColumn: ts,
    createdColumn: created && columns.has(created) ? created : undefined,
    columns: out,
    n,
  }
}

/**
 * Online rows from canonical columns (the one place an {@link OnlineRow} is built): the
 * serialized entity key, feature values aligned with `features`, and the timestamps.
 */
export function buildOnlineRows(columns: {
  joinKeys: readonly JoinKey[]
  keys: ReadonlyArray<readonly unknown[]>
  features: ReadonlyArray<readonly unknown[]>
  eventTs: readonly unknown[]
  createdTs: readonly unknown[] | undefined
  n: number
}): OnlineRow[] {
  const { joinKeys, keys, features, eventTs, createdTs, n } = columns
  const out: OnlineRow[] = new Array(n)
  for (let i = 0; i < n; i++) {
    out[i] = {
      key: serializeEntityKey(
        joinKeys.map((k, j) => ({ name: k.name, valueType: k.type, value: keys[j]![i] })),
      ),
      values: features.map((c) => c[i] ?? null),
      eventTs: eventTs[i] as bigint,
      createdTs: (createdTs?.[i] as bigint | null | undefined) ?? null,
    }
  }
  return out
}

/** Online rows of checked input. */
export function toOnlineRows(rows: CheckedRows): OnlineRow[] {
  return buildOnlineRows({
    joinKeys: rows.joinKeys,
    keys: rows.joinKeys.map((k) => rows.columns.get(k.name)!),
    features: rows.features.map((f) => rows.columns.get(f.name)!),
    eventTs: rows.columns.get(rows.timestampColumn)!,
    createdTs: rows.createdColumn ? rows.columns.get(rows.createdColumn) : undefined,
    n: rows.n,
  })
}

/**
 * Writes rows to a view's online table (the store keeps the winning row per key), published
 * on the online-write channel. Returns rows written.
 */
export function writeOnline(
  store: OnlineStore,
  view: StoredViewSpec,
  features: string[],
  rows: OnlineRow[],
  operation: OnlineWriteOperation,
): Promise<number> {
  if (!onlineWriteChannel.hasSubscribers) return store.writeBatch(view, features, rows)
  const context = { store, view, operation, rows: rows.length }
  return traced(onlineWriteChannel, context, () => store.writeBatch(view, features, rows))
}

/** Checked input as an Arrow table in larder names (join keys, features, timestamps). */
export function toArrowTable(rows: CheckedRows): arrow.Table {
  const vectors: Record<string, arrow.Vector> = {}
  for (const k of rows.joinKeys) vectors[k.name] = toArrowVector(rows.columns.get(k.name)!, k.type)
  for (const f of rows.features) vectors[f.name] = toArrowVector(rows.columns.get(f.name)!, f.type)
  vectors[rows.timestampColumn] = toArrowVector(
    rows.columns.get(rows.timestampColumn)!,
    'timestamp',
  )
  if (rows.createdColumn)
    vectors[rows.createdColumn] = toArrowVector(rows.columns.get(rows.createdColumn)!, 'timestamp')
  return new arrow.Table(vectors)
}

/** Progress of a materialization, per view. */
export interface MaterializeProgress {
  view: string
  rowsRead: number
  rowsWritten: number
  done: boolean
}

/** Per-view outcome of a materialization. */
export interface MaterializeViewResult {
  view: string
  start: bigint
  end: bigint
  rowsRead: number
  rowsWritten: number
  seconds: number
}

/**
 * Copies the latest row per entity key of `view` with `start <= event_ts <= end` from the
 * offline store to the online store, in record batches (bounded memory).
 */
export function materializeView(
  index: RegistryIndex,
  view: StoredViewSpec,
  start: bigint,
  end: bigint,
  stores: { offline: OfflineStore; online: OnlineStore },
  onProgress?: (p: MaterializeProgress) => void,
  signal?: AbortSignal,
): Promise<MaterializeViewResult> {
  const run = () => copyLatest(index, view, { start, end }, stores, onProgress, signal)
  if (!materializeChannel.hasSubscribers) return run()
  const context = { offlineStore: stores.offline, onlineStore: stores.online, view, start, end }
  return traced(materializeChannel, context, run)
}

/** The body of {@link materializeView}. */
async function copyLatest(
  index: RegistryIndex,
  view: StoredViewSpec,
  { start, end }: { start: bigint; end: bigint },
  stores: { offline: OfflineStore; online: OnlineStore },
  onProgress: ((p: MaterializeProgress) => void) | undefined,
  signal: AbortSignal | undefined,
): Promise<MaterializeViewResult> {
  const began = performance.now()
  const joinKeys = index.joinKeys(view)
  const features = view.features
  const featureNames = features.map((f) => f.name)
  const offlineView: StoredViewSpec = { ...view, source: batchSourceOf(view.source) }
  let rowsRead = 0
  let rowsWritten = 0
  const batches = stores.offline.pullLatest({
    view: offlineView,
    joinKeys: joinKeys.map((k) => k.name),
    features: featureNames,
    start,
    end,
    ...(signal ? { signal } : {}),
  })
  for await (const batch of batches) {
    signal?.throwIfAborted()
    const n = batch.numRows
    if (n === 0) continue
    const col = (name: string) => {
      const v = batch.getChild(name)
      if (!v)
        throw new LarderError(
          'BACKEND_ERROR',
          `offline store '${stores.offline.name}' returned no column '${name}' for view '${view.name}'`,
        )
      return v
    }
    const keys = joinKeys.map((k) => readColumn(col(k.name), k.type, `${view.name}.${k.name}`))
    const values = features.map((f) =>
      readColumn(col(f.name), f.valueType, `${view.name}.${f.name}`),
    )
    const eventTs = readColumn(col(EVENT_TS_COLUMN), 'timestamp', `${view.name} event timestamp`)
    const createdVec = batch.getChild(CREATED_TS_COLUMN)
    const createdTs = createdVec
      ? readColumn(createdVec, 'timestamp', `${view.name} created timestamp`)
      : undefined
    const rows = buildOnlineRows({ joinKeys, keys, features: values, eventTs, createdTs, n })
    rowsRead += n
    rowsWritten += await writeOnline(stores.online, view, featureNames, rows, 'materialize')
    onProgress?.({ view: view.name, rowsRead, rowsWritten, done: false })
  }
  signal?.throwIfAborted()
  onProgress?.({ view: view.name, rowsRead, rowsWritten, done: true })
  return {
    view: view.name,
    start,
    end,
    rowsRead,
    rowsWritten,
    seconds: (performance.now() - began) / 1000,
  }
}

/** An interval as the registry records it. */
export function intervalRecord(
  start: bigint,
  end: bigint,
): { start: string; end: string; at: string } {
  return { start: formatTime(start), end: formatTime(end), at: new Date().toISOString() }
}
