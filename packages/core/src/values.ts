/**
 * Values at the edges. Inside Larder a value of a given value type is: int32/float32/float64
 * -> number, int64 -> bigint, string, bytes -> Uint8Array, bool -> boolean, timestamp ->
 * bigint epoch microseconds, arrays -> JS arrays of those, null for null. This module reads
 * Arrow columns into that form and checks user input (JSON, row objects) against a type.
 */
import * as arrow from 'apache-arrow'
import { parseTime } from './duration.js'
import { isLarderError, LarderError } from './errors.js'
import { isTimeType, readMicros } from './pit/columns.js'
import { elementType, type ScalarTypeName, toArrowType, type ValueTypeName } from './types.js'

/**
 * Reads an Arrow column as canonical values of `type` (see the module doc). Timestamps and
 * int64 are exact.
 */
export function readColumn(vector: arrow.Vector, type: ValueTypeName, what: string): unknown[] {
  const n = vector.length
  const out = new Array<unknown>(n)
  if (type === 'timestamp') {
    const micros = readMicros(vector, what)
    for (let i = 0; i < n; i++) {
      const v = micros[i] as number
      out[i] = Number.isNaN(v) ? null : BigInt(v)
    }
    return out
  }
  const element = elementType(type)
  for (let i = 0; i < n; i++) {
    const v = vector.get(i) as unknown
    if (v === null || v === undefined) out[i] = null
    else if (element) out[i] = readList(v as arrow.Vector, element, what)
    else out[i] = scalarFromArrow(v, type as ScalarTypeName)
  }
  return out
}

function readList(v: arrow.Vector, element: ScalarTypeName, what: string): unknown[] {
  if (element === 'timestamp') {
    const micros = readMicros(v, what)
    return Array.from(micros, (m) => (Number.isNaN(m) ? null : BigInt(m)))
  }
  const out: unknown[] = []
  for (let i = 0; i < v.length; i++) {
    const x = v.get(i) as unknown
    out.push(x === null || x === undefined ? null : scalarFromArrow(x, element))
  }
  return out
}

function scalarFromArrow(v: unknown, type: ScalarTypeName): unknown {
  switch (type) {
    case 'int64':
      return typeof v === 'bigint' ? v : BigInt(v as number)
    case 'int32':
    case 'float32':
    case 'float64':
      return typeof v === 'bigint' ? Number(v) : v
    case 'bytes':
      return v instanceof Uint8Array ? v : new Uint8Array(v as ArrayLike<number>)
    default:
      return v
  }
}

const INT32_MIN = -2147483648
const INT32_MAX = 2147483647

/**
 * A short, safe rendering of a bad value for an error message. It never throws: a value
 * nested thousands deep, a cyclic object or a hostile `toString` all get a plain description.
 */
export function previewValue(value: unknown): string {
  let shown: string | undefined
  try {
    shown = typeof value === 'bigint' ? `${value}` : JSON.stringify(value)
  } catch {
    shown = undefined
  }
  if (shown === undefined) {
    if (Array.isArray(value)) shown = `a list of ${value.length} value(s)`
    else if (value === null) shown = 'null'
    else if (typeof value === 'object') shown = 'an object'
    else shown = `a ${typeof value}`
  }
  return shown.length > 60 ? `${shown.slice(0, 57)}...` : shown
}

function fail(where: string, type: ValueTypeName, value: unknown, why?: string): LarderError {
  return new LarderError(
    'INVALID_INPUT',
    `${where}: expected ${type}, got ${previewValue(value)}${why ? ` (${why})` : ''}`,
  )
}

/** Largest finite float32 (a larger magnitude would be stored as Infinity). */
const FLOAT32_MAX = 3.4028234663852886e38

/** Seconds beyond which a number cannot be a time of years 0001..9999. */
const MAX_EPOCH_SECONDS = 253402300800
const MIN_MICROS = -62135596800000000n // 0001-01-01T00:00:00Z
const MAX_MICROS = 253402300799999999n // 9999-12-31T23:59:59.999999Z
const TIME_RANGE = 'times must lie in the years 0001 to 9999 (RFC 3339)'

function inTimeRange(micros: bigint, where: string, value: unknown): bigint {
  if (micros < MIN_MICROS || micros > MAX_MICROS) throw fail(where, 'timestamp', value, TIME_RANGE)
  return micros
}

