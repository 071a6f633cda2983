/**
 * Feast's credit-scoring example on the BigQuery stand-in (@larder/testing's round trip):
 * the training set from a Parquet entity file (a load job) and from an SQL entity table
 * equals the file store's row for row, and materialization from BigQuery into SQLite serves
 * the same values. The tables get into BigQuery as a user's would: load jobs of Parquet files.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileOfflineStore, fileSource, writeTableFile } from '@larder/file'
import { sqliteOnlineStore } from '@larder/sqlite'
import { creditScoringRoundTrip } from '@larder/testing'
import { describe } from 'vitest'
import { bigquerySource } from '../src/index.js'
import { officialClient, PROJECT, useEmulator } from './emulator.js'

describe('bigquery', async () => {
  const { emulator, store } = await useEmulator()
  creditScoringRoundTrip({
    name: 'bigquery (stand-in)',
    createStore: () => store(),
    load: async ({ zipcodes, loans }) => {
      const client = await officialClient(emulator.url)
      await client.createDataset('credit')
      const dir = mkdtempSync(join(tmpdir(), 'larder-bq-credit-'))
      try {
        for (const [name, table] of [
          ['zipcode_table', zipcodes],
          ['loans', loans],
        ] as const) {
          const path = join(dir, `${name}.parquet`)
          await writeTableFile(table, path)
          await client.dataset('credit').table(name).load(path, { sourceFormat: 'PARQUET' })
        }
      } finally {
        rmSync(dir, { recursive: true, force: true })
      }
      const source = bigquerySource({
        name: 'zipcode',
        table: `${PROJECT}.credit.zipcode_table`,
        timestampField: 'event_timestamp',
        createdTimestampColumn: 'created_timestamp',
      })
      return { source, loansSql: `SELECT * FROM \`${PROJECT}.credit.loans\`` }
    },
    reference: async (zipcodes, dir) => {
      const path = join(dir, 'zipcode_table.parquet')
      await writeTableFile(zipcodes, path)
      const source = fileSource({
        name: 'zipcode',
        path,
        timestampField: 'event_timestamp',
        createdTimestampColumn: 'created_timestamp',
      })
      return { store: fileOfflineStore(), source }
    },
    onlineStore: (dir) => sqliteOnlineStore({ path: join(dir, 'online.db') }),
    writeEntityFile: writeTableFile,
  })
})
