/**
 * Feast's credit-scoring example on the Snowflake stand-in (@larder/testing's round
 * trip): the training set from an SQL entity table equals the file store's row for row, and
 * materialization into SQLite serves the same values. (Entity rows given as Arrow, uploaded by
 * array-bound INSERTs, are checked on the same data by the conformance suite's real-data case.)
 */
import { join } from 'node:path'
import { fileOfflineStore, fileSource, writeTableFile } from '@larder/file'
import { sqliteOnlineStore } from '@larder/sqlite'
import { creditScoringRoundTrip } from '@larder/testing'
import { describe } from 'vitest'
import { snowflakeSource } from '../src/index.js'
import { useEmulator } from './emulator.js'

describe('snowflake', async () => {
  const { store } = await useEmulator()
  creditScoringRoundTrip({
    name: 'snowflake (stand-in)',
    createStore: () => store(),
    load: async ({ zipcodes, loans }) => {
      const loader = store()
      await loader.createTable(['ZIPCODE_TABLE'], zipcodes)
      await loader.createTable(['LOANS'], loans)
      await loader.close()
      const source = snowflakeSource({
        name: 'zipcode',
        table: 'ZIPCODE_TABLE',
        schema: 'PUBLIC',
        timestampField: 'event_timestamp',
        createdTimestampColumn: 'created_timestamp',
      })
      return { source, loansSql: 'SELECT * FROM LOANS' }
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
