// The protobuf encoder and decoder against bytes written by hand from Feast's Value.proto
// and google/protobuf/timestamp.proto (field numbers, wire types, varints, packing).
import type { ValueTypeName } from '@larder/core'
import { describe, expect, test } from 'vitest'
import {
  decodeTimestamp,
  decodeValue,
  encodeTimestamp,
  encodeValue,
  ProtoWriter,
} from '../src/index.js'

const enc = (type: ValueTypeName, value: unknown): number[] => {
  const w = new ProtoWriter(4)
  encodeValue(w, type, value)
  return [...w.buf.subarray(0, w.pos)]
}
const ts = (micros: bigint): number[] => {
  const w = new ProtoWriter(4)
  encodeTimestamp(w, micros)
  return [...w.buf.subarray(0, w.pos)]
}
const NEG1 = [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]
const SECS_1700000000 = [0x80, 0xe2, 0xcf, 0xaa, 0x06]

// [type, value, bytes]: the oneof field's tag (field << 3 | wire type), then its payload.
const CASES: Array<[ValueTypeName, unknown, number[]]> = [
  ['bytes', new Uint8Array([1, 2]), [0x0a, 2, 1, 2]],
  ['bytes', new Uint8Array([]), [0x0a, 0]],
  ['string', 'héllo', [0x12, 6, 0x68, 0xc3, 0xa9, 0x6c, 0x6c, 0x6f]],
  ['string', '', [0x12, 0]],
  ['int32', 0, [0x18, 0]],
  ['int32', 300, [0x18, 0xac, 0x02]],
  ['int32', -1, [0x18, ...NEG1]],
  ['int64', 42n, [0x20, 0x2a]],
  ['int64', -1n, [0x20, ...NEG1]],
  ['int64', 2n ** 63n - 1n, [0x20, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f]],
  ['float64', 0.25, [0x29, 0, 0, 0, 0, 0, 0, 0xd0, 0x3f]],
  ['float32', 0.5, [0x35, 0, 0, 0, 0x3f]],
  ['bool', true, [0x38, 1]],
  ['bool', false, [0x38, 0]],
  // Whole seconds: exactly Feast's unix_timestamp_val.
  ['timestamp', 1_700_000_000_000_000n, [0x40, ...SECS_1700000000]],
  // Sub-second micros: seconds rounded down, then field 1000 (varint) = 123456 micros.
  ['timestamp', 1_700_000_000_123_456n, [0x40, ...SECS_1700000000, 0xc0, 0x3e, 0xc0, 0xc4, 0x07]],
  // -1 micro = second -1, 999999 micros.
  ['timestamp', -1n, [0x40, ...NEG1, 0xc0, 0x3e, 0xbf, 0x84, 0x3d]],
  // null_val = 19 (NULL = 0).
  ['int64', null, [0x98, 0x01, 0x00]],
  // Lists: Value field (LEN) holding a message whose field 1 is repeated (packed numerics).
  ['array<int64>', [1n, -1n], [0x72, 13, 0x0a, 11, 0x01, ...NEG1]],
  ['array<int32>', [], [0x6a, 0]],
  ['array<string>', ['a', 'bc'], [0x62, 7, 0x0a, 1, 0x61, 0x0a, 2, 0x62, 0x63]],
  ['array<bytes>', [new Uint8Array([9])], [0x5a, 3, 0x0a, 1, 9]],
  ['array<float32>', [1.5], [0x82, 0x01, 6, 0x0a, 4, 0, 0, 0xc0, 0x3f]],
  ['array<float64>', [], [0x7a, 0]],
  ['array<bool>', [true, false], [0x8a, 0x01, 4, 0x0a, 2, 1, 0]],
  ['array<timestamp>', [1_700_000_000_000_000n], [0x92, 0x01, 7, 0x0a, 5, ...SECS_1700000000]],
  // Sub-second micros of list elements: field 1000, packed, one per element.
  [
    'array<timestamp>',
    [1_700_000_000_000_000n, 1_700_000_000_123_456n],
    [
      ...[0x92, 0x01, 12, 0x0a, 10, ...SECS_1700000000, ...SECS_1700000000],
      ...[0xc2, 0x3e, 4, 0x00, 0xc0, 0xc4, 0x07],
    ],
  ],
  // Null elements: the default value in the list, their indexes in field 1001 (packed).
  ['array<int32>', [5, null], [0x6a, 4, 0x0a, 2, 5, 0, 0xca, 0x3e, 1, 1]],
  ['array<string>', [null, 'x'], [0x62, 5, 0x0a, 0, 0x0a, 1, 0x78, 0xca, 0x3e, 1, 0]],
]

