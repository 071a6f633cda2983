/**
 * The offline conformance suite of @larder/testing on the BigQuery stand-in (DuckDB behind
 * BigQuery's REST API), driven through the official client, unmodified.
 */
import { offlineStoreConformance } from '@larder/testing'
import { afterAll } from 'vitest'
import { PROJECT, useEmulator } from './emulator.js'

const { emulator, store } = await useEmulator()
await emulator.query('CREATE SCHEMA conformance')
// Source tables are made by a store of their own (the suite closes the one it tests).
const loader = store()
afterAll(() => loader.close())
const dataset = 'conformance'

offlineStoreConformance({
  name: 'bigquery (stand-in)',
  createStore: () => store(),
  loadSource: async (name, table, fields) => {
    await loader.createTable(`${dataset}.${name}`, table)
    return { kind: 'bigquery', table: `${PROJECT}.${dataset}.${name}`, ...fields }
  },
  propertyRuns: 25,
})
