/**
 * How feature values are stored in SQLite, exactly: int32/float as numbers, int64 and
 * timestamps (epoch micros) as 64-bit INTEGERs through bigint, strings as TEXT, bytes as
 * BLOB, bools as 0/1, NaN as the text 'NaN' (SQLite turns a NaN REAL into NULL), and arrays
 * as one BLOB in the compact binary layout below. Feature columns carry no type affinity, so
 * SQLite stores what it is given and converts nothing.
 *
 * Array layout (little-endian): u8 version (1), u8 flags (bit 0: a null bitmap follows,
 * bit 1: floats are f64), varint count, [null bitmap, ceil(count / 8) bytes, bit set = null],
 * then each non-null element: int32 i32; int64 and timestamp i64; float32 f32 (f64 when any
 * element is not exactly a float32, so JS numbers survive), float64 f64; bool u8; string and
 * bytes varint length + bytes.
 */
import { elementType, type ScalarTypeName, type ValueTypeName } from '@larder/core'

/** A value as bound to a statement parameter. */
export type SqlValue = null | number | bigint | string | Uint8Array

/** Thrown by encoders with the reason; the store adds the view, feature and row. */
export class ValueError extends Error {}

/** Turns a feature value into what is stored. */
export type Encoder = (value: unknown) => SqlValue
/** Turns a stored value back into the feature value. */
export type Decoder = (stored: unknown) => unknown

const textEncoder = new TextEncoder()
const textDecoder = new TextDecoder()
const INT64_MIN = -(2n ** 63n)
const INT64_MAX = 2n ** 63n - 1n