function coerceScalar(value: unknown, type: ScalarTypeName, where: string): unknown {
  switch (type) {
    case 'int32': {
      const n =
        typeof value === 'bigint'
          ? Number(value)
          : typeof value === 'string' && /^-?\d+$/.test(value)
            ? Number(value)
            : value
      if (typeof n !== 'number' || !Number.isInteger(n) || n < INT32_MIN || n > INT32_MAX)
        throw fail(where, type, value)
      return n
    }
    case 'int64': {
      let n: bigint
      if (typeof value === 'bigint') n = value
      else if (typeof value === 'number') {
        if (!Number.isSafeInteger(value)) {
          throw fail(
            where,
            type,
            value,
            Number.isInteger(value)
              ? 'beyond 2^53: pass it as a string or bigint to keep it exact'
              : 'not an integer',
          )
        }
        n = BigInt(value)
      } else if (typeof value === 'string' && /^-?\d+$/.test(value)) n = BigInt(value)
      else throw fail(where, type, value)
      if (n < -(2n ** 63n) || n >= 2n ** 63n)
        throw fail(where, type, value, 'outside the int64 range')
      return n
    }
    case 'float32':
    case 'float64': {
      if (value === 'NaN' || value === 'Infinity' || value === '-Infinity') return Number(value)
      const n = typeof value === 'bigint' ? Number(value) : value
      if (typeof n !== 'number') throw fail(where, type, value)
      if (type === 'float32' && Number.isFinite(n) && Math.abs(n) > FLOAT32_MAX) {
        throw fail(where, type, value, 'beyond the float32 range (±3.4e38): declare it float64')
      }
      return type === 'float32' ? Math.fround(n) : n
    }
    case 'string':
      if (typeof value !== 'string') throw fail(where, type, value)
      return value
    case 'bool':
      if (typeof value !== 'boolean') throw fail(where, type, value)
      return value
    case 'bytes':
      if (value instanceof Uint8Array) return value
      if (
        typeof value === 'string' &&
        /^[A-Za-z0-9+/]*={0,2}$/.test(value) &&
        value.length % 4 === 0
      ) {
        return new Uint8Array(Buffer.from(value, 'base64'))
      }
      throw fail(where, type, value, 'bytes are a Uint8Array, or base64 in JSON')
    case 'timestamp':
      if (typeof value === 'bigint') return inTimeRange(value, where, value)
      if (typeof value === 'number' && Number.isFinite(value)) {
        // Numbers are Unix seconds (fractions allowed), as in Feast's JSON.
        if (Math.abs(value) > MAX_EPOCH_SECONDS) throw fail(where, type, value, TIME_RANGE)
        return inTimeRange(BigInt(Math.round(value * 1e6)), where, value)
      }
      if (typeof value === 'string' || value instanceof Date) {
        let micros: bigint
        try {
          micros = parseTime(value, where)
        } catch (err) {
          const reason = isLarderError(err) ? err.reason : ''
          throw fail(
            where,
            type,
            value,
            /offset/.test(reason) ? reason : 'use ISO-8601, e.g. 2026-01-31T12:00:00Z',
          )
        }
        return inTimeRange(micros, where, value)
      }
      throw fail(where, type, value)
  }
}

/**
 * Checks and converts one user value to the canonical form of `type`; `null`/`undefined`
 * become null. `where` names the value in errors (e.g. `column 'conv_rate', row 3`).
 * @throws LarderError INVALID_INPUT naming `where`, the expected type and the value.
 */
export function coerceValue(value: unknown, type: ValueTypeName, where: string): unknown {
  if (value === null || value === undefined) return null
  const element = elementType(type)
  if (element) {
    if (!Array.isArray(value)) throw fail(where, type, value, 'expected an array')
    return value.map((v, i) =>
      v === null || v === undefined ? null : coerceScalar(v, element, `${where}[${i}]`),
    )
  }
  return coerceScalar(value, type as ScalarTypeName, where)
}

/** Builds an Arrow vector of `type` from canonical values. */
export function toArrowVector(values: unknown[], type: ValueTypeName): arrow.Vector {
  const arrowType = toArrowType(type)
  const element = elementType(type)
  if (type === 'timestamp' || element === 'timestamp') {
    // Arrow JS builds timestamp columns from epoch milliseconds; build micros exactly instead.
    if (type === 'timestamp') return microsVector(values as Array<bigint | null>)
    const children = values.map((v) =>
      v === null ? null : microsVector(v as Array<bigint | null>),
    )
    return arrow.vectorFromArray(
      children.map((c) => (c === null ? null : [...c])),
      arrowType,
    )
  }
  return arrow.vectorFromArray(values as never[], arrowType)
}

