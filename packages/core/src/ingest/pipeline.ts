/**
 * The ingestion pipeline of one stream feature view, per batch: decode -> field mapping ->
 * transform -> check against the view's schema -> write online (write rule) and append to
 * the offline log -> dead-letter the bad records -> commit positions. Positions are committed
 * only after every write succeeded; a failed write is retried (and never committed).
 */
import * as arrow from 'apache-arrow'
import {
  type DeadLetter,
  type OfflineStore,
  type OnlineStore,
  type StreamBatch,
  type StreamConsumer,
  winsAgainst,
} from '../contracts.js'
import { type IngestBatchContext, ingestChannel, traced } from '../diagnostics.js'
import { LarderError } from '../errors.js'
import type { Logger } from '../logger.js'
import {
  batchSourceOf,
  createdName,
  type EntitySpec,
  STREAM_POSITION_COLUMN,
  type StreamFeatureViewSpec,
  type StreamSourceSpec,
  timestampName,
} from '../spec.js'
import type { DecodeResult, StreamDecoder } from '../stream-format.js'
import type { ValueTypeName } from '../types.js'
import { coerceValue, toArrowVector } from '../values.js'
import { type CheckedRows, toOnlineRows, writeOnline } from '../writes.js'

/** Counters of one view's ingestion. */
export interface IngestCounts {
  /** Records read from the stream. */
  read: number
  /** Rows the online store took (the write rule skips older rows and replays). */
  writtenOnline: number
  /** Rows appended to the offline log. */
  writtenOffline: number
  /** Records sent to the dead-letter destination. */
  deadLettered: number
  /** Events more than the source's watermark delay behind their partition's newest. */
  late: number
  /** Batches committed. */
  batches: number
}

/**
 * What happened in one committed batch: handed to `onBatch` and set as `result` of the
 * ingest tracing channel's context (`LARDER_CHANNELS.ingest`).
 */
export interface IngestBatchEvent {
  /** Rows the online store took (as `writtenOnline`). */
  rowsWritten: number
  view: string
  stream: string
  partition: string
  records: number
  writtenOnline: number
  writtenOffline: number
  deadLettered: number
  late: number
  /** Records left in the partition after the batch, when the consumer knows. */
  lag: number | undefined
  /** Time from receiving the batch to its commit. */
  seconds: number
  /** Write time minus the newest event time of the batch, seconds (undefined if no rows). */
  freshnessSeconds: number | undefined
}

/** Everything a view's pipeline needs. */
export interface ViewPipelineOptions {
  view: StreamFeatureViewSpec
  entities: ReadonlyMap<string, EntitySpec>
  decoder: StreamDecoder
  transform?: ((rows: Record<string, unknown>[]) => Record<string, unknown>[]) | undefined
  onlineStore: OnlineStore
  offlineStore: OfflineStore
  consumer: StreamConsumer
  logger: Logger
  /** Called after each committed batch. */
  onBatch?: (event: IngestBatchEvent) => void
  /** True once ingestion is stopping: failed writes are no longer retried. */
  stopping: () => boolean
  /** First retry delay after a failed write; doubles up to 5 s. @default 200 */
  retryDelayMs?: number
}

interface Column {
  name: string
  type: ValueTypeName
}

/** Renames decoded source fields to larder names (a source's `fieldMapping`). */
function mapFields(
  row: Record<string, unknown>,
  mapping: Record<string, string> | undefined,
): Record<string, unknown> {
  if (!mapping) return row
  const out: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(row)) out[mapping[k] ?? k] = v
  return out
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/** The per-batch pipeline of one stream feature view. */
export class ViewPipeline {
  readonly counts: IngestCounts = {
    read: 0,
    writtenOnline: 0,
    writtenOffline: 0,
    deadLettered: 0,
    late: 0,
    batches: 0,
  }
  /** Latest known lag per partition. */
  readonly lag = new Map<string, number>()
  readonly #o: ViewPipelineOptions
  readonly #source: StreamSourceSpec
  readonly #batchSource: ReturnType<typeof batchSourceOf>
  readonly #joinKeys: Column[]
  readonly #features: Column[]
  readonly #ts: string
  readonly #created: string | undefined
  readonly #watermarkMicros: bigint | undefined
  readonly #maxEventTs = new Map<string, bigint>()
  readonly #toOnline: boolean
  readonly #toOffline: boolean
  /** Per column of a checked row (the order of `#allColumns`): what to read and how. */
  readonly #checks: Array<{ name: string; type: ValueTypeName; label: string; required: boolean }>

