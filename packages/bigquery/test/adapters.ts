/**
 * How the offline conformance suite hands entity tables to the BigQuery store in each form
 * it declares: a Parquet file (load job), SQL over a table, a table name. Shared by the
 * stand-in run and the opt-in run against real BigQuery.
 */
import { join } from 'node:path'
import { writeTableFile } from '@larder/file'
import type { OfflineStoreConformanceOptions } from '@larder/testing'
import type * as arrow from 'apache-arrow'
import { type BigQueryOfflineStore, quoteBigQueryIdentifier as q } from '../src/index.js'

/** Entity-table adapters that create tables with `loader` in `project.dataset`. */
export function entityTableAdapters(
  loader: BigQueryOfflineStore,
  project: string,
  dataset: string,
): NonNullable<OfflineStoreConformanceOptions['entityTables']> {
  const entityTable = async (table: arrow.Table, caseId: string): Promise<string> => {
    const name = `${caseId}_entities`
    await loader.createTable(`${dataset}.${name}`, table)
    return name
  }
  return {
    file: async (table, ctx) => {
      const path = join(ctx.dir, 'entities.parquet')
      await writeTableFile(table, path)
      return { kind: 'file', path, format: 'parquet' }
    },
    sql: async (table, ctx) => ({
      kind: 'sql',
      sql: `SELECT * FROM ${q(project)}.${q(dataset)}.${q(await entityTable(table, ctx.caseId))}`,
    }),
    table: async (table, ctx) => ({
      kind: 'table',
      table: [project, dataset, await entityTable(table, ctx.caseId)],
    }),
  }
}
