/**
 * Wire shapes of the Redshift Data API (AWS JSON 1.1) used by the emulator, and the mapping of
 * PostgreSQL result values and types onto them.
 */

/** One value in a result record: exactly one member is set (a tagged union on the wire). */
export type Field =
  | { isNull: true }
  | { booleanValue: boolean }
  | { longValue: number | ExactJsonNumber }
  | { doubleValue: number }
  | { stringValue: string }
  | { blobValue: string }

/** Column description, as in GetStatementResult and DescribeTable. */
export interface ColumnMetadata {
  isCaseSensitive?: boolean
  isCurrency?: boolean
  isSigned?: boolean
  label?: string
  name?: string
  nullable?: number
  precision?: number
  scale?: number
  schemaName?: string
  tableName?: string
  typeName?: string
  length?: number
  columnDefault?: string
}

/** PostgreSQL type OID -> the type name Redshift reports. */
const TYPE_NAMES: Record<number, string> = {
  16: 'bool',
  17: 'varbyte',
  18: 'char',
  19: 'name',
  20: 'int8',
  21: 'int2',
  23: 'int4',
  25: 'varchar',
  26: 'oid',
  700: 'float4',
  701: 'float8',
  705: 'varchar',
  1042: 'bpchar',
  1043: 'varchar',
  1082: 'date',
  1083: 'time',
  1114: 'timestamp',
  1184: 'timestamptz',
  1186: 'interval',
  1266: 'timetz',
  1700: 'numeric',
}

const LONG_TYPES = new Set([20, 21, 23, 26])
const DOUBLE_TYPES = new Set([700, 701])
const SIGNED_TYPES = new Set([20, 21, 23, 700, 701, 1700])
const TEXT_TYPES = new Set([18, 19, 25, 705, 1042, 1043])

/** True when Redshift would name this OID without a catalog lookup. */
export function isKnownType(oid: number): boolean {
  return oid in TYPE_NAMES
}

/**
 * The Redshift type name for a PostgreSQL type.
 * @param oid PostgreSQL type OID.
 * @param catalogName `pg_type.typname`, used for types without a Redshift-specific name.
 */
export function redshiftTypeName(oid: number, catalogName?: string): string {
  return TYPE_NAMES[oid] ?? catalogName ?? `unknown(${oid})`
}

/** A number `JSON.stringify` writes digit for digit (`JSON.rawJSON`). */
export type ExactJsonNumber = { readonly rawJSON: string }

const rawJSON = (JSON as unknown as { rawJSON?: (text: string) => ExactJsonNumber }).rawJSON

/**
 * A BIGINT as Redshift sends it: a JSON number with every digit (a Java long), so a client
 * that reads it exactly gets 2^53 + 1 right. Node 24's `JSON.rawJSON` writes the digits as
 * they are; without it the value is rounded to a double.
 */
function exactLong(text: string): number | ExactJsonNumber {
  return rawJSON ? rawJSON(text) : Number(text)
}

/** Converts one PostgreSQL text-format value (or null) to a Data API field. */
export function toField(oid: number, text: string | null): Field {
  if (text === null) return { isNull: true }
  if (LONG_TYPES.has(oid)) return { longValue: exactLong(text) }
  if (DOUBLE_TYPES.has(oid)) {
    const n = Number(text)
    return Number.isFinite(n) ? { doubleValue: n } : { stringValue: text }
  }
  if (oid === 16) return { booleanValue: text === 't' || text === 'true' }
  if (oid === 17) {
    const hex = text.startsWith('\\x') ? text.slice(2) : text
    return { blobValue: Buffer.from(hex, 'hex').toString('base64') }
  }
  return { stringValue: text }
}

/**
 * Column metadata for a result column from PostgreSQL's RowDescription.
 * @param name column label.
 * @param oid type OID.
 * @param typmod type modifier (-1 when none).
 * @param typeName Redshift type name.
 */
export function columnMetadata(
  name: string,
  oid: number,
  typmod: number,
  typeName: string,
): ColumnMetadata {
  let precision = 0
  let scale = 0
  if (oid === 1700 && typmod >= 4) {
    precision = ((typmod - 4) >> 16) & 0xffff
    scale = (typmod - 4) & 0xffff
  } else if ((oid === 1043 || oid === 1042) && typmod >= 4) {
    precision = typmod - 4
  } else if (oid === 25 || oid === 705) {
    precision = 256
  }
  return {
    isCaseSensitive: TEXT_TYPES.has(oid),
    isCurrency: false,
    isSigned: SIGNED_TYPES.has(oid),
    label: name,
    name,
    nullable: 1,
    precision,
    scale,
    schemaName: '',
    tableName: '',
    typeName,
    length: 0,
  }
}
