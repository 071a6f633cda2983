/**
 * Hand-written protobuf encoding of the few messages of Feast's Redis layout:
 * `feast.types.Value` (feature values) and `google.protobuf.Timestamp` (`_ts:<view>`).
 *
 * Larder extensions, stored as fields Feast's parsers do not know and therefore skip:
 * - field 1000 of `Value` (`repeated uint32`): the microseconds within the second of a
 *   timestamp (`unix_timestamp_val` holds whole seconds, rounded down, as Feast expects);
 *   one per element for a timestamp list. Written only when some remainder is non-zero.
 * - field 1001 of `Value` (`repeated uint32`, packed): indexes of null elements of a list.
 *   The list holds the type's default value (0, '', false, empty bytes) at those indexes.
 */
import { FEAST_VALUE_TYPE, LarderError, type ValueTypeName } from '@larder/core'

/** Field number of the sub-second microseconds of timestamp values. */
export const MICROS_FIELD = 1000
/** Field number of the indexes of null list elements. */
export const NULL_INDEX_FIELD = 1001

const WIRE_VARINT = 0
const WIRE_I64 = 1
const WIRE_LEN = 2
const WIRE_I32 = 5

/**
 * Value's oneof field numbers by Larder type: Feast's ValueType enum numbers, which the
 * Value message uses as its field numbers.
 */
const FIELD: Readonly<Record<ValueTypeName, number>> = FEAST_VALUE_TYPE
const NULL_VAL = 19

const MICROS = 1_000_000n
const UINT64 = (1n << 64n) - 1n

/** A growable byte buffer with protobuf primitives. */
export class ProtoWriter {
  buf: Buffer
  pos = 0
  constructor(size = 1024) {
    this.buf = Buffer.allocUnsafe(size)
  }
  reset(): void {
    this.pos = 0
  }
  ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.pos + n))
    this.buf.copy(next, 0, 0, this.pos)
    this.buf = next
  }
  byte(b: number): void {
    this.ensure(1)
    this.buf[this.pos++] = b
  }
  /** A non-negative integer below 2^53 as a varint. */
  uvarint(n: number): void {
    this.ensure(10)
    while (n >= 0x80) {
      this.buf[this.pos++] = (n % 0x80) | 0x80
      n = Math.floor(n / 0x80)
    }
    this.buf[this.pos++] = n
  }
  /** A signed 64-bit integer as a varint (two's complement: negatives take 10 bytes). */
  int64(n: bigint): void {
    if (n >= 0n && n <= 9007199254740991n) {
      this.uvarint(Number(n))
      return
    }
    let u = n & UINT64
    this.ensure(10)
    while (u >= 0x80n) {
      this.buf[this.pos++] = Number(u & 0x7fn) | 0x80
      u >>= 7n
    }
    this.buf[this.pos++] = Number(u)
  }
  /** A signed 32-bit integer as protobuf `int32` (negatives sign-extended to 10 bytes). */
  int32(n: number): void {
    if (n >= 0) this.uvarint(n)
    else this.int64(BigInt(n))
  }
  tag(field: number, wire: number): void {
    this.uvarint(field * 8 + wire)
  }
  double(n: number): void {
    this.ensure(8)
    this.buf.writeDoubleLE(n, this.pos)
    this.pos += 8
  }
  float(n: number): void {
    this.ensure(4)
    this.buf.writeFloatLE(n, this.pos)
    this.pos += 4
  }
  bytes(b: Uint8Array): void {
    this.uvarint(b.length)
    this.ensure(b.length)
    this.buf.set(b, this.pos)
    this.pos += b.length
  }
  string(s: string): void {
    const max = s.length * 3
    if (max < 128) {
      // Length fits in one byte: write the bytes after a one-byte placeholder.
      this.ensure(1 + max)
      const n = this.buf.write(s, this.pos + 1, 'utf8')
      this.buf[this.pos] = n
      this.pos += 1 + n
    } else {
      const n = Buffer.byteLength(s, 'utf8')
      this.uvarint(n)
      this.ensure(n)
      this.buf.write(s, this.pos, 'utf8')
      this.pos += n
    }
  }
  /** Starts a length-delimited field; returns the mark for {@link endLen}. */
  beginLen(field: number): number {
    this.tag(field, WIRE_LEN)
    this.ensure(5)
    const mark = this.pos
    this.pos += 5 // room for a 5-byte length varint, compacted in endLen
    return mark
  }
  endLen(mark: number): void {
    const len = this.pos - mark - 5
    let size = 1
    while (len >= 2 ** (7 * size)) size++
    if (size < 5) this.buf.copy(this.buf, mark + size, mark + 5, this.pos)
    let n = len
    for (let i = 0; i < size; i++) {
      this.buf[mark + i] = (n % 0x80) | (i < size - 1 ? 0x80 : 0)
      n = Math.floor(n / 0x80)
    }
    this.pos = mark + size + len
  }
}

