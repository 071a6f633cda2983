/**
 * Moving data between Arrow and DuckDB without a row-object detour: DuckDB result chunks
 * become Arrow record batches column by column (typed arrays for fixed-width types), and
 * Arrow tables go into DuckDB through the appender, one data chunk at a time.
 */

import {
  blobValue,
  type DuckDBConnection,
  DuckDBDataChunk,
  type DuckDBResult,
  type DuckDBType,
  type DuckDBValue,
  DuckDBVector,
  listValue,
  timestampTZValue,
} from '@duckdb/node-api'
import bindings from '@duckdb/node-bindings'
import {
  elementType,
  fromArrowType,
  LarderError,
  type ScalarTypeName,
  toArrowType,
  type ValueTypeName,
} from '@larder/core'
import * as arrow from 'apache-arrow'
import { sqlTypeOf } from './duck-types.js'
import { ident } from './sql.js'

/** One output column: its name and Larder value type. */
export interface OutputColumn {
  name: string
  valueType: ValueTypeName
}

/**
 * The select expression that reads `expr` as `type` in a form the Arrow builders take:
 * timestamps as epoch microseconds (BIGINT), everything else cast to its DuckDB type.
 */
export function readExpression(expr: string, type: ValueTypeName): string {
  if (type === 'timestamp') return `epoch_us(CAST(${expr} AS TIMESTAMPTZ))`
  if (type === 'array<timestamp>')
    return `list_transform(CAST(${expr} AS TIMESTAMPTZ[]), x -> epoch_us(x))`
  return `CAST(${expr} AS ${sqlTypeOf(type)})`
}

function validity(values: readonly unknown[]): { bitmap: Uint8Array; nullCount: number } {
  const bitmap = new Uint8Array((values.length + 7) >> 3)
  let nullCount = 0
  for (let i = 0; i < values.length; i++) {
    if (values[i] === null || values[i] === undefined) nullCount++
    else bitmap[i >> 3]! |= 1 << (i & 7)
  }
  return { bitmap, nullCount }
}

const encoder = new TextEncoder()

function binaryData(
  type: arrow.Utf8 | arrow.Binary,
  values: readonly unknown[],
  encode: (v: unknown) => Uint8Array,
): arrow.Data {
  const { bitmap, nullCount } = validity(values)
  const offsets = new Int32Array(values.length + 1)
  const parts: Uint8Array[] = []
  let total = 0
  for (let i = 0; i < values.length; i++) {
    const v = values[i]
    if (v !== null && v !== undefined) {
      const bytes = encode(v)
      parts.push(bytes)
      total += bytes.length
    }
    offsets[i + 1] = total
  }
  const data = new Uint8Array(total)
  let at = 0
  for (const part of parts) {
    data.set(part, at)
    at += part.length
  }
  return arrow.makeData({
    type,
    length: values.length,
    nullCount,
    nullBitmap: nullCount ? bitmap : null,
    valueOffsets: offsets,
    data,
  } as never)
}

function scalarData(type: ScalarTypeName, values: readonly unknown[]): arrow.Data {
  const n = values.length
  const arrowType = toArrowType(type)
  const { bitmap, nullCount } = validity(values)
  const nullBitmap = nullCount ? bitmap : null
  const fixed = (data: ArrayLike<unknown>) =>
    arrow.makeData({ type: arrowType, length: n, nullCount, nullBitmap, data } as never)
  switch (type) {
    case 'int32': {
      const data = new Int32Array(n)
      for (let i = 0; i < n; i++) data[i] = (values[i] as number | null) ?? 0
      return fixed(data)
    }
    case 'float32': {
      const data = new Float32Array(n)
      for (let i = 0; i < n; i++) data[i] = (values[i] as number | null) ?? 0
      return fixed(data)
    }
    case 'float64': {
      const data = new Float64Array(n)
      for (let i = 0; i < n; i++) data[i] = (values[i] as number | null) ?? 0
      return fixed(data)
    }
    case 'int64':
    case 'timestamp': {
      const data = new BigInt64Array(n)
      for (let i = 0; i < n; i++) data[i] = (values[i] as bigint | null) ?? 0n
      return fixed(data)
    }
    case 'bool': {
      const data = new Uint8Array((n + 7) >> 3)
      for (let i = 0; i < n; i++) if (values[i] === true) data[i >> 3]! |= 1 << (i & 7)
      return fixed(data)
    }
    case 'string':
      return binaryData(arrowType as arrow.Utf8, values, (v) => encoder.encode(v as string))
    case 'bytes':
      return binaryData(arrowType as arrow.Binary, values, (v) => v as Uint8Array)
  }
}

