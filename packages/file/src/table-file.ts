/**
 * Writing an Arrow table to a Parquet or CSV file through an embedded DuckDB: what the CLI
 * uses for `get-historical-features --output`.
 */
import { rename, rm } from 'node:fs/promises'
import { extname } from 'node:path'
import { DuckDBInstance } from '@duckdb/node-api'
import { LarderError } from '@larder/core'
import type * as arrow from 'apache-arrow'
import { loadArrowTable } from './arrow-io.js'
import { literal } from './sql.js'

/**
 * Writes `table` to `path` as Parquet (`.parquet`, `.pq`) or CSV (`.csv`, with a header and
 * RFC 3339 UTC timestamps), atomically (temp file + rename).
 * @throws LarderError INVALID_INPUT for another extension.
 * @example
 * await writeTableFile(await job.toArrow(), 'training.parquet')
 */
export async function writeTableFile(table: arrow.Table, path: string): Promise<void> {
  const ext = extname(path).toLowerCase()
  const format =
    ext === '.csv' ? 'csv' : ext === '.parquet' || ext === '.pq' ? 'parquet' : undefined
  if (!format) {
    throw new LarderError(
      'INVALID_INPUT',
      `cannot write ${path}: use a .parquet or .csv file name`,
      { component: 'file' },
    )
  }
  const instance = await DuckDBInstance.create(':memory:')
  const connection = await instance.connect()
  const temp = `${path}.${process.pid}.tmp`
  try {
    await connection.run("SET TimeZone = 'UTC'")
    await loadArrowTable(connection, 'output', table, 'output')
    const options =
      format === 'csv'
        ? "(FORMAT csv, HEADER true, TIMESTAMPFORMAT '%Y-%m-%dT%H:%M:%S.%fZ')"
        : '(FORMAT parquet)'
    await connection.run(`COPY output TO ${literal(temp)} ${options}`)
    await rename(temp, path)
  } catch (err) {
    await rm(temp, { force: true })
    if (err instanceof LarderError) throw err
    throw new LarderError('BACKEND_ERROR', `cannot write ${path}: ${(err as Error).message}`, {
      component: 'file',
      cause: err,
    })
  } finally {
    connection.closeSync()
    instance.closeSync()
  }
}
