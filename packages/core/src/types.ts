/**
 * Value types. A value type is a plain string (`'int64'`, `'array<float32>'`) so that
 * definitions serialize to JSON as they are, while `t.int64` & co. keep their literal types
 * so that results can be typed from definitions.
 */
import * as arrow from 'apache-arrow'
import { LarderError } from './errors.js'

/** The scalar value types. */
export type ScalarTypeName =
  | 'int32'
  | 'int64'
  | 'float32'
  | 'float64'
  | 'string'
  | 'bytes'
  | 'bool'
  | 'timestamp'

/** A value type: a scalar or an array of a scalar. */
export type ValueTypeName = ScalarTypeName | `array<${ScalarTypeName}>`

/** The JavaScript value of a value type, as Larder returns it in row objects. */
export type TsValueOf<T extends ValueTypeName> = T extends 'int32' | 'float32' | 'float64'
  ? number
  : T extends 'int64'
    ? bigint
    : T extends 'string'
      ? string
      : T extends 'bytes'
        ? Uint8Array
        : T extends 'bool'
          ? boolean
          : T extends 'timestamp'
            ? Date
            : T extends `array<${infer E extends ScalarTypeName}>`
              ? Array<TsValueOf<E> | null>
              : never

const SCALARS: readonly ScalarTypeName[] = [
  'int32',
  'int64',
  'float32',
  'float64',
  'string',
  'bytes',
  'bool',
  'timestamp',
]

/**
 * The value types, for schemas and entities.
 *
 * @example
 * featureView({ schema: { conv_rate: t.float32, trips: t.int64, tags: t.array(t.string) }, ... })
 */
export const t = {
  int32: 'int32',
  int64: 'int64',
  float32: 'float32',
  float64: 'float64',
  string: 'string',
  bytes: 'bytes',
  bool: 'bool',
  timestamp: 'timestamp',
  /** An array (list) of a scalar type. Arrays of arrays are not supported (nor by Feast). */
  array<E extends ScalarTypeName>(element: E): `array<${E}>` {
    if (!SCALARS.includes(element)) {
      throw new LarderError(
        'INVALID_DEFINITION',
        `t.array() takes a scalar type, got '${String(element)}'`,
      )
    }
    return `array<${element}>`
  },
} as const satisfies Record<ScalarTypeName, ScalarTypeName> & { array: unknown }

/** True when `value` names a Larder value type. */
export function isValueTypeName(value: unknown): value is ValueTypeName {
  if (typeof value !== 'string') return false
  if (SCALARS.includes(value as ScalarTypeName)) return true
  const m = /^array<(\w+)>$/.exec(value)
  return m !== null && SCALARS.includes(m[1] as ScalarTypeName)
}

/** The element type of an array type, or undefined for a scalar. */
export function elementType(type: ValueTypeName): ScalarTypeName | undefined {
  const m = /^array<(\w+)>$/.exec(type)
  return m ? (m[1] as ScalarTypeName) : undefined
}

/** Feast's `ValueType` enum numbers (feast/types/Value.proto). */
export const FEAST_VALUE_TYPE: Readonly<Record<ValueTypeName, number>> = {
  bytes: 1,
  string: 2,
  int32: 3,
  int64: 4,
  float64: 5,
  float32: 6,
  bool: 7,
  timestamp: 8,
  'array<bytes>': 11,
  'array<string>': 12,
  'array<int32>': 13,
  'array<int64>': 14,
  'array<float64>': 15,
  'array<float32>': 16,
  'array<bool>': 17,
  'array<timestamp>': 18,
}

/** The Arrow timestamp type Larder uses everywhere: microseconds, UTC. */
export const ARROW_TIMESTAMP = new arrow.TimestampMicrosecond('UTC')

function scalarToArrow(type: ScalarTypeName): arrow.DataType {
  switch (type) {
    case 'int32':
      return new arrow.Int32()
    case 'int64':
      return new arrow.Int64()
    case 'float32':
      return new arrow.Float32()
    case 'float64':
      return new arrow.Float64()
    case 'string':
      return new arrow.Utf8()
    case 'bytes':
      return new arrow.Binary()
    case 'bool':
      return new arrow.Bool()
    case 'timestamp':
      return new arrow.TimestampMicrosecond('UTC')
  }
}

/** The Arrow type of a value type. */
export function toArrowType(type: ValueTypeName): arrow.DataType {
  const element = elementType(type)
  if (element) return new arrow.List(new arrow.Field('item', scalarToArrow(element), true))
  return scalarToArrow(type as ScalarTypeName)
}

/**
 * The value type of an Arrow type, or undefined when Larder has none for it.
 * Smaller integer types map to int32, unsigned 32-bit to int64, large strings to string,
 * every timestamp unit and date to timestamp.
 */
export function fromArrowType(type: arrow.DataType): ValueTypeName | undefined {
  if (arrow.DataType.isInt(type)) {
    const int = type as arrow.Int
    if (int.bitWidth <= 16) return 'int32'
    if (int.bitWidth === 32) return int.isSigned ? 'int32' : 'int64'
    return int.isSigned ? 'int64' : undefined
  }
  if (arrow.DataType.isFloat(type)) {
    return (type as arrow.Float).precision === arrow.Precision.DOUBLE ? 'float64' : 'float32'
  }
  if (arrow.DataType.isUtf8(type) || arrow.DataType.isLargeUtf8(type)) return 'string'
  if (arrow.DataType.isBinary(type) || arrow.DataType.isLargeBinary(type)) return 'bytes'
  if (arrow.DataType.isBool(type)) return 'bool'
  if (arrow.DataType.isTimestamp(type) || arrow.DataType.isDate(type)) return 'timestamp'
  if (arrow.DataType.isList(type)) {
    const child = (type as arrow.List).children[0]
    const inner = child ? fromArrowType(child.type) : undefined
    if (inner && !elementType(inner)) return `array<${inner as ScalarTypeName}>`
  }
  return undefined
}

/**
 * Whether a column of type `actual` can feed a feature declared as `declared`: the same
 * type, or a safe widening (int32 -> int64, float32 -> float64, int32 -> float64), element
 * by element for arrays.
 */
export function isCompatibleType(actual: ValueTypeName, declared: ValueTypeName): boolean {
  if (actual === declared) return true
  const a = elementType(actual)
  const d = elementType(declared)
  if (a && d) return isCompatibleType(a, d)
  if (a || d) return false
  const widenings: Record<string, readonly ScalarTypeName[]> = {
    int32: ['int64', 'float64'],
    float32: ['float64'],
  }
  return widenings[actual]?.includes(declared as ScalarTypeName) ?? false
}
