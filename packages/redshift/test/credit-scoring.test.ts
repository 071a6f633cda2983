/**
 * Feast's credit-scoring example on the Redshift Data API stand-in (@larder/testing's round
 * trip): the training set from an SQL entity table equals the file store's row for row, and
 * materialization into SQLite serves the same values. (Entity rows given as Arrow, uploaded by
 * INSERTs, are checked on the same data by the conformance suite's real-data case.)
 */
import { join } from 'node:path'
import { fileOfflineStore, fileSource, writeTableFile } from '@larder/file'
import { sqliteOnlineStore } from '@larder/sqlite'
import { creditScoringRoundTrip } from '@larder/testing'
import { describe } from 'vitest'
import { redshiftSource } from '../src/index.js'
import { postgres, useEmulator } from './emulator.js'

describe.skipIf(!postgres.available)('redshift', async () => {
  const { store } = await useEmulator()
  creditScoringRoundTrip({
    name: 'redshift (stand-in)',
    createStore: () => store(),
    load: async ({ zipcodes, loans }) => {
      const loader = store()
      await loader.createTable(['zipcode_table'], zipcodes)
      await loader.createTable(['loans'], loans)
      await loader.close()
      const source = redshiftSource({
        name: 'zipcode',
        table: 'zipcode_table',
        schema: 'public',
        timestampField: 'event_timestamp',
        createdTimestampColumn: 'created_timestamp',
      })
      return { source, loansSql: 'SELECT * FROM loans' }
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
  })
})
