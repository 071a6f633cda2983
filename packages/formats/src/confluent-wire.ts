/**
 * The Confluent Schema Registry wire format: a magic byte 0, the schema id as a 4-byte
 * big-endian integer, then (Protobuf only) the message indexes, then the encoded record.
 * Message indexes are a zigzag varint count followed by that many zigzag varints (as the Java
 * serializer's `ByteUtils.writeVarint` and Go's `binary.PutVarint` write them); the common
 * case `[0]` (the file's first message) is written as the single byte 0.
 */
import { recordError } from '@larder/core'

/** The schema id and where the payload starts, from a framed record. */
export interface ConfluentFrame {
  schemaId: number
  /** Offset of the bytes after the 5-byte header. */
  offset: number
}

/**
 * Reads the 5-byte header of a record framed for a Schema Registry.
 * @throws LarderError INVALID_RECORD when the record is too short or the magic byte is not 0.
 */
export function readConfluentHeader(bytes: Uint8Array, component: string): ConfluentFrame {
  if (bytes.length < 5) {
    throw recordError(
      component,
      `record is ${bytes.length} byte(s), shorter than the 5-byte Schema Registry header (magic byte 0 + schema id)`,
    )
  }
  if (bytes[0] !== 0) {
    const first = bytes[0]!
    const guess = first === 0x7b || first === 0x5b ? ' (it looks like JSON: use jsonFormat())' : ''
    throw recordError(
      component,
      `expected magic byte 0 of the Schema Registry framing, got 0x${first.toString(16).padStart(2, '0')}${guess}`,
    )
  }
  const schemaId =
    ((bytes[1] as number) << 24) |
    ((bytes[2] as number) << 16) |
    ((bytes[3] as number) << 8) |
    (bytes[4] as number)
  return { schemaId, offset: 5 }
}

/** Reads one zigzag varint (32-bit) at `offset`; returns the value and the next offset. */
function readZigZagVarint(
  bytes: Uint8Array,
  offset: number,
  component: string,
): { value: number; offset: number } {
  let result = 0
  let shift = 0
  let i = offset
  for (;;) {
    if (i >= bytes.length) {
      throw recordError(component, 'record ends inside the Protobuf message indexes')
    }
    const b = bytes[i++]!
    if (shift === 28 && b > 0x0f) {
      throw recordError(component, 'a Protobuf message index varint is longer than 32 bits')
    }
    result |= (b & 0x7f) << shift
    if ((b & 0x80) === 0) break
    shift += 7
  }
  const unsigned = result >>> 0
  return { value: (unsigned >>> 1) ^ -(unsigned & 1), offset: i }
}

/** More nesting than any real schema has; a guard against garbage read as a count. */
const MAX_INDEXES = 64

/**
 * Reads the Protobuf message indexes that follow the header: the path of the record's message
 * type in its schema file (`[0]` = the first top-level message, `[1, 0]` = the first nested
 * message of the second one).
 * @throws LarderError INVALID_RECORD when the indexes are truncated or implausible.
 */
export function readMessageIndexes(
  bytes: Uint8Array,
  offset: number,
  component: string,
): { indexes: number[]; offset: number } {
  const count = readZigZagVarint(bytes, offset, component)
  if (count.value === 0) return { indexes: [0], offset: count.offset }
  if (count.value < 0 || count.value > MAX_INDEXES) {
    throw recordError(
      component,
      `implausible Protobuf message index count ${count.value} (is the record framed for a Schema Registry?)`,
    )
  }
  const indexes: number[] = []
  let at = count.offset
  for (let i = 0; i < count.value; i++) {
    const next = readZigZagVarint(bytes, at, component)
    if (next.value < 0) {
      throw recordError(component, `negative Protobuf message index ${next.value}`)
    }
    indexes.push(next.value)
    at = next.offset
  }
  return { indexes, offset: at }
}
