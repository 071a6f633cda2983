/**
 * Feast's credit-scoring example (shared/data, as @larder/testing's fixtures) on the BigQuery stand-in: the loan table x zipcode features
 * training set, from a Parquet entity file and from an SQL entity table, equals the file
 * store's output row for row; then materialization from BigQuery into SQLite serves the same
 * online values as materialization from the files.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { BigQuery } from '@google-cloud/bigquery'
import {
  type AnyDefinition,
  entity,
  FeatureStore,
  featureView,
  type OfflineStore,
  type SourceSpec,
  t,
} from '@larder/core'
import { fileOfflineStore, fileSource, writeTableFile } from '@larder/file'
import { sqliteOnlineStore } from '@larder/sqlite'
import { creditScoringCase, tableDifference } from '@larder/testing'
import * as arrow from 'apache-arrow'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { bigquerySource } from '../src/index.js'
import { officialClient, PROJECT, useEmulator } from './emulator.js'

// Feast's tables, as @larder/testing keeps them (shared/data's Parquet files), written to Parquet.
const DATA = mkdtempSync(join(tmpdir(), 'larder-bq-credit-data-'))
const ZIPCODES = join(DATA, 'zipcode_table.parquet')
const LOANS = join(DATA, 'loan_table.parquet')
const credit = creditScoringCase()
await writeTableFile(credit.views[0]?.table as arrow.Table, ZIPCODES)
await writeTableFile(credit.entityTable as arrow.Table, LOANS)
const FEATURES = [
  'zipcode_features:city',
  'zipcode_features:state',
  'zipcode_features:location_type',
  'zipcode_features:tax_returns_filed',
  'zipcode_features:population',
  'zipcode_features:total_wages',
]

const { emulator, store: bigqueryStore } = await useEmulator()
const client: BigQuery = await officialClient(emulator.url)

function definitions(source: SourceSpec): AnyDefinition[] {
  const zipcode = entity({ name: 'zipcode', joinKeys: ['zipcode'], valueType: t.int64 })
  const view = featureView({
    name: 'zipcode_features',
    entities: [zipcode],
    ttl: { days: 3650 },
    schema: {
      city: t.string,
      state: t.string,
      location_type: t.string,
      tax_returns_filed: t.int64,
      population: t.int64,
      total_wages: t.int64,
    },
    source,
  })
  return [zipcode, view]
}

function open(dir: string, offlineStore: OfflineStore, source: SourceSpec): FeatureStore {
  return new FeatureStore({
    repoPath: dir,
    config: {
      project: 'credit_scoring',
      registry: 'registry.json',
      offlineStore,
      onlineStore: sqliteOnlineStore({ path: 'online.db' }),
    },
    definitions: definitions(source).map((definition) => ({ definition, origin: 'test' })),
  })
}

/** The table sorted by loan_id (for SQL entity tables, whose row order is BigQuery's). */
function byLoan(table: arrow.Table): arrow.Table {
  const ids = table.getChild('loan_id')?.toArray() as BigInt64Array
  const order = [...ids.keys()].sort((a, b) => (ids[a]! < ids[b]! ? -1 : ids[a]! > ids[b]! ? 1 : 0))
  const vectors: Record<string, arrow.Vector> = {}
  for (const f of table.schema.fields) {
    const column = table.getChild(f.name) as arrow.Vector
    vectors[f.name] = arrow.vectorFromArray(
      order.map((i) => column.get(i)),
      f.type,
    )
  }
  return new arrow.Table(vectors)
}

describe('credit scoring (Feast example data) on the BigQuery stand-in', () => {
  const fileDir = mkdtempSync(join(tmpdir(), 'larder-bq-credit-file-'))
  const bqDir = mkdtempSync(join(tmpdir(), 'larder-bq-credit-bq-'))
  const files = open(
    fileDir,
    fileOfflineStore(),
    fileSource({
      name: 'zipcode',
      path: ZIPCODES,
      timestampField: 'event_timestamp',
      createdTimestampColumn: 'created_timestamp',
    }),
  )
  const bq = open(
    bqDir,
    bigqueryStore(),
    bigquerySource({
      name: 'zipcode',
      table: `${PROJECT}.credit.zipcode_table`,
      timestampField: 'event_timestamp',
      createdTimestampColumn: 'created_timestamp',
    }),
  )
  let expected: arrow.Table

  beforeAll(async () => {
    // The data gets into BigQuery as a user's would: load jobs of the Parquet files.
    await client.createDataset('credit')
    await client
      .dataset('credit')
      .table('zipcode_table')
      .load(ZIPCODES, { sourceFormat: 'PARQUET' })
    await client.dataset('credit').table('loans').load(LOANS, { sourceFormat: 'PARQUET' })
    await files.apply()
    await bq.apply()
    expected = await (
      await files.getHistoricalFeatures({ entityDf: { path: LOANS }, features: FEATURES })
    ).toArrow()
    expect(expected.numRows).toBe(28_638)
  }, 120_000)

  afterAll(async () => {
    await files.close()
    await bq.close()
    rmSync(fileDir, { recursive: true, force: true })
    rmSync(bqDir, { recursive: true, force: true })
    rmSync(DATA, { recursive: true, force: true })
  })

  test('from the Parquet entity file (a load job): the file store output, row for row', async () => {
    const job = await bq.getHistoricalFeatures({ entityDf: { path: LOANS }, features: FEATURES })
    const got = await job.toArrow()
    expect(tableDifference(got, expected)).toBeUndefined()
    // int64 features stay exact int64.
    const wages = got.getChild('total_wages') as arrow.Vector
    expect(String(wages.type)).toBe('Int64')
    expect(typeof wages.get(0)).toBe('bigint')
  }, 120_000)

  test('from an SQL entity table (run in place): the same rows', async () => {
    const job = await bq.getHistoricalFeatures({
      entityDf: { sql: `SELECT * FROM \`${PROJECT}.credit.loans\`` },
      features: FEATURES,
    })
    const got = await job.toArrow()
    expect(tableDifference(byLoan(got), byLoan(expected))).toBeUndefined()
  }, 120_000)

  test('materialized from BigQuery into SQLite, online reads equal the file-backed ones', async () => {
    const start = '2000-01-01T00:00:00Z'
    const end = '2030-01-01T00:00:00Z'
    const [fromFiles] = await files.materialize(start, end)
    const [fromBigQuery] = await bq.materialize(start, end)
    expect(fromBigQuery?.rowsWritten).toBe(fromFiles?.rowsWritten)
    expect(fromBigQuery?.rowsWritten).toBeGreaterThan(28_000)
    const zipcodes = [76104, 69033, 501, 99999999]
    const read = async (s: FeatureStore) =>
      (await s.getOnlineFeatures({ entities: { zipcode: zipcodes }, features: FEATURES })).toRows()
    const online = await read(bq)
    expect(online).toEqual(await read(files))
    expect(online[0]?.city).toBeTypeOf('string')
    expect(online[3]?.city).toBeNull()
  }, 120_000)
})