  constructor(options: ViewPipelineOptions) {
    this.#o = options
    const view = options.view
    this.#source = view.source as StreamSourceSpec
    this.#batchSource = batchSourceOf(view.source)
    this.#joinKeys = []
    for (const e of view.entities) {
      const entity = options.entities.get(e)
      if (!entity)
        throw new LarderError('NOT_FOUND', `entity '${e}' of view '${view.name}' is not registered`)
      for (const k of entity.joinKeys) this.#joinKeys.push({ name: k, type: entity.valueType })
    }
    this.#features = view.features.map((f) => ({ name: f.name, type: f.valueType }))
    const ts = timestampName(this.#source)
    if (!ts)
      throw new LarderError(
        'INVALID_DEFINITION',
        `stream feature view '${view.name}': source '${this.#source.name}' has no timestampField`,
      )
    this.#ts = ts
    this.#created = createdName(this.#source)
    const w = this.#source.watermarkDelaySeconds
    this.#watermarkMicros = typeof w === 'number' ? BigInt(Math.round(w * 1e6)) : undefined
    const role = (i: number) =>
      i < this.#joinKeys.length
        ? 'join key'
        : i === this.#joinKeys.length
          ? 'event timestamp'
          : this.#created && i === this.#joinKeys.length + 1
            ? 'created timestamp'
            : 'feature'
    this.#checks = this.#allColumns().map((c, i) => ({
      name: c.name,
      type: c.type,
      label: `${role(i)} '${c.name}'`,
      required: i <= this.#joinKeys.length,
    }))
    const writeTo = view.writeTo ?? 'online_and_offline'
    this.#toOnline = writeTo !== 'offline' && view.online
    this.#toOffline = writeTo !== 'online'
  }

  /** Processes, writes and commits one batch (the consumer's `onBatch`). */
  async process(batch: StreamBatch): Promise<void> {
    const context: IngestBatchContext = {
      source: this.#source.name,
      view: this.#o.view.name,
      partition: batch.partition,
      records: batch.records.length,
    }
    const event = await traced(ingestChannel, context, () => this.#process(batch))
    this.#o.onBatch?.(event)
  }

  async #process(batch: StreamBatch): Promise<IngestBatchEvent> {
    const began = performance.now()
    const view = this.#o.view
    const letters: DeadLetter[] = []
    const columns = new Map<string, unknown[]>()
    for (const c of this.#allColumns()) columns.set(c.name, [])
    const positions: string[] = []
    const names = this.#allColumns()
    let late = 0
    let newest: bigint | undefined
    const values = batch.records.flatMap((r) => (r.value === null ? [] : [r.value]))
    const decoded = await this.#retry(batch, 'decoding', () => this.#o.decoder.decodeBatch(values))
    let d = 0
    for (const record of batch.records) {
      const at = `${batch.stream}/${record.partition}/${record.position}`
      if (record.value === null) {
        letters.push({ record, code: 'INVALID_RECORD', error: 'record has no value (tombstone)' })
        continue
      }
      const result = decoded[d++] as DecodeResult
      if (result.error) {
        letters.push({ record, code: 'DECODE_ERROR', error: messageOf(result.error) })
        continue
      }
      let rows: Record<string, unknown>[] = [mapFields(result.row, this.#source.fieldMapping)]
      if (this.#o.transform) {
        try {
          const out = this.#o.transform(rows)
          if (!Array.isArray(out)) throw new Error('the transform did not return an array of rows')
          rows = out
        } catch (err) {
          letters.push({
            record,
            code: 'TRANSFORM_ERROR',
            error: `transform of view '${view.name}' failed: ${messageOf(err)}`,
          })
          continue
        }
      }
      let checked: unknown[][]
      try {
        checked = rows.map((row) => this.#checkRow(row))
      } catch (err) {
        letters.push({ record, code: 'INVALID_RECORD', error: messageOf(err) })
        continue
      }
      for (let j = 0; j < checked.length; j++) {
        const values = checked[j]!
        for (let c = 0; c < names.length; c++) columns.get(names[c]!.name)!.push(values[c])
        positions.push(checked.length === 1 ? at : `${at}#${j}`)
        const ts = values[this.#joinKeys.length] as bigint
        if (newest === undefined || ts > newest) newest = ts
        if (this.#watermarkMicros !== undefined) {
          const max = this.#maxEventTs.get(record.partition)
          if (max !== undefined && ts < max - this.#watermarkMicros) late++
          if (max === undefined || ts > max) this.#maxEventTs.set(record.partition, ts)
        }
      }
    }
    const n = positions.length
    const rows: CheckedRows = {
      view,
      joinKeys: this.#joinKeys,
      features: this.#features,
      timestampColumn: this.#ts,
      createdColumn: this.#created,
      columns,
      n,
    }
    let writtenOnline = 0
    let onlineDone = !this.#toOnline || n === 0
    let offlineDone = !this.#toOffline || n === 0
    let lettersDone = letters.length === 0
    // Each step succeeds once: a retry after a failure repeats only what did not succeed.
    // The three writes are independent: run them together (DuckDB, SQLite and the broker
    // overlap); all must succeed before the commit.
    await this.#retry(batch, 'writing', async () => {
      const steps: Array<Promise<void>> = []
      if (!offlineDone)
        steps.push(
          this.#o.offlineStore.writeBatch!(
            this.#batchSource,
            this.#offlineTable(rows, positions),
          ).then(() => {
            offlineDone = true
          }),
        )
      if (!lettersDone)
        steps.push(
          this.#o.consumer.deadLetter(letters).then(() => {
            lettersDone = true
          }),
        )
      if (!onlineDone)
        steps.push(
          writeOnline(
            this.#o.onlineStore,
            view,
            this.#features.map((f) => f.name),
            toOnlineRows(newestPerKey(rows)),
            'ingest',
          ).then((written) => {
            writtenOnline = written
            onlineDone = true
          }),
        )
      const results = await Promise.allSettled(steps)
      const failed = results.find((r) => r.status === 'rejected')
      if (failed) throw failed.reason
    })
    await batch.commit()
    const writtenOffline = this.#toOffline ? n : 0
    this.counts.read += batch.records.length
    this.counts.writtenOnline += writtenOnline
    this.counts.writtenOffline += writtenOffline
    this.counts.deadLettered += letters.length
    this.counts.late += late
    this.counts.batches++
    if (batch.lag !== undefined) this.lag.set(batch.partition, batch.lag)
    return {
      rowsWritten: writtenOnline,
      view: view.name,
      stream: batch.stream,
      partition: batch.partition,
      records: batch.records.length,
      writtenOnline,
      writtenOffline,
      deadLettered: letters.length,
      late,
      lag: batch.lag,
      seconds: (performance.now() - began) / 1000,
      freshnessSeconds: newest === undefined ? undefined : Date.now() / 1000 - Number(newest) / 1e6,
    }
  }

  /**
   * Runs `step` until it succeeds, backing off (200 ms doubling to 5 s): a fault (store or
   * Schema Registry down) holds the partition, and nothing is committed meanwhile. Once
   * ingestion is stopping the fault is thrown (the batch is read again after a restart).
   */
  async #retry<T>(batch: StreamBatch, what: string, step: () => Promise<T>): Promise<T> {
    let delay = this.#o.retryDelayMs ?? 200
    for (;;) {
      try {
        return await step()
      } catch (err) {
        if (this.#o.stopping()) throw err
        const view = this.#o.view.name
        this.#o.logger.warn(
          { err, view, partition: batch.partition, retryInMs: delay },
          `ingest of '${view}': ${what} failed (${messageOf(err)}); retrying the batch, nothing committed`,
        )
        await sleep(delay)
        delay = Math.min(delay * 2, 5000)
      }
    }
  }

  /** Join keys, timestamp, created, features: the order of a checked row's values. */
  #allColumns(): Column[] {
    const cols: Column[] = [...this.#joinKeys, { name: this.#ts, type: 'timestamp' }]
    if (this.#created) cols.push({ name: this.#created, type: 'timestamp' })
    return cols.concat(this.#features)
  }

  /** One row's canonical values, or an error naming the field. */
  #checkRow(row: Record<string, unknown>): unknown[] {
    if (!row || typeof row !== 'object') throw new Error('the transform returned a non-object row')
    const checks = this.#checks
    const out: unknown[] = new Array(checks.length)
    for (let c = 0; c < checks.length; c++) {
      const { name, type, label, required } = checks[c]!
      const v = row[name]
      if (required && (v === undefined || v === null))
        throw new LarderError('INVALID_INPUT', `${label} is missing`)
      out[c] = coerceValue(v, type, label)
    }
    return out
  }

  /** The rows as the offline log stores them: the batch source's larder names plus positions. */
  #offlineTable(rows: CheckedRows, positions: string[]): arrow.Table {
    const vectors: Record<string, arrow.Vector> = {}
    for (const k of this.#joinKeys)
      vectors[k.name] = toArrowVector(rows.columns.get(k.name)!, k.type)
    for (const f of this.#features)
      vectors[f.name] = toArrowVector(rows.columns.get(f.name)!, f.type)
    const ts = timestampName(this.#batchSource) ?? this.#ts
    vectors[ts] = toArrowVector(rows.columns.get(this.#ts)!, 'timestamp')
    if (this.#created) {
      const created = createdName(this.#batchSource) ?? this.#created
      vectors[created] = toArrowVector(rows.columns.get(this.#created)!, 'timestamp')
    }
    vectors[STREAM_POSITION_COLUMN] = arrow.vectorFromArray(positions, new arrow.Utf8())
    return new arrow.Table(vectors)
  }
}

/**
 * Only the row of each entity key that wins within the batch (the write rule, in order: the
 * first of full ties stays): the store would skip the others anyway, so a batch over few keys
 * costs one upsert per key instead of one per event.
 */
export function newestPerKey(rows: CheckedRows): CheckedRows {
  const keys = rows.joinKeys.map((k) => rows.columns.get(k.name)!)
  const ts = rows.columns.get(rows.timestampColumn)! as bigint[]
  const created = rows.createdColumn
    ? (rows.columns.get(rows.createdColumn)! as Array<bigint | null>)
    : undefined
  const best = new Map<unknown, number>()
  const at = (i: number) => ({ eventTs: ts[i]!, createdTs: created?.[i] ?? null })
  for (let i = 0; i < rows.n; i++) {
    const key = keys.length === 1 ? keys[0]![i] : keys.map((c) => String(c[i])).join('\u0000')
    const prev = best.get(key)
    if (prev === undefined || winsAgainst(at(i), at(prev))) best.set(key, i)
  }
  if (best.size === rows.n) return rows
  const keep = [...best.values()].sort((a, b) => a - b)
  const columns = new Map<string, unknown[]>()
  for (const [name, values] of rows.columns)
    columns.set(
      name,
      keep.map((i) => values[i]),
    )
  return { ...rows, columns, n: keep.length }
}

function messageOf(err: unknown): string {
  if (err instanceof LarderError) return err.reason
  return err instanceof Error ? err.message : String(err)
}