/** Splits epoch micros into (seconds rounded down, microseconds within the second). */
export function splitMicros(micros: bigint): { seconds: bigint; micros: number } {
  let seconds = micros / MICROS
  let rest = micros % MICROS
  if (rest < 0n) {
    seconds -= 1n
    rest += MICROS
  }
  return { seconds, micros: Number(rest) }
}

function badValue(feature: string, type: ValueTypeName, value: unknown): LarderError {
  const shown =
    typeof value === 'bigint' ? `${value}n` : value instanceof Uint8Array ? 'bytes' : String(value)
  return new LarderError(
    'INVALID_INPUT',
    `feature '${feature}' (${type}): cannot store ${typeof value} ${shown.slice(0, 40)}`,
    { component: 'redis', hint: 'values must match the feature type declared in the view' },
  )
}

function toBigInt(feature: string, type: ValueTypeName, v: unknown): bigint {
  if (typeof v === 'bigint') return v
  if (typeof v === 'number' && Number.isInteger(v)) return BigInt(v)
  if (v instanceof Date) return BigInt(v.getTime()) * 1000n
  throw badValue(feature, type, v)
}

function toNumber(feature: string, type: ValueTypeName, v: unknown): number {
  if (typeof v === 'number') return v
  if (typeof v === 'bigint') return Number(v)
  throw badValue(feature, type, v)
}

function toBytes(feature: string, type: ValueTypeName, v: unknown): Uint8Array {
  if (v instanceof Uint8Array) return v
  throw badValue(feature, type, v)
}

function toStr(feature: string, type: ValueTypeName, v: unknown): string {
  if (typeof v === 'string') return v
  throw badValue(feature, type, v)
}

function toBool(feature: string, type: ValueTypeName, v: unknown): boolean {
  if (typeof v === 'boolean') return v
  throw badValue(feature, type, v)
}

/**
 * Appends the serialized `feast.types.Value` of `value` (canonical Larder value of `type`,
 * or null) to `w`.
 */
