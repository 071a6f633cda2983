/**
 * Columnar helpers of the point-in-time engine: timestamps as exact epoch micros in
 * float64, join keys as dense integer ids, and typed gathers that build output columns.
 * Internal: not exported from the package.
 */
import * as arrow from 'apache-arrow'
import { LarderError } from '../errors.js'
import { fromArrowType, isCompatibleType, toArrowType, type ValueTypeName } from '../types.js'

const TWO32 = 4294967296
/** Largest magnitude of epoch micros kept exact in a float64 (years 1685 to 2255). */
const MAX_EXACT = Number.MAX_SAFE_INTEGER

/** True when bit `i` of an Arrow chunk's validity bitmap says "valid". */
function isValid(data: arrow.Data, i: number): boolean {
  if (data.nullCount === 0) return true
  const bitmap = data.nullBitmap
  if (!bitmap || bitmap.length === 0) return true
  const j = data.offset + i
  return (((bitmap[j >> 3] ?? 0) >> (j & 7)) & 1) === 1
}

/** Reads a signed 64-bit integer of a BigInt64Array viewed as int32 pairs, as a float. */
function int64At(words: Int32Array, i: number): number {
  const hi = words[2 * i + 1] as number
  const lo = words[2 * i] as number
  return hi * TWO32 + (lo >>> 0)
}

/** Floor division of the int64 at `i` by 1000, exact without BigInt. */
function int64Div1000(words: Int32Array, i: number): number {
  const hi = words[2 * i + 1] as number
  const lo = (words[2 * i] as number) >>> 0
  const qh = Math.floor(hi / 1000)
  const rh = hi - qh * 1000
  return qh * TWO32 + Math.floor((rh * TWO32 + lo) / 1000)
}

function wordsOf(values: BigInt64Array | BigUint64Array): Int32Array {
  return new Int32Array(values.buffer, values.byteOffset, values.length * 2)
}

/** Whether an Arrow type holds instants (any timestamp unit or a date). */
export function isTimeType(type: arrow.DataType): boolean {
  return arrow.DataType.isTimestamp(type) || arrow.DataType.isDate(type)
}

/**
 * Reads a timestamp or date column as epoch microseconds in a Float64Array; nulls are NaN.
 * Values without a zone are UTC. Exact for instants between the years 1685 and 2255; beyond,
 * values are rounded monotonically (order kept, fine for comparisons) unless `exact` is set.
 * @throws LarderError INVALID_INPUT naming `what` when the column is not a time, or (with
 * `exact`) a value is outside the exact range.
 */
export function readMicros(vector: arrow.Vector, what: string, exact = false): Float64Array {
  const out = new Float64Array(vector.length)
  const type = vector.type
  if (!isTimeType(type)) {
    throw new LarderError(
      'INVALID_INPUT',
      `${what} must be a timestamp column, got Arrow type ${String(type)}`,
    )
  }
  let base = 0
  for (const data of vector.data) {
    const n = data.length
    const values = data.values as Int32Array | BigInt64Array
    if (arrow.DataType.isDate(type) && values instanceof Int32Array) {
      for (let i = 0; i < n; i++) out[base + i] = (values[i] as number) * 86_400_000_000
    } else if (values instanceof BigInt64Array) {
      const words = wordsOf(values)
      let unit: arrow.TimeUnit = arrow.TimeUnit.MILLISECOND
      if (arrow.DataType.isTimestamp(type)) unit = (type as arrow.Timestamp).unit
      if (unit === arrow.TimeUnit.NANOSECOND) {
        for (let i = 0; i < n; i++) out[base + i] = int64Div1000(words, i)
      } else {
        const scale =
          unit === arrow.TimeUnit.SECOND ? 1e6 : unit === arrow.TimeUnit.MILLISECOND ? 1e3 : 1
        for (let i = 0; i < n; i++) out[base + i] = int64At(words, i) * scale
      }
    } else {
      throw new LarderError('INVALID_INPUT', `${what}: unsupported time layout ${String(type)}`)
    }
    if (data.nullCount > 0) for (let i = 0; i < n; i++) if (!isValid(data, i)) out[base + i] = NaN
    base += n
  }
  for (let i = 0; exact && i < out.length; i++) {
    const v = out[i] as number
    if (v > MAX_EXACT || v < -MAX_EXACT) {
      throw new LarderError(
        'INVALID_INPUT',
        `${what} has a value outside the supported range of instants (years 1685 to 2255) at row ${i}`,
      )
    }
  }
  return out
}

