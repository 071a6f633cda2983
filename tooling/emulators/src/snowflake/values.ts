import type { DuckDBValue } from '@duckdb/node-api'
import {
  DuckDBBlobValue,
  DuckDBDateValue,
  DuckDBDecimalValue,
  DuckDBTimestampTZValue,
  DuckDBTimestampValue,
  DuckDBTimeValue,
  DuckDBTypeId,
} from '@duckdb/node-api'
import type { ResultColumn } from '../warehouse/duckdb.js'
import { scaledDecimal } from '../warehouse/values.js'

/** One entry of a Snowflake result's `rowtype`. */
export interface SnowflakeColumn {
  name: string
  database: string
  schema: string
  table: string
  type: string
  precision: number | null
  scale: number | null
  length: number | null
  byteLength: number | null
  nullable: boolean
  collation: null
}

const MAX_TEXT = 16_777_216

/** Snowflake column metadata for a DuckDB result column. */
export function rowtypeFor(
  column: ResultColumn,
  database: string,
  schema: string,
): SnowflakeColumn {
  const base = { name: column.name, database, schema, table: '', nullable: true, collation: null }
  const none = { precision: null, scale: null, length: null, byteLength: null }
  switch (column.typeId) {
    case DuckDBTypeId.BOOLEAN:
      return { ...base, ...none, type: 'boolean' }
    case DuckDBTypeId.TINYINT:
    case DuckDBTypeId.SMALLINT:
    case DuckDBTypeId.INTEGER:
    case DuckDBTypeId.BIGINT:
    case DuckDBTypeId.UTINYINT:
    case DuckDBTypeId.USMALLINT:
    case DuckDBTypeId.UINTEGER:
    case DuckDBTypeId.UBIGINT:
    case DuckDBTypeId.HUGEINT:
    case DuckDBTypeId.UHUGEINT:
      return { ...base, ...none, type: 'fixed', precision: 38, scale: 0 }
    case DuckDBTypeId.DECIMAL: {
      const t = column.type.typeId === DuckDBTypeId.DECIMAL ? column.type : undefined
      return { ...base, ...none, type: 'fixed', precision: t?.width ?? 38, scale: t?.scale ?? 0 }
    }
    case DuckDBTypeId.FLOAT:
    case DuckDBTypeId.DOUBLE:
      return { ...base, ...none, type: 'real' }
    case DuckDBTypeId.DATE:
      return { ...base, ...none, type: 'date' }
    case DuckDBTypeId.TIME:
      return { ...base, ...none, type: 'time', scale: 9 }
    case DuckDBTypeId.TIMESTAMP:
    case DuckDBTypeId.TIMESTAMP_S:
    case DuckDBTypeId.TIMESTAMP_MS:
    case DuckDBTypeId.TIMESTAMP_NS:
      return { ...base, ...none, type: 'timestamp_ntz', scale: 9 }
    case DuckDBTypeId.TIMESTAMP_TZ:
      return { ...base, ...none, type: 'timestamp_ltz', scale: 9 }
    case DuckDBTypeId.BLOB:
      return { ...base, ...none, type: 'binary', length: 8_388_608, byteLength: 8_388_608 }
    default:
      return { ...base, ...none, type: 'text', length: MAX_TEXT, byteLength: MAX_TEXT }
  }
}

/** Metadata for a status or count column the emulator makes up (DDL status, DML row counts). */
export function syntheticColumn(
  name: string,
  type: 'text' | 'fixed',
  database: string,
  schema: string,
): SnowflakeColumn {
  const base = { name, database, schema, table: '', nullable: false, collation: null }
  return type === 'text'
    ? { ...base, type, precision: null, scale: null, length: MAX_TEXT, byteLength: MAX_TEXT }
    : { ...base, type, precision: 19, scale: 0, length: null, byteLength: null }
}

/** Renders one DuckDB value as Snowflake's JSON result format does (strings, or null). */
export function toRowsetValue(value: DuckDBValue, column: SnowflakeColumn): string | null {
  if (value === null || value === undefined) return null
  switch (column.type) {
    case 'boolean':
      return value ? '1' : '0'
    case 'fixed':
      if (value instanceof DuckDBDecimalValue) return scaledDecimal(value.value, value.scale)
      return String(value)
    case 'real': {
      const n = Number(value)
      if (Number.isNaN(n)) return 'NaN'
      if (!Number.isFinite(n)) return n > 0 ? 'Infinity' : '-Infinity'
      return String(n)
    }
    case 'date':
      return value instanceof DuckDBDateValue ? String(value.days) : String(value)
    case 'time':
      return value instanceof DuckDBTimeValue
        ? scaledDecimal(value.micros * 1000n, 9)
        : String(value)
    case 'timestamp_ntz':
    case 'timestamp_ltz':
      return value instanceof DuckDBTimestampValue || value instanceof DuckDBTimestampTZValue
        ? scaledDecimal(value.micros * 1000n, 9)
        : String(value)
    case 'binary':
      return value instanceof DuckDBBlobValue
        ? Buffer.from(value.bytes).toString('hex').toUpperCase()
        : String(value)
    default:
      return typeof value === 'string' ? value : String(value)
  }
}
