/**
 * The offline conformance suite of @larder/testing on the BigQuery stand-in (DuckDB behind
 * BigQuery's REST API), driven through the official client, unmodified: every case, with
 * entity tables as Arrow (uploaded), Parquet files (load jobs), SQL and table names.
 */
import { offlineStoreConformance } from '@larder/testing'
import { afterAll } from 'vitest'
import { entityTableAdapters } from './adapters.js'
import { PROJECT, useEmulator } from './emulator.js'

const { emulator, store } = await useEmulator()
const dataset = 'conformance'
await emulator.query(`CREATE SCHEMA ${dataset}`)
// Source tables are made by a store of their own (the suite closes the one it tests).
const loader = store()
afterAll(() => loader.close())

offlineStoreConformance({
  name: 'bigquery (stand-in)',
  createStore: () => store(),
  loadSource: async (name, table, fields) => {
    await loader.createTable(`${dataset}.${name}`, table)
    return { kind: 'bigquery', table: `${PROJECT}.${dataset}.${name}`, ...fields }
  },
  entityTables: entityTableAdapters(loader, PROJECT, dataset),
  propertyRuns: 10,
})
