/** The DuckDB dialects of the file store through the dialect conformance suite, on DuckDB. */
import { DuckDBTimestampTZValue, DuckDBTimestampValue } from '@duckdb/node-api'
import { sqlDialectConformance } from '@larder/testing'
import { afterAll } from 'vitest'
import { duckdbDialect, duckdbPortableDialect } from '../src/duckdb-dialect.js'
import { FileOfflineStore } from '../src/index.js'

const store = new FileOfflineStore({ threads: 1 })
afterAll(() => store.close())
const connection = await store.connect()

for (const [name, dialect] of [
  ['duckdb (ASOF)', duckdbDialect],
  ['duckdb (portable)', duckdbPortableDialect],
] as const) {
  sqlDialectConformance({
    name,
    dialect,
    query: async (sql, params) => {
      const reader = await connection.runAndReadAll(sql, params as never)
      return {
        columns: reader.columnNames(),
        rows: reader
          .getRows()
          .map((row) =>
            row.map((v) =>
              v instanceof DuckDBTimestampTZValue || v instanceof DuckDBTimestampValue
                ? v.micros
                : v,
            ),
          ),
      }
    },
    execute: async (sql) => {
      await connection.run(sql)
    },
  })
}