export function encodeValue(
  w: ProtoWriter,
  type: ValueTypeName,
  value: unknown,
  feature = '?',
): void {
  if (value === null || value === undefined) {
    w.tag(NULL_VAL, WIRE_VARINT)
    w.byte(0)
    return
  }
  const field = FIELD[type]
  switch (type) {
    case 'bytes':
      w.tag(field, WIRE_LEN)
      w.bytes(toBytes(feature, type, value))
      return
    case 'string':
      w.tag(field, WIRE_LEN)
      w.string(toStr(feature, type, value))
      return
    case 'int32':
      w.tag(field, WIRE_VARINT)
      w.int32(toNumber(feature, type, value))
      return
    case 'int64':
      w.tag(field, WIRE_VARINT)
      w.int64(toBigInt(feature, type, value))
      return
    case 'float64':
      w.tag(field, WIRE_I64)
      w.double(toNumber(feature, type, value))
      return
    case 'float32':
      w.tag(field, WIRE_I32)
      w.float(toNumber(feature, type, value))
      return
    case 'bool':
      w.tag(field, WIRE_VARINT)
      w.byte(toBool(feature, type, value) ? 1 : 0)
      return
    case 'timestamp': {
      const { seconds, micros } = splitMicros(toBigInt(feature, type, value))
      w.tag(field, WIRE_VARINT)
      w.int64(seconds)
      if (micros !== 0) {
        w.tag(MICROS_FIELD, WIRE_VARINT)
        w.uvarint(micros)
      }
      return
    }
  }
  if (!Array.isArray(value)) throw badValue(feature, type, value)
  const list = value as unknown[]
  const nulls: number[] = []
  let micros: number[] | undefined
  const outer = w.beginLen(field)
  switch (type) {
    case 'array<bytes>':
    case 'array<string>':
      for (let i = 0; i < list.length; i++) {
        const v = list[i]
        w.tag(1, WIRE_LEN)
        if (v === null || v === undefined) {
          nulls.push(i)
          w.byte(0)
        } else if (type === 'array<string>') w.string(toStr(feature, type, v))
        else w.bytes(toBytes(feature, type, v))
      }
      break
    default: {
      if (list.length === 0) break
      const inner = w.beginLen(1)
      for (let i = 0; i < list.length; i++) {
        const v = list[i]
        const isNull = v === null || v === undefined
        if (isNull) nulls.push(i)
        switch (type) {
          case 'array<int32>':
            w.int32(isNull ? 0 : toNumber(feature, type, v))
            break
          case 'array<int64>':
            w.int64(isNull ? 0n : toBigInt(feature, type, v))
            break
          case 'array<float64>':
            w.double(isNull ? 0 : toNumber(feature, type, v))
            break
          case 'array<float32>':
            w.float(isNull ? 0 : toNumber(feature, type, v))
            break
          case 'array<bool>':
            w.byte(!isNull && toBool(feature, type, v) ? 1 : 0)
            break
          case 'array<timestamp>': {
            const split = isNull
              ? { seconds: 0n, micros: 0 }
              : splitMicros(toBigInt(feature, type, v))
            w.int64(split.seconds)
            if (split.micros !== 0) {
              micros ??= new Array<number>(list.length).fill(0)
              micros[i] = split.micros
            }
            break
          }
        }
      }
      w.endLen(inner)
    }
  }
  w.endLen(outer)
  if (micros) {
    const m = w.beginLen(MICROS_FIELD)
    for (const x of micros) w.uvarint(x)
    w.endLen(m)
  }
  if (nulls.length > 0) {
    const m = w.beginLen(NULL_INDEX_FIELD)
    for (const x of nulls) w.uvarint(x)
    w.endLen(m)
  }
}

/** Serialized `google.protobuf.Timestamp` of epoch micros (seconds always written). */
export function encodeTimestamp(w: ProtoWriter, epochMicros: bigint): void {
  const { seconds, micros } = splitMicros(epochMicros)
  w.tag(1, WIRE_VARINT)
  w.int64(seconds)
  if (micros !== 0) {
    w.tag(2, WIRE_VARINT)
    w.uvarint(micros * 1000)
  }
}

/** A protobuf reader over a byte range. */
class ProtoReader {
  pos: number
  constructor(
    readonly buf: Buffer,
    start = 0,
    readonly end = buf.length,
  ) {
    this.pos = start
  }
  /** A varint as a non-negative number (exact below 2^53), for tags and lengths. */
  uvarint(): number {
    let result = 0
    let mult = 1
    for (;;) {
      if (this.pos >= this.end) throw malformed()
      const b = this.buf[this.pos++]!
      result += (b & 0x7f) * mult
      if (b < 0x80) return result
      mult *= 128
    }
  }
  /** A varint as a signed 64-bit bigint. */
  int64(): bigint {
    const start = this.pos
    let result = 0
    let mult = 1
    for (let i = 0; i < 7; i++) {
      if (this.pos >= this.end) throw malformed()
      const b = this.buf[this.pos++]!
      result += (b & 0x7f) * mult
      if (b < 0x80) return BigInt(result)
      mult *= 128
    }
    this.pos = start
    let u = 0n
    let shift = 0n
    for (;;) {
      if (this.pos >= this.end) throw malformed()
      const b = this.buf[this.pos++]!
      u |= BigInt(b & 0x7f) << shift
      if (b < 0x80) break
      shift += 7n
    }
    return BigInt.asIntN(64, u)
  }
  /** A varint as a signed 32-bit number (protobuf `int32`). */
  int32(): number {
    const v = this.int64()
    return Number(BigInt.asIntN(32, v))
  }
  skip(wire: number): void {
    if (wire === WIRE_VARINT) this.uvarint()
    else if (wire === WIRE_I64) this.pos += 8
    else if (wire === WIRE_I32) this.pos += 4
    else if (wire === WIRE_LEN) this.pos += this.uvarint()
    else throw malformed()
    if (this.pos > this.end) throw malformed()
  }
  /** Reads a length prefix and returns the [start, end) of the payload. */
  len(): [number, number] {
    const n = this.uvarint()
    const start = this.pos
    this.pos += n
    if (this.pos > this.end) throw malformed()
    return [start, this.pos]
  }
}