function microsVector(values: Array<bigint | null>): arrow.Vector {
  const n = values.length
  const data = new BigInt64Array(n)
  const validity = new Uint8Array(Math.ceil(n / 8))
  let nulls = 0
  for (let i = 0; i < n; i++) {
    const v = values[i]
    if (v === null || v === undefined) nulls++
    else {
      data[i] = v
      validity[i >> 3]! |= 1 << (i & 7)
    }
  }
  return arrow.makeVector(
    arrow.makeData({
      type: new arrow.TimestampMicrosecond('UTC'),
      length: n,
      nullCount: nulls,
      data,
      nullBitmap: nulls > 0 ? validity : undefined,
    } as never),
  )
}

/** Canonical value -> a value users see in row objects (timestamps as Date). */
export function toUserValue(value: unknown, type: ValueTypeName): unknown {
  if (value === null || value === undefined) return null
  if (type === 'timestamp') return new Date(Number((value as bigint) / 1000n))
  if (type === 'array<timestamp>')
    return (value as Array<bigint | null>).map((v) =>
      v === null ? null : new Date(Number(v / 1000n)),
    )
  return value
}

/** Rows as users give them: column-major (`{ col: [values] }`) or a list of row objects. */
export type InputRows = Record<string, readonly unknown[]> | ReadonlyArray<Record<string, unknown>>

/**
 * Columns of user rows, by name. `what` names the input in errors.
 * @throws LarderError INVALID_INPUT when rows are neither form, or a column is not a list.
 */
export function columnsOf(rows: InputRows, what: string): Map<string, readonly unknown[]> {
  const columns = new Map<string, readonly unknown[]>()
  if (Array.isArray(rows)) {
    const list = rows as ReadonlyArray<Record<string, unknown>>
    const names = new Set<string>()
    for (const r of list) {
      if (!r || typeof r !== 'object')
        throw new LarderError('INVALID_INPUT', `${what}: every row must be an object`)
      for (const k of Object.keys(r)) names.add(k)
    }
    for (const k of names)
      columns.set(
        k,
        list.map((r) => r[k]),
      )
  } else if (rows && typeof rows === 'object') {
    for (const [k, v] of Object.entries(rows)) {
      if (!Array.isArray(v))
        throw new LarderError('INVALID_INPUT', `${what}: column '${k}' must be a list of values`)
      columns.set(k, v)
    }
  } else {
    throw new LarderError(
      'INVALID_INPUT',
      `${what}: rows must be { column: [values] } or a list of row objects`,
    )
  }
  return columns
}

/**
 * The number of rows of columns that must all be as long.
 * @throws LarderError INVALID_INPUT listing each column's length when they differ.
 */
export function rowCount(columns: ReadonlyMap<string, readonly unknown[]>, what: string): number {
  const lengths = new Set([...columns.values()].map((c) => c.length))
  if (lengths.size > 1) {
    const detail = [...columns].map(([k, v]) => `${k}: ${v.length}`).join(', ')
    throw new LarderError('INVALID_INPUT', `${what}: columns have different lengths (${detail})`)
  }
  return lengths.size ? [...lengths][0]! : 0
}

/** Converts a table to row objects: int64 as bigint, timestamps as Date, lists as arrays. */
export function tableToRows(table: arrow.Table): Record<string, unknown>[] {
  const fields = table.schema.fields
  const cols = fields.map((f) => table.getChild(f.name) as arrow.Vector)
  const micros = fields.map((f, i) =>
    isTimeType(f.type) ? readMicros(cols[i] as arrow.Vector, f.name) : undefined,
  )
  const rows: Record<string, unknown>[] = []
  for (let r = 0; r < table.numRows; r++) {
    const row: Record<string, unknown> = {}
    fields.forEach((f, i) => {
      const m = micros[i]
      if (m) {
        const v = m[r] as number
        row[f.name] = Number.isNaN(v) ? null : new Date(Math.floor(v / 1000))
      } else {
        const v = (cols[i] as arrow.Vector).get(r) as unknown
        if (!(v instanceof arrow.Vector)) row[f.name] = v ?? null
        else if (isTimeType(v.type)) {
          row[f.name] = Array.from(readMicros(v, f.name), (m) =>
            Number.isNaN(m) ? null : new Date(Math.floor(m / 1000)),
          )
        } else row[f.name] = [...v]
      }
    })
    rows.push(row)
  }
  return rows
}
