import type { DuckDBType, DuckDBValue } from '@duckdb/node-api'
import {
  DuckDBBlobValue,
  DuckDBDateValue,
  DuckDBDecimalValue,
  DuckDBListValue,
  DuckDBStructValue,
  DuckDBTimestampTZValue,
  DuckDBTimestampValue,
  DuckDBTimeValue,
  DuckDBTypeId,
} from '@duckdb/node-api'
import { microsToDateTime, microsToTime } from '../warehouse/values.js'

/** A BigQuery schema field (TableFieldSchema). */
export interface BigQueryField {
  name: string
  type: string
  mode?: 'NULLABLE' | 'REQUIRED' | 'REPEATED'
  fields?: BigQueryField[]
}

/** A row in the REST API's `{ f: [{ v }] }` shape. */
export interface BigQueryRow {
  f: Array<{ v: unknown }>
}

/** BigQuery field (legacy type names, as the API returns them) for a DuckDB column type. */
export function fieldFor(name: string, type: DuckDBType): BigQueryField {
  if (type.typeId === DuckDBTypeId.LIST || type.typeId === DuckDBTypeId.ARRAY) {
    const inner = fieldFor(name, type.valueType)
    return { ...inner, mode: 'REPEATED' }
  }
  if (type.typeId === DuckDBTypeId.STRUCT) {
    return {
      name,
      type: 'RECORD',
      mode: 'NULLABLE',
      fields: type.entryNames.map((n, i) => fieldFor(n, type.entryTypes[i]!)),
    }
  }
  return { name, type: scalarTypeName(type.typeId), mode: 'NULLABLE' }
}

function scalarTypeName(id: DuckDBTypeId): string {
  switch (id) {
    case DuckDBTypeId.BOOLEAN:
      return 'BOOLEAN'
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
      return 'INTEGER'
    case DuckDBTypeId.FLOAT:
    case DuckDBTypeId.DOUBLE:
      return 'FLOAT'
    case DuckDBTypeId.DECIMAL:
      return 'NUMERIC'
    case DuckDBTypeId.DATE:
      return 'DATE'
    case DuckDBTypeId.TIME:
      return 'TIME'
    case DuckDBTypeId.TIMESTAMP:
    case DuckDBTypeId.TIMESTAMP_S:
    case DuckDBTypeId.TIMESTAMP_MS:
    case DuckDBTypeId.TIMESTAMP_NS:
      return 'DATETIME'
    case DuckDBTypeId.TIMESTAMP_TZ:
      return 'TIMESTAMP'
    case DuckDBTypeId.BLOB:
      return 'BYTES'
    default:
      return 'STRING'
  }
}

/** DuckDB column type for a BigQuery schema field (standard or legacy type names). */
export function duckTypeFor(field: BigQueryField): string {
  let base: string
  switch (field.type.toUpperCase()) {
    case 'INTEGER':
    case 'INT64':
      base = 'BIGINT'
      break
    case 'FLOAT':
    case 'FLOAT64':
      base = 'DOUBLE'
      break
    case 'NUMERIC':
    case 'BIGNUMERIC':
      base = 'DECIMAL(38,9)'
      break
    case 'BOOLEAN':
    case 'BOOL':
      base = 'BOOLEAN'
      break
    case 'STRING':
    case 'JSON':
      base = 'VARCHAR'
      break
    case 'BYTES':
      base = 'BLOB'
      break
    case 'DATE':
      base = 'DATE'
      break
    case 'DATETIME':
      base = 'TIMESTAMP'
      break
    case 'TIMESTAMP':
      base = 'TIMESTAMPTZ'
      break
    case 'TIME':
      base = 'TIME'
      break
    case 'RECORD':
    case 'STRUCT':
      base = `STRUCT(${(field.fields ?? []).map((f) => `"${f.name}" ${duckTypeFor(f)}`).join(', ')})`
      break
    default:
      throw new Error(`Unsupported field type ${field.type} for field ${field.name}`)
  }
  return field.mode === 'REPEATED' ? `${base}[]` : base
}

/** Timestamp rendering asked by the client (`formatOptions.useInt64Timestamp`). */
export interface FormatOptions {
  useInt64Timestamp: boolean
}

/** Renders one DuckDB value as the REST API's `v` for `field`. */
export function toApiValue(
  value: DuckDBValue,
  field: BigQueryField,
  options: FormatOptions,
): unknown {
  if (value === null || value === undefined) return null
  if (field.mode === 'REPEATED') {
    const items = value instanceof DuckDBListValue ? value.items : []
    const scalar = { ...field, mode: 'NULLABLE' as const }
    return items.map((item) => ({ v: toApiValue(item, scalar, options) }))
  }
  switch (field.type) {
    case 'RECORD': {
      const entries = value instanceof DuckDBStructValue ? value.entries : {}
      return {
        f: (field.fields ?? []).map((f) => ({
          v: toApiValue(entries[f.name] ?? null, f, options),
        })),
      }
    }
    case 'BOOLEAN':
      return value ? 'true' : 'false'
    case 'FLOAT': {
      const n = Number(value)
      if (Number.isNaN(n)) return 'NaN'
      if (!Number.isFinite(n)) return n > 0 ? 'Infinity' : '-Infinity'
      return String(n)
    }
    case 'NUMERIC':
      return value instanceof DuckDBDecimalValue ? trimDecimal(value.toString()) : String(value)
    case 'BYTES':
      return value instanceof DuckDBBlobValue
        ? Buffer.from(value.bytes).toString('base64')
        : String(value)
    case 'DATE':
      return value instanceof DuckDBDateValue ? value.toString() : String(value)
    case 'TIME':
      return value instanceof DuckDBTimeValue ? microsToTime(value.micros) : String(value)
    case 'DATETIME':
      return value instanceof DuckDBTimestampValue ? microsToDateTime(value.micros) : String(value)
    case 'TIMESTAMP': {
      if (!(value instanceof DuckDBTimestampTZValue)) return String(value)
      return options.useInt64Timestamp
        ? value.micros.toString()
        : microsToFloatSeconds(value.micros)
    }
    default:
      return String(value)
  }
}

function trimDecimal(text: string): string {
  return text.includes('.') ? text.replace(/0+$/, '').replace(/\.$/, '') : text
}

/** Microseconds as the API's float-seconds text (`1.700000000123456E9`). */
export function microsToFloatSeconds(micros: bigint): string {
  if (micros === 0n) return '0.0'
  const negative = micros < 0n
  const digits = (negative ? -micros : micros).toString()
  const exponent = digits.length - 1 - 6
  const mantissaFrac = digits.slice(1).replace(/0+$/, '') || '0'
  return `${negative ? '-' : ''}${digits[0]}.${mantissaFrac}E${exponent}`
}