function malformed(): LarderError {
  return new LarderError('BACKEND_ERROR', 'malformed protobuf value in a Redis hash', {
    component: 'redis',
  })
}

/** Reads `field`-1 elements of a list message (`repeated T val = 1`), packed or not. */
function readList(
  buf: Buffer,
  start: number,
  end: number,
  wire: number,
  readOne: (r: ProtoReader) => unknown,
): unknown[] {
  const r = new ProtoReader(buf, start, end)
  const out: unknown[] = []
  while (r.pos < r.end) {
    const tag = r.uvarint()
    const field = Math.floor(tag / 8)
    const w = tag & 7
    if (field !== 1) {
      r.skip(w)
      continue
    }
    if (w === WIRE_LEN && wire !== WIRE_LEN) {
      // Packed.
      const [s, e] = r.len()
      const inner = new ProtoReader(buf, s, e)
      while (inner.pos < inner.end) out.push(readOne(inner))
    } else if (w === wire) {
      if (w === WIRE_LEN) {
        const [s, e] = r.len()
        out.push(readOne(new ProtoReader(buf, s, e)))
      } else out.push(readOne(r))
    } else r.skip(w)
  }
  return out
}

function readDouble(r: ProtoReader): number {
  if (r.pos + 8 > r.end) throw malformed()
  const v = r.buf.readDoubleLE(r.pos)
  r.pos += 8
  return v
}
function readFloat(r: ProtoReader): number {
  if (r.pos + 4 > r.end) throw malformed()
  const v = r.buf.readFloatLE(r.pos)
  r.pos += 4
  return v
}

function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes)
    ? bytes
    : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
}

/** Reads a repeated uint32 field that may be packed or not. */
function readUints(r: ProtoReader, wire: number, into: number[]): void {
  if (wire === WIRE_LEN) {
    const [s, e] = r.len()
    const inner = new ProtoReader(r.buf, s, e)
    while (inner.pos < inner.end) into.push(inner.uvarint())
  } else if (wire === WIRE_VARINT) into.push(r.uvarint())
  else r.skip(wire)
}

/** Converts a decoded value to the canonical JavaScript type of the declared type. */
function coerce(value: unknown, type: ValueTypeName | undefined): unknown {
  if (value === null || type === undefined) return value
  switch (type) {
    case 'int64':
      return typeof value === 'number' ? BigInt(value) : value
    case 'int32':
    case 'float32':
    case 'float64':
      return typeof value === 'bigint' ? Number(value) : value
    case 'array<int64>':
      return Array.isArray(value)
        ? value.map((v) => (typeof v === 'number' ? BigInt(v) : v))
        : value
    case 'array<int32>':
    case 'array<float32>':
    case 'array<float64>':
      return Array.isArray(value)
        ? value.map((v) => (typeof v === 'bigint' ? Number(v) : v))
        : value
    default:
      return value
  }
}

/**
 * Decodes a serialized `feast.types.Value` into the canonical Larder value (int64 and
 * timestamps as bigint, timestamps in epoch micros, bytes as Uint8Array). An empty or
 * `null_val` message is null. `type` (the declared type) converts numbers where Feast
 * wrote a neighbouring type (int32 for an int64 feature...).
 */
