/**
 * The offline conformance suite of @larder/testing on the Snowflake stand-in (DuckDB behind
 * Snowflake's protocol), driven through snowflake-sdk, unmodified: every case, with entity
 * tables as Arrow (array-bound INSERTs), SQL and table names.
 */
import { offlineStoreConformance } from '@larder/testing'
import type * as arrow from 'apache-arrow'
import { afterAll } from 'vitest'
import { useEmulator } from './emulator.js'

const { store } = await useEmulator()
// Source tables are made by a store of their own (the suite closes the one it tests).
const loader = store()
afterAll(() => loader.close())

async function entityTable(table: arrow.Table, caseId: string): Promise<string> {
  const name = `${caseId}_entities`
  await loader.createTable([name], table)
  return name
}

offlineStoreConformance({
  name: 'snowflake (stand-in)',
  createStore: () => store(),
  loadSource: async (name, table, fields) => {
    await loader.createTable([name], table)
    return { kind: 'snowflake', table: `"${name}"`, ...fields }
  },
  entityTables: {
    sql: async (table, ctx) => ({
      kind: 'sql',
      sql: `SELECT * FROM "${await entityTable(table, ctx.caseId)}"`,
    }),
    table: async (table, ctx) => ({ kind: 'table', table: [await entityTable(table, ctx.caseId)] }),
  },
  propertyRuns: 20,
})
