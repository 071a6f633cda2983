/**
 * The offline conformance suite of @larder/testing on the Redshift Data API stand-in
 * (PostgreSQL behind the Data API), driven through the official client, unmodified: every
 * case, with entity tables as Arrow (uploaded by INSERTs), SQL and table names.
 */
import { offlineStoreConformance } from '@larder/testing'
import type * as arrow from 'apache-arrow'
import { afterAll, describe } from 'vitest'
import { postgres, useEmulator } from './emulator.js'

describe.skipIf(!postgres.available)('redshift conformance', async () => {
  const { store } = await useEmulator()
  // Source tables are made by a store of their own (the suite closes the one it tests).
  const loader = store()
  afterAll(() => loader.close())

  async function entityTable(table: arrow.Table, caseId: string): Promise<string> {
    const name = `${caseId}_entities`.toLowerCase()
    await loader.createTable([name], table)
    return name
  }

  offlineStoreConformance({
    name: 'redshift (stand-in)',
    createStore: () => store(),
    loadSource: async (name, table, fields) => {
      await loader.createTable([name.toLowerCase()], table)
      return { kind: 'redshift', table: name.toLowerCase(), ...fields }
    },
    entityTables: {
      sql: async (table, ctx) => ({
        kind: 'sql',
        sql: `SELECT * FROM "${await entityTable(table, ctx.caseId)}"`,
      }),
      table: async (table, ctx) => ({
        kind: 'table',
        table: [await entityTable(table, ctx.caseId)],
      }),
    },
    propertyRuns: 20,
  })
})
