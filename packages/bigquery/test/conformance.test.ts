/**
 * The offline conformance suite of @larder/testing on the BigQuery stand-in (DuckDB behind
 * BigQuery's REST API), driven through the official client, unmodified: every case, with
 * entity tables as Arrow (uploaded), Parquet files (load jobs), SQL and table names.
 */
import { join } from 'node:path'
import { writeTableFile } from '@larder/file'
import { offlineStoreConformance } from '@larder/testing'
import type * as arrow from 'apache-arrow'
import { afterAll } from 'vitest'
import { quoteBigQueryIdentifier as q } from '../src/index.js'
import { PROJECT, useEmulator } from './emulator.js'

const { emulator, store } = await useEmulator()
const dataset = 'conformance'
await emulator.query(`CREATE SCHEMA ${dataset}`)
// Source tables are made by a store of their own (the suite closes the one it tests).
const loader = store()
afterAll(() => loader.close())

async function entityTable(table: arrow.Table, caseId: string): Promise<string> {
  const name = `${caseId}_entities`
  await loader.createTable(`${dataset}.${name}`, table)
  return name
}

offlineStoreConformance({
  name: 'bigquery (stand-in)',
  createStore: () => store(),
  loadSource: async (name, table, fields) => {
    await loader.createTable(`${dataset}.${name}`, table)
    return { kind: 'bigquery', table: `${PROJECT}.${dataset}.${name}`, ...fields }
  },
  entityTables: {
    file: async (table, ctx) => {
      const path = join(ctx.dir, 'entities.parquet')
      await writeTableFile(table, path)
      return { kind: 'file', path, format: 'parquet' }
    },
    sql: async (table, ctx) => ({
      kind: 'sql',
      sql: `SELECT * FROM ${q(PROJECT)}.${q(dataset)}.${q(await entityTable(table, ctx.caseId))}`,
    }),
    table: async (table, ctx) => ({
      kind: 'table',
      table: [PROJECT, dataset, await entityTable(table, ctx.caseId)],
    }),
  },
  propertyRuns: 10,
})
