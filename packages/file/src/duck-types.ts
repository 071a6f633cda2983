/**
 * Value types between Larder and DuckDB: the DuckDB type each Larder value type is read
 * as, and the Larder value type of a DuckDB column (the `fromArrowType` rules, applied to
 * DuckDB's own types).
 */
import { type DuckDBType, DuckDBTypeId } from '@duckdb/node-api'
import { elementType, type ScalarTypeName, type ValueTypeName } from '@larder/core'

const SCALAR_SQL: Record<ScalarTypeName, string> = {
  int32: 'INTEGER',
  int64: 'BIGINT',
  float32: 'FLOAT',
  float64: 'DOUBLE',
  string: 'VARCHAR',
  bytes: 'BLOB',
  bool: 'BOOLEAN',
  timestamp: 'TIMESTAMPTZ',
}

/** The DuckDB SQL type a Larder value type is cast to (`int64` -> `BIGINT`). */
export function sqlTypeOf(type: ValueTypeName): string {
  const element = elementType(type)
  if (element) return `${SCALAR_SQL[element]}[]`
  return SCALAR_SQL[type as ScalarTypeName]
}

/** The Larder value type of a DuckDB type, or undefined when Larder has none for it. */
export function valueTypeOfDuck(type: DuckDBType): ValueTypeName | undefined {
  switch (type.typeId) {
    case DuckDBTypeId.TINYINT:
    case DuckDBTypeId.SMALLINT:
    case DuckDBTypeId.INTEGER:
    case DuckDBTypeId.UTINYINT:
    case DuckDBTypeId.USMALLINT:
      return 'int32'
    case DuckDBTypeId.UINTEGER:
    case DuckDBTypeId.BIGINT:
      return 'int64'
    case DuckDBTypeId.FLOAT:
      return 'float32'
    case DuckDBTypeId.DOUBLE:
      return 'float64'
    case DuckDBTypeId.VARCHAR:
      return 'string'
    case DuckDBTypeId.BLOB:
      return 'bytes'
    case DuckDBTypeId.BOOLEAN:
      return 'bool'
    case DuckDBTypeId.TIMESTAMP:
    case DuckDBTypeId.TIMESTAMP_TZ:
    case DuckDBTypeId.TIMESTAMP_S:
    case DuckDBTypeId.TIMESTAMP_MS:
    case DuckDBTypeId.TIMESTAMP_NS:
    case DuckDBTypeId.DATE:
      return 'timestamp'
    case DuckDBTypeId.LIST:
    case DuckDBTypeId.ARRAY: {
      const inner = valueTypeOfDuck((type as { valueType: DuckDBType }).valueType)
      if (inner && !elementType(inner)) return `array<${inner as ScalarTypeName}>`
      return undefined
    }
    default:
      return undefined
  }
}

/** True for the DuckDB timestamp and date types. */
export function isDuckTemporal(type: DuckDBType): boolean {
  return valueTypeOfDuck(type) === 'timestamp'
}
