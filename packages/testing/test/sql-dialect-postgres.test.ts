/** The PostgreSQL dialect of core through the dialect conformance suite, on the local PostgreSQL. */
import { postgresDialect } from '@larder/core'
import pg from 'pg'
import { afterAll, beforeAll, describe, test } from 'vitest'
import { findPostgres, postgresMicros, sqlDialectConformance } from '../src/index.js'

const found = await findPostgres()

describe.skipIf(!found.available)('PostgreSQL', () => {
  const client = new pg.Client({ connectionString: found.available ? found.url : '' })
  beforeAll(async () => {
    await client.connect()
    await client.query("SET TimeZone = 'UTC'")
  })
  afterAll(() => client.end())
  const types = {
    getTypeParser: (oid: number, format?: 'text' | 'binary') => {
      if (oid === 20) return (v: string) => BigInt(v)
      if (oid === 1114 || oid === 1184) return (v: string) => postgresMicros(v)
      return pg.types.getTypeParser(oid, format as 'text')
    },
  }
  sqlDialectConformance({
    name: 'postgres',
    dialect: postgresDialect,
    query: async (sql, params) => {
      const result = await client.query({ text: sql, values: [...params], rowMode: 'array', types })
      return { columns: result.fields.map((f) => f.name), rows: result.rows as unknown[][] }
    },
    execute: async (sql) => {
      await client.query(sql)
    },
  })
})

if (!found.available) test.skip(`PostgreSQL unavailable: ${found.reason}`, () => {})
