/**
 * What the BigQuery store does beyond the conformance suite, on the stand-in: source schemas
 * from table metadata, exact types (INT64 beyond 2^53, NUMERIC per the view's type, DATETIME
 * and DATE to the microsecond), results page by page, results left in BigQuery, partition
 * pruning, job labels, errors naming the table and the job, and cancellation.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { BigQuery } from '@google-cloud/bigquery'
import {
  entity,
  FeatureStore,
  featureView,
  isLarderError,
  parseTime,
  readColumn,
  type StoredViewSpec,
  t,
  type ValueTypeName,
} from '@larder/core'
import { sqliteOnlineStore } from '@larder/sqlite'
import { tableDifference } from '@larder/testing'
import * as arrow from 'apache-arrow'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { bigqueryOfflineStore, bigquerySource } from '../src/index.js'
import { officialClient, PROJECT, useEmulator } from './emulator.js'

const { emulator, store: makeStore } = await useEmulator()
const client: BigQuery = await officialClient(emulator.url)
const BIG = 2n ** 60n + 1n

await emulator.query(`CREATE SCHEMA ds;
  CREATE TABLE ds.typed (
    id BIGINT, event_ts TIMESTAMPTZ, civil TIMESTAMP, day DATE, amount DECIMAL(38, 9),
    ratio DOUBLE, flag BOOLEAN, name VARCHAR, payload BLOB, tags BIGINT[], rec STRUCT(a BIGINT));
  INSERT INTO ds.typed VALUES
    (${BIG}, '2024-01-01 00:00:00.000001+00', '2024-01-01 10:00:00.123456', '2024-01-02', ${BIG}, 0.5, true, 'a', 'x'::BLOB, [1, 2], {'a': 1}),
    (2, '2024-01-02 00:00:00+00', NULL, NULL, 2.5, NULL, false, NULL, NULL, [], NULL);
  CREATE TABLE ds.stats AS
    SELECT range AS driver_id, TIMESTAMPTZ '2024-01-01 00:00:00+00' + to_hours(range) AS event_ts,
      CAST(TIMESTAMPTZ '2024-01-01 00:00:00+00' + to_hours(range) AS DATE) AS event_date,
      range * 10 AS trips
    FROM range(50);`)

const driver = entity({ name: 'driver', joinKeys: ['driver_id'], valueType: t.int64 })
const stats = featureView({
  name: 'stats',
  entities: [driver],
  ttl: { days: 1 },
  schema: { trips: t.int64 },
  source: bigquerySource({
    name: 'stats',
    table: 'ds.stats',
    timestampField: 'event_ts',
    datePartitionColumn: 'event_date',
  }),
})

function entityRows(n: number) {
  return Array.from({ length: n }, (_, i) => ({
    driver_id: BigInt(i),
    event_timestamp: new Date(Date.UTC(2024, 0, 1, i, 30)),
  }))
}

describe('bigquery offline store', () => {
  const store = makeStore({ labels: { team: 'risk' }, jobTimeoutSeconds: 600, pageRows: 7 })
  let fs: FeatureStore
  beforeAll(async () => {
    fs = new FeatureStore({
      repoPath: '/tmp',
      config: {
        project: 'bq_store_test',
        registry: `/tmp/bigquery-store-test-${process.pid}.json`,
        offlineStore: store,
        onlineStore: sqliteOnlineStore({ path: ':memory:' }),
      },
      definitions: [driver, stats].map((definition) => ({ definition, origin: 'test' })),
    })
    await fs.apply()
  })
  afterAll(() => fs.close())

  test('source schemas come from table metadata, with Larder types where there is one', async () => {
    const schema = await store.sourceSchema(
      bigquerySource({ name: 'typed', table: 'ds.typed', timestampField: 'event_ts' }),
    )
    expect(schema.map((c) => [c.name, c.valueType ?? null, c.rawType])).toEqual([
      ['id', 'int64', 'INTEGER'],
      ['event_ts', 'timestamp', 'TIMESTAMP'],
      ['civil', 'timestamp', 'DATETIME'],
      ['day', 'timestamp', 'DATE'],
      ['amount', 'float64', 'NUMERIC'],
      ['ratio', 'float64', 'FLOAT'],
      ['flag', 'bool', 'BOOLEAN'],
      ['name', 'string', 'STRING'],
      ['payload', 'bytes', 'BYTES'],
      ['tags', 'array<int64>', 'ARRAY<INTEGER>'],
      ['rec', null, 'RECORD'],
    ])
  })

  test('exact values: INT64 beyond 2^53, NUMERIC as the view declares, times to the microsecond', async () => {
    const view = {
      kind: 'featureView',
      name: 'typed',
      entities: ['driver'],
      features: [
        { name: 'amount', valueType: 'int64' },
        { name: 'civil', valueType: 'timestamp' },
        { name: 'day', valueType: 'timestamp' },
        { name: 'payload', valueType: 'bytes' },
        { name: 'tags', valueType: 'array<int64>' },
        { name: 'flag', valueType: 'bool' },
      ],
      source: bigquerySource({ name: 'typed', table: 'ds.typed', timestampField: 'event_ts' }),
      ttlSeconds: 0,
      online: true,
      offline: true,
    } as unknown as StoredViewSpec
    const batches: arrow.RecordBatch[] = []
    for await (const b of store.pullAll({
      view,
      joinKeys: ['id'],
      features: ['amount', 'civil', 'day', 'payload', 'tags', 'flag'],
      start: parseTime('2023-01-01T00:00:00Z'),
      end: parseTime('2025-01-01T00:00:00Z'),
    }))
      batches.push(b)
    const table = new arrow.Table(batches)
    const i = table.toArray().findIndex((r) => r.id === BIG)
    const cell = (name: string, type: ValueTypeName) =>
      readColumn(table.getChild(name) as arrow.Vector, type, name)[i]
    expect(cell('amount', 'int64')).toBe(BIG)
    expect(cell('civil', 'timestamp')).toBe(parseTime('2024-01-01T10:00:00.123456Z'))
    expect(cell('day', 'timestamp')).toBe(parseTime('2024-01-02T00:00:00Z'))
    expect(cell('__event_ts', 'timestamp')).toBe(parseTime('2024-01-01T00:00:00.000001Z'))
    expect(table.getChild('__event_ts')?.type.toString()).toBe('Timestamp<MICROSECOND, UTC>')
    expect(cell('payload', 'bytes')).toEqual(new Uint8Array([120]))
    expect(cell('tags', 'array<int64>')).toEqual([1n, 2n])
    expect(cell('flag', 'bool')).toBe(true)
  })

  test('results come page by page; toArrow is the same rows', async () => {
    const job = await fs.getHistoricalFeatures({
      entityDf: entityRows(20),
      features: ['stats:trips'],
    })
    const batches: arrow.RecordBatch[] = []
    for await (const b of job.toArrowStream()) batches.push(b)
    expect(batches.length).toBeGreaterThanOrEqual(3)
    const streamed = new arrow.Table(batches)
    const whole = await job.toArrow()
    expect(streamed.numRows).toBe(20)
    expect(streamed.getChild('trips')?.toArray()).toEqual(whole.getChild('trips')?.toArray())
    expect(whole.getChild('trips')?.get(19)).toBe(190n)
  })

  test('toParquet writes the pages as they come: the same table, empty results too', async () => {
    const { readParquet } = await import('parquet-wasm')
    const dir = mkdtempSync(join(tmpdir(), 'larder-bq-parquet-'))
    try {
      const read = (path: string) =>
        arrow.tableFromIPC(readParquet(readFileSync(path)).intoIPCStream())
      const job = await fs.getHistoricalFeatures({
        entityDf: entityRows(20),
        features: ['stats:trips'],
      })
      await job.toParquet(join(dir, 'out.parquet'))
      expect(tableDifference(read(join(dir, 'out.parquet')), await job.toArrow())).toBeUndefined()
      const none = await fs.getHistoricalFeatures({
        entityDf: {
          sql: 'SELECT * FROM (SELECT 1 AS driver_id, CURRENT_TIMESTAMP() AS event_timestamp) WHERE FALSE',
        },
        features: ['stats:trips'],
      })
      await none.toParquet(join(dir, 'empty.parquet'))
      const empty = read(join(dir, 'empty.parquet'))
      expect(empty.numRows).toBe(0)
      expect(empty.schema.fields.map((f) => f.name)).toEqual([
        'driver_id',
        'event_timestamp',
        'trips',
      ])
      expect(readdirSync(dir).sort()).toEqual(['empty.parquet', 'out.parquet'])
      const missing = await job
        .toParquet(join(dir, 'no/such/dir/out.parquet'))
        .catch((e: unknown) => e)
      expect(isLarderError(missing, 'INVALID_INPUT')).toBe(true)
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })

  test('toTable leaves the training set in BigQuery', async () => {
    const job = await fs.getHistoricalFeatures({
      entityDf: entityRows(5),
      features: ['stats:trips'],
    })
    await client.createDataset('results')
    const parts = await job.toTable?.('results.training')
    expect(parts).toEqual(['results', 'training'])
    const [rows] = await client.query('SELECT SUM(trips) AS s, COUNT(*) AS n FROM results.training')
    expect(rows).toEqual([{ s: 100, n: 5 }])
    // Again: replaced, not appended.
    await job.toTable?.('results.training')
    const [again] = await client.query('SELECT COUNT(*) AS n FROM results.training')
    expect(again).toEqual([{ n: 5 }])
  })

  test('reads are pruned to the entity time range on datePartitionColumn', async () => {
    const job = await fs.getHistoricalFeatures({
      entityDf: entityRows(3),
      features: ['stats:trips'],
    })
    const sql = (job as unknown as { toSql(): string }).toSql?.() ?? ''
    expect(sql).toContain("`event_date` >= '2023-12-31'")
    expect(sql).toContain("`event_date` <= '2024-01-01'")
    expect((await job.toArrow()).getChild('trips')?.toArray()).toEqual(
      new BigInt64Array([0n, 10n, 20n]),
    )
  })

  test('errors name the table or the job and say what to do; jobs carry the labels', async () => {
    const missing = bigquerySource({ name: 'gone', table: 'ds.missing', timestampField: 'ts' })
    const notFound = await store.sourceSchema(missing).catch((e: unknown) => e)
    expect(isLarderError(notFound, 'NOT_FOUND')).toBe(true)
    expect(String(notFound)).toMatch(
      /source 'gone'.*ds\.missing.*check that the table or dataset exists/,
    )

    const bad = bigquerySource({
      name: 'bad',
      query: 'SELECT nope FROM ds.stats',
      timestampField: 'ts',
    })
    const invalid = await store.sourceSchema(bad).catch((e: unknown) => e)
    expect(isLarderError(invalid, 'BACKEND_ERROR')).toBe(true)
    const jobId = /\(job (larder_[\w-]+)\)/.exec(String(invalid))?.[1]
    expect(String(invalid)).toMatch(/Unrecognized name: nope.*BigQuery rejected the SQL/)
    const [meta] = await client.job(jobId as string).getMetadata()
    expect(meta.configuration.labels).toEqual({ team: 'risk', larder: 'offline-store' })
    expect(meta.configuration.jobTimeoutMs).toBe('600000')

    const closed = bigqueryOfflineStore({
      projectId: PROJECT,
      dataset: 'larder_tmp',
      apiEndpoint: 'http://127.0.0.1:9',
      maxRetries: 0,
    })
    const unreachable = await closed.sourceSchema(missing).catch((e: unknown) => e)
    expect(isLarderError(unreachable, 'BACKEND_UNAVAILABLE'), String(unreachable)).toBe(true)
    await closed.close()

    expect(() => bigqueryOfflineStore({ projectId: PROJECT, dataset: 'no-dashes' })).toThrow(
      /dataset 'no-dashes' is not a dataset name/,
    )
    expect(() => bigquerySource({ name: 'x', timestampField: 'ts' } as never)).toThrow(
      /needs exactly one of table and query/,
    )
  })

  test('abort cancels the running BigQuery job (jobs.cancel), whatever it is doing', async () => {
    const held: string[] = []
    emulator.holdQueries((id, sql) => {
      if (!sql.includes('__larder_v0')) return false
      held.push(id)
      return true
    })
    try {
      const controller = new AbortController()
      const job = await fs.getHistoricalFeatures({
        entityDf: entityRows(3),
        features: ['stats:trips'],
        signal: controller.signal,
      })
      const reading = job.toArrow()
      while (held.length === 0) await new Promise((r) => setTimeout(r, 20))
      controller.abort(new Error('user gave up'))
      await expect(reading).rejects.toThrow('user gave up')
      // The cancel request goes out when the signal fires; the rejection does not wait for it.
      let status: unknown
      for (let i = 0; i < 100; i++) {
        const [meta] = await client.job(held[0] as string).getMetadata()
        status = meta.status
        if (meta.status.state === 'DONE') break
        await new Promise((r) => setTimeout(r, 50))
      }
      expect(status).toMatchObject({ state: 'DONE', errorResult: { reason: 'stopped' } })
    } finally {
      emulator.holdQueries(undefined)
    }
  })

  test('an aborted retrieval rejects with the reason; temporary tables are dropped on close', async () => {
    const temporary = async () =>
      Number(
        (
          await emulator.query(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'larder_tmp'",
          )
        ).rows[0]?.[0],
      )
    const before = await temporary()
    const controller = new AbortController()
    const job = await fs.getHistoricalFeatures({
      entityDf: entityRows(30),
      features: ['stats:trips'],
      signal: controller.signal,
    })
    const seen: number[] = []
    const read = (async () => {
      for await (const b of job.toArrowStream()) {
        seen.push(b.numRows)
        controller.abort(new Error('stop'))
      }
    })()
    await expect(read).rejects.toThrow('stop')
    expect(seen).toEqual([7])
    // Temporary tables (this job's upload, earlier tests' ones) go when the store closes.
    expect(await temporary()).toBeGreaterThan(before)
    await fs.close()
    expect(await temporary()).toBe(0)
  })
})
