/**
 * Offline writes of the file store: rows appended to a file source as a new part file (or a
 * rewritten single file), staged under a temporary name and renamed, so that a reader never
 * sees a partial write and a failed write leaves nothing; write ids make retries exact.
 */
import { randomUUID } from 'node:crypto'
import { existsSync } from 'node:fs'
import { mkdir, readdir, realpath, rename, rm } from 'node:fs/promises'
import { basename, dirname, extname, join, matchesGlob, relative } from 'node:path'
import type { DuckDBConnection, DuckDBType } from '@duckdb/node-api'
import {
  LarderError,
  type Logger,
  type OfflineWriteOptions,
  sourceColumn,
  sweepStaleTemps,
  tempPathFor,
  WRITE_ID_COLUMN,
  WRITE_ID_PATTERN,
} from '@larder/core'
import type * as arrow from 'apache-arrow'
import { loadArrowTable } from './arrow-io.js'
import { fail, messageOf } from './fail.js'
import type { FileFormat, FileSourceSpec } from './file-source.js'
import { ident, isGlob, literal, type ResolvedPath, readRelation, resolvePath } from './sql.js'

/** What a write needs of the store: the repo folder, DuckDB connections and a describe. */
export interface FileWriteIo {
  /** The repo folder; relative source paths resolve against it. */
  repoPath: string | undefined
  /** Where cleanups of killed writers' leftovers are reported. */
  logger: Logger | undefined
  /** Names and DuckDB types of a relation's columns (LarderError NOT_FOUND when no file). */
  describe(
    relation: string,
    what: string,
    path: string,
    format: FileFormat,
  ): Promise<Array<{ name: string; type: DuckDBType }>>
  /** A DuckDB connection of the store (session time zone UTC). */
  connect(): Promise<DuckDBConnection>
  /** Gives a connection back. */
  release(connection: DuckDBConnection): void
}

/**
 * Appends rows (larder names) to a file source, columns renamed to source names and cast
 * to the source's column types (the written schema is the source's). Nothing partial is
 * ever visible: files are written under a temporary name, then renamed; temp files of
 * writers that were killed are removed by the next write to the same place.
 *
 * Every appended row carries the write id in the hidden column `__larder_write_id`
 * ({@link WRITE_ID_COLUMN}); given `options.writeId`, a write whose id is already stored
 * appends nothing (a retried push is exact).
 *
 * - folder source: a new `part-<write id>.parquet` (`.csv` for CSV) in the folder; in a
 *   hive-partitioned folder, one part per partition under its `key=value` folders (the rows
 *   must hold the partition columns);
 * - glob source: the same, in the glob's folder (the name must match the glob);
 * - single-file source: the file is rewritten with the rows appended (Feast's behaviour;
 *   costs a full rewrite: prefer a folder for frequent pushes). A symbolic link is
 *   followed: the real file is rewritten and the link kept;
 * - missing file (a path with an extension): NOT_FOUND, as for materialization (create it
 *   first, so that its schema is the one you chose); a missing folder is created.
 * @throws LarderError NOT_FOUND when the source's path does not exist; SCHEMA_MISMATCH
 *   when a column is not in the source; INVALID_INPUT for a malformed write id.
 */