/** Arrow data of a Larder value type from JS values as DuckDB vectors give them. */
export function buildData(type: ValueTypeName, values: readonly unknown[]): arrow.Data {
  const element = elementType(type)
  if (!element) return scalarData(type as ScalarTypeName, values)
  const { bitmap, nullCount } = validity(values)
  const offsets = new Int32Array(values.length + 1)
  const flat: unknown[] = []
  for (let i = 0; i < values.length; i++) {
    const v = values[i] as readonly unknown[] | null | undefined
    if (v) for (const item of v) flat.push(item)
    offsets[i + 1] = flat.length
  }
  return arrow.makeData({
    type: toArrowType(type),
    length: values.length,
    nullCount,
    nullBitmap: nullCount ? bitmap : null,
    valueOffsets: offsets,
    child: scalarData(element, flat),
  } as never)
}

/** A DuckDB value (as `getItem` returns it) in the form {@link buildData} takes. */
function plainValue(value: unknown): unknown {
  if (value === null || typeof value !== 'object') return value
  if ('bytes' in value) return (value as { bytes: Uint8Array }).bytes
  if ('items' in value) return (value as { items: unknown[] }).items.map(plainValue)
  return value
}

/** The Arrow schema of output columns. */
export function arrowSchema(columns: readonly OutputColumn[]): arrow.Schema {
  return new arrow.Schema(
    columns.map((c) => new arrow.Field(c.name, toArrowType(c.valueType), true)),
  )
}

type FixedArray = Int32Array | BigInt64Array | Float32Array | Float64Array | Uint8Array

/** Value types DuckDB stores as fixed-width values that Arrow can take as they are. */
const FIXED: Partial<
  Record<ValueTypeName, (buffer: ArrayBufferLike, offset: number, n: number) => FixedArray>
> = {
  int32: (b, o, n) => new Int32Array(b, o, n),
  int64: (b, o, n) => new BigInt64Array(b, o, n),
  timestamp: (b, o, n) => new BigInt64Array(b, o, n),
  float32: (b, o, n) => new Float32Array(b, o, n),
  float64: (b, o, n) => new Float64Array(b, o, n),
  bool: (b, o, n) => new Uint8Array(b, o, n),
}

/** A run of rows of one column: values and a byte per row (1 = valid), or null (all valid). */
interface Part {
  values: FixedArray | unknown[]
  valid: Uint8Array | null
  length: number
}

function slicePart(part: Part, from: number, to: number): Part {
  return {
    values: Array.isArray(part.values)
      ? part.values.slice(from, to)
      : part.values.subarray(from, to),
    valid: part.valid ? part.valid.subarray(from, to) : null,
    length: to - from,
  }
}

/** Reads column `c` of a chunk straight from DuckDB's vector buffers (fixed-width types). */
function fixedPart(
  chunk: DuckDBDataChunk,
  c: number,
  n: number,
  type: ValueTypeName,
): Part | undefined {
  const make = FIXED[type]
  if (!make) return undefined
  const vector = bindings.data_chunk_get_vector(chunk.chunk, c)
  const probe = make(new ArrayBuffer(8), 0, 1)
  const raw = bindings.vector_get_data(vector, n * probe.BYTES_PER_ELEMENT)
  const values = make(raw.buffer, raw.byteOffset, n).slice()
  const mask = bindings.vector_get_validity(vector, Math.ceil(n / 64) * 8)
  let valid: Uint8Array | null = null
  if (mask) {
    for (let i = 0; i < n; i++) {
      if (((mask[i >> 3]! >> (i & 7)) & 1) === 0) {
        valid = new Uint8Array(n)
        for (let j = 0; j < n; j++) valid[j] = (mask[j >> 3]! >> (j & 7)) & 1
        break
      }
    }
  }
  return { values, valid, length: n }
}

