/**
 * @larder/sqlite: the embedded online store on SQLite (`node:sqlite`), Larder's default.
 * @packageDocumentation
 */
export { decodeArray, encodeArray } from './codec.js'
export {
  columnName,
  quoteIdentifier,
  SqliteOnlineStore,
  type SqliteOnlineStoreOptions,
  sqliteOnlineStore,
  tableName,
} from './sqlite-online-store.js'
