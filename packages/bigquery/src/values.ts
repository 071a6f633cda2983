/**
 * Values between BigQuery's REST shapes and Larder's canonical values: result rows
 * (`{ f: [{ v }] }`, INT64 as decimal strings, TIMESTAMP as epoch microseconds) into Arrow
 * columns, exactly; Arrow tables into newline-delimited JSON for load jobs; table schemas
 * into Larder value types.
 */
import {
  elementType,
  fromArrowType,
  LarderError,
  parseTime,
  readColumn,
  type SourceSchema,
  type SqlColumn,
  toArrowVector,
  type ValueTypeName,
} from '@larder/core'
import * as arrow from 'apache-arrow'

const COMPONENT = 'bigquery'

/** A field of a BigQuery table or result schema (REST `TableFieldSchema`). */
export interface BigQueryField {
  name: string
  type: string
  mode?: string
  fields?: BigQueryField[]
}

/** A cell of a result row as the REST API sends it. */
export interface BigQueryCell {
  v: unknown
}

/** A result row as the REST API sends it. */
export interface BigQueryRow {
  f: BigQueryCell[]
}

const SCALAR_OF_TYPE: Record<string, ValueTypeName | undefined> = {
  INTEGER: 'int64',
  INT64: 'int64',
  FLOAT: 'float64',
  FLOAT64: 'float64',
  NUMERIC: 'float64',
  BIGNUMERIC: 'float64',
  BOOLEAN: 'bool',
  BOOL: 'bool',
  STRING: 'string',
  BYTES: 'bytes',
  TIMESTAMP: 'timestamp',
  DATETIME: 'timestamp',
  DATE: 'timestamp',
}

/**
 * The Larder value type of a BigQuery field (undefined when Larder has none: RECORD, JSON,
 * TIME, GEOGRAPHY, INTERVAL). NUMERIC/BIGNUMERIC infer as float64; a view may declare them
 * int64 or string and gets them exactly.
 */
export function valueTypeOfField(field: BigQueryField): ValueTypeName | undefined {
  const scalar = SCALAR_OF_TYPE[field.type.toUpperCase()]
  if (scalar === undefined) return undefined
  return field.mode?.toUpperCase() === 'REPEATED' ? (`array<${scalar}>` as ValueTypeName) : scalar
}

/** Columns of a BigQuery schema as Larder describes sources. */
export function describeFields(fields: readonly BigQueryField[]): SourceSchema {
  return fields.map((f) => ({
    name: f.name,
    valueType: valueTypeOfField(f),
    rawType: f.mode?.toUpperCase() === 'REPEATED' ? `ARRAY<${f.type}>` : f.type,
  }))
}

const LOAD_TYPE: Record<string, string> = {
  int32: 'INTEGER',
  int64: 'INTEGER',
  float32: 'FLOAT',
  float64: 'FLOAT',
  string: 'STRING',
  bytes: 'BYTES',
  bool: 'BOOLEAN',
  timestamp: 'TIMESTAMP',
}

/** The BigQuery schema field of a Larder value type (arrays are REPEATED). */
export function fieldOfType(name: string, type: ValueTypeName): BigQueryField {
  const element = elementType(type)
  return element
    ? { name, type: LOAD_TYPE[element] as string, mode: 'REPEATED' }
    : { name, type: LOAD_TYPE[type] as string, mode: 'NULLABLE' }
}

function bad(what: string, value: unknown, type: string): LarderError {
  return new LarderError(
    'BACKEND_ERROR',
    `${what}: BigQuery returned ${JSON.stringify(value)?.slice(0, 60)} where a ${type} was expected`,
    { component: COMPONENT },
  )
}

/** Epoch microseconds of a TIMESTAMP (int64 text), DATETIME or DATE cell. */
function micros(text: string, fieldType: string, what: string): bigint {
  if (/^-?\d+$/.test(text)) return BigInt(text)
  if (/^-?\d+(\.\d+)?(E[+-]?\d+)?$/i.test(text) && fieldType === 'TIMESTAMP') {
    // Float seconds (an API without useInt64Timestamp): exact to the microsecond.
    const [whole, frac = ''] = Number(text).toFixed(6).split('.')
    return (
      BigInt(whole as string) * 1_000_000n + BigInt(`${whole?.startsWith('-') ? '-' : ''}${frac}`)
    )
  }
  const civil =
    text.includes('T') || text.includes(' ') ? text.replace(' ', 'T') : `${text}T00:00:00`
  try {
    return parseTime(/[zZ]|[+-]\d\d:?\d\d$/.test(civil) ? civil : `${civil}Z`)
  } catch {
    throw bad(what, text, 'timestamp')
  }
}

function base64(text: string): Uint8Array {
  return new Uint8Array(Buffer.from(text, 'base64'))
}