/** Dense ids of join-key values, shared between a view table and the entity table. */
export class KeyDictionary {
  private keysA: Int32Array
  private keysB: Int32Array
  private ids: Int32Array
  private mask: number
  private strings = new Map<string, number>()
  private direct: Int32Array | undefined
  private directHi = 0
  private directMin = 0
  size = 0

  constructor(expected = 1024) {
    let cap = 1024
    while (cap < expected * 2) cap *= 2
    this.keysA = new Int32Array(cap)
    this.keysB = new Int32Array(cap)
    this.ids = new Int32Array(cap).fill(-1)
    this.mask = cap - 1
  }

  private static hash(a: number, b: number): number {
    let h = Math.imul(a ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(b ^ 0xc2b2ae35, 0x27d4eb2f)
    h ^= h >>> 15
    h = Math.imul(h, 0x2c1b3c6d)
    h ^= h >>> 13
    return h
  }

  /**
   * Ends the adding phase: when every key is an integer in a narrow range, lookups become a
   * direct table index instead of a hash probe.
   */
  freeze(): void {
    if (this.size === 0 || this.strings.size > 0) return
    let hi: number | undefined
    let min = Number.POSITIVE_INFINITY
    let max = Number.NEGATIVE_INFINITY
    for (let s = 0; s < this.ids.length; s++) {
      if ((this.ids[s] as number) < 0) continue
      const b = this.keysB[s] as number
      if (hi === undefined) hi = b
      else if (hi !== b) return
      const a = this.keysA[s] as number
      if (a < min) min = a
      if (a > max) max = a
    }
    const range = max - min + 1
    if (range > Math.max(1 << 16, this.size * 64) || range > 1 << 26) return
    const direct = new Int32Array(range).fill(-1)
    for (let s = 0; s < this.ids.length; s++) {
      const id = this.ids[s] as number
      if (id >= 0) direct[(this.keysA[s] as number) - min] = id
    }
    this.direct = direct
    this.directHi = hi as number
    this.directMin = min
  }

  /** The id of the pair (a, b), or -1. */
  findPair(a: number, b: number): number {
    const direct = this.direct
    if (direct !== undefined) {
      if (b !== this.directHi) return -1
      const k = a - this.directMin
      return k >= 0 && k < direct.length ? (direct[k] as number) : -1
    }
    let slot = KeyDictionary.hash(a, b) & this.mask
    for (;;) {
      const id = this.ids[slot] as number
      if (id < 0) return -1
      if (this.keysA[slot] === a && this.keysB[slot] === b) return id
      slot = (slot + 1) & this.mask
    }
  }

  /** The id of the pair (a, b), created when new. */
  addPair(a: number, b: number): number {
    let slot = KeyDictionary.hash(a, b) & this.mask
    for (;;) {
      const id = this.ids[slot] as number
      if (id < 0) break
      if (this.keysA[slot] === a && this.keysB[slot] === b) return id
      slot = (slot + 1) & this.mask
    }
    const id = this.size++
    this.keysA[slot] = a
    this.keysB[slot] = b
    this.ids[slot] = id
    if (this.size * 2 > this.mask) this.grow()
    return id
  }

  private grow(): void {
    const { keysA, keysB, ids } = this
    const cap = (this.mask + 1) * 2
    this.keysA = new Int32Array(cap)
    this.keysB = new Int32Array(cap)
    this.ids = new Int32Array(cap).fill(-1)
    this.mask = cap - 1
    for (let s = 0; s < ids.length; s++) {
      const id = ids[s] as number
      if (id < 0) continue
      const a = keysA[s] as number
      const b = keysB[s] as number
      let slot = KeyDictionary.hash(a, b) & this.mask
      while ((this.ids[slot] as number) >= 0) slot = (slot + 1) & this.mask
      this.keysA[slot] = a
      this.keysB[slot] = b
      this.ids[slot] = id
    }
  }

  findString(s: string): number {
    return this.strings.get(s) ?? -1
  }

  addString(s: string): number {
    let id = this.strings.get(s)
    if (id === undefined) {
      id = this.size++
      this.strings.set(s, id)
    }
    return id
  }
}

/** How a key column compares: as a 64-bit integer or as a string (bytes as latin1). */
export type KeyKind = 'int' | 'string'

/** The key kind of an Arrow type, or undefined when it cannot be a join key. */
export function keyKind(type: arrow.DataType): KeyKind | undefined {
  if (arrow.DataType.isInt(type) || arrow.DataType.isBool(type)) return 'int'
  if (arrow.DataType.isTimestamp(type) || arrow.DataType.isDate(type)) return 'int'
  if (arrow.DataType.isUtf8(type) || arrow.DataType.isLargeUtf8(type)) return 'string'
  if (arrow.DataType.isBinary(type) || arrow.DataType.isLargeBinary(type)) return 'string'
  if (arrow.DataType.isDictionary(type)) return keyKind((type as arrow.Dictionary).dictionary)
  return undefined
}

function bytesKey(value: Uint8Array): string {
  let s = '\u0001'
  for (let i = 0; i < value.length; i++) s += String.fromCharCode(value[i] as number)
  return s
}

/**
 * Encodes one key column into ids of `dict` (adding new values when `add`). Nulls and, when
 * not adding, unknown values give -1.
 */
export function encodeKeyColumn(
  vector: arrow.Vector,
  kind: KeyKind,
  dict: KeyDictionary,
  add: boolean,
): Int32Array {
  const n = vector.length
  const out = new Int32Array(n)
  const type = vector.type
  let base = 0
  for (const data of vector.data) {
    const len = data.length
    const values = data.values as unknown
    const fastInt =
      kind === 'int' &&
      !arrow.DataType.isBool(type) &&
      !arrow.DataType.isDictionary(type) &&
      (values instanceof BigInt64Array ||
        values instanceof BigUint64Array ||
        values instanceof Int32Array ||
        values instanceof Int16Array ||
        values instanceof Int8Array ||
        values instanceof Uint8Array ||
        values instanceof Uint16Array ||
        values instanceof Uint32Array)
    if (fastInt) {
      if (values instanceof BigInt64Array || values instanceof BigUint64Array) {
        const words = wordsOf(values)
        for (let i = 0; i < len; i++) {
          const a = words[2 * i] as number
          const b = words[2 * i + 1] as number
          out[base + i] = add ? dict.addPair(a, b) : dict.findPair(a, b)
        }
      } else {
        const ints = values as Int32Array | Uint32Array
        const unsigned = ints instanceof Uint32Array
        for (let i = 0; i < len; i++) {
          const v = ints[i] as number
          const a = v | 0
          const b = unsigned || v >= 0 ? 0 : -1
          out[base + i] = add ? dict.addPair(a, b) : dict.findPair(a, b)
        }
      }
    } else {
      const vec = new arrow.Vector([data])
      for (let i = 0; i < len; i++) {
        const v = vec.get(i) as unknown
        if (v === null || v === undefined) {
          out[base + i] = -1
          continue
        }
        if (kind === 'string') {
          const s = typeof v === 'string' ? v : bytesKey(v as Uint8Array)
          out[base + i] = add ? dict.addString(s) : dict.findString(s)
        } else {
          const big = typeof v === 'boolean' ? (v ? 1n : 0n) : BigInt(v as number | bigint)
          const a = Number(BigInt.asIntN(32, big))
          const b = Number(BigInt.asIntN(32, big >> 32n))
          out[base + i] = add ? dict.addPair(a, b) : dict.findPair(a, b)
        }
      }
    }
    if (data.nullCount > 0) for (let i = 0; i < len; i++) if (!isValid(data, i)) out[base + i] = -1
    base += len
  }
  return out
}

/**
 * Dense ids of multi-column join keys: one dictionary per column, and one for combined
 * pairs of ids. Add the rows of one table (`encode(vectors, true)`), `freeze()`, then look
 * up the rows of the other (`encode(vectors, false)`).
 */
export class KeyEncoder {
  private readonly dicts: KeyDictionary[]
  private readonly pairs = new KeyDictionary()
  constructor(columns: number, expected = 1024) {
    this.dicts = Array.from({ length: columns }, () => new KeyDictionary(expected))
  }
  /** Upper bound (exclusive) of the ids given so far. */
  get size(): number {
    return this.dicts.length > 1 ? this.pairs.size : (this.dicts[0]?.size ?? 0)
  }
  encode(vectors: arrow.Vector[], add: boolean): Int32Array {
    let ids: Int32Array | undefined
    vectors.forEach((vec, j) => {
      const c = encodeKeyColumn(
        vec,
        keyKind(vec.type) ?? 'int',
        this.dicts[j] as KeyDictionary,
        add,
      )
      if (!ids) {
        ids = c
        return
      }
      const prev = ids
      for (let i = 0; i < prev.length; i++) {
        const p = prev[i] as number
        const x = c[i] as number
        prev[i] = p < 0 || x < 0 ? -1 : add ? this.pairs.addPair(p, x) : this.pairs.findPair(p, x)
      }
    })
    return ids ?? new Int32Array(0)
  }
  freeze(): void {
    for (const d of this.dicts) d.freeze()
  }
}

/**
 * Checks that a column can feed a feature of `declared` type (same type or a safe widening).
 * @throws LarderError SCHEMA_MISMATCH naming the column.
 */
export function checkFeatureType(
  type: arrow.DataType,
  declared: ValueTypeName,
  what: string,
): void {
  const actual = fromArrowType(type)
  if (actual === undefined || !isCompatibleType(actual, declared)) {
    throw new LarderError(
      'SCHEMA_MISMATCH',
      `${what} has Arrow type ${String(type)}, which cannot be read as ${declared}`,
      { hint: `declare it with the column's type (${actual ?? 'unsupported'}) or cast the source` },
    )
  }
}

/** Locates global row indices of a chunked vector. */
class Chunks {
  readonly starts: number[] = []
  readonly data: readonly arrow.Data[]
  constructor(vector: arrow.Vector) {
    this.data = vector.data
    let s = 0
    for (const d of this.data) {
      this.starts.push(s)
      s += d.length
    }
  }
  /** Index of the chunk holding global row `row`. */
  chunkOf(row: number): number {
    const starts = this.starts
    let lo = 0
    let hi = starts.length - 1
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1
      if ((starts[mid] as number) <= row) lo = mid
      else hi = mid - 1
    }
    return lo
  }
}