export async function writeFileSource(
  io: FileWriteIo,
  spec: FileSourceSpec,
  table: arrow.Table,
  options: OfflineWriteOptions = {},
): Promise<void> {
  if (options.writeId !== undefined && !WRITE_ID_PATTERN.test(options.writeId)) {
    throw fail(
      'INVALID_INPUT',
      `write id '${options.writeId.slice(0, 70)}' is not 1 to 64 letters, digits, '_' or '-'`,
    )
  }
  const writeId = options.writeId ?? `${Date.now()}-${randomUUID()}`
  const resolved = await resolvePath(spec.path, io.repoPath, spec.format)
  if (resolved.shape === 'missing' && extname(resolved.path) !== '') {
    // A new file would get the pushed rows' types, not the ones the source was meant to
    // have (and materialization answers NOT_FOUND for it): refuse, as materialization does.
    throw fail(
      'NOT_FOUND',
      `source '${spec.name}': file '${resolved.path}' does not exist, so rows cannot be appended to it`,
      `create it first with the source's columns (materialization needs it too), or point the source at a folder, which pushes create`,
    )
  }
  let existing: Array<{ name: string; type: DuckDBType }> | undefined
  if (resolved.shape !== 'missing')
    try {
      existing = await io.describe(
        readRelation(resolved, spec.format, {
          ...(resolved.shape !== 'file' && { hivePartitioning: spec.hivePartitioning }),
        }),
        `source '${spec.name}'`,
        resolved.path,
        spec.format,
      )
    } catch (err) {
      // An empty folder or a glob matching nothing yet: the first part sets the schema.
      if (resolved.shape === 'file' || !(err instanceof LarderError && err.code === 'NOT_FOUND'))
        throw err
    }
  const existingTypes = existing ? new Map(existing.map((c) => [c.name, c.type])) : undefined
  const select: string[] = []
  for (const field of table.schema.fields) {
    const target = sourceColumn(spec, field.name)
    if (existingTypes && !existingTypes.has(target)) {
      throw fail(
        'SCHEMA_MISMATCH',
        `cannot write column '${field.name}' to source '${spec.name}': '${resolved.path}' has no column '${target}'`,
        `its columns are ${[...existingTypes.keys()].filter((c) => c !== WRITE_ID_COLUMN).join(', ')}`,
      )
    }
    const type = existingTypes?.get(target)
    select.push(
      type
        ? `CAST(${ident(field.name)} AS ${type.toString()}) AS ${ident(target)}`
        : `${ident(field.name)} AS ${ident(target)}`,
    )
  }
  select.push(`${literal(writeId)}::VARCHAR AS ${ident(WRITE_ID_COLUMN)}`)
  const plan = await writePlan(io, spec, resolved, table, writeId)
  if (options.writeId !== undefined && (await holdsWrite(io, plan, resolved, spec, writeId))) return
  await mkdir(dirname(plan.target), { recursive: true })
  const swept = [
    ...(await sweepStaleTemps(plan.target)),
    ...(plan.hive.length > 0 ? await sweepStaleTemps(resolved.path) : []),
  ]
  if (swept.length > 0) {
    io.logger?.warn(
      { files: swept },
      `[file] removed ${swept.length} temp file(s) a killed writer left next to source '${spec.name}'`,
    )
  }
  const connection = await io.connect()
  // Staged next to the target (same file system, so renames are atomic); a partitioned
  // write stages next to the source folder, outside what readers scan.
  const temp = tempPathFor(plan.hive.length > 0 ? resolved.path : plan.target)
  const tableName = `__larder_push_${randomUUID().replaceAll('-', '')}`
  const format = spec.format
  const copyOptions = format === 'csv' ? '(FORMAT csv, HEADER true)' : '(FORMAT parquet)'
  try {
    await loadArrowTable(connection, tableName, table, `rows for source '${spec.name}'`)
    let query = `SELECT ${select.join(', ')} FROM temp.main.${ident(tableName)}`
    if (plan.singleFile) {
      query = `SELECT * FROM ${readRelation({ ...resolved, path: plan.target, pattern: plan.target }, format)} UNION ALL BY NAME ${query}`
    }
    if (plan.hive.length > 0) {
      // Partitioned COPY into a staging folder next to the source, then each finished file
      // is renamed into its partition: readers never see a partial file.
      const pattern = literal(`${plan.partStem}-{i}`)
      const hiveOptions = `${copyOptions.slice(0, -1)}, PARTITION_BY (${plan.hive.map(ident).join(', ')}), FILENAME_PATTERN ${pattern})`
      await connection.run(`COPY (${query}) TO ${literal(temp)} ${hiveOptions}`)
      for (const file of await listFiles(temp)) {
        const destination = join(resolved.path, relative(temp, file))
        await mkdir(dirname(destination), { recursive: true })
        await rename(file, destination)
      }
    } else {
      await connection.run(`COPY (${query}) TO ${literal(temp)} ${copyOptions}`)
      await rename(temp, plan.target)
    }
  } catch (err) {
    if (err instanceof LarderError) throw err
    throw fail(
      'BACKEND_ERROR',
      `writing to source '${spec.name}' (${plan.target}) failed: ${messageOf(err)}`,
      undefined,
      err,
    )
  } finally {
    await rm(temp, { force: true, recursive: true })
    io.release(connection)
  }
}

