/**
 * The SQL dialect conformance suite of @larder/testing for the Redshift dialect, on the Data
 * API stand-in through the official client (quoting, literals, intervals, microsecond
 * timestamps, hostile identifiers, `:pN` parameters).
 */
import { sqlDialectConformance } from '@larder/testing'
import { describe } from 'vitest'
import { type DataApi, fieldValue, redshiftDialect, redshiftMicros } from '../src/index.js'
import { postgres, useEmulator } from './emulator.js'

describe.skipIf(!postgres.available)('redshift dialect', async () => {
  const { store } = await useEmulator()
  const s = store()
  const api: DataApi = await (s as unknown as { runner(): Promise<{ api: DataApi }> })
    .runner()
    .then((r) => r.api)

  sqlDialectConformance({
    name: 'redshift (stand-in)',
    dialect: redshiftDialect,
    query: async (sql, params) => {
      const id = await api.run([sql], params)
      const columns: string[] = []
      const rows: unknown[][] = []
      for await (const page of api.pages(id)) {
        if (columns.length === 0)
          columns.push(...(page.ColumnMetadata ?? []).map((c) => String(c.name)))
        const types = (page.ColumnMetadata ?? []).map((c) => String(c.typeName))
        for (const record of page.Records ?? []) {
          rows.push(
            record.map((f, i) => {
              const v = fieldValue(f)
              if (v === null) return null
              const t = types[i] ?? ''
              if (t === 'int8' || t === 'int4' || t === 'int2') return BigInt(String(v))
              if (t.startsWith('timestamp')) return redshiftMicros(String(v))
              if (t === 'float4' || t === 'float8') return Number(v)
              return v
            }),
          )
        }
      }
      return { columns, rows }
    },
    execute: async (sql) => {
      await api.run([sql], [])
    },
    skip: [
      // Redshift folds quoted identifiers to lower case unless enable_case_sensitive_identifier
      // is on (the stand-in does as Redshift does); results are read by position, so the store
      // is unaffected, but names come back lower-cased.
      'hostile identifiers are quoted and come back unchanged',
      // bytes (VARBYTE) and arrays (SUPER) have no column type in this store yet: refused with
      // a clear error (tested in store.test.ts).
      'every scalar value type has a type name the engine casts to',
    ],
  })
})