function bitmapFrom(valid: Uint8Array): { bitmap: Uint8Array; nullCount: number } {
  const n = valid.length
  const bitmap = new Uint8Array(((n + 63) >> 6) << 3)
  let nullCount = 0
  for (let i = 0; i < n; i++) {
    if (valid[i]) bitmap[i >> 3] = (bitmap[i >> 3] as number) | (1 << (i & 7))
    else nullCount++
  }
  return { bitmap, nullCount }
}

/**
 * Builds a column of `type` (a Larder output type, see `toArrowType`) holding, for each
 * output row `i`, the value of `source` at row `rows[i]` (null when `rows[i] < 0`), with
 * safe widenings (int32 -> int64, float32 -> float64) and timestamps converted to
 * microseconds UTC.
 */
export function gatherColumn(
  source: arrow.Vector,
  rows: Int32Array,
  valueType: ValueTypeName,
): arrow.Vector {
  const type = toArrowType(valueType)
  const n = rows.length
  const chunks = new Chunks(source)
  const single = chunks.data.length === 1
  const valid = new Uint8Array(n)
  const st = source.type
  const dict = arrow.DataType.isDictionary(st)
  // Chunk and local index of each gathered row (no allocation per row).
  const datas = chunks.data
  const d0 = datas[0] as arrow.Data
  const chunkIdx = single ? undefined : new Int32Array(n)
  const localIdx = single ? rows : new Int32Array(n)
  if (chunkIdx) {
    for (let i = 0; i < n; i++) {
      const r = rows[i] as number
      if (r < 0) continue
      const c = chunks.chunkOf(r)
      chunkIdx[i] = c
      localIdx[i] = r - (chunks.starts[c] as number)
    }
  }
  const numericKinds =
    valueType === 'int32' ||
    valueType === 'int64' ||
    valueType === 'float32' ||
    valueType === 'float64' ||
    valueType === 'timestamp'
  const microsSource =
    arrow.DataType.isTimestamp(st) && (st as arrow.Timestamp).unit === arrow.TimeUnit.MICROSECOND
  if (numericKinds && !dict && !arrow.DataType.isBool(st)) {
    if (valueType === 'timestamp' && !microsSource) {
      return gatherMicros(readMicros(source, 'timestamp feature', true), rows)
    }
    if (valueType === 'int64' || valueType === 'timestamp') {
      // int64, and microsecond timestamps: the 64-bit words are copied (exact).
      const out = new BigInt64Array(n)
      const words = wordsOf(out)
      for (let i = 0; i < n; i++) {
        const r = rows[i] as number
        if (r < 0) continue
        const data = chunkIdx ? (datas[chunkIdx[i] as number] as arrow.Data) : d0
        const local = localIdx[i] as number
        if (!isValid(data, local)) continue
        valid[i] = 1
        const values = data.values as unknown
        if (values instanceof BigInt64Array || values instanceof BigUint64Array) {
          const w = wordsOf(values)
          words[2 * i] = w[2 * local] as number
          words[2 * i + 1] = w[2 * local + 1] as number
        } else {
          const v = (values as Int32Array)[local] as number
          words[2 * i] = v | 0
          words[2 * i + 1] = v < 0 ? -1 : 0
        }
      }
      const { bitmap, nullCount } = bitmapFrom(valid)
      return new arrow.Vector([
        arrow.makeData({
          type: type as arrow.Int64,
          length: n,
          nullCount,
          nullBitmap: bitmap,
          data: out,
        }),
      ])
    }
    const out =
      valueType === 'int32'
        ? new Int32Array(n)
        : valueType === 'float32'
          ? new Float32Array(n)
          : new Float64Array(n)
    for (let i = 0; i < n; i++) {
      const r = rows[i] as number
      if (r < 0) continue
      const data = chunkIdx ? (datas[chunkIdx[i] as number] as arrow.Data) : d0
      const local = localIdx[i] as number
      if (!isValid(data, local)) continue
      valid[i] = 1
      out[i] = (data.values as Float64Array)[local] as number
    }
    const { bitmap, nullCount } = bitmapFrom(valid)
    return new arrow.Vector([
      arrow.makeData({
        type: type as arrow.Int32,
        length: n,
        nullCount,
        nullBitmap: bitmap,
        data: out as Int32Array,
      }),
    ])
  }
  if (
    (valueType === 'string' && (arrow.DataType.isUtf8(st) || arrow.DataType.isLargeUtf8(st))) ||
    (valueType === 'bytes' && (arrow.DataType.isBinary(st) || arrow.DataType.isLargeBinary(st)))
  ) {
    const offsets = new Int32Array(n + 1)
    let total = 0
    for (let i = 0; i < n; i++) {
      const r = rows[i] as number
      if (r >= 0) {
        const data = chunkIdx ? (datas[chunkIdx[i] as number] as arrow.Data) : d0
        const local = localIdx[i] as number
        if (isValid(data, local)) {
          valid[i] = 1
          const vo = data.valueOffsets as Int32Array | BigInt64Array
          total += Number(vo[local + 1]) - Number(vo[local])
        }
      }
      offsets[i + 1] = total
    }
    const bytes = new Uint8Array(total)
    for (let i = 0; i < n; i++) {
      if (!valid[i]) continue
      const data = chunkIdx ? (datas[chunkIdx[i] as number] as arrow.Data) : d0
      const local = localIdx[i] as number
      const vo = data.valueOffsets as Int32Array | BigInt64Array
      const from = Number(vo[local])
      const to = Number(vo[local + 1])
      bytes.set((data.values as Uint8Array).subarray(from, to), offsets[i] as number)
    }
    const { bitmap, nullCount } = bitmapFrom(valid)
    return new arrow.Vector([
      arrow.makeData({
        type: type as arrow.Utf8,
        length: n,
        nullCount,
        nullBitmap: bitmap,
        valueOffsets: offsets,
        data: bytes,
      }),
    ])
  }
  // Generic path (bools, dictionaries, lists): value by value.
  const values: unknown[] = new Array(n).fill(null)
  for (let i = 0; i < n; i++) {
    const r = rows[i] as number
    if (r < 0) continue
    values[i] = normalizeValue(source.get(r) as unknown, valueType)
  }
  return arrow.vectorFromArray(values, type)
}

