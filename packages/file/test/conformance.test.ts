import { join } from 'node:path'
import type { EntityTable } from '@larder/core'
import { offlineStoreConformance } from '@larder/testing'
import type * as arrow from 'apache-arrow'
import { afterAll } from 'vitest'
import { loadArrowTable } from '../src/arrow-io.js'
import { FileOfflineStore, fileSource } from '../src/index.js'
import { literal } from '../src/sql.js'

/** One DuckDB for writing the cases' tables as Parquet files. */
const writer = new FileOfflineStore({ threads: 1 })
afterAll(() => writer.close())

async function writeParquet(path: string, table: arrow.Table): Promise<void> {
  const connection = await writer.connect()
  try {
    await loadArrowTable(connection, 'data', table, 'test table')
    await connection.run(`COPY temp.main.data TO ${literal(path)} (FORMAT parquet)`)
  } finally {
    connection.closeSync()
  }
}

async function parquetEntities(table: arrow.Table, ctx: { dir: string }): Promise<EntityTable> {
  const path = join(ctx.dir, 'entities.parquet')
  await writeParquet(path, table)
  return { kind: 'file', path, format: 'parquet' }
}

offlineStoreConformance({
  name: 'file (Parquet sources, Arrow entity tables)',
  createStore: () => new FileOfflineStore({ threads: 2 }),
  loadSource: async (name, table, fields, ctx) => {
    const path = join(ctx.dir, `${name}.parquet`)
    await writeParquet(path, table)
    return fileSource({ ...fields, path, timestampField: fields.timestampField ?? '' })
  },
  // The store declares fileEntityTable: the hand-checked cases also run on Parquet entity files.
  entityTables: { file: parquetEntities },
  // 1000 randomized cases take minutes on a loaded 2-core machine.
  timeoutMs: 900_000,
})

offlineStoreConformance({
  name: 'file (Parquet sources, Parquet entity tables)',
  createStore: () => new FileOfflineStore({ threads: 2 }),
  loadSource: async (name, table, fields, ctx) => {
    const path = join(ctx.dir, `${name}.parquet`)
    await writeParquet(path, table)
    return fileSource({ ...fields, path, timestampField: fields.timestampField ?? '' })
  },
  entityTable: parquetEntities,
  entityTables: { file: parquetEntities },
  capabilities: { pull: false },
  propertyRuns: 200,
  timeoutMs: 900_000,
})
