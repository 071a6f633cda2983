/**
 * SQL text helpers for DuckDB: identifiers are always quoted, values are escaped literals
 * or parameters, so no column name or path can inject SQL.
 */
import { stat } from 'node:fs/promises'
import { isAbsolute, join, resolve } from 'node:path'
import type { FileFormat } from './file-source.js'

/** A quoted identifier: `"name"` with inner double quotes doubled. */
export function ident(name: string): string {
  return `"${name.replaceAll('"', '""')}"`
}

/** A quoted string literal: `'text'` with inner single quotes doubled. */
export function literal(text: string): string {
  if (text.includes('\0')) throw new Error('string literal contains a NUL character')
  return `'${text.replaceAll("'", "''")}'`
}

/** True when a path holds glob characters (`*`, `?`, `[`). */
export function isGlob(path: string): boolean {
  return /[*?[]/.test(path)
}

/** How a path was resolved on disk. */
export interface ResolvedPath {
  /** Absolute path as given (file, folder or glob). */
  path: string
  /** What DuckDB reads: the file, `folder/** /*.ext`, or the glob. */
  pattern: string
  shape: 'file' | 'directory' | 'glob' | 'missing'
}

/** Resolves a source or entity-table path against the repo folder. */
export async function resolvePath(
  path: string,
  repoPath: string | undefined,
  format: FileFormat,
): Promise<ResolvedPath> {
  const absolute = isAbsolute(path) ? path : resolve(repoPath ?? process.cwd(), path)
  if (isGlob(path)) return { path: absolute, pattern: absolute, shape: 'glob' }
  try {
    const info = await stat(absolute)
    if (info.isDirectory()) {
      return {
        path: absolute,
        pattern: join(absolute, '**', format === 'csv' ? '*.csv' : '*.parquet'),
        shape: 'directory',
      }
    }
    return { path: absolute, pattern: absolute, shape: 'file' }
  } catch {
    return { path: absolute, pattern: absolute, shape: 'missing' }
  }
}

/** The DuckDB table function reading a resolved path. */
export function readRelation(
  resolved: ResolvedPath,
  format: FileFormat,
  options: { hivePartitioning?: boolean | undefined; fileRowNumber?: boolean } = {},
): string {
  const args: string[] = [literal(resolved.pattern)]
  const many = resolved.shape === 'directory' || resolved.shape === 'glob'
  if (many) {
    args.push('union_by_name = true')
    if (options.hivePartitioning !== undefined)
      args.push(`hive_partitioning = ${options.hivePartitioning}`)
  } else {
    args.push('hive_partitioning = false')
  }
  if (format === 'csv') return `read_csv(${args.join(', ')}, header = true)`
  if (options.fileRowNumber) args.push('file_row_number = true')
  return `read_parquet(${args.join(', ')})`
}