function normalizeScalar(v: unknown, type: ValueTypeName): unknown {
  if (v === null || v === undefined) return null
  switch (type) {
    case 'int64':
      return typeof v === 'bigint' ? v : BigInt(v as number)
    case 'int32':
    case 'float32':
    case 'float64':
      return Number(v)
    case 'timestamp':
      return v instanceof Date ? v : new Date(Number(v))
    case 'bool':
      return Boolean(v)
    default:
      return v
  }
}

function normalizeValue(v: unknown, type: ValueTypeName): unknown {
  if (v === null || v === undefined) return null
  const m = /^array<(\w+)>$/.exec(type)
  if (m) {
    const inner = m[1] as ValueTypeName
    const items = v instanceof arrow.Vector ? [...v] : Array.from(v as ArrayLike<unknown>)
    return items.map((x) => normalizeScalar(x, inner))
  }
  return normalizeScalar(v, type)
}

/**
 * A copy of a timestamp column as timestamp[us, UTC] (the output type of every instant).
 */
export function toMicrosColumn(vector: arrow.Vector, what: string): arrow.Vector {
  const type = vector.type
  if (
    arrow.DataType.isTimestamp(type) &&
    (type as arrow.Timestamp).unit === arrow.TimeUnit.MICROSECOND
  ) {
    const utc = new arrow.TimestampMicrosecond('UTC')
    return new arrow.Vector(vector.data.map((d) => d.clone(utc)))
  }
  const micros = readMicros(vector, what, true)
  const rows = new Int32Array(micros.length)
  for (let i = 0; i < rows.length; i++) rows[i] = i
  return gatherMicros(micros, rows)
}

/** A timestamp[us, UTC] column of `micros[rows[i]]` (null for rows < 0 or NaN). */
export function gatherMicros(micros: Float64Array, rows: Int32Array): arrow.Vector {
  const n = rows.length
  const out = new BigInt64Array(n)
  const words = wordsOf(out)
  const valid = new Uint8Array(n)
  for (let i = 0; i < n; i++) {
    const r = rows[i] as number
    if (r < 0) continue
    const v = micros[r] as number
    if (Number.isNaN(v)) continue
    valid[i] = 1
    const hi = Math.floor(v / TWO32)
    words[2 * i] = (v - hi * TWO32) | 0
    words[2 * i + 1] = hi
  }
  const { bitmap, nullCount } = bitmapFrom(valid)
  return new arrow.Vector([
    arrow.makeData({
      type: new arrow.TimestampMicrosecond('UTC'),
      length: n,
      nullCount,
      nullBitmap: bitmap,
      data: out,
    }),
  ])
}
