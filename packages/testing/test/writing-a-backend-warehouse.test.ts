// The warehouse offline store of docs/writing-a-backend.md, taken from the document itself
// (the ts block that extends SqlOfflineStoreBase), through the offline conformance suite on
// the local PostgreSQL.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { type OfflineStore, quoteAnsiIdentifier } from '@larder/core'
import pg from 'pg'
import { afterAll, beforeAll, describe, test } from 'vitest'
import { findPostgres, offlineStoreConformance, postgresOfflineStore } from '../src/index.js'

const docPath = join(import.meta.dirname, '../../../docs/writing-a-backend.md')
const doc = readFileSync(docPath, 'utf8')
const block = [...doc.matchAll(/```ts\n([\s\S]*?)```/g)]
  .map((m) => m[1])
  .find((code) => code?.includes('extends SqlOfflineStoreBase'))
if (!block) throw new Error(`${docPath}: no ts block with a class extending SqlOfflineStoreBase`)
// Written beside this test so that '@larder/core' resolves as it does for a backend package.
const dir = mkdtempSync(join(import.meta.dirname, '.doc-warehouse-'))
const file = join(dir, 'pg-mini-offline-store.ts')
writeFileSync(file, block)
const example = (await import(pathToFileURL(file).href)) as {
  PgMiniOfflineStore: new (connectionString: string) => OfflineStore
}
afterAll(() => rmSync(dir, { recursive: true, force: true }))

const found = await findPostgres()

describe.skipIf(!found.available)('docs/writing-a-backend.md PgMiniOfflineStore', () => {
  const url = found.available ? found.url : ''
  const schema = `larder_doc_${process.pid}_${Date.now()}`
  const admin = new pg.Client({ connectionString: url })
  const loader = postgresOfflineStore({ connectionString: url })
  beforeAll(async () => {
    await admin.connect()
    await admin.query(`CREATE SCHEMA ${quoteAnsiIdentifier(schema)}`)
  })
  afterAll(async () => {
    await loader.close()
    await admin.query(`DROP SCHEMA ${quoteAnsiIdentifier(schema)} CASCADE`)
    await admin.end()
  })
  const table = async (name: string, rows: import('apache-arrow').Table) => {
    await loader.createTable(`${schema}.${name}`, rows)
    return `${quoteAnsiIdentifier(schema)}.${quoteAnsiIdentifier(name)}`
  }
  offlineStoreConformance({
    name: 'docs example (pgmini)',
    createStore: () => new example.PgMiniOfflineStore(url),
    loadSource: async (name, rows, fields) => {
      await table(name, rows)
      return { kind: 'pgmini', table: `${schema}.${name}`, ...fields }
    },
    entityTables: {
      sql: async (rows, ctx) => ({
        kind: 'sql',
        sql: `SELECT * FROM ${await table(`${ctx.caseId}_entities`, rows)}`,
      }),
      table: async (rows, ctx) => {
        await table(`${ctx.caseId}_entities`, rows)
        return { kind: 'table', table: [schema, `${ctx.caseId}_entities`] }
      },
    },
    propertyRuns: 50,
  })
})

if (!found.available) test.skip(`PostgreSQL unavailable: ${found.reason}`, () => {})