/** One REST cell as a canonical value of `type`. */
function cellValue(
  v: unknown,
  type: ValueTypeName,
  field: BigQueryField | undefined,
  what: string,
): unknown {
  if (v === null || v === undefined) return null
  const element = elementType(type)
  if (element) {
    if (!Array.isArray(v)) throw bad(what, v, type)
    return v.map((c) => cellValue((c as BigQueryCell)?.v, element, field, what))
  }
  if (typeof v !== 'string') throw bad(what, v, type)
  const fieldType = (field?.type ?? '').toUpperCase()
  switch (type) {
    case 'int64':
      if (/^-?\d+$/.test(v)) return BigInt(v)
      if (/^-?\d+\.0*$/.test(v)) return BigInt(v.slice(0, v.indexOf('.')))
      throw bad(what, v, type)
    case 'int32':
    case 'float32':
    case 'float64': {
      if (fieldType === 'BOOLEAN' || fieldType === 'BOOL') return v === 'true' ? 1 : 0
      const n = Number(v)
      if (Number.isNaN(n) && v !== 'NaN') throw bad(what, v, type)
      return n
    }
    case 'bool':
      return v === 'true'
    case 'string':
      return v
    case 'bytes':
      return base64(v)
    case 'timestamp':
      return micros(v, fieldType, what)
    default:
      throw bad(what, v, type)
  }
}

/**
 * Record batches of REST rows with exactly the given columns (by position) and types.
 * @throws LarderError BACKEND_ERROR naming the column when a cell is not of its type.
 */
export function rowsToBatch(
  rows: readonly BigQueryRow[],
  schema: readonly BigQueryField[],
  columns: readonly SqlColumn[],
  what: string,
): arrow.RecordBatch[] {
  const vectors: Record<string, arrow.Vector> = {}
  columns.forEach((c, i) => {
    const field = schema[i]
    const where = `${what}, column '${c.name}'`
    const values = rows.map((r) => cellValue(r.f[i]?.v, c.valueType, field, where))
    vectors[c.name] = toArrowVector(values, c.valueType)
  })
  return new arrow.Table(vectors).batches
}

/** A canonical value as newline-delimited JSON for a load job. */
function jsonValue(value: unknown, type: ValueTypeName): unknown {
  if (value === null || value === undefined) return null
  const element = elementType(type)
  if (element) return (value as unknown[]).map((v) => jsonValue(v, element))
  switch (type) {
    case 'int64':
      return (value as bigint).toString()
    case 'float32':
    case 'float64': {
      const n = value as number
      return Number.isFinite(n) ? n : String(n)
    }
    case 'bytes':
      return Buffer.from(value as Uint8Array).toString('base64')
    case 'timestamp': {
      const us = value as bigint
      const ms = us / 1000n - (us % 1000n < 0n ? 1n : 0n)
      const rest = us - ms * 1000n
      const iso = new Date(Number(ms)).toISOString()
      return `${iso.slice(0, 23)}${rest.toString().padStart(3, '0')}Z`
    }
    default:
      return value
  }
}

/**
 * An Arrow table as a BigQuery schema and newline-delimited JSON (int64 as strings, bytes
 * base64, timestamps RFC 3339 with microseconds).
 * @throws LarderError INVALID_INPUT naming a column whose Arrow type Larder cannot store.
 */
export function tableToNdjson(
  table: arrow.Table,
  what: string,
): { fields: BigQueryField[]; types: ValueTypeName[]; body: string } {
  const fieldsIn = table.schema.fields
  const types = fieldsIn.map((f) => {
    const vt = fromArrowType(f.type)
    if (!vt) {
      throw new LarderError(
        'INVALID_INPUT',
        `${what}: column '${f.name}' has Arrow type ${String(f.type)}, which BigQuery cannot load through Larder`,
        {
          component: COMPONENT,
          hint: 'cast it to a number, string, bool, bytes, timestamp or a list of those',
        },
      )
    }
    return vt
  })
  const columns = fieldsIn.map((f, i) =>
    readColumn(
      table.getChild(f.name) as arrow.Vector,
      types[i] as ValueTypeName,
      `${what}, column '${f.name}'`,
    ),
  )
  const lines: string[] = []
  for (let r = 0; r < table.numRows; r++) {
    const row: Record<string, unknown> = {}
    fieldsIn.forEach((f, c) => {
      const v = jsonValue(columns[c]?.[r], types[c] as ValueTypeName)
      if (v !== null) row[f.name] = v
    })
    lines.push(JSON.stringify(row))
  }
  return {
    fields: fieldsIn.map((f, i) => fieldOfType(f.name, types[i] as ValueTypeName)),
    types,
    body: lines.length > 0 ? `${lines.join('\n')}\n` : '',
  }
}
