import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { DuckDBInstance } from '@duckdb/node-api'
import type { EntitySpec, FeatureViewSpec, SourceSpec, ValueTypeName } from '@larder/core'
import { LarderError, noopLogger } from '@larder/core'
import * as arrow from 'apache-arrow'
import { FileOfflineStore } from '../src/index.js'

export const FIXTURES = fileURLToPath(new URL('./fixtures/', import.meta.url))
export const DRIVER_STATS = join(FIXTURES, 'driver_stats.parquet')

/** Runs SQL on a throwaway DuckDB (to write test files), returns rows as JS values. */
export async function duck(sql: string): Promise<unknown[][]> {
  const instance = await DuckDBInstance.create(':memory:')
  const connection = await instance.connect()
  try {
    await connection.run(`SET TimeZone = 'UTC'`)
    const reader = await connection.runAndReadAll(sql)
    return reader.getRowsJS() as unknown[][]
  } finally {
    connection.closeSync()
    instance.closeSync()
  }
}

export async function tempDir(): Promise<{ path: string; [Symbol.asyncDispose](): Promise<void> }> {
  const path = await mkdtemp(join(tmpdir(), 'larder-file-test-'))
  return {
    path,
    async [Symbol.asyncDispose]() {
      await rm(path, { recursive: true, force: true })
    },
  }
}

export function store(repoPath: string, options = {}): FileOfflineStore {
  const s = new FileOfflineStore({ threads: 2, ...options })
  s.configure({ project: 'test', repoPath, logger: noopLogger })
  return s
}

export const driver: EntitySpec = {
  kind: 'entity',
  name: 'driver',
  joinKeys: ['driver_id'],
  valueType: 'int64',
}

export function view(
  name: string,
  source: SourceSpec,
  features: Record<string, ValueTypeName>,
  options: { entities?: string[]; ttlSeconds?: number } = {},
): FeatureViewSpec {
  return {
    kind: 'featureView',
    name,
    entities: options.entities ?? ['driver'],
    features: Object.entries(features).map(([n, valueType]) => ({ name: n, valueType })),
    source,
    ttlSeconds: options.ttlSeconds ?? 0,
    online: true,
    offline: true,
  }
}

/** Epoch microseconds of an ISO time, sub-millisecond digits kept. */
export function micros(iso: string): bigint {
  const frac = /\.(\d+)Z$/.exec(iso)?.[1] ?? ''
  const whole = iso.replace(/\.\d+Z$/, 'Z')
  return BigInt(Date.parse(whole)) * 1000n + BigInt(frac.padEnd(6, '0').slice(0, 6) || '0')
}

/** An entity table of driver ids and ISO times (timestamp[us, UTC]). */
export function entityTable(ids: Array<bigint | null>, times: string[]): arrow.Table {
  const ts = arrow.makeVector(
    arrow.makeData({
      type: new arrow.TimestampMicrosecond('UTC'),
      length: times.length,
      nullCount: 0,
      data: BigInt64Array.from(times.map(micros)),
    }),
  )
  return new arrow.Table({
    driver_id: arrow.vectorFromArray(ids, new arrow.Int64()),
    event_timestamp: ts,
  })
}

export async function collect(batches: AsyncIterable<arrow.RecordBatch>): Promise<arrow.Table> {
  const all: arrow.RecordBatch[] = []
  for await (const b of batches) all.push(b)
  return new arrow.Table(all)
}

/** Column values of a table, timestamps as raw epoch micros (exact). */
export function columnValues(table: arrow.Table, name: string): unknown[] {
  const vector = table.getChild(name)
  if (!vector) throw new Error(`no column ${name}`)
  if (arrow.DataType.isTimestamp(vector.type)) {
    const out: unknown[] = []
    for (const data of vector.data) {
      for (let i = 0; i < data.length; i++) {
        out.push(vector.isValid(out.length) ? (data.values[i] as bigint) : null)
      }
    }
    return out
  }
  return [...vector].map((v) => v ?? null)
}

/** The LarderError a promise rejects with (fails the test when it resolves). */
export async function rejection(promise: Promise<unknown>): Promise<LarderError> {
  try {
    await promise
  } catch (err) {
    if (err instanceof LarderError) return err
    throw err
  }
  throw new Error('did not reject')
}
