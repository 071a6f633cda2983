/**
 * The PostgreSQL backend of @larder/testing (core's SqlOfflineStoreBase) through the offline
 * conformance suite, on the local PostgreSQL, in a schema of its own.
 */
import { quoteAnsiIdentifier } from '@larder/core'
import pg from 'pg'
import { afterAll, beforeAll, describe, test } from 'vitest'
import { findPostgres, offlineStoreConformance, postgresOfflineStore } from '../src/index.js'

const found = await findPostgres()

describe.skipIf(!found.available)('PostgreSQL offline store', () => {
  const url = found.available ? found.url : ''
  const schema = `larder_pgstore_${process.pid}_${Date.now()}`
  const admin = new pg.Client({ connectionString: url })
  beforeAll(async () => {
    await admin.connect()
    await admin.query(`CREATE SCHEMA ${quoteAnsiIdentifier(schema)}`)
  })
  afterAll(async () => {
    await admin.query(`DROP SCHEMA ${quoteAnsiIdentifier(schema)} CASCADE`)
    await admin.end()
    if (found.available) await found.stop()
  })
  // Source tables are made by a store of their own (the suite closes the one it tests).
  const loader = postgresOfflineStore({ connectionString: url, schema })
  afterAll(() => loader.close())
  offlineStoreConformance({
    name: 'postgres (SqlOfflineStoreBase)',
    createStore: () => postgresOfflineStore({ connectionString: url, schema }),
    loadSource: async (name, table, fields) => {
      await loader.createTable(`${schema}.${name}`, table)
      return { kind: 'postgres', table: [schema, name], ...fields }
    },
    // Entity tables as SQL and as table names: the rows go to a table of the schema first.
    entityTables: {
      sql: async (table, ctx) => {
        await loader.createTable(`${schema}.${ctx.caseId}_entities`, table)
        return {
          kind: 'sql',
          sql: `SELECT * FROM ${quoteAnsiIdentifier(schema)}.${quoteAnsiIdentifier(`${ctx.caseId}_entities`)}`,
        }
      },
      table: async (table, ctx) => {
        await loader.createTable(`${schema}.${ctx.caseId}_entities`, table)
        return { kind: 'table', table: [schema, `${ctx.caseId}_entities`] }
      },
    },
    propertyRuns: 200,
  })
})

if (!found.available) test.skip(`PostgreSQL unavailable: ${found.reason}`, () => {})