function buildFromParts(type: ValueTypeName, parts: readonly Part[]): arrow.Data {
  const make = FIXED[type]
  const length = parts.reduce((n, p) => n + p.length, 0)
  if (!make) {
    const values: unknown[] = []
    for (const part of parts) for (const v of part.values as unknown[]) values.push(v)
    return buildData(type, values)
  }
  let nullCount = 0
  let bitmap: Uint8Array | null = null
  if (parts.some((p) => p.valid)) {
    bitmap = new Uint8Array((length + 7) >> 3)
    let at = 0
    for (const part of parts) {
      for (let i = 0; i < part.length; i++, at++) {
        if (!part.valid || part.valid[i]) bitmap[at >> 3]! |= 1 << (at & 7)
        else nullCount++
      }
    }
  }
  let data: FixedArray
  if (type === 'bool') {
    data = new Uint8Array((length + 7) >> 3)
    let at = 0
    for (const part of parts) {
      const bytes = part.values as Uint8Array
      for (let i = 0; i < part.length; i++, at++) if (bytes[i]) data[at >> 3]! |= 1 << (at & 7)
    }
  } else {
    const first = parts[0]?.values as FixedArray | undefined
    const Ctor = (first?.constructor ?? Int32Array) as new (n: number) => FixedArray
    data = new Ctor(length)
    let at = 0
    for (const part of parts) {
      ;(data as Int32Array).set(part.values as Int32Array, at)
      at += part.length
    }
  }
  return arrow.makeData({
    type: toArrowType(type),
    length,
    nullCount,
    nullBitmap: nullCount ? bitmap : null,
    data,
  } as never)
}

function batchOf(
  schema: arrow.Schema,
  columns: readonly OutputColumn[],
  parts: Part[][],
): arrow.RecordBatch {
  const children = columns.map((c, i) => buildFromParts(c.valueType, parts[i] ?? []))
  const length = children[0]?.length ?? 0
  return new arrow.RecordBatch(
    schema,
    arrow.makeData({
      type: new arrow.Struct(schema.fields),
      length,
      nullCount: 0,
      children,
    } as never) as unknown as arrow.Data<arrow.Struct>,
  )
}

/**
 * Streams a DuckDB result as Arrow record batches of `batchRows` rows (the last may be
 * shorter). The result's columns must be in the form {@link readExpression} produces, in the
 * order of `columns`. Fixed-width columns are copied from DuckDB's vector buffers as they
 * are; memory stays bounded by one batch: chunks are fetched as the consumer pulls.
 */
export async function* resultBatches(
  result: DuckDBResult,
  columns: readonly OutputColumn[],
  batchRows = 65_536,
): AsyncGenerator<arrow.RecordBatch> {
  const schema = arrowSchema(columns)
  let pending: Part[][] = columns.map(() => [])
  let rows = 0
  const take = (n: number): Part[][] =>
    pending.map((parts, c) => {
      const out: Part[] = []
      let need = n
      const rest: Part[] = []
      for (const part of parts) {
        if (need === 0) rest.push(part)
        else if (part.length <= need) {
          out.push(part)
          need -= part.length
        } else {
          out.push(slicePart(part, 0, need))
          rest.push(slicePart(part, need, part.length))
          need = 0
        }
      }
      pending[c] = rest
      return out
    })
  for (;;) {
    const chunk = await result.fetchChunk()
    if (!chunk || chunk.rowCount === 0) break
    const n = chunk.rowCount
    for (let c = 0; c < columns.length; c++) {
      const type = columns[c]!.valueType
      let part = fixedPart(chunk, c, n, type)
      if (!part) {
        const vector = chunk.getColumnVector(c)
        const values: unknown[] = new Array(n)
        const nested = elementType(type) || type === 'bytes'
        for (let i = 0; i < n; i++) {
          const v = vector.getItem(i)
          values[i] = nested ? plainValue(v) : v
        }
        part = { values, valid: null, length: n }
      }
      pending[c]!.push(part)
    }
    rows += n
    while (rows >= batchRows) {
      const head = take(batchRows)
      rows -= batchRows
      yield batchOf(schema, columns, head)
    }
  }
  if (rows > 0) yield batchOf(schema, columns, pending)
  pending = []
}

/** Collects a DuckDB result into an Arrow table (an empty table keeps the schema). */
export async function resultTable(
  result: DuckDBResult,
  columns: readonly OutputColumn[],
): Promise<arrow.Table> {
  const batches: arrow.RecordBatch[] = []
  for await (const batch of resultBatches(result, columns, 262_144)) batches.push(batch)
  if (batches.length === 0) return new arrow.Table(arrowSchema(columns))
  return new arrow.Table(batches)
}

