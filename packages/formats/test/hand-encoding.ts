/**
 * Bytes built by hand from the specifications, independently of avsc and protobufjs, so the
 * tests check the formats against the wire encodings rather than against themselves:
 * - Avro binary encoding (Avro 1.11 spec, "Binary Encoding"): int and long are zigzag varints,
 *   strings and bytes a long length then the bytes, doubles 8 bytes little-endian, a union the
 *   branch index (a long) then the value, records their fields in order.
 * - Protobuf wire format: a tag varint `(field << 3) | wire type` (0 varint, 1 64-bit, 2 length
 *   delimited, 5 32-bit), int64 as a two's complement varint, sint as zigzag.
 * - Confluent framing: magic byte 0, schema id as 4 bytes big-endian, for Protobuf the message
 *   indexes (zigzag varint count then zigzag varints; `[0]` as the single byte 0).
 */

/** Unsigned LEB128 varint of a non-negative bigint. */
export function varint(n: bigint): number[] {
  const out: number[] = []
  let v = n
  do {
    let b = Number(v & 0x7fn)
    v >>= 7n
    if (v > 0n) b |= 0x80
    out.push(b)
  } while (v > 0n)
  return out
}

/** Zigzag varint (Avro int/long, Protobuf sint, Confluent message indexes). */
export function zigzag(n: bigint | number): number[] {
  const v = BigInt(n)
  return varint(v >= 0n ? v * 2n : -v * 2n - 1n)
}

/** Avro string / bytes: zigzag length then the bytes. */
export function avroString(s: string): number[] {
  const bytes = [...Buffer.from(s, 'utf8')]
  return [...zigzag(bytes.length), ...bytes]
}

/** IEEE 754 double, little-endian (Avro double, Protobuf double). */
export function doubleLE(x: number): number[] {
  const b = Buffer.alloc(8)
  b.writeDoubleLE(x)
  return [...b]
}

/** Protobuf tag. */
export function tag(field: number, wireType: 0 | 1 | 2 | 5): number[] {
  return varint(BigInt((field << 3) | wireType))
}

/** Protobuf varint field (int32/int64/uint64/bool/enum: two's complement for negatives). */
export function pbVarint(field: number, n: bigint | number): number[] {
  let v = BigInt(n)
  if (v < 0n) v += 1n << 64n
  return [...tag(field, 0), ...varint(v)]
}

/** Protobuf length-delimited field (string, bytes, embedded message). */
export function pbBytes(field: number, bytes: number[]): number[] {
  return [...tag(field, 2), ...varint(BigInt(bytes.length)), ...bytes]
}

/** Protobuf string field. */
export function pbString(field: number, s: string): number[] {
  return pbBytes(field, [...Buffer.from(s, 'utf8')])
}

/** Confluent header: magic byte 0 and the schema id, 4 bytes big-endian. */
export function confluentHeader(id: number): number[] {
  return [0, (id >>> 24) & 0xff, (id >>> 16) & 0xff, (id >>> 8) & 0xff, id & 0xff]
}

/** Bytes of a number list. */
export function bytes(list: number[]): Uint8Array {
  return Uint8Array.from(list)
}
