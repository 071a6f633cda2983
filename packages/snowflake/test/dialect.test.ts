/**
 * The SQL dialect conformance suite of @larder/testing for the Snowflake dialect, on the
 * Snowflake stand-in through snowflake-sdk (quoting, literals, intervals, microsecond
 * timestamps, hostile identifiers, `:N` binds).
 */
import { sqlDialectConformance } from '@larder/testing'
import { afterAll, beforeAll } from 'vitest'
import { snowflakeDialect } from '../src/index.js'
import { useEmulator } from './emulator.js'

const { emulator } = await useEmulator()
const snowflake = (await import('snowflake-sdk')).default
snowflake.configure({ logLevel: 'OFF' } as never)
const conn = snowflake.createConnection({
  accessUrl: emulator.url,
  account: 'emulator',
  username: 'larder',
  password: 'not-checked',
  database: 'LARDER',
  schema: 'PUBLIC',
} as never)
beforeAll(async () => {
  await conn.connectAsync(() => undefined)
})
afterAll(async () => {
  await new Promise<void>((resolve) => conn.destroy(() => resolve()))
})

interface SfDate {
  getEpochSeconds(): number
  getNanoSeconds(): number
}

function run(
  sql: string,
  params: readonly unknown[],
): Promise<{ columns: string[]; rows: unknown[][] }> {
  return new Promise((resolve, reject) => {
    conn.execute({
      sqlText: sql,
      binds: params as never,
      fetchAsString: ['Number'],
      rowMode: 'array',
      complete: (
        err: unknown,
        stmt: { getColumns(): Array<{ getName(): string; getType(): string }> },
        rows: unknown[][],
      ) => {
        if (err) return reject(err)
        const cols = stmt.getColumns() ?? []
        resolve({
          columns: cols.map((c) => c.getName()),
          rows: (rows ?? []).map((r) =>
            r.map((v, i) => {
              if (v === null || v === undefined || v === 'NULL') return null
              const type = String(cols[i]?.getType()).toLowerCase()
              if (type === 'fixed') return BigInt(String(v))
              if (type === 'real') return Number(v)
              if (type.startsWith('timestamp')) {
                const d = v as SfDate
                return (
                  BigInt(d.getEpochSeconds()) * 1_000_000n +
                  BigInt(Math.floor(d.getNanoSeconds() / 1000))
                )
              }
              return v
            }),
          ),
        })
      },
    } as never)
  })
}

sqlDialectConformance({
  name: 'snowflake (stand-in)',
  dialect: snowflakeDialect,
  query: run,
  execute: async (sql) => {
    await run(sql, [])
  },
})