/** The Larder value type of an Arrow field (dictionaries read as their values). */
export function valueTypeOfArrow(type: arrow.DataType): ValueTypeName | undefined {
  if (arrow.DataType.isDictionary(type)) return fromArrowType((type as arrow.Dictionary).dictionary)
  return fromArrowType(type)
}

const MICROS_PER_UNIT: Record<number, [bigint, bigint]> = {
  [arrow.TimeUnit.SECOND]: [1_000_000n, 1n],
  [arrow.TimeUnit.MILLISECOND]: [1_000n, 1n],
  [arrow.TimeUnit.MICROSECOND]: [1n, 1n],
  [arrow.TimeUnit.NANOSECOND]: [1n, 1_000n],
}

/** Epoch microseconds of every value of a temporal Arrow vector (exact: raw buffers). */
function temporalMicros(vector: arrow.Vector, from: number, to: number): Array<bigint | null> {
  const out: Array<bigint | null> = []
  const type = vector.type as arrow.DataType
  for (let i = from; i < to; i++) {
    if (!vector.isValid(i)) {
      out.push(null)
      continue
    }
    out.push(0n)
  }
  // Walk the chunks to read raw values (`get` rounds timestamps to milliseconds).
  let base = 0
  for (const data of vector.data) {
    const start = Math.max(from, base)
    const end = Math.min(to, base + data.length)
    for (let i = start; i < end; i++) {
      if (out[i - from] === null) continue
      // Arrow slices the values buffer itself (data.offset is for the validity bitmap only).
      const raw = data.values[i - base] as number | bigint
      let micros: bigint
      if (arrow.DataType.isTimestamp(type)) {
        const [mul, div] = MICROS_PER_UNIT[(type as arrow.Timestamp).unit]!
        const v = BigInt(raw)
        micros = div === 1n ? v * mul : v / div - (v % div < 0n ? 1n : 0n)
      } else if (arrow.DataType.isDate(type) && (type as arrow.Date_).unit === arrow.DateUnit.DAY) {
        micros = BigInt(raw) * 86_400_000_000n
      } else {
        micros = BigInt(raw) * 1000n
      }
      out[i - from] = micros
    }
    base += data.length
  }
  return out
}

/**
 * A timestamp vector as timestamp[us, UTC] (exact), the form the in-memory engine gives
 * entity timestamp columns; other vectors are returned as they are.
 */
export function toMicrosUtc(vector: arrow.Vector): arrow.Vector {
  const type = vector.type as arrow.DataType
  if (!arrow.DataType.isTimestamp(type)) return vector
  const ts = type as arrow.Timestamp
  if (ts.unit === arrow.TimeUnit.MICROSECOND && ts.timezone === 'UTC') return vector
  return arrow.makeVector(buildData('timestamp', temporalMicros(vector, 0, vector.length)))
}

function duckValue(value: unknown, type: ValueTypeName): DuckDBValue {
  if (value === null || value === undefined) return null
  const element = elementType(type)
  if (element) {
    const items = Array.from(value as Iterable<unknown>, (item) =>
      element === 'timestamp'
        ? item === null
          ? null
          : timestampTZValue(BigInt(Math.round((item as number) * 1000)))
        : duckValue(item, element),
    )
    return listValue(items)
  }
  switch (type) {
    case 'int64':
      return typeof value === 'bigint' ? value : BigInt(value as number)
    case 'bytes':
      return blobValue(value as Uint8Array)
    case 'int32':
    case 'float32':
    case 'float64':
      return Number(value)
    default:
      return value as DuckDBValue
  }
}

/** A whole Arrow column as one contiguous typed array and a byte per row (1 = valid). */
interface FixedColumn {
  values: Int32Array | BigInt64Array | Float32Array | Float64Array
  valid: Uint8Array | null
}

const FIXED_INPUT: Partial<Record<ValueTypeName, new (n: number) => FixedColumn['values']>> = {
  int32: Int32Array,
  int64: BigInt64Array,
  float32: Float32Array,
  float64: Float64Array,
}

