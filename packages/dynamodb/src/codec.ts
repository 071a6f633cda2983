/**
 * Feature values <-> DynamoDB attribute values, exact for every Larder value type:
 *
 * | Larder type | attribute | notes |
 * |---|---|---|
 * | `int32` | `N` | |
 * | `int64` | `N` | the decimal digits of the bigint, read back as bigint (exact beyond 2^53) |
 * | `float32`, `float64` | `N`, or `S` | `S` (JavaScript's shortest round-trip text) only for values DynamoDB numbers cannot hold: NaN, +-Infinity, -0, magnitudes below 1e-130 or above 9.99e125 |
 * | `string` | `S` | empty strings allowed |
 * | `bytes` | `B` | |
 * | `bool` | `BOOL` | |
 * | `timestamp` | `N` | epoch microseconds, read back as bigint |
 * | `array<T>` | `L` | elements as above, null elements as `NULL` |
 * | null | `NULL` | |
 */
import type { AttributeValue } from '@aws-sdk/client-dynamodb'
import type { ScalarTypeName, ValueTypeName } from '@larder/core'

/** A value that does not fit its value type; the store turns it into a LarderError. */
export class ValueError extends Error {}

const NULL: AttributeValue = { NULL: true }
/** Smallest and largest magnitudes a DynamoDB number holds (with a margin at the top). */
const MIN_MAGNITUDE = 1e-130
const MAX_MAGNITUDE = 9.99e125

function describe(value: unknown): string {
  if (value instanceof Uint8Array) return 'bytes'
  if (Array.isArray(value)) return 'an array'
  if (typeof value === 'string')
    return `'${value.length > 40 ? `${value.slice(0, 40)}...` : value}'`
  return `${typeof value} ${String(value)}`
}

function integerText(value: unknown, type: string, min: bigint, max: bigint): string {
  let n: bigint
  if (typeof value === 'bigint') n = value
  else if (typeof value === 'number' && Number.isSafeInteger(value)) n = BigInt(value)
  else if (typeof value === 'string' && /^-?\d+$/.test(value)) n = BigInt(value)
  else throw new ValueError(`expected an ${type}, got ${describe(value)}`)
  if (n < min || n > max) throw new ValueError(`${n} is outside the ${type} range`)
  return n.toString()
}

const INT32_MIN = -(2n ** 31n)
const INT32_MAX = 2n ** 31n - 1n
const INT64_MIN = -(2n ** 63n)
const INT64_MAX = 2n ** 63n - 1n

/** A float as `N` when DynamoDB can hold it exactly, else as `S`. */
function encodeFloat(value: unknown, type: string): AttributeValue {
  const x = typeof value === 'bigint' ? Number(value) : value
  if (typeof x !== 'number')
    throw new ValueError(`expected a ${type} number, got ${describe(value)}`)
  if (Object.is(x, -0)) return { S: '-0' }
  const abs = Math.abs(x)
  if (x === 0 || (abs >= MIN_MAGNITUDE && abs <= MAX_MAGNITUDE)) return { N: String(x) }
  return { S: String(x) }
}

function encodeScalar(type: ScalarTypeName, value: unknown): AttributeValue {
  if (value === null || value === undefined) return NULL
  switch (type) {
    case 'int32':
      return { N: integerText(value, 'int32', INT32_MIN, INT32_MAX) }
    case 'int64':
      return { N: integerText(value, 'int64', INT64_MIN, INT64_MAX) }
    case 'timestamp':
      if (value instanceof Date) {
        const ms = value.getTime()
        if (Number.isNaN(ms)) throw new ValueError('invalid Date')
        return { N: (BigInt(ms) * 1000n).toString() }
      }
      return { N: integerText(value, 'epoch-microsecond timestamp', INT64_MIN, INT64_MAX) }
    case 'float32':
    case 'float64':
      return encodeFloat(value, type)
    case 'string':
      if (typeof value !== 'string')
        throw new ValueError(`expected a string, got ${describe(value)}`)
      return { S: value }
    case 'bytes':
      if (!(value instanceof Uint8Array))
        throw new ValueError(`expected bytes (Uint8Array), got ${describe(value)}`)
      return { B: value }
    case 'bool':
      if (typeof value !== 'boolean')
        throw new ValueError(`expected a boolean, got ${describe(value)}`)
      return { BOOL: value }
  }
}

/** Turns one value into its attribute value. @throws ValueError */
export type Encoder = (value: unknown) => AttributeValue
/** Turns an attribute value (or its absence) back into a value. */
export type Decoder = (attribute: AttributeValue | undefined) => unknown

/** The element type of an array type, or undefined for a scalar type. */
function elementType(type: ValueTypeName): ScalarTypeName | undefined {
  return type.startsWith('array<') ? (type.slice(6, -1) as ScalarTypeName) : undefined
}

/**
 * The encoder of a value type: value -> DynamoDB attribute value (table in the file header).
 * @throws ValueError for a value that does not fit the type
 * @example
 * encoderFor('int64')(2n ** 60n) // { N: '1152921504606846976' }
 * encoderFor('array<float64>')([1e300, null]) // { L: [{ S: '1e+300' }, { NULL: true }] }
 */
export function encoderFor(type: ValueTypeName): Encoder {
  const element = elementType(type)
  if (element === undefined) return (value) => encodeScalar(type as ScalarTypeName, value)
  return (value) => {
    if (value === null || value === undefined) return NULL
    if (!Array.isArray(value)) throw new ValueError(`expected an array, got ${describe(value)}`)
    return { L: value.map((v) => encodeScalar(element, v)) }
  }
}

function decodeScalar(type: ScalarTypeName | undefined, a: AttributeValue): unknown {
  if (a.NULL) return null
  if (a.N !== undefined) {
    switch (type) {
      case 'int64':
      case 'timestamp':
        return BigInt(a.N)
      case undefined:
        // Unknown type: integers beyond 2^53 stay exact.
        if (/^-?\d+$/.test(a.N) && !Number.isSafeInteger(Number(a.N))) return BigInt(a.N)
        return Number(a.N)
      default:
        return Number(a.N)
    }
  }
  if (a.S !== undefined) return type === 'float32' || type === 'float64' ? Number(a.S) : a.S
  if (a.B !== undefined) return a.B
  if (a.BOOL !== undefined) return a.BOOL
  if (a.L !== undefined) return a.L.map((e) => decodeScalar(type, e))
  return null
}

/**
 * The decoder of a value type; `undefined` (a feature outside the view's schema) decodes by
 * the attribute's own type. A missing attribute (a feature added after the row was written)
 * reads as null.
 * @example
 * decoderFor('timestamp')({ N: '1700000000123456' }) // 1700000000123456n
 * decoderFor('float64')(undefined) // null
 */
export function decoderFor(type: ValueTypeName | undefined): Decoder {
  const scalar = type === undefined ? undefined : (elementType(type) ?? (type as ScalarTypeName))
  return (a) => (a === undefined ? null : decodeScalar(scalar, a))
}
