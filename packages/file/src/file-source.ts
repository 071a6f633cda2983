/**
 * `fileSource()`: a Parquet or CSV file, a folder of them, or a glob, described as plain data
 * (a serializable `SourceSpec` with `kind: 'file'`).
 */
import { checkSource, LarderError, type SourceKind, type SourceSpec } from '@larder/core'

/** The file formats a file source reads. */
export type FileFormat = 'parquet' | 'csv'

const FORMATS: readonly FileFormat[] = ['parquet', 'csv']

/** The spec of a file source, as the registry stores it. */
export interface FileSourceSpec extends SourceSpec {
  kind: 'file'
  /**
   * A file, a folder (every file of the format under it, recursively) or a glob. Relative
   * paths resolve against the feature repo folder.
   */
  path: string
  format: FileFormat
  timestampField: string
  /**
   * Read `key=value` folder names as columns (hive partitioning). Only meaningful for folders
   * and globs; DuckDB's auto-detection is used when absent.
   */
  hivePartitioning?: boolean
}

/** Options of {@link fileSource}. */
export interface FileSourceOptions {
  /** Source name, unique in the repo. */
  name: string
  /** A Parquet/CSV file, a folder of them (recursive) or a glob (`data/*.parquet`). */
  path: string
  /** The event-timestamp column (source name). */
  timestampField: string
  /** Column breaking ties between rows with equal event timestamps. */
  createdTimestampColumn?: string
  /** `source column -> larder name`. */
  fieldMapping?: Record<string, string>
  /** Column partitioning the data by date. */
  datePartitionColumn?: string
  /**
   * File format.
   * @default 'csv' when the path ends in `.csv` (or `.csv.gz`), else 'parquet'
   */
  format?: FileFormat
  /**
   * Read `key=value` folders as columns.
   * @default DuckDB auto-detection
   */
  hivePartitioning?: boolean
  description?: string
  tags?: Record<string, string>
  owner?: string
}

const COMPONENT = 'file'

/** The format a path implies by its extension: CSV for `.csv`/`.csv.gz`/`.tsv`, else Parquet. */
export function formatOfPath(path: string): FileFormat {
  return /\.(csv|tsv)(\.gz)?$/i.test(path) ? 'csv' : 'parquet'
}

/**
 * A source reading Parquet or CSV files with DuckDB (the `@larder/file` offline store).
 *
 * `path` is a single file, a folder (every `.parquet` or `.csv` file under it, recursively,
 * `key=value` folders read as columns) or a glob. Relative paths resolve against the repo.
 *
 * @throws LarderError INVALID_DEFINITION when `name`, `path` or `timestampField` is missing,
 * `createdTimestampColumn` equals `timestampField`, or `format` is unknown.
 * @example
 * const stats = fileSource({
 *   name: 'driver_stats',
 *   path: 'data/driver_stats.parquet',
 *   timestampField: 'event_timestamp',
 *   createdTimestampColumn: 'created',
 * })
 */
export function fileSource(options: FileSourceOptions): FileSourceSpec {
  const spec: FileSourceSpec = {
    kind: 'file',
    name: options?.name,
    path: options?.path,
    format: options?.format ?? formatOfPath(options?.path ?? ''),
    timestampField: options?.timestampField,
  }
  const optional = [
    'createdTimestampColumn',
    'fieldMapping',
    'datePartitionColumn',
    'hivePartitioning',
    'description',
    'tags',
    'owner',
  ] as const
  for (const key of optional) {
    const value = options?.[key]
    if (value !== undefined) (spec as Record<string, unknown>)[key] = structuredClone(value)
  }
  checkSource(spec, fileSourceKind)
  return spec
}

function invalid(reason: string, hint?: string): LarderError {
  return new LarderError('INVALID_DEFINITION', reason, {
    component: COMPONENT,
    ...(hint ? { hint } : {}),
  })
}

function nonEmptyString(value: unknown): value is string {
  return typeof value === 'string' && value.trim() !== ''
}

/**
 * The `file` source kind: checks a file source's own fields (path, format, hive
 * partitioning). Core checks the fields every source shares, on definition, plan and
 * registry load.
 */
export const fileSourceKind: SourceKind<FileSourceSpec> = {
  kind: 'file',
  validate(spec: FileSourceSpec): void {
    if (!spec || typeof spec !== 'object') throw invalid('fileSource() needs an options object')
    const what = `file source '${spec.name}'`
    if (!nonEmptyString(spec.path)) {
      throw invalid(`${what} has no path`, 'set path to a Parquet/CSV file, a folder or a glob')
    }
    if (!FORMATS.includes(spec.format)) {
      throw invalid(
        `${what} has unknown format '${String(spec.format)}'`,
        `use one of ${FORMATS.join(', ')}`,
      )
    }
    if (spec.hivePartitioning !== undefined && typeof spec.hivePartitioning !== 'boolean') {
      throw invalid(`${what}: hivePartitioning must be true or false`)
    }
  },
}

/** True when a spec is a file source. */
export function isFileSource(source: SourceSpec): source is FileSourceSpec {
  return source.kind === 'file'
}