/** The column as DuckDB stores it (timestamps as epoch micros), when it is fixed-width. */
function fixedColumn(vector: arrow.Vector, type: ValueTypeName): FixedColumn | undefined {
  const n = vector.length
  let valid: Uint8Array | null = null
  if (vector.nullCount > 0) {
    valid = new Uint8Array(n)
    for (let i = 0; i < n; i++) valid[i] = vector.isValid(i) ? 1 : 0
  }
  const arrowType = vector.type as arrow.DataType
  const rawMicros =
    arrow.DataType.isTimestamp(arrowType) &&
    (arrowType as arrow.Timestamp).unit === arrow.TimeUnit.MICROSECOND
  if (type === 'timestamp' && !rawMicros) {
    const micros = temporalMicros(vector, 0, n)
    const values = new BigInt64Array(n)
    for (let i = 0; i < n; i++) values[i] = micros[i] ?? 0n
    return { values, valid }
  }
  const Ctor = type === 'timestamp' ? BigInt64Array : FIXED_INPUT[type]
  if (!Ctor || !vector.data.every((d) => d.values instanceof Ctor)) return undefined
  const values = new Ctor(n)
  let at = 0
  for (const data of vector.data) {
    ;(values as Int32Array).set(
      // A sliced vector's values buffer already starts at its first row.
      (data.values as Int32Array).subarray(0, data.length),
      at,
    )
    at += data.length
  }
  return { values, valid }
}

/** Copies rows `[from, to)` of a fixed-width column straight into a chunk's vector. */
function writeFixed(
  chunk: DuckDBDataChunk,
  c: number,
  column: FixedColumn,
  from: number,
  to: number,
): void {
  const vector = bindings.data_chunk_get_vector(chunk.chunk, c)
  const bytes = column.values.BYTES_PER_ELEMENT
  bindings.copy_data_to_vector(
    vector,
    0,
    column.values.buffer as ArrayBuffer,
    column.values.byteOffset + from * bytes,
    (to - from) * bytes,
  )
  if (column.valid) {
    const n = to - from
    const mask = new Uint8Array(Math.ceil(n / 64) * 8)
    for (let i = 0; i < n; i++) if (column.valid[from + i]) mask[i >> 3]! |= 1 << (i & 7)
    bindings.vector_ensure_validity_writable(vector)
    bindings.copy_data_to_vector_validity(vector, 0, mask.buffer, 0, mask.byteLength)
  }
}

/**
 * Creates temp table `name` from an Arrow table (columns typed by their Larder value type,
 * timestamps as TIMESTAMPTZ) and appends its rows in input order.
 * @throws LarderError INVALID_INPUT naming a column of a type Larder cannot read.
 */
export async function loadArrowTable(
  connection: DuckDBConnection,
  name: string,
  table: arrow.Table,
  what: string,
): Promise<OutputColumn[]> {
  const columns: OutputColumn[] = table.schema.fields.map((field) => {
    const valueType = valueTypeOfArrow(field.type)
    if (!valueType) {
      throw new LarderError(
        'INVALID_INPUT',
        `${what} column '${field.name}' has Arrow type ${String(field.type)}, which Larder cannot read`,
        { component: 'file', hint: 'cast it to a Larder value type (t.int64, t.string...)' },
      )
    }
    return { name: field.name, valueType }
  })
  const defs = columns.map((c) => `${ident(c.name)} ${sqlTypeOf(c.valueType)}`).join(', ')
  await connection.run(`CREATE OR REPLACE TEMP TABLE ${ident(name)} (${defs})`)
  if (table.numRows === 0) return columns
  const appender = await connection.createAppender(name, 'main', 'temp')
  const types: DuckDBType[] = Array.from({ length: columns.length }, (_, i) =>
    appender.columnType(i),
  )
  const step = DuckDBVector.standardSize()
  const vectors = columns.map((_, i) => table.getChildAt(i)!)
  const fixed = columns.map((column, c) => fixedColumn(vectors[c]!, column.valueType))
  try {
    for (let from = 0; from < table.numRows; from += step) {
      const to = Math.min(table.numRows, from + step)
      const n = to - from
      const chunk = DuckDBDataChunk.create(types, n)
      chunk.rowCount = n
      columns.forEach((column, c) => {
        const fast = fixed[c]
        if (fast) {
          writeFixed(chunk, c, fast, from, to)
          return
        }
        const vector = vectors[c]!
        const out: DuckDBValue[] = []
        for (let i = from; i < to; i++) out.push(duckValue(vector.get(i), column.valueType))
        chunk.setColumnValues(c, out)
      })
      appender.appendDataChunk(chunk)
    }
    appender.flushSync()
  } finally {
    appender.closeSync()
  }
  return columns
}