describe('feast.types.Value', () => {
  test.each(CASES)('%s %o is encoded as Feast expects', (type, value, bytes) => {
    expect(enc(type, value)).toEqual(bytes)
  })

  test.each(CASES)('%s %o decodes back', (type, value, bytes) => {
    const got = decodeValue(new Uint8Array(bytes), type)
    if (value instanceof Uint8Array) expect(got).toEqual(value)
    else if (Array.isArray(value) && value[0] instanceof Uint8Array) expect(got).toEqual(value)
    else expect(got).toEqual(value)
  })

  test('long strings and lists get multi-byte length prefixes', () => {
    const long = 'é'.repeat(100) // 200 bytes: length varint c8 01
    expect(enc('string', long).slice(0, 3)).toEqual([0x12, 0xc8, 0x01])
    expect(decodeValue(new Uint8Array(enc('string', long)), 'string')).toBe(long)
    // 20000 int64s of 300 (2 bytes each): inner 40000 bytes (c0 b8 02), outer 40004 (c4 b8 02).
    const list = Array.from({ length: 20_000 }, () => 300n)
    const bytes = enc('array<int64>', list)
    expect(bytes.slice(0, 8)).toEqual([0x72, 0xc4, 0xb8, 0x02, 0x0a, 0xc0, 0xb8, 0x02])
    expect(bytes).toHaveLength(4 + 4 + 40_000)
    expect(decodeValue(new Uint8Array(bytes), 'array<int64>')).toEqual(list)
    const strings = Array.from({ length: 3000 }, (_, i) => `s${i}`)
    expect(decodeValue(new Uint8Array(enc('array<string>', strings)), 'array<string>')).toEqual(
      strings,
    )
  })

  test('an empty message (what older Feast writes for None) is null', () => {
    expect(decodeValue(new Uint8Array([]), 'float64')).toBeNull()
  })

  test('unpacked repeated numerics and unknown fields are read', () => {
    // int64 list written unpacked (each element its own tag 0x08), plus an unknown field 99.
    const bytes = [0x72, 4, 0x08, 1, 0x08, 2, 0x98, 0x06, 7]
    expect(decodeValue(new Uint8Array(bytes), 'array<int64>')).toEqual([1n, 2n])
  })

  test('a neighbouring wire type is converted to the declared type', () => {
    expect(decodeValue(new Uint8Array([0x18, 7]), 'int64')).toBe(7n) // int32_val for int64
    expect(decodeValue(new Uint8Array([0x20, 7]), 'float64')).toBe(7) // int64_val for float64
  })

  test('a truncated message is a LarderError', () => {
    expect(() => decodeValue(new Uint8Array([0x29, 0, 0]), 'float64')).toThrow(
      /\[larder\] \[redis\]/,
    )
  })

  test('a mistyped value is a LarderError naming the feature', () => {
    const w = new ProtoWriter()
    expect(() => encodeValue(w, 'int64', 'x', 'trips')).toThrow(/feature 'trips' \(int64\)/)
  })
})

describe('google.protobuf.Timestamp', () => {
  test.each([
    [1_700_000_000_000_000n, [0x08, ...SECS_1700000000]],
    [1_700_000_000_123_456n, [0x08, ...SECS_1700000000, 0x10, 0x80, 0x94, 0xef, 0x3a]],
    // Seconds are always written, so a zero timestamp is not an empty string.
    [0n, [0x08, 0x00]],
    [5n, [0x08, 0x00, 0x10, 0x88, 0x27]],
    // nanos are never negative: -1 micro = -1 s + 999999000 ns.
    [-1n, [0x08, ...NEG1, 0x10, 0x98, 0x8c, 0xeb, 0xdc, 0x03]],
  ])('%d micros', (micros, bytes) => {
    expect(ts(micros)).toEqual(bytes)
    expect(decodeTimestamp(new Uint8Array(bytes))).toBe(micros)
  })

  test("Feast's seconds-only and empty timestamps decode", () => {
    expect(decodeTimestamp(new Uint8Array([]))).toBe(0n)
    // nanos not a multiple of 1000: rounded down to the microsecond.
    expect(decodeTimestamp(new Uint8Array([0x08, 1, 0x10, 0xe7, 0x07]))).toBe(1_000_000n + 0n)
  })
})