/** Where a write goes: the file to (re)write or the new part, and the hive keys. */
async function writePlan(
  _io: FileWriteIo,
  spec: FileSourceSpec,
  resolved: ResolvedPath,
  table: arrow.Table,
  writeId: string,
): Promise<{ target: string; singleFile: boolean; hive: string[]; partStem: string }> {
  const ext = spec.format === 'csv' ? '.csv' : '.parquet'
  const partStem = `part-${writeId}`
  if (resolved.shape === 'file') {
    // Follow a symbolic link: rewrite the real file, keep the link.
    return { target: await realpath(resolved.path), singleFile: true, hive: [], partStem }
  }
  if (resolved.shape === 'missing') {
    return { target: join(resolved.path, partStem + ext), singleFile: false, hive: [], partStem }
  }
  if (resolved.shape === 'glob') {
    let folder = resolved.path
    while (isGlob(folder)) folder = dirname(folder)
    const target = join(folder, partStem + ext)
    if (!matchesGlob(target, resolved.pattern)) {
      throw fail(
        'UNSUPPORTED',
        `source '${spec.name}': a new part file '${basename(target)}' in '${folder}' would not match the glob '${spec.path}'`,
        'point the source at a folder, or use a glob like data/*.parquet',
      )
    }
    return { target, singleFile: false, hive: [], partStem }
  }
  // A hive-partitioned folder gets the rows under their `key=value` folders: a part at its
  // root would turn hive partitioning off for the whole source.
  const hive = spec.hivePartitioning !== false ? await hiveKeys(resolved.path) : []
  for (const key of hive) {
    if (!table.schema.fields.some((f) => sourceColumn(spec, f.name) === key)) {
      throw fail(
        'SCHEMA_MISMATCH',
        `cannot write to source '${spec.name}': '${resolved.path}' is partitioned by '${key}' and the rows have no such column`,
        `add the column '${spec.fieldMapping?.[key] ?? key}' to the rows`,
      )
    }
  }
  return { target: join(resolved.path, partStem + ext), singleFile: false, hive, partStem }
}

/** True when the source already holds the rows of write `writeId`. */
async function holdsWrite(
  io: FileWriteIo,
  plan: { target: string; singleFile: boolean; hive: string[]; partStem: string },
  resolved: ResolvedPath,
  spec: FileSourceSpec,
  writeId: string,
): Promise<boolean> {
  if (!plan.singleFile) {
    if (plan.hive.length === 0) return existsSync(plan.target)
    const prefix = `${plan.partStem}-`
    return (await listFiles(resolved.path)).some((f) => basename(f).startsWith(prefix))
  }
  const relation = readRelation(
    { ...resolved, path: plan.target, pattern: plan.target },
    spec.format,
  )
  const connection = await io.connect()
  try {
    const columns = (await connection.run(`SELECT * FROM ${relation} LIMIT 0`)).columnNames()
    if (!columns.includes(WRITE_ID_COLUMN)) return false
    const found = await connection.run(
      `SELECT 1 FROM ${relation} WHERE ${ident(WRITE_ID_COLUMN)} = ${literal(writeId)} LIMIT 1`,
    )
    return (await found.getRows()).length > 0
  } finally {
    io.release(connection)
  }
}

/** The hive partition keys of a folder, outermost first (`day=.../hour=...` -> day, hour). */
async function hiveKeys(folder: string): Promise<string[]> {
  const keys: string[] = []
  let current = folder
  for (;;) {
    const entries = await readdir(current, { withFileTypes: true })
    const partition = entries.find((e) => e.isDirectory() && /^[^=.][^=]*=/.test(e.name))
    if (!partition) return keys
    keys.push(partition.name.slice(0, partition.name.indexOf('=')))
    current = join(current, partition.name)
  }
}

/** Every file under a folder, recursively. */
async function listFiles(folder: string): Promise<string[]> {
  const out: string[] = []
  for (const entry of await readdir(folder, { withFileTypes: true })) {
    const path = join(folder, entry.name)
    if (entry.isDirectory()) out.push(...(await listFiles(path)))
    else out.push(path)
  }
  return out
}