function describe(value: unknown): string {
  if (typeof value === 'bigint') return `${value}n`
  if (typeof value === 'string')
    return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}...` : value)
  if (value instanceof Uint8Array) return `bytes(${value.length})`
  if (Array.isArray(value)) return `an array of ${value.length}`
  return typeof value === 'object' ? Object.prototype.toString.call(value) : String(value)
}

function toInt32(value: unknown): number {
  const n = typeof value === 'bigint' ? Number(value) : value
  if (typeof n === 'number' && Number.isInteger(n) && n >= -2147483648 && n <= 2147483647) return n
  throw new ValueError(`expected a 32-bit integer, got ${describe(value)}`)
}

function toInt64(value: unknown): bigint {
  let n: bigint
  if (typeof value === 'bigint') n = value
  else if (typeof value === 'number' && Number.isSafeInteger(value)) n = BigInt(value)
  else if (typeof value === 'string' && /^-?\d+$/.test(value)) n = BigInt(value)
  else throw new ValueError(`expected a 64-bit integer (bigint), got ${describe(value)}`)
  if (n < INT64_MIN || n > INT64_MAX) throw new ValueError(`${n} is outside the int64 range`)
  return n
}

function toTimestamp(value: unknown): bigint {
  if (value instanceof Date) {
    const ms = value.getTime()
    if (Number.isNaN(ms)) throw new ValueError('expected a timestamp, got an invalid Date')
    return BigInt(ms) * 1000n
  }
  if (typeof value === 'bigint' || (typeof value === 'number' && Number.isSafeInteger(value)))
    return toInt64(value)
  throw new ValueError(`expected a timestamp (bigint epoch microseconds), got ${describe(value)}`)
}

function toFloat(value: unknown): number {
  if (typeof value === 'number') return value
  throw new ValueError(`expected a number, got ${describe(value)}`)
}

function toText(value: unknown): string {
  if (typeof value === 'string') return value
  throw new ValueError(`expected a string, got ${describe(value)}`)
}

function toBytes(value: unknown): Uint8Array {
  if (value instanceof Uint8Array) return value
  throw new ValueError(`expected bytes (Uint8Array), got ${describe(value)}`)
}

function toBool(value: unknown): boolean {
  if (typeof value === 'boolean') return value
  throw new ValueError(`expected a boolean, got ${describe(value)}`)
}

/** A growable little-endian byte writer. */
class Writer {
  buf = new Uint8Array(64)
  view = new DataView(this.buf.buffer)
  pos = 0
  ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return
    let size = this.buf.length * 2
    while (size < this.pos + n) size *= 2
    const next = new Uint8Array(size)
    next.set(this.buf.subarray(0, this.pos))
    this.buf = next
    this.view = new DataView(next.buffer)
  }
  varint(n: number): void {
    this.ensure(5)
    while (n >= 0x80) {
      this.buf[this.pos++] = (n & 0x7f) | 0x80
      n >>>= 7
    }
    this.buf[this.pos++] = n
  }
  bytes(b: Uint8Array): void {
    this.varint(b.length)
    this.ensure(b.length)
    this.buf.set(b, this.pos)
    this.pos += b.length
  }
  result(): Uint8Array {
    return this.buf.slice(0, this.pos)
  }
}

/** A byte reader over an encoded array. */
class Reader {
  readonly view: DataView
  pos = 0
  constructor(readonly buf: Uint8Array) {
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength)
  }
  varint(): number {
    let n = 0
    let shift = 0
    for (;;) {
      const b = this.buf[this.pos++]
      if (b === undefined) throw new ValueError('truncated array value')
      n += (b & 0x7f) * 2 ** shift
      if (b < 0x80) return n
      shift += 7
    }
  }
  bytes(): Uint8Array {
    const len = this.varint()
    if (this.pos + len > this.buf.length) throw new ValueError('truncated array value')
    const out = this.buf.slice(this.pos, this.pos + len)
    this.pos += len
    return out
  }
}

const ARRAY_VERSION = 1
const HAS_NULLS = 1
const FLOATS_AS_F64 = 2

/** Encodes an array of `element` values (nulls allowed) into the compact layout. */
export function encodeArray(element: ScalarTypeName, values: readonly unknown[]): Uint8Array {
  const n = values.length
  let flags = 0
  for (const v of values) if (v === null || v === undefined) flags |= HAS_NULLS
  if (element === 'float32') {
    for (const v of values)
      if (typeof v === 'number' && !Object.is(Math.fround(v), v) && !Number.isNaN(v))
        flags |= FLOATS_AS_F64
  }
  const w = new Writer()
  w.ensure(2)
  w.buf[w.pos++] = ARRAY_VERSION
  w.buf[w.pos++] = flags
  w.varint(n)
  if (flags & HAS_NULLS) {
    const bitmap = new Uint8Array((n + 7) >> 3)
    values.forEach((v, i) => {
      if (v === null || v === undefined) bitmap[i >> 3]! |= 1 << (i & 7)
    })
    w.ensure(bitmap.length)
    w.buf.set(bitmap, w.pos)
    w.pos += bitmap.length
  }
  for (const v of values) {
    if (v === null || v === undefined) continue
    switch (element) {
      case 'int32':
        w.ensure(4)
        w.view.setInt32(w.pos, toInt32(v), true)
        w.pos += 4
        break
      case 'int64':
      case 'timestamp':
        w.ensure(8)
        w.view.setBigInt64(w.pos, element === 'int64' ? toInt64(v) : toTimestamp(v), true)
        w.pos += 8
        break
      case 'float32':
        if (!(flags & FLOATS_AS_F64)) {
          w.ensure(4)
          w.view.setFloat32(w.pos, toFloat(v), true)
          w.pos += 4
          break
        }
        w.ensure(8)
        w.view.setFloat64(w.pos, toFloat(v), true)
        w.pos += 8
        break
      case 'float64':
        w.ensure(8)
        w.view.setFloat64(w.pos, toFloat(v), true)
        w.pos += 8
        break
      case 'bool':
        w.ensure(1)
        w.buf[w.pos++] = toBool(v) ? 1 : 0
        break
      case 'string':
        w.bytes(textEncoder.encode(toText(v)))
        break
      case 'bytes':
        w.bytes(toBytes(v))
        break
    }
  }
  return w.result()
}

/** Decodes an array stored by {@link encodeArray}. */
export function decodeArray(element: ScalarTypeName, stored: Uint8Array): unknown[] {
  const r = new Reader(stored)
  if (stored[0] !== ARRAY_VERSION) throw new ValueError(`unknown array layout ${stored[0]}`)
  const flags = stored[1] ?? 0
  r.pos = 2
  const n = r.varint()
  let bitmap: Uint8Array | undefined
  if (flags & HAS_NULLS) {
    bitmap = stored.subarray(r.pos, r.pos + ((n + 7) >> 3))
    r.pos += bitmap.length
  }
  const out = new Array<unknown>(n)
  const f64 = (flags & FLOATS_AS_F64) !== 0
  for (let i = 0; i < n; i++) {
    if (bitmap && (bitmap[i >> 3]! & (1 << (i & 7))) !== 0) {
      out[i] = null
      continue
    }
    switch (element) {
      case 'int32':
        out[i] = r.view.getInt32(r.pos, true)
        r.pos += 4
        break
      case 'int64':
      case 'timestamp':
        out[i] = r.view.getBigInt64(r.pos, true)
        r.pos += 8
        break
      case 'float32':
        if (f64) {
          out[i] = r.view.getFloat64(r.pos, true)
          r.pos += 8
        } else {
          out[i] = r.view.getFloat32(r.pos, true)
          r.pos += 4
        }
        break
      case 'float64':
        out[i] = r.view.getFloat64(r.pos, true)
        r.pos += 8
        break
      case 'bool':
        out[i] = stored[r.pos++] === 1
        break
      case 'string':
        out[i] = textDecoder.decode(r.bytes())
        break
      case 'bytes':
        out[i] = r.bytes()
        break
    }
  }
  return out
}

const nullable =
  (encode: (value: unknown) => SqlValue): Encoder =>
  (value) =>
    value === null || value === undefined ? null : encode(value)

const floatEncoder = nullable((v) => {
  const n = toFloat(v)
  return Number.isNaN(n) ? 'NaN' : n
})
const floatDecoder: Decoder = (s) =>
  s === null ? null : typeof s === 'number' ? s : typeof s === 'bigint' ? Number(s) : Number.NaN

const SCALAR_ENCODERS: Record<ScalarTypeName, Encoder> = {
  int32: nullable(toInt32),
  int64: nullable(toInt64),
  float32: floatEncoder,
  float64: floatEncoder,
  string: nullable(toText),
  bytes: nullable(toBytes),
  bool: nullable((v) => (toBool(v) ? 1 : 0)),
  timestamp: nullable(toTimestamp),
}

const SCALAR_DECODERS: Record<ScalarTypeName, Decoder> = {
  int32: (s) => (s === null ? null : Number(s)),
  int64: (s) => (s === null ? null : typeof s === 'bigint' ? s : BigInt(s as number)),
  float32: floatDecoder,
  float64: floatDecoder,
  string: (s) => s,
  bytes: (s) => s,
  bool: (s) => (s === null ? null : Boolean(s)),
  timestamp: (s) => (s === null ? null : typeof s === 'bigint' ? s : BigInt(s as number)),
}

/** The encoder of a value type. */
export function encoderFor(type: ValueTypeName): Encoder {
  const element = elementType(type)
  if (element === undefined) return SCALAR_ENCODERS[type as ScalarTypeName]
  return nullable((v) => {
    if (!Array.isArray(v)) throw new ValueError(`expected an array, got ${describe(v)}`)
    return encodeArray(element, v)
  })
}

/** The decoder of a value type (stored integers arrive as bigint). */
export function decoderFor(type: ValueTypeName): Decoder {
  const element = elementType(type)
  if (element === undefined) return SCALAR_DECODERS[type as ScalarTypeName]
  return (s) => (s === null ? null : decodeArray(element, s as Uint8Array))
}
