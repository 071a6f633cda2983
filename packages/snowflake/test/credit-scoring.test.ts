/**
 * Feast's credit-scoring example (shared/data, as @larder/testing's fixtures) on the Snowflake
 * Data stand-in: the loan table x zipcode features training set from an SQL entity table
 * (the loans as a Snowflake table) equals the file store's output row for row; then
 * materialization from Snowflake into SQLite serves the same online values as materialization
 * from the files. (Entity rows given as Arrow are uploaded by INSERTs: the conformance suite's
 * real-data case checks that path on the same data.)
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
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
import { snowflakeSource } from '../src/index.js'
import { useEmulator } from './emulator.js'

const FEATURES = [
  'zipcode_features:city',
  'zipcode_features:state',
  'zipcode_features:location_type',
  'zipcode_features:tax_returns_filed',
  'zipcode_features:population',
  'zipcode_features:total_wages',
]

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

/** The table sorted by loan_id (SQL entity tables come back in the database's order). */
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

describe('credit scoring (Feast example data) on the Snowflake stand-in', async () => {
  const { store: snowflakeStore } = await useEmulator()
  const data = mkdtempSync(join(tmpdir(), 'larder-sf-credit-data-'))
  const zipcodes = join(data, 'zipcode_table.parquet')
  const credit = creditScoringCase()
  const zipcodeTable = credit.views[0]?.table as arrow.Table
  const loans = credit.entityTable as arrow.Table
  await writeTableFile(zipcodeTable, zipcodes)
  const fileDir = mkdtempSync(join(tmpdir(), 'larder-sf-credit-file-'))
  const sfDir = mkdtempSync(join(tmpdir(), 'larder-sf-credit-rs-'))
  const files = open(
    fileDir,
    fileOfflineStore(),
    fileSource({
      name: 'zipcode',
      path: zipcodes,
      timestampField: 'event_timestamp',
      createdTimestampColumn: 'created_timestamp',
    }),
  )
  const loader = snowflakeStore()
  const sf = open(
    sfDir,
    snowflakeStore(),
    snowflakeSource({
      name: 'zipcode',
      table: 'ZIPCODE_TABLE',
      schema: 'PUBLIC',
      timestampField: 'event_timestamp',
      createdTimestampColumn: 'created_timestamp',
    }),
  )
  let expected: arrow.Table

  beforeAll(async () => {
    // The data gets into Snowflake as tables; the loans become an SQL entity table.
    await loader.createTable(['ZIPCODE_TABLE'], zipcodeTable)
    await loader.createTable(['LOANS'], loans)
    await files.apply()
    await sf.apply()
    expected = await (
      await files.getHistoricalFeatures({ entityDf: loans, features: FEATURES })
    ).toArrow()
    expect(expected.numRows).toBe(28_638)
  }, 300_000)

  afterAll(async () => {
    await Promise.all([files.close(), sf.close(), loader.close()])
    for (const dir of [fileDir, sfDir, data]) rmSync(dir, { recursive: true, force: true })
  })

  test('from an SQL entity table (run in place): the file store output, row for row', async () => {
    const job = await sf.getHistoricalFeatures({
      entityDf: { sql: 'SELECT * FROM LOANS' },
      features: FEATURES,
    })
    const got = await job.toArrow()
    expect(tableDifference(byLoan(got), byLoan(expected))).toBeUndefined()
    const wages = got.getChild('total_wages') as arrow.Vector
    expect(String(wages.type)).toBe('Int64')
    expect(typeof wages.get(0)).toBe('bigint')
  }, 120_000)

  test('materialized from Snowflake into SQLite, online reads equal the file-backed ones', async () => {
    const start = '2000-01-01T00:00:00Z'
    const end = '2030-01-01T00:00:00Z'
    const [fromFiles] = await files.materialize(start, end)
    const [fromSnowflake] = await sf.materialize(start, end)
    expect(fromSnowflake?.rowsWritten).toBe(fromFiles?.rowsWritten)
    expect(fromSnowflake?.rowsWritten).toBeGreaterThan(28_000)
    const keys = [76104, 69033, 501, 99999999]
    const read = async (s: FeatureStore) =>
      (await s.getOnlineFeatures({ entities: { zipcode: keys }, features: FEATURES })).toRows()
    const online = await read(sf)
    expect(online).toEqual(await read(files))
    expect(online[0]?.city).toBeTypeOf('string')
    expect(online[3]?.city).toBeNull()
  }, 120_000)
})
