/**
 * Small Arrow helpers of the offline conformance suite: building tables from literal
 * columns, reading cells exactly (int64 as bigint, instants as RFC 3339 with microseconds)
 * and comparing two tables exactly.
 */
import { formatTime, parseTime, toArrowType, type ValueTypeName } from '@larder/core'
import * as arrow from 'apache-arrow'

/** A literal column: its value type and values (int64 as number or bigint, instants as ISO strings). */
export type LiteralColumn = readonly [ValueTypeName, readonly unknown[]]

/** A literal column with an explicit Arrow type (e.g. timestamp[ms] without zone). */
export interface ArrowLiteralColumn {
  arrowType: arrow.DataType
  values: readonly unknown[]
}

function timestampVector(values: readonly unknown[], type: arrow.Timestamp): arrow.Vector {
  const n = values.length
  const data = new BigInt64Array(n)
  const bitmap = new Uint8Array(((n + 63) >> 6) << 3)
  let nulls = 0
  const div =
    type.unit === arrow.TimeUnit.SECOND
      ? 1_000_000n
      : type.unit === arrow.TimeUnit.MILLISECOND
        ? 1000n
        : 1n
  values.forEach((v, i) => {
    if (v === null || v === undefined) {
      nulls++
      return
    }
    const micros = parseTime(v as string | Date | bigint, 'test timestamp')
    data[i] = type.unit === arrow.TimeUnit.NANOSECOND ? micros * 1000n : micros / div
    bitmap[i >> 3] = (bitmap[i >> 3] as number) | (1 << (i & 7))
  })
  return new arrow.Vector([
    arrow.makeData({ type, length: n, nullCount: nulls, nullBitmap: bitmap, data }),
  ])
}

function normalizeInput(type: ValueTypeName, v: unknown): unknown {
  if (v === null || v === undefined) return null
  if (type === 'int64') return BigInt(v as number | bigint)
  if (type === 'timestamp')
    return new Date(Number(parseTime(v as string, 'test timestamp') / 1000n))
  if (type.startsWith('array<')) {
    const inner = type.slice(6, -1) as ValueTypeName
    return (v as unknown[]).map((x) => normalizeInput(inner, x))
  }
  return v
}

/** An Arrow vector of `type` from literal values. */
export function literalVector(type: ValueTypeName, values: readonly unknown[]): arrow.Vector {
  if (type === 'timestamp') return timestampVector(values, new arrow.TimestampMicrosecond('UTC'))
  return arrow.vectorFromArray(
    values.map((v) => normalizeInput(type, v)),
    toArrowType(type),
  )
}

/**
 * A table from literal columns, in order.
 *
 * @example
 * literalTable({ driver_id: ['int64', [1, 2]], event_timestamp: ['timestamp', ['2026-01-01T00:00:00Z', null]] })
 */
export function literalTable(
  columns: Record<string, LiteralColumn | ArrowLiteralColumn>,
): arrow.Table {
  const record: Record<string, arrow.Vector> = {}
  for (const [name, col] of Object.entries(columns)) {
    if (Array.isArray(col)) {
      const [type, values] = col as LiteralColumn
      record[name] = literalVector(type, values)
    } else {
      const { arrowType, values } = col as ArrowLiteralColumn
      record[name] = arrow.DataType.isTimestamp(arrowType)
        ? timestampVector(values, arrowType as arrow.Timestamp)
        : arrow.vectorFromArray(values as unknown[], arrowType)
    }
  }
  return new arrow.Table(record)
}

function microsOf(data: arrow.Data, i: number, type: arrow.DataType): bigint {
  if (arrow.DataType.isDate(type)) {
    const v = (data.values as Int32Array | BigInt64Array)[i] as number | bigint
    return typeof v === 'bigint' ? v * 1000n : BigInt(v) * 86_400_000_000n
  }
  const v = (data.values as BigInt64Array)[i] as bigint
  const unit = (type as arrow.Timestamp).unit
  if (unit === arrow.TimeUnit.SECOND) return v * 1_000_000n
  if (unit === arrow.TimeUnit.MILLISECOND) return v * 1000n
  if (unit === arrow.TimeUnit.NANOSECOND) return v >= 0n ? v / 1000n : -((-v + 999n) / 1000n)
  return v
}

