/**
 * Entity keys serialized as Feast's version 3 does (SEMANTICS.md), so that online stores are
 * interoperable with Feast: join keys sorted by name; u32le count; per key u32le 2 (STRING),
 * u32le byte length, UTF-8 bytes; then per value u32le type, u32le byte length, payload.
 */
import { LarderError } from './errors.js'
import type { ValueTypeName } from './types.js'

const STRING = 2
const TYPE_CODES: Partial<Record<ValueTypeName, number>> = {
  bytes: 1,
  string: 2,
  int32: 3,
  int64: 4,
  timestamp: 8,
}

const encoder = new TextEncoder()

/** One join key and its value. */
export interface EntityKeyPart {
  name: string
  valueType: ValueTypeName
  value: unknown
}

function encodeValue(part: EntityKeyPart): { type: number; payload: Uint8Array } {
  const { name, valueType, value } = part
  const type = TYPE_CODES[valueType]
  const bad = (why: string) =>
    new LarderError('INVALID_INPUT', `entity key '${name}' (${valueType}): ${why}`, {
      hint: 'join keys must be int32, int64, string, bytes or timestamp values',
    })
  if (type === undefined) throw bad(`type ${valueType} cannot be an entity key`)
  if (value === null || value === undefined) throw bad('value is missing (null)')
  switch (valueType) {
    case 'string':
      if (typeof value !== 'string') throw bad(`expected a string, got ${typeof value}`)
      return { type, payload: encoder.encode(value) }
    case 'bytes':
      if (!(value instanceof Uint8Array)) throw bad('expected bytes (Uint8Array)')
      return { type, payload: value }
    case 'int32': {
      const n = typeof value === 'bigint' ? Number(value) : value
      if (typeof n !== 'number' || !Number.isInteger(n) || n < -2147483648 || n > 2147483647) {
        throw bad(`expected a 32-bit integer, got ${String(value)}`)
      }
      const payload = new Uint8Array(4)
      new DataView(payload.buffer).setInt32(0, n, true)
      return { type, payload }
    }
    case 'int64':
    case 'timestamp': {
      let n: bigint
      if (typeof value === 'bigint') n = value
      else if (typeof value === 'number' && Number.isSafeInteger(value)) n = BigInt(value)
      else if (typeof value === 'string' && /^-?\d+$/.test(value)) n = BigInt(value)
      else if (value instanceof Date && valueType === 'timestamp')
        n = BigInt(Math.floor(value.getTime() / 1000))
      else throw bad(`expected an integer, got ${JSON.stringify(String(value))}`)
      if (n < -(2n ** 63n) || n >= 2n ** 63n) throw bad(`${n} is outside the int64 range`)
      const payload = new Uint8Array(8)
      new DataView(payload.buffer).setBigInt64(0, n, true)
      return { type, payload }
    }
    default:
      throw bad(`type ${valueType} cannot be an entity key`)
  }
}

/**
 * Serializes an entity key (Feast v3 layout). Timestamps are Unix seconds, as in Feast.
 * @throws LarderError INVALID_INPUT naming the key for a missing or mistyped value.
 * @example
 * serializeEntityKey([{ name: 'driver_id', valueType: 'int64', value: 1001n }])
 */
export function serializeEntityKey(parts: readonly EntityKeyPart[]): Uint8Array {
  const sorted = [...parts].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
  const names = sorted.map((p) => encoder.encode(p.name))
  const values = sorted.map(encodeValue)
  let size = 4
  for (const n of names) size += 8 + n.length
  for (const v of values) size += 8 + v.payload.length
  const out = new Uint8Array(size)
  const view = new DataView(out.buffer)
  let o = 0
  view.setUint32(o, sorted.length, true)
  o += 4
  for (const n of names) {
    view.setUint32(o, STRING, true)
    view.setUint32(o + 4, n.length, true)
    out.set(n, o + 8)
    o += 8 + n.length
  }
  for (const v of values) {
    view.setUint32(o, v.type, true)
    view.setUint32(o + 4, v.payload.length, true)
    out.set(v.payload, o + 8)
    o += 8 + v.payload.length
  }
  return out
}

/**
 * Reads a serialized entity key back into its join keys and values (int64 and timestamp as
 * bigint). The inverse of {@link serializeEntityKey}, for tools and tests.
 */
export function deserializeEntityKey(bytes: Uint8Array): Array<{ name: string; value: unknown }> {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const decoder = new TextDecoder()
  const fail = () => new LarderError('INVALID_INPUT', 'malformed serialized entity key')
  if (bytes.length < 4) throw fail()
  const count = view.getUint32(0, true)
  let o = 4
  const names: string[] = []
  for (let i = 0; i < count; i++) {
    if (o + 8 > bytes.length) throw fail()
    const len = view.getUint32(o + 4, true)
    names.push(decoder.decode(bytes.subarray(o + 8, o + 8 + len)))
    o += 8 + len
  }
  const out: Array<{ name: string; value: unknown }> = []
  for (let i = 0; i < count; i++) {
    if (o + 8 > bytes.length) throw fail()
    const type = view.getUint32(o, true)
    const len = view.getUint32(o + 4, true)
    const payload = bytes.subarray(o + 8, o + 8 + len)
    let value: unknown
    if (type === 2) value = decoder.decode(payload)
    else if (type === 3)
      value = new DataView(payload.buffer, payload.byteOffset, 4).getInt32(0, true)
    else if (type === 4 || type === 8)
      value = new DataView(payload.buffer, payload.byteOffset, 8).getBigInt64(0, true)
    else value = payload.slice()
    out.push({ name: names[i]!, value })
    o += 8 + len
  }
  return out
}

/**
 * A string that stands for a serialized entity key, for use as a `Map` key (its bytes as
 * latin1: one character per byte, no copy of the bytes beyond the string).
 */
export function entityKeyId(key: Uint8Array): string {
  return Buffer.from(key.buffer, key.byteOffset, key.byteLength).toString('latin1')
}