export function decodeValue(bytes: Uint8Array, type?: ValueTypeName): unknown {
  const buf = asBuffer(bytes)
  // Fast paths for the commonest values: a bare double_val, float_val or small int64_val.
  const first = buf[0]
  if (first === 0x29 && buf.length === 9) return coerce(buf.readDoubleLE(1), type)
  if (first === 0x35 && buf.length === 5) return coerce(buf.readFloatLE(1), type)
  if (first === 0x20 && buf.length === 2 && buf[1]! < 0x80) return coerce(BigInt(buf[1]!), type)
  const r = new ProtoReader(buf)
  let value: unknown = null
  let which = 0
  let micros: number[] | undefined
  let nulls: number[] | undefined
  while (r.pos < r.end) {
    const tag = r.uvarint()
    const field = Math.floor(tag / 8)
    const wire = tag & 7
    switch (field) {
      case 1:
      case 2:
        if (wire !== WIRE_LEN) throw malformed()
        {
          const [s, e] = r.len()
          value = field === 1 ? new Uint8Array(buf.subarray(s, e)) : buf.toString('utf8', s, e)
        }
        break
      case 3:
        value = r.int32()
        break
      case 4:
        value = r.int64()
        break
      case 5:
        value = readDouble(r)
        break
      case 6:
        value = readFloat(r)
        break
      case 7:
        value = r.uvarint() !== 0
        break
      case 8:
        value = r.int64() * MICROS
        break
      case 11:
      case 12:
      case 13:
      case 14:
      case 15:
      case 16:
      case 17:
      case 18: {
        if (wire !== WIRE_LEN) throw malformed()
        const [s, e] = r.len()
        value = readTypedList(buf, s, e, field)
        break
      }
      case NULL_VAL:
        r.skip(wire)
        value = null
        break
      case MICROS_FIELD:
        micros ??= []
        readUints(r, wire, micros)
        continue
      case NULL_INDEX_FIELD:
        nulls ??= []
        readUints(r, wire, nulls)
        continue
      default:
        r.skip(wire)
        continue
    }
    which = field
  }
  if (which === 8 && micros && typeof value === 'bigint') value += BigInt(micros[0] ?? 0)
  if (which === 18 && micros && Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) value[i] = (value[i] as bigint) + BigInt(micros[i] ?? 0)
  }
  if (nulls && Array.isArray(value)) for (const i of nulls) if (i < value.length) value[i] = null
  return coerce(value, type)
}

function readTypedList(buf: Buffer, s: number, e: number, field: number): unknown[] {
  switch (field) {
    case 11:
      return readList(buf, s, e, WIRE_LEN, (r) => new Uint8Array(buf.subarray(r.pos, r.end)))
    case 12:
      return readList(buf, s, e, WIRE_LEN, (r) => buf.toString('utf8', r.pos, r.end))
    case 13:
      return readList(buf, s, e, WIRE_VARINT, (r) => r.int32())
    case 14:
      return readList(buf, s, e, WIRE_VARINT, (r) => r.int64())
    case 15:
      return readList(buf, s, e, WIRE_I64, readDouble)
    case 16:
      return readList(buf, s, e, WIRE_I32, readFloat)
    case 17:
      return readList(buf, s, e, WIRE_VARINT, (r) => r.uvarint() !== 0)
    default:
      return readList(buf, s, e, WIRE_VARINT, (r) => r.int64() * MICROS)
  }
}

/** Decodes a serialized `google.protobuf.Timestamp` into epoch micros (nanos rounded down). */
export function decodeTimestamp(bytes: Uint8Array): bigint {
  const r = new ProtoReader(asBuffer(bytes))
  let seconds = 0n
  let nanos = 0
  while (r.pos < r.end) {
    const tag = r.uvarint()
    const field = Math.floor(tag / 8)
    const wire = tag & 7
    if (field === 1 && wire === WIRE_VARINT) seconds = r.int64()
    else if (field === 2 && wire === WIRE_VARINT) nanos = r.int32()
    else r.skip(wire)
  }
  return seconds * MICROS + BigInt(Math.floor(nanos / 1000))
}