function cellValue(value: unknown, type: arrow.DataType): unknown {
  if (value === null || value === undefined) return null
  if (arrow.DataType.isList(type)) {
    const child = (type as arrow.List).children[0]?.type as arrow.DataType
    return [...(value as Iterable<unknown>)].map((v) => cellValue(v, child))
  }
  if (arrow.DataType.isTimestamp(type) || arrow.DataType.isDate(type)) {
    // Inside lists Arrow gives milliseconds.
    return formatTime(BigInt(Math.round(Number(value))) * 1000n)
  }
  return value
}

/**
 * The values of a table as rows of plain values: int64 as bigint, floats and int32 as
 * number, instants as RFC 3339 UTC strings with microseconds (`formatTime`), lists as arrays.
 */
export function tableCells(table: arrow.Table): unknown[][] {
  const fields = table.schema.fields
  const rows: unknown[][] = Array.from({ length: table.numRows }, () => [])
  fields.forEach((field, c) => {
    const vec = table.getChildAt(c) as arrow.Vector
    let base = 0
    for (const data of vec.data) {
      const chunk = new arrow.Vector([data])
      for (let i = 0; i < data.length; i++) {
        const row = rows[base + i] as unknown[]
        if (!chunk.isValid(i)) row.push(null)
        else if (arrow.DataType.isTimestamp(field.type) || arrow.DataType.isDate(field.type))
          row.push(formatTime(microsOf(data, i, field.type)))
        else row.push(cellValue(chunk.get(i), field.type))
      }
      base += data.length
    }
  })
  return rows
}

/** `name: ArrowType` of each column, e.g. `trips: Int64`. */
export function tableShape(table: arrow.Table): string[] {
  return table.schema.fields.map((f) => `${f.name}: ${String(f.type)}`)
}

function show(v: unknown): string {
  if (typeof v === 'bigint') return `${v}n`
  if (v instanceof Uint8Array) return `bytes(${[...v].join(',')})`
  if (Array.isArray(v)) return `[${v.map(show).join(', ')}]`
  if (typeof v === 'number' && Object.is(v, -0)) return '-0'
  return JSON.stringify(v) ?? String(v)
}

/** A readable rendering of a table (shape and rows) for failure messages. */
export function describeTable(table: arrow.Table): string {
  const lines = [tableShape(table).join(', ')]
  for (const row of tableCells(table)) lines.push(`  ${row.map(show).join(' | ')}`)
  return lines.join('\n')
}

function sameValue(a: unknown, b: unknown): boolean {
  if (a === b) return true
  if (typeof a === 'number' && typeof b === 'number') return Object.is(a, b) || a === b
  if (a instanceof Uint8Array && b instanceof Uint8Array)
    return a.length === b.length && a.every((x, i) => x === b[i])
  if (Array.isArray(a) && Array.isArray(b))
    return a.length === b.length && a.every((x, i) => sameValue(x, b[i]))
  return false
}

/**
 * Why two tables differ (names, order, types, row count, any value), or undefined when
 * they are identical.
 */
export function tableDifference(actual: arrow.Table, expected: arrow.Table): string | undefined {
  const a = tableShape(actual)
  const e = tableShape(expected)
  if (a.join('\n') !== e.join('\n'))
    return `columns differ:\n  got      ${a.join(', ')}\n  expected ${e.join(', ')}`
  if (actual.numRows !== expected.numRows)
    return `row count ${actual.numRows}, expected ${expected.numRows}`
  const ar = tableCells(actual)
  const er = tableCells(expected)
  for (let r = 0; r < ar.length; r++) {
    const x = ar[r] as unknown[]
    const y = er[r] as unknown[]
    for (let c = 0; c < x.length; c++) {
      if (!sameValue(x[c], y[c])) {
        return `row ${r}, column '${actual.schema.fields[c]?.name}': got ${show(x[c])}, expected ${show(y[c])}`
      }
    }
  }
  return undefined
}

/** Rows of plain values compared with expected literal rows; undefined when equal. */
export function rowsDifference(
  actual: unknown[][],
  expected: readonly (readonly unknown[])[],
): string | undefined {
  if (actual.length !== expected.length)
    return `row count ${actual.length}, expected ${expected.length}`
  for (let r = 0; r < actual.length; r++) {
    const x = actual[r] as unknown[]
    const y = expected[r] as unknown[]
    if (x.length !== y.length) return `row ${r} has ${x.length} values, expected ${y.length}`
    for (let c = 0; c < x.length; c++) {
      if (!sameValue(x[c], y[c]))
        return `row ${r}, column ${c}: got ${show(x[c])}, expected ${show(y[c])}`
    }
  }
  return undefined
}
