/**
 * @larder/file: `fileSource` (Parquet/CSV files, folders, globs, hive partitions) and
 * `fileOfflineStore` (historical retrieval, materialization reads and offline pushes on an
 * embedded DuckDB).
 * @packageDocumentation
 */

export {
  FileOfflineStore,
  type FileOfflineStoreOptions,
  fileOfflineStore,
} from './file-offline-store.js'
export {
  type FileFormat,
  type FileSourceOptions,
  type FileSourceSpec,
  fileSource,
  fileSourceKind,
  formatOfPath,
  isFileSource,
} from './file-source.js'
export { writeTableFile } from './table-file.js'
